from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from governance.model import Inventory, Package, Project, Provenance, Vulnerability
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from governance.policy.rules.vulns import at_or_above

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def inventory(severity: str, fixed: tuple[str, ...] = ("1.1",)) -> Inventory:
    return Inventory(
        project=Project("demo"),
        packages=(Package("Demo_Pkg", "1.0", provenance=(Provenance("requirements.txt", "requirements", 4, "==1.0"),)),),
        vulnerabilities=(Vulnerability(id="CVE-2024-1", package="demo-pkg", version="1.0", aliases=("GHSA-x",),
                                       summary="Bad thing.", severity=severity,
                                       score=None if severity == "unknown" else 7.5, fixed_versions=fixed),))


def policy(tmp_path: Path, body: str):
    path = tmp_path / "p.toml"
    path.write_text(f"schema = 1\n{body}\n")
    return load_policy(str(path))


@pytest.mark.parametrize(("severity", "threshold", "fails"), [
    ("critical", "high", True), ("high", "high", True), ("medium", "high", False), ("low", "high", False),
    ("unknown", "high", True), ("unknown", "critical", True), ("low", "low", True), ("medium", "critical", False),
    ("critical", "none", False), ("unknown", "none", False), ("low", "unknown", True),
])
def test_threshold(severity: str, threshold: str, fails: bool) -> None:
    assert at_or_above(severity, threshold) is fails


@pytest.mark.parametrize(("severity", "fail_on", "level"), [
    ("high", None, "error"), ("medium", None, "warning"), ("medium", "medium", "error"), ("critical", "none", "warning"),
])
def test_levels_under_a_policy(tmp_path: Path, severity: str, fail_on: str | None, level: str) -> None:
    body = f'[vulnerabilities]\nfail_on = "{fail_on}"' if fail_on else ""
    (finding,) = evaluate(inventory(severity), policy(tmp_path, body), NOW).findings
    assert finding.level.value == level


def test_the_finding_names_ids_severity_and_fix(tmp_path: Path) -> None:
    (finding,) = evaluate(inventory("high"), policy(tmp_path, ""), NOW).findings
    assert finding.message == ("Demo_Pkg 1.0: CVE-2024-1 (GHSA-x), severity high 7.5: Bad thing; "
                               "upgrade Demo_Pkg to 1.1")
    assert (finding.vulnerability, finding.aliases, finding.severity, finding.fix) == \
        ("CVE-2024-1", ("GHSA-x",), "high", "upgrade Demo_Pkg to 1.1")
    assert (finding.component, finding.file, finding.line) == ("pkg:pypi/demo-pkg@1.0", "requirements.txt", 4)


def test_no_fix_published(tmp_path: Path) -> None:
    (finding,) = evaluate(inventory("high", fixed=()), policy(tmp_path, ""), NOW).findings
    assert finding.fix == "no fixed version is published: remove Demo_Pkg or waive CVE-2024-1"


def test_rule_off_and_warning(tmp_path: Path) -> None:
    assert evaluate(inventory("critical"), policy(tmp_path, '[rules]\nVULN001 = "off"'), NOW).findings == ()
    (finding,) = evaluate(inventory("critical"), policy(tmp_path, '[rules]\nVULN001 = "warning"'), NOW).findings
    assert finding.level.value == "warning"
