"""End to end on the legacy-vision sample with the real PyPA advisory database (offline)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.utils import canonicalize_name

from governance.cli import cli
from governance.model import Package
from governance.vulns import cache
from governance.vulns.database import load
from governance.vulns.match import match

PINS = {"tensorflow-gpu": "2.4.0", "pillow": "9.0.0", "torch": "1.10.0+cu113"}


@pytest.fixture
def db(shared_dir: Path) -> Path:
    return shared_dir / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip"


@pytest.fixture
def project(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return Path(shutil.copytree(repo_root / "sample_projects" / "legacy-vision", tmp_path / "legacy-vision"))


def by_versions_list(db: Path) -> dict[str, set[str]]:
    """An independent oracle: PyPA's records list every affected release in `versions`."""
    expected: dict[str, set[str]] = {}
    with zipfile.ZipFile(db) as archive:
        for name in archive.namelist():
            data = json.loads(archive.read(name))
            if data.get("withdrawn"):
                continue
            for affected in data["affected"]:
                key = canonicalize_name(affected["package"]["name"])
                public = PINS.get(key, "").split("+")[0]
                if public and public in affected.get("versions", []):
                    expected.setdefault(key, set()).add(data["id"])
    return expected


def test_exactly_the_advisories_osv_semantics_give(db: Path) -> None:
    database = load(db, use_cache=False)
    packages = [Package(name, version) for name, version in PINS.items()]
    found = match(packages, database.lookup(p.key for p in packages), database.label)
    got: dict[str, set[str]] = {}
    for item in found:
        got.setdefault(item.package, set()).update(i for i in (item.id, *item.aliases) if i.startswith("PYSEC-"))
    assert got == by_versions_list(db)
    assert len([v for v in found if v.package == "tensorflow-gpu"]) == 251
    summary = {(v.id, v.aliases, v.severity, v.fixed_versions[:1]) for v in found if v.package != "tensorflow-gpu"}
    assert summary == {
        ("CVE-2022-24303", ("GHSA-9j59-75qj-795w", "PYSEC-2022-168"), "unknown", ("9.0.1",)),
        ("CVE-2022-45198", ("PYSEC-2022-42979",), "unknown", ("9.2.0",)),
        ("CVE-2023-44271", ("PYSEC-2023-227",), "unknown", ("10.0.0",)),
        ("PYSEC-2023-175", (), "unknown", ("10.0.1",)),
        ("CVE-2022-45907", ("PYSEC-2022-43015",), "unknown", ("1.13.1",)),  # torch 1.10.0+cu113 is torch 1.10.0
    }
    assert all(v.fixed_versions for v in found)


def test_rated_advisories_get_cvss_severities(db: Path) -> None:
    database = load(db, use_cache=False)
    found = match([Package("mlflow", "2.8.0")], database.lookup(["mlflow"]), database.label)
    rated = {v.id: (v.severity, v.score) for v in found if v.score is not None}
    assert rated and all(level in ("critical", "high", "medium", "low") for level, _ in rated.values())
    assert all(v.vector and v.vector.startswith("CVSS:3") for v in found if v.score is not None)


def scan(project: Path, db: Path, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["scan", str(project), "--policy", str(project / "mlgov-policy.toml"),
                                      "--vuln-db", str(db), "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def active(report: dict) -> list[tuple[str, str | None]]:
    return sorted((f["rule_id"], f.get("package")) for f in report["findings"]
                  if not f["waived"] and f["level"] == "error")


def test_gate_fails_passes_once_fixed_and_waived_and_fails_when_the_waiver_expires(project: Path, db: Path) -> None:
    code, report = scan(project, db, "--today", "2026-01-15")
    assert code == 1 and active(report) == [("VULN001", "pillow")] * 4
    waived = [f for f in report["findings"] if f["waived"]]
    # 252 advisories; tensorflow-gpu 2.4.0's build is known (PyPI's wheel: CUDA 11.0), so no GPU007 to waive.
    assert len(waived) == 252 and {f["package"] for f in waived} == {"tensorflow-gpu", "torch"}
    assert [f["rule_id"] for f in waived if not f["rule_id"].startswith("VULN")] == []
    assert all(f["waiver"]["expires"] == "2030-06-30" and f["waiver"]["reason"] for f in waived)

    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("pillow==9.0.0", "pillow==10.0.1"))
    code, report = scan(project, db, "--today", "2030-06-30")
    assert code == 0 and active(report) == [] and report["verdict"] == "pass"

    code, report = scan(project, db, "--today", "2030-07-01")
    assert code == 1
    assert active(report) == [("VULN001", "tensorflow-gpu")] * 251 + [("VULN001", "torch"),
                                                                        ("WAIVE001", "tensorflow-gpu"),
                                                                        ("WAIVE001", "torch")]


def test_source_date_epoch_is_the_day_too(project: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("pillow==9.0.0", "pillow==10.0.1"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1909008000")  # 2030-06-30
    assert scan(project, db)[0] == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1909094400")  # 2030-07-01
    assert scan(project, db)[0] == 1


@pytest.mark.parametrize("suffix", ["json", "xml"])
def test_check_on_the_sbom_reaches_the_same_findings(project: Path, db: Path, tmp_path: Path, suffix: str) -> None:
    sbom = tmp_path / f"sbom.cdx.{suffix}"
    code, report = scan(project, db, "--today", "2026-01-15", "--sbom", str(sbom))
    checked = CliRunner().invoke(cli, ["check", str(sbom), "--policy", str(project / "mlgov-policy.toml"),
                                       "--format", "json", "--today", "2026-01-15"])
    assert checked.exit_code == code == 1
    assert json.loads(checked.output)["findings"] == report["findings"]
    if suffix == "json":
        document = json.loads(sbom.read_text())
        assert len(document["vulnerabilities"]) == 256
        states = {v["analysis"]["state"] for v in document["vulnerabilities"] if "analysis" in v}
        assert states == {"in_triage"} and sum("analysis" in v for v in document["vulnerabilities"]) == 252


def test_a_second_scan_uses_the_cache(project: Path, db: Path, tmp_path: Path) -> None:
    first = CliRunner().invoke(cli, ["scan", str(project), "--vuln-db", str(db), "-v", "--today", "2026-01-15"])
    second = CliRunner().invoke(cli, ["scan", str(project), "--vuln-db", str(db), "-v", "--today", "2026-01-15"])
    assert "indexing pypa-advisory-db" in first.output and "using the cached index" in second.output
    assert first.stdout == second.stdout


def test_a_missing_database_is_exit_2(project: Path, tmp_path: Path) -> None:
    from governance.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(project), "--vuln-db", str(tmp_path / "nope.zip")])
    assert exit_info.value.code == 2


def test_sbom_command_carries_the_vulnerabilities(project: Path, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    result = CliRunner().invoke(cli, ["sbom", str(project), "--vuln-db", str(db), "-o", str(out)])
    assert result.exit_code == 0, result.output
    ids = {(v["id"], v["affects"][0]["ref"]) for v in json.loads(out.read_text())["vulnerabilities"]}
    assert ("CVE-2022-45907", "pkg:pypi/torch@1.10.0%2Bcu113") in ids and len(ids) == 256
