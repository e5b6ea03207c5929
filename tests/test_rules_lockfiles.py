"""LOCK001 and DRIFT001-003 on real locks and a fake installed environment."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.collect import lockfiles
from governance.collect.environment import host_markers
from governance.collect.target import target_markers

TARGET = ["--target-platform", "linux-x86_64", "--target-python", "3.11"]


def make_venv(folder: Path, packages: dict[str, str]) -> Path:
    """A virtual environment holding only dist-info folders, as pip leaves them."""
    site = folder / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\nversion_info = 3.11.7\n")
    for name, version in packages.items():
        dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (dist / "INSTALLER").write_text("uv\n")
    return folder


def locked(project: Path) -> dict[str, str]:
    result = lockfiles.read(project / "uv.lock", project, target_markers("linux-x86_64", "3.11", host_markers()))
    return {d.name: d.version or "" for d in result.declarations}


def scan(project: Path, venv: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    # A GPU host that runs everything in the lock, so that only drift can speak.
    host = venv.parent / "host.json"
    host.write_text(json.dumps({"format": "mlgov-host-profile", "version": 1,
                                "nvidia": {"driver_version": "580.159.04"}}))
    result = CliRunner().invoke(cli, ["scan", str(project), "--python", str(venv), "--format", "json",
                                      "--host", str(host), *TARGET, *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)["findings"]


@pytest.fixture
def project(data_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "project"
    target.mkdir()
    for name in ("uv.lock", "pyproject.toml"):
        shutil.copy(data_dir / "lockfiles" / "uv" / name, target / name)
    return target


def test_environment_that_matches_the_lock_has_no_findings(project: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", {**locked(project), "pip": "24.3"})
    code, findings = scan(project, venv)
    assert (code, findings) == (0, [])


def test_drifted_environment_gives_drift_findings_and_nothing_else(project: Path, tmp_path: Path) -> None:
    packages = locked(project)
    assert packages["filelock"] == "4.2.12" and "sympy" in packages
    packages["filelock"] = "3.16.1"  # a different version
    del packages["sympy"]  # missing
    packages["requests-oauthlib"] = "2.0.0"  # not locked at all
    code, findings = scan(project, make_venv(tmp_path / "venv", packages))
    assert code == 1
    assert sorted((f["rule_id"], f["component"]) for f in findings) == [
        ("DRIFT001", "pkg:pypi/filelock@3.16.1"),
        ("DRIFT002", "pkg:pypi/requests-oauthlib@2.0.0"),
        ("DRIFT003", "pkg:pypi/sympy@1.13.1"),
    ]
    by_rule = {f["rule_id"]: f for f in findings}
    assert "uv.lock:" in by_rule["DRIFT001"]["message"] and "locks 4.2.12" in by_rule["DRIFT001"]["message"]
    assert "uv sync --locked" in by_rule["DRIFT001"]["message"]
    assert by_rule["DRIFT003"]["file"] == "uv.lock" and by_rule["DRIFT003"]["line"]
    assert by_rule["DRIFT002"]["level"] == "warning"


def test_packages_of_other_targets_are_not_missing(project: Path, tmp_path: Path) -> None:
    # On macOS the lock installs no CUDA wheels: an environment without them is in sync.
    markers = target_markers("macos-arm64", "3.12", host_markers())
    mac = {d.name: d.version or "" for d in lockfiles.read(project / "uv.lock", project, markers).declarations}
    result = CliRunner().invoke(cli, ["scan", str(project), "--python", str(make_venv(tmp_path / "venv", mac)),
                                      "--format", "json", "--target-platform", "macos-arm64", "--target-python", "3.12"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"] == []


def test_no_drift_without_an_environment(project: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", str(project), "--format", "json", *TARGET])
    assert result.exit_code == 0
    assert [f for f in json.loads(result.output)["findings"] if f["rule_id"].startswith("DRIFT")] == []


def test_lockfiles_that_disagree_give_lock001(data_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "both"
    shutil.copytree(data_dir / "lockfiles" / "uv", project)
    poetry = (data_dir / "lockfiles" / "poetry" / "poetry.lock").read_text()
    assert 'name = "filelock"\nversion = "4.2.12"' in poetry
    poetry = poetry.replace('name = "filelock"\nversion = "4.2.12"', 'name = "filelock"\nversion = "4.2.11"')
    # The lock made fresh for the pyproject.toml it now sits beside (poetry refuses a stale one, so does mlgov).
    from governance.collect.lockfiles.poetry import content_hash

    fresh = content_hash(tomllib.loads((project / "pyproject.toml").read_text()))
    poetry = re.sub(r'content-hash = "[0-9a-f]+"', f'content-hash = "{fresh}"', poetry)
    (project / "poetry.lock").write_text(poetry)
    result = CliRunner().invoke(cli, ["scan", str(project), "--format", "json", *TARGET])
    findings = json.loads(result.output)["findings"]
    judged = [(f["rule_id"], f["package"]) for f in findings if f["rule_id"] != "GPU006"]  # no host: a note
    assert judged == [("LOCK001", "filelock")]
    assert "poetry.lock:" in findings[0]["message"] and "uv.lock:" in findings[0]["message"]
    assert result.exit_code == 1


def test_pip_compiled_requirements_count_as_a_lock(data_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "pt"
    shutil.copytree(data_dir / "lockfiles" / "pip-tools", project)
    from governance.collect.requirements import read_requirements

    markers = target_markers("linux-x86_64", "3.11", host_markers())
    found = read_requirements([project / "requirements.txt", project / "dev-requirements.txt"], project, markers)
    packages = {d.name: d.version or "" for d in found.declarations if d.provenance.applies}
    packages["numpy"] = "1.26.4"
    code, findings = scan(project, make_venv(tmp_path / "venv", packages))
    assert [(f["rule_id"], f["package"]) for f in findings] == [("DRIFT001", "numpy")]
    assert "pip-sync requirements.txt" in findings[0]["message"]


def test_pyproject_range_pinned_by_a_requirements_file_is_not_pin001(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["numpy>=1.26"]\n')
    (tmp_path / "requirements.txt").write_text("numpy==2.0.2\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json"])
    assert json.loads(result.output)["findings"] == []
    (tmp_path / "requirements.txt").unlink()
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json"])
    assert [f["rule_id"] for f in json.loads(result.output)["findings"]] == ["PIN001"]
