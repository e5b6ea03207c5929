"""Fail closed where a rule had an input it could not judge: each case is a real input that a rule
used to pass without a word, scanned (and checked) as a user would, at the production and baseline
policies. What could not be judged is a finding whose level the stage decides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from governance.cli import cli


def scan(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["scan", *args, "--no-vuln-db", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def findings(report: dict, rule: str) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in report["findings"] if f["rule_id"] == rule]


# --- COV010: a lock with nothing for the scanned target ---------------------------------------------

def test_a_conda_lock_made_for_linux_is_not_judged_as_an_empty_environment_on_macos(shared_dir: Path) -> None:
    # pangeo's pytorch-notebook: conda-lock.yml and its explicit conda-linux-64.lock, both linux-64 only.
    # On macos-arm64 they install nothing; the explicit file's noarch packages were judged as if they were
    # the environment (454 of them) and the gate said PASS about an environment nobody looked at.
    project = shared_dir / "real-projects" / "pangeo-docker-images" / "pytorch-notebook"
    code, report = scan(str(project), "--target-platform", "macos-arm64", "--policy", "production")
    assert code == 1
    cov = findings(report, "COV010")
    assert sorted(f["file"] for f in cov) == ["conda-linux-64.lock", "conda-lock.yml"]
    assert all(f["level"] == "error" for f in cov)
    assert "installs nothing on the scanned target macos-arm64" in cov[0]["message"]
    assert "(it locks for linux-64)" in cov[0]["message"] and "conda-lock -p osx-arm64" in cov[0]["message"]
    assert report["summary"]["components"] == 0
    code, report = scan(str(project), "--target-platform", "macos-arm64", "--policy", "baseline")
    assert code == 0 and [f["level"] for f in findings(report, "COV010")] == ["warning", "warning"]
    # On the platform it was locked for, it is judged: no COV010.
    code, report = scan(str(project), "--target-platform", "linux-x86_64", "--policy", "baseline")
    assert findings(report, "COV010") == []


def test_cov010_travels_in_the_sbom(shared_dir: Path, tmp_path: Path) -> None:
    project = shared_dir / "real-projects" / "pangeo-docker-images" / "pytorch-notebook"
    sbom = tmp_path / "sbom.cdx.json"
    scanned = CliRunner().invoke(cli, ["scan", str(project), "--target-platform", "macos-arm64", "--no-vuln-db",
                                       "--policy", "production", "--sbom", str(sbom), "--format", "json"])
    checked = CliRunner().invoke(cli, ["check", str(sbom), "--no-vuln-db", "--policy", "production",
                                       "--format", "json"])
    assert checked.exit_code == scanned.exit_code == 1
    said = [(f["rule_id"], f["message"]) for f in json.loads(checked.stdout)["findings"] if f["rule_id"] == "COV010"]
    assert said == [(f["rule_id"], f["message"]) for f in json.loads(scanned.stdout)["findings"]
                    if f["rule_id"] == "COV010"]
    assert len(said) == 2


def test_per_platform_explicit_files_are_variants_not_gaps(shared_dir: Path, tmp_path: Path) -> None:
    # conda-lock's explicit output is one file per platform; a target that one of them installs is
    # judged, and the files for other platforms are noted, not findings.
    source = shared_dir / "real-projects" / "pangeo-docker-images" / "pytorch-notebook" / "conda-linux-64.lock"
    project = tmp_path / "p"
    project.mkdir()
    shutil.copy(source, project / "conda-linux-64.lock")
    text = source.read_text().replace("# platform: linux-64", "# platform: osx-arm64").replace("/linux-64/", "/osx-arm64/")
    (project / "conda-osx-arm64.lock").write_text(text)
    code, report = scan(str(project), "--target-platform", "linux-x86_64", "--policy", "production")
    assert findings(report, "COV010") == []
    assert report["summary"]["components"] == 885
    assert "conda-osx-arm64.lock: 885 packages for other platforms than linux-x86_64/py3.11 left out" in report["notes"]
