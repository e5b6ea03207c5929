"""The documentation's promises: docs/rules.md is generated, and the 20-line policy in
docs/policy.md loads, fails loudly when misspelled, and behaves."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from governance.cli import main
from governance.errors import PolicyError
from governance.model import AdvisorySource, Inventory, Package, Project, Provenance
from governance.policy.catalogue import RULES
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from governance.policy.render import catalogue_text
from governance.policy.rule import NOT_JUDGED


def test_rules_md_is_generated_from_the_catalogue(repo_root: Path) -> None:
    committed = (repo_root / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == catalogue_text(RULES, "md"), \
        "docs/rules.md is stale: regenerate with `mlgov rules --format md > docs/rules.md`"


def test_every_rule_is_documented_once(repo_root: Path) -> None:
    text = (repo_root / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert text.count(f"| {rule.id} |") == 1
        assert rule.level in ("error", "warning", "note", NOT_JUDGED) and rule.description and rule.family


def example(repo_root: Path) -> str:
    text = (repo_root / "docs" / "policy.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example: platform-policy.*?-->\n```toml\n(.*?)```", text, re.S)
    assert match, "docs/policy.md lost its platform-policy example"
    return match.group(1)


@pytest.fixture
def platform_policy(repo_root: Path, tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(example(repo_root), encoding="utf-8")
    return path


def test_example_is_about_twenty_lines(repo_root: Path) -> None:
    assert len(example(repo_root).strip().splitlines()) <= 22


def _project() -> Inventory:
    def req(name: str, spec: str, expression: str, hashed: bool = False) -> Package:
        from governance.model import Hash

        hashes = (Hash("sha256", "0" * 64),) if hashed else ()
        return Package(name=name, version="1.0", license_expression=expression, provenance=(
            Provenance(file="requirements.txt", kind="requirements", line=1, specifier=spec, hashes=hashes),
            Provenance(file="<environment>", kind="environment")))

    return Inventory(project=Project("acme"), packages=(
        req("loose", ">=1", "MIT"), req("nohash", "==1.0", "MIT"), req("gpl", "==1.0", "GPL-3.0-only", True),
        req("fine", "==1.0", "Apache-2.0", True)),
        # Matched against a database that knows nothing about them: vulnerabilities were checked.
        advisory_sources=(AdvisorySource("osv-db:all.zip", advisories=0),))


def test_example_behaves(platform_policy: Path) -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    prototype = evaluate(_project(), load_policy(str(platform_policy)), now)
    assert prototype.stage == "prototype"
    assert not prototype.failed
    assert {f.level.value for f in prototype.findings} == {"warning"}

    policy = load_policy(str(platform_policy), "production")
    assert policy.get("vulnerabilities", "fail_on") == "high"
    assert policy.get("gpu", "driver") == ">=580"
    production = evaluate(_project(), policy, now)
    errors = {(f.rule_id, f.package) for f in production.findings if f.level.value == "error"}
    assert errors == {("PIN001", "loose"), ("PIN002", "nohash"), ("LIC001", "gpl")}
    assert production.failed


def test_example_waivers_at_most_30_days(platform_policy: Path) -> None:
    text = platform_policy.read_text() + (
        "\n[[waivers]]\nid = 'LIC001'\npackage = 'gpl'\nreason = 'legal ok'\nexpires = 2026-06-30\n"
        "\n[[waivers]]\nid = 'PIN001'\nreason = 'long'\nexpires = 2026-09-01\n"
        "\n[[waivers]]\nid = 'PIN002'\nreason = 'forever'\n")
    platform_policy.write_text(text)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    findings = evaluate(_project(), load_policy(str(platform_policy), "production"), now).findings
    limits = sorted((f.rule_id, f.line) for f in findings if f.rule_id.startswith("POL"))
    headers = [number for number, line in enumerate(text.splitlines(), 1) if line == "[[waivers]]"]
    assert limits == [("POL001", headers[1]), ("POL002", headers[2])]


def test_example_misspelled_fails_loudly(platform_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = platform_policy.read_text()
    platform_policy.write_text(text.replace("max_days", "max_day"))
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "max_days" in l)
    with pytest.raises(PolicyError) as caught:
        load_policy(str(platform_policy))
    assert (caught.value.line, caught.value.key) == (line, "stages.production.waiver_limits.max_day")
    with pytest.raises(SystemExit) as exited:
        main(["policy", "validate", str(platform_policy)])
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"mlgov: error: {platform_policy}:{line}: " \
        "stages.production.waiver_limits.max_day: unknown key (did you mean 'max_days'? " \
        "known here: max_days, require_expiry, require_owner)\n"
