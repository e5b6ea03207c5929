"""`mlgov check` on an SBOM reaches the verdict of the scan that wrote it; a third-party
SBOM is judged as far as it can be, and what it cannot answer is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli

# (project, scan options beyond the project, policy, stage). Policies are relative
# to the repository root. Other cases (a host profile, a vulnerability database)
# add their options here.
CASES = [
    ("sample_projects/pytorch-train", [], "production", None),
    ("sample_projects/pytorch-train", [], "baseline", "prototype"),
    ("sample_projects/onnx-serving", [], "stabilization", None),
    ("sample_projects/onnx-serving", [], "production", None),
    ("sample_projects/tensorflow-keras", [], "sample_projects/tensorflow-keras/policy.toml", None),
    ("sample_projects/tensorflow-keras", [], "production", "production"),
    # A host profile (a fleet on an old driver) and a real vulnerability database.
    ("sample_projects/pytorch-train", ["--host", "{data}/hosts/driver470.json", "--vuln-db", "{vulndb}"],
     "production", None),
    ("sample_projects/legacy-vision", ["--vuln-db", "{vulndb}"], "sample_projects/legacy-vision/mlgov-policy.toml",
     None),
]
VULNDB = "vulndb/pypa-advisory-db-2024-10-10.osv.zip"
FIXED_TIME = {"SOURCE_DATE_EPOCH": "1780000000"}  # 2026-05-28: waiver limits count days from the check


def run(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, args, env=FIXED_TIME, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def scan_then_check(project: Path, options: list[str], policy: str, stage: str | None, sbom: Path) -> None:
    staging = ["--stage", stage] if stage else []
    scan_code, scanned = run(["scan", str(project), *options, "--policy", policy, *staging,
                              "--sbom", str(sbom), "--format", "json"])
    check_code, checked = run(["check", str(sbom), "--policy", policy, *staging, "--format", "json"])
    assert checked["findings"] == scanned["findings"]
    assert (check_code, checked["verdict"]) == (scan_code, scanned["verdict"])
    assert checked["policy"] == scanned["policy"]
    assert checked["hosts"] == scanned["hosts"]  # the GPU stack the verdict was made against


@pytest.mark.parametrize(("project", "options", "policy", "stage"), CASES)
def test_check_agrees_with_scan_on_sample_projects(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   project: str, options: list[str], policy: str,
                                                   stage: str | None) -> None:
    if not (repo_root / project / "requirements.txt").is_file():
        pytest.skip(f"{project} is not in this checkout")
    if any("{vulndb}" in option for option in options) and not (repo_root.parent / "shared" / VULNDB).is_file():
        pytest.skip("../shared/vulndb is not beside the checkout")
    monkeypatch.chdir(repo_root)
    options = [o.format(data=repo_root / "tests" / "data", vulndb=repo_root.parent / "shared" / VULNDB)
               for o in options]
    scan_then_check(Path(project), options, policy, stage, tmp_path / "sbom.cdx.json")


def _distribution(site: Path, name: str, version: str, license_line: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n{license_line}\n")
    info.joinpath("INSTALLER").write_text("pip\n")


@pytest.fixture
def governed_project(tmp_path: Path) -> Path:
    """A project with every kind of finding this branch's rules make, and waivers."""
    project = tmp_path / "project"
    site = project / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    _distribution(site, "torch", "2.5.1", "License-Expression: BSD-3-Clause")
    _distribution(site, "gplthing", "1.0", "License-Expression: GPL-3.0-only")
    _distribution(site, "dual", "2.0", "License-Expression: MIT OR GPL-3.0-only")
    _distribution(site, "mystery", "0.1", "License: Proprietary-ish")
    _distribution(site, "pickle5", "0.0.11", "License-Expression: PSF-2.0")
    (project / "requirements.txt").write_text("torch==2.5.1\ngplthing>=1\ndual==2.0\nmystery\npickle5==0.0.11\n")
    (project / "policy.toml").write_text(
        "schema = 1\nextends = ['production']\n"
        "[[waivers]]\nid = 'PIN001'\npackage = 'mystery'\nreason = 'vendored'\nexpires = 2026-12-31\n"
        "[[waivers]]\nid = 'LIC003'\nreason = 'reviewed by legal'\n")
    return project


@pytest.mark.parametrize("stage", ["prototype", "stabilization", "production"])
def test_check_agrees_with_scan_on_a_governed_project(governed_project: Path, tmp_path: Path, stage: str) -> None:
    scan_then_check(governed_project, [], str(governed_project / "policy.toml"), stage, tmp_path / "sbom.json")


def test_governed_project_production_findings(governed_project: Path) -> None:
    code, report = run(["scan", str(governed_project), "--policy", str(governed_project / "policy.toml"),
                        "--format", "json"])
    found = {(f["rule_id"], f.get("package")) for f in report["findings"]}
    assert code == 1
    assert {("LIC001", "gplthing"), ("LIC003", "mystery"), ("PIN001", "gplthing"), ("PKG001", "torch"),
            ("PKG002", "pickle5"), ("POL001", None), ("POL002", None)} <= found
    assert not any(rule == "LIC001" and package == "dual" for rule, package in found)  # MIT OR GPL: MIT


@pytest.mark.parametrize(("stage", "level", "code"), [
    # Production passes only what it judged; before it, "not judged" is said but does not fail.
    ("production", "error", 1), ("stabilization", "warning", 0), ("prototype", "warning", 0)])
def test_third_party_sbom_reports_what_it_cannot_judge(data_dir: Path, stage: str, level: str, code: int) -> None:
    sbom = data_dir / "sboms" / "cyclonedx-py-environment.cdx.json"
    got, report = run(["check", str(sbom), "--policy", "production", "--stage", stage, "--format", "json"])
    coverage = [f for f in report["findings"] if f["rule_id"] == "COV001"]
    assert len(coverage) == 1
    assert coverage[0]["level"] == level
    asked = "PIN001, PIN002" if stage == "production" else "PIN001"  # hashes are asked at production only
    assert f"pin rules {asked} could not be judged" in coverage[0]["message"]
    # Licences it does carry are judged: classifiers kept as names are mapped, not "unknown".
    assert not [f for f in report["findings"] if f["rule_id"].startswith("LIC")]
    assert (got, report["verdict"]) == (code, "fail" if code else "pass")


def test_third_party_sbom_fails_closed_when_the_policy_says_so(data_dir: Path, tmp_path: Path) -> None:
    policy = tmp_path / "closed.toml"
    policy.write_text("schema = 1\nextends = ['production']\n[rules]\nCOV001 = 'error'\n"
                      "[licenses]\nallow = ['MIT']\n")
    code, report = run(["check", str(data_dir / "sboms" / "cyclonedx-py-environment.cdx.json"),
                        "--policy", str(policy), "--format", "json"])
    assert code == 1
    rules = sorted({f["rule_id"] for f in report["findings"]})
    # BSD-3-Clause and LGPL-2.0-or-later are not on the allow list; production's fail_on and no
    # advisory database: vulnerabilities were not checked (VULN002).
    assert rules == ["COV001", "LIC002", "VULN002"]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """A folder of two host profiles: today's fleet, which the SBOM's scan did not know."""
    folder = tmp_path / "fleet"
    folder.mkdir()
    for name, driver in (("gpu-old", "535.104.05"), ("gpu-new", "580.65.06")):
        (folder / f"{name}.json").write_text(json.dumps(
            {"format": "mlgov-host-profile", "version": 1, "host": name, "nvidia": {"driver_version": driver}}))
    return folder


@pytest.mark.parametrize("host", ["{data}/hosts/driver470.json", "{fleet}", "{fleet}/*.json"])
def test_check_with_host_agrees_with_a_scan_with_that_host(repo_root: Path, tmp_path: Path, fleet: Path,
                                                           monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """An auditor judges an SBOM against today's host profiles: `check --host` (a file, a folder or a
    glob, as for scan) reaches the findings of `scan --host`, whatever hosts the SBOM recorded."""
    monkeypatch.chdir(repo_root)
    host = host.format(data=repo_root / "tests" / "data", fleet=fleet)
    project = "sample_projects/pytorch-train"
    sbom = tmp_path / "sbom.cdx.json"
    scan_code, scanned = run(["scan", project, "--host", host, "--policy", "production", "--format", "json"])
    run(["scan", project, "--policy", "production", "--sbom", str(sbom), "--format", "json"])
    check_code, checked = run(["check", str(sbom), "--host", host, "--policy", "production", "--format", "json"])
    assert checked["findings"] == scanned["findings"]
    assert checked["hosts"] == scanned["hosts"]
    assert (check_code, checked["verdict"]) == (scan_code, scanned["verdict"])
    assert any(f["rule_id"] in ("GPU001", "GPU005") for f in checked["findings"])


def _gpu(report: dict) -> set[tuple[str, str, str | None, str]]:
    return {(f["rule_id"], f["level"], f["component"], f["message"]) for f in report["findings"]
            if f["rule_id"].startswith("GPU")}


@pytest.mark.parametrize("hosts", [[], ["--host", "{data}/hosts/driver470.json"]])
def test_a_cyclonedx_py_sbom_gets_the_gpu_judgement_of_the_scan(repo_root: Path, data_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                hosts: list[str]) -> None:
    """cyclonedx-py's SBOM of pytorch-train's requirements (torch 2.5.1 and 12 nvidia-*-cu12 wheels, no
    mlgov properties): check attributes torch's build as the scan of those requirements does, so the
    GPU rules say the same (GPU006 without a host; GPU001 on driver 470). Once: no GPU finding at all."""
    monkeypatch.chdir(repo_root)
    hosts = [h.format(data=data_dir) for h in hosts]
    sbom = data_dir / "sboms" / "cyclonedx-py-requirements-pytorch-train.cdx.json"
    _, checked = run(["check", str(sbom), *hosts, "--policy", "production", "--format", "json"])
    _, scanned = run(["scan", "sample_projects/pytorch-train", *hosts, "--policy", "production",
                      "--format", "json"])
    assert _gpu(checked) == _gpu(scanned)
    expected = {"GPU001"} if hosts else {"GPU006"}
    assert expected <= {rule for rule, _, _, _ in _gpu(checked)}


def test_a_component_field_of_another_json_type_is_exit_2_saying_so(data_dir: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # A purl that is an object: an AttributeError that only the last-resort guard caught ("report this as a bug").
    document = json.loads((data_dir / "sboms" / "cyclonedx-py-environment.cdx.json").read_text())
    document["components"][0]["purl"] = {"type": "pypi"}
    (tmp_path / "sbom.cdx.json").write_text(json.dumps(document))
    from governance.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["check", str(tmp_path / "sbom.cdx.json")])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert "unexpected CycloneDX content (AttributeError)" in err and "report this" not in err
