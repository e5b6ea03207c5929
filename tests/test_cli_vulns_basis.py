"""Vulnerabilities are checked or said to be unchecked; `mlgov db update` feeds scan and check by
default; check re-judges an old SBOM; every report says which database and knowledge the verdict
rests on. Through the CLI, with the real PyPA OSV snapshot."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from tests.conftest import REPO
from tests.test_vulns_update import Server

VULNDB = REPO.parent / "shared" / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip"
LEGACY = REPO / "sample_projects" / "legacy-vision"
LEGACY_POLICY = LEGACY / "mlgov-policy.toml"
DAY = ["--today", "2026-05-28"]  # the sample's waivers are live


@pytest.fixture
def vulndb() -> Path:
    if not VULNDB.is_file():
        pytest.skip("../shared/vulndb is not beside the checkout")
    return VULNDB


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache of this test's own (conftest gives every session an empty one)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MLGOV_CACHE_DIR", str(folder))
    return folder


def invoke(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def rules(report: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["rule_id"], []).append(finding["level"])
    return found


def project(tmp_path: Path, text: str = "pillow==9.0.0 --hash=sha256:" + "0" * 64 + "\n") -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "requirements.txt").write_text(text)
    return folder


@pytest.mark.parametrize(("stage", "code", "level"), [("production", 1, "error"), ("stabilization", 0, "warning"),
                                                      ("prototype", 0, "warning")])
def test_a_gate_without_advisories_says_vulnerabilities_were_not_checked(tmp_path: Path, cache: Path, stage: str,
                                                                         code: int, level: str) -> None:
    team = tmp_path / "team.toml"  # a threshold at every stage; the stage decides what "not checked" costs
    team.write_text("schema = 1\nextends = ['production']\n[vulnerabilities]\nfail_on = 'high'\n")
    got, report = invoke(["scan", str(project(tmp_path)), "--policy", str(team), "--stage", stage])
    assert got == code
    assert rules(report)["VULN002"] == [level]
    assert report["vulnerability_database"] is None
    finding = next(f for f in report["findings"] if f["rule_id"] == "VULN002")
    assert "vulnerabilities were not checked" in finding["message"] and "mlgov db update" in finding["fix"]


def test_no_threshold_in_the_policy_asks_for_no_check(tmp_path: Path, cache: Path) -> None:
    _, report = invoke(["scan", str(project(tmp_path)), "--policy", "baseline"])  # baseline sets no fail_on
    assert "VULN002" not in rules(report)
    none = tmp_path / "none.toml"
    none.write_text("schema = 1\nextends = ['production']\n[stages.production.vulnerabilities]\nfail_on = 'none'\n")
    (tmp_path / "b").mkdir()
    _, report = invoke(["scan", str(project(tmp_path / "b")), "--policy", str(none)])
    assert "VULN002" not in rules(report)


def test_db_update_feeds_scan_and_check_by_default(tmp_path: Path, cache: Path, vulndb: Path) -> None:
    server = Server([(200, vulndb.read_bytes())])
    try:
        updated = CliRunner().invoke(cli, ["db", "update", "--url", server.url])
    finally:
        server.close()
    assert updated.exit_code == 0, updated.output
    default = cache / "osv" / "PyPI-all.zip"
    assert updated.output.startswith(f"{default}: 2651 PyPI advisories")  # usable records: withdrawn ones left out
    assert default.read_bytes() == vulndb.read_bytes()

    sbom = tmp_path / "sbom.cdx.json"
    code, scanned = invoke(["scan", str(LEGACY), "--policy", str(LEGACY_POLICY), *DAY, "--sbom", str(sbom)])
    assert code == 1 and "VULN002" not in rules(scanned)
    assert len(rules(scanned)["VULN001"]) == 256  # 251 tensorflow-gpu, 4 pillow, 1 torch (docs/vulnerabilities.md)
    database = scanned["vulnerability_database"]
    assert database == {"source": "osv-db:PyPI-all.zip",
                        "digest": "sha256:" + hashlib.sha256(vulndb.read_bytes()).hexdigest(),
                        "advisories": 2651,  # usable PyPI records: withdrawn ones are left out
                        "newest_modified": "2024-10-10T17:22:00.587279+00:00"}
    code, checked = invoke(["check", str(sbom), "--policy", str(LEGACY_POLICY), *DAY])
    assert checked["findings"] == scanned["findings"] and code == 1
    assert checked["vulnerability_database"] == database

    # Opting out is explicit, and the gate then says what was not checked.
    _, opted_out = invoke(["scan", str(project(tmp_path)), "--policy", "production", "--no-vuln-db"])
    assert rules(opted_out)["VULN002"] == ["error"] and opted_out["vulnerability_database"] is None


def test_the_default_database_follows_xdg_when_mlgov_cache_dir_is_unset(tmp_path: Path, vulndb: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "mlgov" / "osv").mkdir(parents=True)
    (xdg / "mlgov" / "osv" / "PyPI-all.zip").write_bytes(vulndb.read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "MLGOV_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(xdg), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "governance", "scan", str(project(tmp_path)), "--policy",
                           "production", "--format", "json", "-v"], capture_output=True, text=True, env=env,
                          check=False)
    report = json.loads(done.stdout)
    assert report["vulnerability_database"]["source"] == "osv-db:PyPI-all.zip"
    assert {f["package"] for f in report["findings"] if f["rule_id"] == "VULN001"} == {"pillow"}
    assert f"using the vulnerability database in the cache: {xdg / 'mlgov' / 'osv' / 'PyPI-all.zip'}" in done.stderr


def test_check_rejudges_an_old_sbom_against_a_database(tmp_path: Path, cache: Path, vulndb: Path) -> None:
    """Last quarter's SBOM (written without advisories) judged against today's database."""
    sbom = tmp_path / "old.cdx.json"
    written = CliRunner().invoke(cli, ["sbom", str(LEGACY), "-o", str(sbom)])
    assert written.exit_code == 0, written.output
    assert "vulnerabilities" not in json.loads(sbom.read_text())

    _, blind = invoke(["check", str(sbom), "--policy", str(LEGACY_POLICY), *DAY])
    assert "VULN001" not in rules(blind) and blind["vulnerability_database"] is None

    code, rejudged = invoke(["check", str(sbom), "--policy", str(LEGACY_POLICY), *DAY, "--vuln-db", str(vulndb)])
    _, scanned = invoke(["scan", str(LEGACY), "--policy", str(LEGACY_POLICY), *DAY, "--vuln-db", str(vulndb)])
    assert code == 1
    assert rejudged["findings"] == scanned["findings"]
    assert rejudged["vulnerability_database"]["source"] == f"osv-db:{vulndb.name}"


def test_contradicting_database_options_are_bad_usage(tmp_path: Path, vulndb: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "governance", "scan", str(project(tmp_path)), "--vuln-db",
                           str(vulndb), "--no-vuln-db"], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "mlgov: error: --vuln-db and --no-vuln-db contradict each other: give one\n"


def test_every_report_says_what_the_verdict_rests_on(tmp_path: Path, cache: Path, vulndb: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    names = ["r.json", "r.md", "r.html", "r.sarif", "r.txt"]
    result = CliRunner().invoke(cli, ["scan", str(LEGACY), "--policy", str(LEGACY_POLICY), *DAY, "--vuln-db",
                                      str(vulndb), *[a for n in names for a in ("--report", str(out / n))]])
    assert result.exit_code == 1, result.output
    report = json.loads((out / "r.json").read_text())
    from governance.knowledge.summary import summary

    assert report["knowledge"]["version"] == summary().version
    assert report["knowledge"]["newest_entries"]["torch"]
    digest = report["vulnerability_database"]["digest"]
    line = f"advisories: osv-db:{vulndb.name} ({digest[:19]}…, 2,651 advisories, newest modified 2024-10-10T17:22"
    for name in ("r.md", "r.html", "r.txt"):
        assert line in (out / name).read_text(), name
        assert f"knowledge {summary().version}" in (out / name).read_text(), name
    sarif = json.loads((out / "r.sarif").read_text())
    assert sarif["runs"][0]["properties"]["basis"].startswith(line)

    import jsonschema_rs

    schema = json.loads((REPO / "governance" / "report" / "report.schema.json").read_text())
    jsonschema_rs.validator_for(schema, validate_formats=True).validate(report)
