"""Fail closed on input mlgov cannot read: nothing to scan is exit 2, a file that only looks
like an input is a finding (COV002) whose level the stage decides. Tried as a user would:
through the CLI in-process and as a real child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from tests.conftest import REPO


def mlgov(args: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governance", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO)})


def assert_nothing_to_scan(result: subprocess.CompletedProcess[str], folder: Path) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    message = result.stderr
    assert message.startswith(f"mlgov: error: nothing to scan in {folder.resolve()}")
    # What mlgov looks for, so the user can tell a wrong folder from an unsupported format.
    for name in ("requirements*.txt", "uv.lock", "poetry.lock", "pyproject.toml", "environment.yml", "--python"):
        assert name in message
    return message


def test_an_empty_folder_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    project, out = tmp_path / "empty", tmp_path / "out"
    project.mkdir()
    out.mkdir()
    result = mlgov(["scan", str(project), "--policy", "production", "--sbom", str(out / "s.json"),
                    "--report", str(out / "r.md")])
    assert_nothing_to_scan(result, project)
    assert list(out.iterdir()) == []
    sbom = mlgov(["sbom", str(project), "-o", str(out / "s.json")])
    assert_nothing_to_scan(sbom, project)
    assert list(out.iterdir()) == []


def test_run_from_the_wrong_folder_says_where_the_project_is(tmp_path: Path) -> None:
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "requirements.txt").write_text("numpy==2.1.3\n")
    result = mlgov(["scan"], cwd=tmp_path)
    message = assert_nothing_to_scan(result, tmp_path)
    assert "(the current folder)" in message
    assert "service/requirements.txt: scan that folder (mlgov scan service)" in message


def test_an_empty_current_folder_says_how_to_name_the_project(tmp_path: Path) -> None:
    message = assert_nothing_to_scan(mlgov(["scan"], cwd=tmp_path), tmp_path)
    assert "run mlgov in the project's folder, or name it: mlgov scan PATH" in message


def test_a_dangling_requirements_link_is_named(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").symlink_to("../shared/requirements.txt")
    message = assert_nothing_to_scan(mlgov(["scan", str(tmp_path)]), tmp_path)
    assert "requirements.txt (named like an input mlgov reads, but a link to ../shared/requirements.txt, " \
           "which does not exist" in message


def test_a_folder_named_requirements_txt_is_named(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").mkdir()
    message = assert_nothing_to_scan(mlgov(["scan", str(tmp_path)]), tmp_path)
    assert "requirements.txt (named like an input mlgov reads, but a folder, not a file" in message


def test_only_unread_file_names_are_named_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "requirements-gpu.in").write_text("torch==2.5.1\n")
    (tmp_path / "pylock-gpu.toml").write_text("lock-version = '1.0'\n")  # PEP 751 wants pylock.gpu.toml
    (tmp_path / "notes.yml").write_text("title: not a dependency file\n")
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(install_requires=['numpy'])\n")
    message = assert_nothing_to_scan(mlgov(["scan", str(tmp_path)]), tmp_path)
    assert "requirements-gpu.in (a pip-tools" in message
    assert "uv pip compile requirements-gpu.in -o requirements-gpu.txt" in message
    assert "pylock-gpu.toml (named like a PEP 751 lock" in message
    assert "setup.py (setup.py, which mlgov never runs" in message
    assert "notes.yml" not in message


def scan_json(project: Path, *options: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["scan", str(project), "--format", "json", *options])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def cov002(report: dict) -> list[tuple[str | None, str]]:
    return [(f["file"], f["level"]) for f in report["findings"] if f["rule_id"] == "COV002"]


@pytest.fixture
def partly_readable(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy==2.1.3 --hash=sha256:" + "0" * 64 + "\n")
    (project / "requirements-gpu.in").write_text("torch\n")  # no compiled requirements-gpu.txt beside it
    (project / "Cargo.lock").write_text("# a Rust lockfile\n")
    (project / "pylock-gpu.toml").write_text("lock-version = '1.0'\n")  # PEP 751 wants pylock.gpu.toml
    return project


@pytest.mark.parametrize(("policy", "stage", "code", "level"), [
    ("production", None, 1, "error"),
    ("baseline", "stabilization", 0, "warning"),
    ("prototype", None, 0, "warning"),
])
def test_files_that_look_like_inputs_are_findings_the_stage_weighs(partly_readable: Path, policy: str,
                                                                   stage: str | None, code: int, level: str) -> None:
    got, report = scan_json(partly_readable, "--policy", policy, *(["--stage", stage] if stage else []))
    assert got == code
    assert cov002(report) == [("Cargo.lock", level), ("pylock-gpu.toml", level), ("requirements-gpu.in", level)]
    message = next(f["message"] for f in report["findings"] if f["file"] == "Cargo.lock")
    assert message.startswith("Cargo.lock was not read (a lockfile of a kind this mlgov does not read)")


def test_covered_lookalikes_are_not_findings(tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("numpy\n")
    (tmp_path / "requirements.txt").write_text("numpy==2.1.3\n-r requirements/gpu.txt\n-c constraints.txt\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "gpu.txt").write_text("torch==2.5.1\n")
    (tmp_path / "constraints.txt").write_text("numpy<3\n")
    _, report = scan_json(tmp_path, "--policy", "production")
    assert cov002(report) == []


def test_a_requirements_folder_nobody_includes_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\nversion = '1'\ndependencies = ['numpy']\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "cuda.txt").write_text("torch==2.5.1\n")
    code, report = scan_json(tmp_path, "--policy", "production")
    assert (code, cov002(report)) == (1, [("requirements/", "error")])
    # With nothing declared besides it, nothing would be judged at all: bad input, at every stage.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\nversion = '1'\ndependencies = []\n")
    result = mlgov(["scan", str(tmp_path), "--policy", "baseline"])
    assert result.returncode == 2 and "requirements/ (a folder of requirements files" in result.stderr


def test_check_reaches_the_same_coverage_findings(partly_readable: Path, tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    scanned = CliRunner().invoke(cli, ["scan", str(partly_readable), "--policy", "production", "--sbom", str(sbom),
                                       "--format", "json"])
    checked = CliRunner().invoke(cli, ["check", str(sbom), "--policy", "production", "--format", "json"])
    assert scanned.exit_code == checked.exit_code == 1
    assert cov002(json.loads(checked.output)) == cov002(json.loads(scanned.output)) != []


def test_every_reader_names_what_it_reads() -> None:
    """The "nothing to scan" message and the lookalike list come from the readers' own NAMES."""
    from governance.collect import lockfiles

    for reader in lockfiles._readers():
        assert getattr(reader, "NAMES", ()), f"{reader.__name__} has no NAMES"
        for name in reader.NAMES:
            if "*" not in name:
                assert reader.matches(Path(name)), (reader.__name__, name)


def test_conda_environment_files_under_other_names_are_read_not_lookalikes(tmp_path: Path) -> None:
    # conda_env_gpu.yaml, env-gpu.yml, conda.yaml (MLflow): conda environments the lockfile reader takes.
    for name in ("conda_env_gpu.yaml", "env-gpu.yml", "conda.yaml"):
        (tmp_path / name).write_text("dependencies:\n  - cudatoolkit=11.3\n")
    _, report = scan_json(tmp_path, "--policy", "production")
    assert cov002(report) == []
    assert {"conda_env_gpu.yaml", "env-gpu.yml", "conda.yaml"} <= set(report.get("sources", []) or
                                                                     report["inventory"]["sources"])


def test_a_project_whose_dependencies_live_in_setup_py_is_nothing_to_judge(tmp_path: Path) -> None:
    """accelerate, transformers, jax: pyproject.toml configures ruff/pytest, setup.py holds
    install_requires. The pyproject is read and declares nothing; a PASS there would judge nothing."""
    (tmp_path / "pyproject.toml").write_text('[tool.ruff]\nline-length = 119\n')
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(install_requires=['torch>=2'])\n")
    for policy in ("baseline", "production"):
        result = mlgov(["scan", str(tmp_path), "--policy", policy, "--sbom", str(tmp_path / "s.json")])
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.startswith(f"mlgov: error: nothing to judge in {tmp_path.resolve()}: pyproject.toml "
                                        "declare(s) no package")
        assert "setup.py (setup.py, which mlgov never runs" in result.stderr
        assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize(("name", "text"), [
    ("pyproject.toml", '[project]\nname = "p"\nversion = "1"\ndependencies = []\n'),
    ("pyproject.toml", '[tool.ruff]\nline-length = 119\n'),
    ("requirements.txt", "# nothing yet\n"),
])
def test_files_that_declare_no_package_are_nothing_to_judge(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    result = mlgov(["scan", str(tmp_path), "--policy", "baseline"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"mlgov: error: nothing to judge in {tmp_path.resolve()}: {name} "
                                    "declare(s) no package; declare the project's dependencies there")


def test_a_lock_that_installs_nothing_is_judged(tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_text('lock-version = "1.0"\ncreated-by = "uv"\npackages = []\n')
    code, report = scan_json(tmp_path, "--policy", "baseline")
    assert code == 0 and report["summary"]["components"] == 0


def test_setup_py_beside_a_dependency_list_is_not_named(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["numpy==2.1.3"]\n')
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    _, report = scan_json(tmp_path, "--policy", "baseline")
    assert cov002(report) == []


def test_a_manifest_template_is_not_a_pip_tools_input(tmp_path: Path) -> None:
    """MANIFEST.in (setuptools' sdist template, in vllm, mlflow, trl, xformers...) lists files, not packages."""
    (tmp_path / "requirements.txt").write_text("numpy==2.1.3\n")
    (tmp_path / "MANIFEST.in").write_text("include LICENSE\nrecursive-include src *.cu\nprune tests\n")
    (tmp_path / "gpu.in").write_text("torch\n")
    _, report = scan_json(tmp_path, "--policy", "production")
    assert cov002(report) == [("gpu.in", "error")]


def test_per_platform_reqs_files_one_folder_down_are_pointed_to_and_named(tmp_path: Path) -> None:
    """InvokeAI's 2022 installer keeps py3.10-<platform>-reqs.txt in binary_installer/: the top says
    where they are, and the folder says how to make one of them judged."""
    folder = tmp_path / "binary_installer"
    folder.mkdir()
    (folder / "py3.10-linux-x86_64-cuda-reqs.txt").write_text("torch==1.12.1+cu116\n")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "yarn.lock").write_text("# yarn\n")
    message = assert_nothing_to_scan(mlgov(["scan", str(tmp_path)]), tmp_path)
    assert "one folder down there is binary_installer/py3.10-linux-x86_64-cuda-reqs.txt" in message
    assert "yarn.lock" not in message
    message = assert_nothing_to_scan(mlgov(["scan", str(folder)]), folder)
    assert "py3.10-linux-x86_64-cuda-reqs.txt (named like a requirements file" in message
    assert "`-r py3.10-linux-x86_64-cuda-reqs.txt`" in message
