"""Fail closed where a rule had an input it could not judge: each case is a real input that a rule
used to pass without a word, scanned (and checked) as a user would, at the production and baseline
policies. What could not be judged is a finding whose level the stage decides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from governance.cli import cli
from tests.entry import invoke


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


# --- EOL001 / COV011: a driver branch or Python the lifecycle table has no row for ------------------

def _conda_project(tmp_path: Path, python: str) -> Path:
    project = tmp_path / "conda-project"
    project.mkdir(exist_ok=True)
    (project / "environment.yml").write_text(
        f"name: train\nchannels: [conda-forge]\ndependencies:\n  - python={python}\n  - numpy=1.21.6\n")
    return project


def _host(tmp_path: Path, driver: str) -> Path:
    profile = tmp_path / f"host-{driver}.json"
    profile.write_text(json.dumps({"format": "mlgov-host-profile", "version": 1, "host": f"box-{driver}",
                                   "nvidia": {"driver_version": driver}}))
    return profile


def test_python_37_and_driver_r390_are_past_their_end_of_life(tmp_path: Path) -> None:
    # Both passed production's EOL001 (an error there) without a word: the table began at Python 3.8,
    # and R390 (the last branch for Kepler consumer GPUs) had no row.
    project = _conda_project(tmp_path, "3.7.12")
    code, report = scan(str(project), "--policy", "production", "--host", str(_host(tmp_path, "390.157")))
    said = sorted(f["message"] for f in findings(report, "EOL001"))
    assert code == 1 and len(said) == 2
    assert said[0].startswith("Python 3.7 (python 3.7.12) reached end of life in 2023-06-27")
    assert said[1].startswith("host 'box-390.157' runs driver 390.157: NVIDIA driver branch R390 is listed as end "
                              "of life")
    assert all(f["level"] == "error" for f in findings(report, "EOL001"))
    assert findings(report, "COV011") == []


def test_a_python_or_driver_branch_the_table_lacks_is_not_judged(tmp_path: Path) -> None:
    # R590 is a New Feature Branch NVIDIA gives no end-of-life date; Python 3.16 is newer than the table.
    project = _conda_project(tmp_path, "3.16.0")
    code, report = scan(str(project), "--policy", "production", "--host", str(_host(tmp_path, "590.44.01")))
    cov = findings(report, "COV011")
    assert code == 1 and [f["level"] for f in cov] == ["error", "error"]
    messages = sorted(f["message"] for f in cov)
    assert messages[0].startswith("host 'box-590.44.01' runs driver 590.44.01, of branch R590, which mlgov's "
                                  "lifecycle table does not list: whether it is past its end of life was not judged")
    assert messages[1].startswith("the project runs python 3.16.0, which mlgov's lifecycle table does not list")
    assert findings(report, "EOL001") == []
    code, report = scan(str(project), "--policy", "baseline", "--host", str(_host(tmp_path, "590.44.01")))
    assert [f["level"] for f in findings(report, "COV011")] == ["warning", "warning"]


def test_cov011_is_said_only_where_eol001_is_on(tmp_path: Path) -> None:
    project = _conda_project(tmp_path, "3.16.0")
    policy = tmp_path / "no-eol.toml"
    policy.write_text('schema = 1\nextends = ["production"]\n[stages.production.rules]\nEOL001 = "off"\n')
    code, report = scan(str(project), "--policy", str(policy), "--host", str(_host(tmp_path, "590.44.01")))
    assert findings(report, "COV011") == [] and findings(report, "EOL001") == []


# --- PKG001 / PKG002 / COV012: a package the policy names, with no version to compare -------------

def test_an_unpinned_torch_is_not_passed_by_the_torch_floor(tmp_path: Path) -> None:
    # production allows torch >= 2.6 (CVE-2025-32434); `torch>=2.0` admits 2.0-2.5 and was passed silently.
    (tmp_path / "requirements.txt").write_text("torch>=2.0\npillow\nnumpy==2.1.3\n")
    code, report = scan(str(tmp_path), "--policy", "production")
    cov = findings(report, "COV012")
    assert code == 1 and [(f["package"], f["level"]) for f in cov] == [("torch", "error")]
    assert cov[0]["message"] == ("torch has no exact version (>=2.0 in requirements.txt:1): whether it is inside "
                                 "[packages.torch] allowed >=2.6 was not judged (PKG001); pin it, or scan the "
                                 "installed environment")
    assert findings(report, "PKG001") == []


def test_a_deny_with_a_range_does_not_pass_an_unpinned_package(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pillow\nnumpy==2.1.3\n")
    policy = tmp_path / "team.toml"
    policy.write_text('schema = 1\nextends = ["baseline"]\n[packages]\ndeny = ["pillow<9"]\n')
    code, report = scan(str(tmp_path), "--policy", str(policy))
    cov = findings(report, "COV012")
    assert code == 0 and [(f["package"], f["level"]) for f in cov] == [("pillow", "warning")]
    assert "whether it is denied by the policy (pillow<9) was not judged (PKG002)" in cov[0]["message"]
    # Pinned, it is judged: PKG002, no COV012.
    (tmp_path / "requirements.txt").write_text("pillow==8.4.0\nnumpy==2.1.3\n")
    code, report = scan(str(tmp_path), "--policy", str(policy))
    assert code == 1 and findings(report, "COV012") == [] and len(findings(report, "PKG002")) == 1


def test_conda_packages_meet_the_policy_under_their_pypi_name(tmp_path: Path) -> None:
    # A conda pytorch 2.1.0 passed production's [packages.torch] allowed >= 2.6, and a conda pillow 8.4
    # a `deny = ["pillow<9"]`: the packages family judged PyPI packages only.
    (tmp_path / "environment.yml").write_text(
        "name: train\nchannels: [pytorch, conda-forge]\ndependencies:\n  - python=3.11.9\n"
        "  - pytorch=2.1.0\n  - pillow=8.4.0\n")
    code, report = scan(str(tmp_path), "--policy", "production")
    assert code == 1
    assert [f["message"].split(";")[0] for f in findings(report, "PKG001")] == [
        "pytorch (conda's name for torch) 2.1.0 is outside the allowed range >=2.6 (CVE-2025-32434: torch.load "
        "weights_only bypass before 2.6.0)"]
    policy = tmp_path / "team.toml"
    policy.write_text('schema = 1\nextends = ["baseline"]\n[packages]\ndeny = ["pillow<9"]\n')
    code, report = scan(str(tmp_path), "--policy", str(policy))
    assert code == 1 and [f["package"] for f in findings(report, "PKG002")] == ["pillow"]


# --- VULN001 / COV013: packages the advisory matching never compared -----------------------------

def _vulndb(shared_dir: Path) -> str:
    return str(shared_dir / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip")


def scan_with_db(db: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["scan", *args, "--vuln-db", db, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_conda_packages_are_not_passed_as_free_of_advisories(shared_dir: Path, tmp_path: Path) -> None:
    # A database was used (no VULN002), and no VULN001: but the matching compares PyPI packages only,
    # so conda's pillow 8.4.0 (which PyPI's pillow 8.4.0 advisories describe) was never looked up.
    (tmp_path / "environment.yml").write_text(
        "name: serve\nchannels: [conda-forge]\ndependencies:\n  - python=3.11.9\n  - pillow=8.4.0\n")
    code, report = scan_with_db(_vulndb(shared_dir), str(tmp_path), "--policy", "production")
    assert findings(report, "VULN002") == [] and findings(report, "VULN001") == []
    cov = findings(report, "COV013")
    assert code == 1 and [f["level"] for f in cov] == ["error"]
    assert cov[0]["message"].startswith("vulnerabilities of 2 packages were not checked (pillow 8.4.0, python 3.11.9): "
                                        "not PyPI packages (conda or other)")
    code, report = scan_with_db(_vulndb(shared_dir), str(tmp_path), "--policy", "baseline")
    assert [f["level"] for f in findings(report, "COV013")] == ["warning"]


def test_requirements_without_a_version_are_not_passed_as_free_of_advisories(shared_dir: Path,
                                                                              tmp_path: Path) -> None:
    # pillow 8.4.0 pinned has advisories (VULN001); unpinned, nothing was matched and nothing said.
    (tmp_path / "requirements.txt").write_text("pillow\nnumpy==2.1.3\n")
    code, report = scan_with_db(_vulndb(shared_dir), str(tmp_path), "--policy", "production")
    cov = findings(report, "COV013")
    assert [f["message"].split(":")[0] for f in cov] == ["vulnerabilities of 1 package were not checked (pillow)"]
    assert "without an exact version" in cov[0]["message"] and cov[0]["level"] == "error"
    (tmp_path / "requirements.txt").write_text("pillow==8.4.0\nnumpy==2.1.3\n")
    code, report = scan_with_db(_vulndb(shared_dir), str(tmp_path), "--policy", "production")
    assert findings(report, "COV013") == [] and findings(report, "VULN001")


def test_cov013_needs_a_database_and_vuln001(tmp_path: Path) -> None:
    # Without advisories VULN002 says the whole check is missing; COV013 would only repeat it.
    (tmp_path / "requirements.txt").write_text("pillow\n")
    code, report = scan(str(tmp_path), "--policy", "production")
    assert findings(report, "COV013") == [] and len(findings(report, "VULN002")) == 1


# --- IMG004 / COV014: a runtime image on a host whose CUDA, or its own, mlgov cannot place ----------

def _image_project(tmp_path: Path, image: str) -> Path:
    project = tmp_path / "service"
    project.mkdir(exist_ok=True)
    (project / "Dockerfile").write_text(f"FROM {image}\nCOPY . /app\n")
    (project / "requirements.txt").write_text("numpy==2.1.3\n")
    return project


def test_a_cuda_10_image_on_driver_r390_is_an_error_not_a_gpu_brand_warning(tmp_path: Path) -> None:
    # A hand-written profile (driver only, as DESIGN allows): the host's CUDA is unknown, and IMG004 said
    # a warning blaming "a GPU brand the profile does not record". CUDA 10.0 needs driver >= 410.48.
    project = _image_project(tmp_path, "nvidia/cuda:10.0-runtime-ubuntu18.04")
    code, report = scan(str(project), "--policy", "baseline", "--host", str(_host(tmp_path, "390.157")))
    img = findings(report, "IMG004")
    assert [f["level"] for f in img] == ["error"] and "needs NVIDIA driver ≥ 410.48" in img[0]["message"]
    assert "GPU brand" not in img[0]["message"] and findings(report, "COV014") == []


def test_an_image_whose_host_cuda_is_unknown_is_not_judged(tmp_path: Path) -> None:
    # CUDA 9.0 is older than mlgov's driver table, and driver 390.157's CUDA cannot be told.
    project = _image_project(tmp_path, "nvidia/cuda:9.0-runtime-ubuntu16.04")
    host = str(_host(tmp_path, "390.157"))
    code, report = scan(str(project), "--policy", "production", "--host", host)
    cov = findings(report, "COV014")
    assert [f["level"] for f in cov] == ["error"] and findings(report, "IMG004") == []
    assert "host 'box-390.157' has driver 390.157, whose CUDA mlgov cannot tell" in cov[0]["message"]
    code, report = scan(str(project), "--policy", "baseline", "--host", host)
    assert [f["level"] for f in findings(report, "COV014")] == ["warning"]


def test_an_image_cuda_the_driver_table_lacks_is_not_judged(tmp_path: Path) -> None:
    # The tag scheme of pytorch/pytorch, for a CUDA no driver table will hold: no floor, no IMG004, and
    # before, no word at all.
    project = _image_project(tmp_path, "pytorch/pytorch:2.9.0-cuda99.0-cudnn9-runtime")
    code, report = scan(str(project), "--policy", "production", "--host", str(_host(tmp_path, "580.95.05")))
    cov = findings(report, "COV014")
    assert code == 1 and len(cov) == 1
    assert cov[0]["message"].startswith("pytorch/pytorch:2.9.0-cuda99.0-cudnn9-runtime (Dockerfile:1) brings CUDA "
                                        "99.0, which mlgov's driver table does not hold")


# --- a manifest requirement the lock does not install on this target ------------------------------

def test_a_conda_spec_the_lock_installs_only_elsewhere_is_said(data_dir: Path) -> None:
    # environment.yml asks for cudnn>=9.1,<10; conda-lock.yml installs cudnn on linux-64 only (a
    # `# [linux]` selector conda-lock reads and YAML drops). On macos-arm64 it joined no package and
    # vanished without a word: now a note says why it is not in the inventory.
    code, report = scan(str(data_dir / "lockfiles" / "conda"), "--target-platform", "macos-arm64",
                        "--policy", "baseline")
    assert "not installed on macos-arm64/py3.11 by the lock, which records them for other targets: " \
           "cudnn>=9.1,<10 (environment.yml:11)" in report["notes"]
    code, report = scan(str(data_dir / "lockfiles" / "conda"), "--target-platform", "linux-x86_64",
                        "--policy", "baseline")
    assert not [n for n in report["notes"] if n.startswith("not installed on")]


# --- DRIFT004: a manifest requirement the lock does not record at all -----------------------------

def test_a_requirement_uv_lock_does_not_record_is_drift_not_a_note(data_dir: Path, tmp_path: Path) -> None:
    # uv-variants/stale (made by uv; `uv sync --locked` refuses it): pyproject.toml asks for coloramalike,
    # which uv.lock does not record. It was a note alone, so a PR adding a dependency without re-locking
    # passed the gate, and `uv sync` would install the package unjudged.
    project = data_dir / "lockfiles" / "uv-variants" / "stale"
    sbom = tmp_path / "sbom.cdx.json"
    code, report = scan(str(project), "--target-platform", "linux-x86_64", "--target-python", "3.11",
                        "--policy", "baseline", "--sbom", str(sbom))
    drift = [f for f in findings(report, "DRIFT004") if f["message"].startswith("coloramalike")]
    assert code == 1 and len(drift) == 1 and drift[0]["level"] == "error"
    assert drift[0]["file"] == "pyproject.toml" and drift[0]["line"] == 9
    assert "which uv.lock does not record; the lock is stale" in drift[0]["message"]
    checked = CliRunner().invoke(cli, ["check", str(sbom), "--no-vuln-db", "--format", "json"])
    assert [f["message"] for f in json.loads(checked.stdout)["findings"] if f["rule_id"] == "DRIFT004"] == \
        [f["message"] for f in findings(report, "DRIFT004")]


def test_a_constraint_of_a_pip_compile_input_is_not_a_requirement_the_lock_lacks(data_dir: Path) -> None:
    # dev-requirements.in says `-c requirements.txt`: those 58 pins constrain, they ask for nothing, so
    # dev-requirements.txt not recording them is no drift (they were 58 "the lock is stale" notes).
    code, report = scan(str(data_dir / "lockfiles" / "pip-tools"), "--target-platform", "linux-x86_64",
                        "--target-python", "3.11", "--policy", "baseline")
    assert findings(report, "DRIFT004") == []
    assert not [n for n in report["notes"] if "stale" in n]


# --- check of an SBOM that names a rule this mlgov does not record ---------------------------------

def test_an_sbom_with_an_unknown_unread_rule_says_which(shared_dir: Path, tmp_path: Path) -> None:
    # It was exit 2 with "unexpected CycloneDX content (ValueError)": a newer mlgov's SBOM and a broken
    # one read the same. The record and the rule are named now.
    project = shared_dir / "real-projects" / "pangeo-docker-images" / "pytorch-notebook"
    sbom = tmp_path / "sbom.cdx.json"
    written = CliRunner().invoke(cli, ["sbom", str(project), "--target-platform", "macos-arm64", "-o", str(sbom)])
    assert written.exit_code == 0, written.output
    text = sbom.read_text()
    assert '\\"rule\\":\\"COV010\\"' in text
    sbom.write_text(text.replace('\\"rule\\":\\"COV010\\"', '\\"rule\\":\\"COV099\\"'))
    code, out = invoke(["check", str(sbom), "--no-vuln-db"])
    assert code == 2 and "Traceback" not in out
    assert "mlgov:unread: rule 'COV099' is not one this mlgov records there (COV002, COV003, COV010, DRIFT004); " \
           "an SBOM written by a newer mlgov is checked with that version" in out


# --- EOL001: the scanned environment's own Python ------------------------------------------------

def test_an_installed_environment_on_python_38_is_past_its_end_of_life(tmp_path: Path) -> None:
    # `--python .venv` of a Python 3.8 venv passed production's EOL001: only a conda `python` package or
    # --target-python was judged, never the interpreter the environment runs on.
    from tests.fakevenv import Dist, make_venv

    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy==1.24.4\n")
    venv = make_venv(tmp_path / "venv", [Dist("numpy", "1.24.4", license_expression="BSD-3-Clause")],
                     python_version="3.8.18")
    sbom = tmp_path / "sbom.cdx.json"
    code, report = scan(str(project), "--python", str(venv), "--policy", "production", "--sbom", str(sbom))
    eol = findings(report, "EOL001")
    assert code == 1 and [f["level"] for f in eol] == ["error"]
    assert "is Python 3.8, which reached end of life in 2024-10-07" in eol[0]["message"]
    checked = CliRunner().invoke(cli, ["check", str(sbom), "--no-vuln-db", "--policy", "production",
                                       "--format", "json"])
    assert [f["message"] for f in json.loads(checked.stdout)["findings"] if f["rule_id"] == "EOL001"] == \
        [eol[0]["message"]]
