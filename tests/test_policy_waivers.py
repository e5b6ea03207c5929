from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from governance.model import Inventory, Level, Package, Project, Provenance, Vulnerability
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from governance.policy.waivers import annotate

PILLOW = Vulnerability(id="CVE-2022-24303", package="pillow", version="9.0.0",
                       aliases=("GHSA-9j59-75qj-795w", "PYSEC-2022-168"), severity="high", score=7.5,
                       fixed_versions=("9.0.1",))
TORCH = Vulnerability(id="CVE-2022-45907", package="torch", version="1.10.0+cu113", aliases=("PYSEC-2022-43015",),
                      severity="unknown", fixed_versions=("1.13.1",))
INVENTORY = Inventory(
    project=Project("demo"),
    packages=(Package("Pillow", "9.0.0", provenance=(Provenance("requirements.txt", "requirements", 2, "==9.0.0"),)),
              Package("torch", "1.10.0+cu113",
                      provenance=(Provenance("requirements.txt", "requirements", 3, "==1.10.0+cu113"),))),
    vulnerabilities=(PILLOW, TORCH), sources=("requirements.txt",))


def policy(tmp_path: Path, waivers: str, extra: str = ""):
    path = tmp_path / "policy.toml"
    path.write_text(f"schema = 1\nname = \"t\"\n[rules]\nPIN002 = \"off\"\n{extra}\n{waivers}")
    return load_policy(str(path))


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)


def waiver(**fields: str) -> str:
    body = "\n".join(f'{k} = {v}' if k == "expires" else f'{k} = "{v}"' for k, v in fields.items())
    return f"[[waivers]]\n{body}\n"


def summary(evaluation) -> list[tuple[str, str, str | None, bool]]:
    return [(f.rule_id, f.level.value, f.vulnerability or f.package, f.waived) for f in evaluation.findings]


def test_without_waivers_both_fail(tmp_path: Path) -> None:
    result = evaluate(INVENTORY, policy(tmp_path, ""), at("2025-01-01"))
    assert summary(result) == [("VULN001", "error", "CVE-2022-24303", False),
                               ("VULN001", "error", "CVE-2022-45907", False)]
    assert result.failed


@pytest.mark.parametrize("fields", [
    {"id": "CVE-2022-24303"}, {"id": "GHSA-9j59-75qj-795w"}, {"id": "pysec-2022-168"},  # any alias, any case
    {"package": "pillow"}, {"package": "Pillow<9.0.1"}, {"package": "pillow==9.0.0"},
    {"id": "VULN001", "package": "pillow"},  # a rule id, narrowed to a package
    {"id": "CVE-2022-24303", "package": "pillow>=9"},
])
def test_a_waiver_matches_by_id_alias_rule_and_package(tmp_path: Path, fields: dict[str, str]) -> None:
    text = waiver(**fields, reason="accepted for the migration", owner="team-a", expires="2025-03-31")
    result = evaluate(INVENTORY, policy(tmp_path, text), at("2025-03-31"))
    pillow = next(f for f in result.findings if f.package == "pillow")
    assert pillow.waived and pillow.waiver_reason == "accepted for the migration"
    assert pillow.waiver_owner == "team-a" and pillow.waiver_expires == "2025-03-31"
    assert not next(f for f in result.findings if f.package == "torch").waived


@pytest.mark.parametrize("fields", [
    {"id": "CVE-2022-45907"},  # another advisory
    {"package": "pillow>=9.0.1"},  # the version is outside the specifier
    {"id": "CVE-2022-24303", "package": "torch"},  # both given: both must match
    {"id": "PIN001"},
])
def test_a_waiver_that_does_not_match(tmp_path: Path, fields: dict[str, str]) -> None:
    result = evaluate(INVENTORY, policy(tmp_path, waiver(**fields, reason="r")), at("2025-01-01"))
    assert not next(f for f in result.findings if f.package == "pillow").waived


@pytest.mark.parametrize(("spec", "waived"), [("torch==1.10.0", True), ("torch==1.10.0+cu113", True),
                                              ("torch==1.10.0+cpu", False), ("torch<1.11", True)])
def test_package_specifiers_and_local_versions(tmp_path: Path, spec: str, waived: bool) -> None:
    result = evaluate(INVENTORY, policy(tmp_path, waiver(package=spec, reason="r")), at("2025-01-01"))
    assert next(f for f in result.findings if f.package == "torch").waived is waived


def test_gate_passes_while_waived_and_fails_the_day_after_expiry(tmp_path: Path) -> None:
    text = (waiver(id="CVE-2022-24303", reason="upgrade planned", expires="2025-03-31")
            + waiver(package="torch", reason="no TorchScript from users", ticket="SEC-9", expires="2025-06-30"))
    loaded = policy(tmp_path, text)
    live = evaluate(INVENTORY, loaded, at("2025-03-31T23:59:59"))
    assert not live.failed and all(f.waived for f in live.findings)
    expired = evaluate(INVENTORY, loaded, at("2025-04-01"))
    assert expired.failed
    assert summary(expired) == [("VULN001", "error", "CVE-2022-24303", False),
                                ("VULN001", "error", "CVE-2022-45907", True),
                                ("WAIVE001", "error", None, False)]
    waive = next(f for f in expired.findings if f.rule_id == "WAIVE001")
    assert waive.level is Level.ERROR and waive.file == str(tmp_path / "policy.toml") and waive.line == 6
    assert "expired on 2025-03-31" in waive.message and "1 finding(s)" in waive.message
    assert next(f for f in expired.findings if f.package == "torch").waived


def test_unmatched_live_waiver_is_a_note_and_an_expired_one_is_not_also_unmatched(tmp_path: Path) -> None:
    text = (waiver(id="CVE-1999-0001", reason="old", expires="2030-01-01")
            + waiver(package="numpy", reason="gone", expires="2020-01-01"))
    result = evaluate(INVENTORY, policy(tmp_path, text), at("2025-01-01"))
    rules = [(f.rule_id, f.level.value) for f in result.findings if f.rule_id.startswith("WAIVE")]
    assert rules == [("WAIVE001", "error"), ("WAIVE002", "note")]
    note = next(f for f in result.findings if f.rule_id == "WAIVE002")
    assert "CVE-1999-0001" in note.message and note.line is not None


def test_waiver_rules_follow_the_policy_levels(tmp_path: Path) -> None:
    text = waiver(id="CVE-1999-0001", reason="old", expires="2020-01-01")
    result = evaluate(INVENTORY, policy(tmp_path, text, extra='WAIVE001 = "warning"'), at("2025-01-01"))
    assert [f.level.value for f in result.findings if f.rule_id == "WAIVE001"] == ["warning"]


def test_annotate_marks_only_live_waivers(tmp_path: Path) -> None:
    loaded = policy(tmp_path, waiver(id="PYSEC-2022-168", reason="accepted", owner="o", expires="2025-03-31"))
    live = annotate(INVENTORY, loaded.waivers, dt.date(2025, 3, 31), "t")
    assert live.vulnerabilities[0].analysis_state == "in_triage"
    assert live.vulnerabilities[0].analysis_detail == "waived by policy t: accepted (owner o, expires 2025-03-31)"
    assert live.vulnerabilities[1].analysis_state is None
    assert annotate(INVENTORY, loaded.waivers, dt.date(2025, 4, 1), "t") == INVENTORY
