"""What a project declares, read from real projects' files (../shared/real-projects).

Components only for what is installed on the target, with the version the lock gives: a line
for another target never creates a component or lends its version; a manifest beside the lock
compiled from it joins the locked package (DRIFT004 when the lock no longer satisfies it);
dependencies that pyproject.toml takes from files (`dynamic`) are read from those files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.collect.target import target_markers

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "real-projects"
TARGET = ("--target-platform", "linux-x86_64", "--target-python", "3.11")


def _case(name: str) -> Path:
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the real-project corpus must sit beside the checkout")
    return folder


def _inventory(folder: Path, python: str = "3.11"):  # type: ignore[no-untyped-def]
    from governance.collect import ScanOptions, collect

    return collect(ScanOptions(project=folder, markers=target_markers("linux-x86_64", python, {}),
                               include_environment=False))


def _scan(folder: Path, tmp_path: Path, *args: str) -> tuple[int, dict, dict]:
    """(exit code, JSON report, SBOM) of `mlgov scan` for linux-x86_64 / CPython 3.11."""
    out = tmp_path / "sbom.cdx.json"
    result = CliRunner().invoke(cli, ["scan", str(folder), *TARGET, "--format", "json", "--sbom", str(out), *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output), json.loads(out.read_text())


def _findings(report: dict, rule: str) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule_id"] == rule]


# --- a declaration that does not apply never creates a component or lends its version ---------------

def test_a_pin_for_another_platform_does_not_lend_its_version(tmp_path: Path) -> None:
    # requirements.txt:13 `torch; sys_platform != 'darwin'`, :14 `torch==2.8.0+cu128; sys_platform == 'darwin'`
    _, report, sbom = _scan(_case("deep-live-cam"), tmp_path, "--policy", "baseline")
    components = {(c["name"], c.get("version")) for c in sbom["components"] if c["name"] in ("torch", "torchvision")}
    assert components == {("torch", None), ("torchvision", None)}
    pins = [m for m in _findings(report, "PIN001") if m.startswith(("torch ", "torchvision "))]
    assert len(pins) == 2
    assert all("requirements.txt:13" in m or "requirements.txt:15" in m for m in pins)
    assert not any("2.8.0" in m or "0.20.1" in m for m in pins)


def test_the_other_platforms_pin_is_said_left_out_not_installed() -> None:
    inventory = _inventory(_case("deep-live-cam"))
    torch = [p for p in inventory.packages if p.name == "torch"]
    assert len(torch) == 1 and torch[0].version is None
    assert all(p.applies for p in torch[0].provenance)
    assert any("torch 2.8.0+cu128 (requirements.txt:14)" in note for note in inventory.notes)
    assert not any(note.startswith("not installed") and "torch" in note for note in inventory.notes)


def test_on_the_other_platform_the_pin_is_the_component() -> None:
    from governance.collect import ScanOptions, collect

    inventory = collect(ScanOptions(project=_case("deep-live-cam"), include_environment=False,
                                    markers=target_markers("macos-arm64", "3.11", {})))
    assert {(p.name, p.version) for p in inventory.packages if p.name in ("torch", "torchvision")} == {
        ("torch", "2.8.0+cu128"), ("torchvision", "0.20.1")}


# --- a stale compiled lock is drift, not an unpinned twin -------------------------------------------

def test_a_stale_compiled_lock_is_drift_not_an_unpinned_twin(tmp_path: Path) -> None:
    # requirements.txt:1 `absl-py~=2.3`; requirements_lock.txt (pip-compile, Python 3.9):7 `absl-py==2.1.0`
    code, report, sbom = _scan(_case("mediapipe"), tmp_path, "--policy", "baseline")
    assert code == 1
    assert not [c["name"] for c in sbom["components"] if not c.get("version")]
    assert {c.get("version") for c in sbom["components"] if c["name"] == "absl-py"} == {"2.1.0"}
    drift = _findings(report, "DRIFT004")
    assert any(m.startswith("absl-py: requirements.txt:1 asks for ~=2.3 but requirements_lock.txt:7 locks 2.1.0")
               for m in drift)
    assert any(m.startswith("flatbuffers: requirements.txt:5 asks for ~=25.9") for m in drift)
    assert not _findings(report, "PIN001")  # the manifest's ranges are what the lock was compiled from
    # the finding travels in the SBOM: `mlgov check` gives it too
    out = tmp_path / "sbom.cdx.json"
    checked = CliRunner().invoke(cli, ["check", str(out), "--format", "json", "--policy", "baseline"])
    assert any(m.startswith("absl-py: requirements.txt:1") for m in _findings(json.loads(checked.output), "DRIFT004"))


@pytest.mark.parametrize("python,lock,other", [("3.11", "requirements_lock.txt", "requirements_lock_3_12.txt"),
                                               ("3.9", "requirements_lock.txt", "requirements_lock_3_12.txt"),
                                               ("3.12", "requirements_lock_3_12.txt", "requirements_lock.txt")])
def test_the_lock_compiled_for_the_targets_python_applies(python: str, lock: str, other: str) -> None:
    inventory = _inventory(_case("mediapipe"), python)
    assert lock in inventory.sources and other not in inventory.sources
    assert any(note.startswith(f"{lock} is the lock for this target") and other in note for note in inventory.notes)
    # the 3.9 lock installs importlib-metadata (jax needs it before 3.10), the 3.12 lock does not
    names = {p.name for p in inventory.packages}
    assert ("importlib-metadata" in names) == (lock == "requirements_lock.txt")
    located = {pr.file for p in inventory.packages for pr in p.provenance}
    assert other not in located


def test_a_requirement_the_compiled_lock_does_not_record_is_said_stale() -> None:
    inventory = _inventory(_case("mediapipe"))
    assert "certifi" not in {p.name for p in inventory.packages}
    assert any(note.startswith("requirements.txt:2: certifi is not in requirements_lock.txt: the lock is stale")
               for note in inventory.notes)


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_a_fully_pinned_file_beside_its_in_file_is_its_lock(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {"requirements.in": "numpy>=2\nrequests\n",
                                      "requirements.txt": "numpy==1.26.4\nrequests==2.32.3\nurllib3==2.2.2\n"})
    code, report, sbom = _scan(project, tmp_path, "--policy", "baseline")
    assert code == 1
    assert {(c["name"], c.get("version")) for c in sbom["components"]} == {
        ("numpy", "1.26.4"), ("requests", "2.32.3"), ("urllib3", "2.2.2")}
    assert [m.split(";")[0] for m in _findings(report, "DRIFT004")] == [
        "numpy: requirements.in:1 asks for >=2 but requirements.txt:1 locks 1.26.4"]
    assert not _findings(report, "PIN001") and not _findings(report, "COV002")


def test_uv_pip_compile_from_pyproject_is_the_lock_of_its_dependencies(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {
        "pyproject.toml": '[project]\nname = "p"\nversion = "1"\ndependencies = ["numpy>=2", "requests"]\n',
        "requirements.txt": "# This file was autogenerated by uv via the following command:\n"
                            "#    uv pip compile pyproject.toml -o requirements.txt\n"
                            "numpy==1.26.4\n    # via p (pyproject.toml)\nrequests==2.32.3\n"})
    _, report, sbom = _scan(project, tmp_path, "--policy", "baseline")
    assert {(c["name"], c.get("version")) for c in sbom["components"]} == {("numpy", "1.26.4"), ("requests", "2.32.3")}
    assert [m.split(";")[0] for m in _findings(report, "DRIFT004")] == [
        "numpy: pyproject.toml:4 asks for >=2 but requirements.txt:3 locks 1.26.4"]


# --- dependencies that pyproject.toml takes from files ------------------------------------------------

def test_dynamic_dependencies_are_read_from_their_file(tmp_path: Path) -> None:
    # pyproject.toml: dynamic = [..., "dependencies"]; [tool.setuptools.dynamic] dependencies = {file = ["requirements.in"]}
    code, report, sbom = _scan(_case("jamun-2024-findlinks"), tmp_path, "--policy", "baseline")
    names = {c["name"] for c in sbom["components"]}
    assert {"torch", "torch_scatter", "e3nn", "hydra-core", "posebusters"} <= names and len(names) == 35
    pins = _findings(report, "PIN001")
    assert any(m.startswith("torch is not pinned to one version (no version at all) in requirements.in:1;")
               for m in pins)
    assert not any("requirements.in" in m for m in _findings(report, "COV002"))
    inventory = _inventory(_case("jamun-2024-findlinks"))
    assert "requirements.in" in inventory.sources
    e3nn = next(p for p in inventory.packages if p.name == "e3nn")
    assert (e3nn.provenance[0].file, e3nn.provenance[0].line, e3nn.provenance[0].kind) == ("requirements.in", 28,
                                                                                            "manifest")
    assert e3nn.source is not None and e3nn.source.kind == "vcs"
    # the dev extra's file is not in the project; the extra is not asked for
    assert any("requirements-dev.in, which does not exist" in note for note in inventory.notes)


def test_dynamic_dependencies_under_a_uv_lock_join_it_and_are_not_unread() -> None:
    inventory = _inventory(_case("jamun"))
    assert not [u for u in inventory.unread if u.file.endswith(".in")]
    assert {"requirements.in", "requirements-dev.in"} <= set(inventory.sources)
    torch = [p for p in inventory.packages if p.name == "torch"]
    assert len(torch) == 1 and torch[0].version == "2.5.1"
    assert {(pr.file, pr.kind) for pr in torch[0].provenance} == {("requirements.in", "manifest"),
                                                                  ("uv.lock", "lockfile")}
    assert not [p.name for p in inventory.packages if p.version is None]


def test_dynamic_extras_apply_when_asked_for() -> None:
    from governance.collect import ScanOptions, collect
    from governance.collect.selection import Selection

    folder = _case("instructlab")
    plain = _inventory(folder)
    assert {"requirements.txt", "requirements/cuda.txt"} <= set(plain.sources)
    boto3 = next(p for p in plain.packages if p.name == "boto3")
    assert [(pr.file, pr.line, pr.kind, pr.group) for pr in boto3.provenance] == [
        ("requirements.txt", 3, "manifest", "main")]  # read once, as the project's dependencies

    def training(inventory) -> set[tuple[str, str | None, bool]]:  # type: ignore[no-untyped-def]
        package = next(p for p in inventory.packages if p.name == "instructlab-training")
        return {(pr.location, pr.group, pr.applies) for pr in package.provenance}

    assert ("requirements/cuda.txt:2", "cuda", True) not in training(plain)
    cuda = collect(ScanOptions(project=folder, include_environment=False, selection=Selection(extras=("cuda",)),
                               markers=target_markers("linux-x86_64", "3.11", {})))
    assert ("requirements/cuda.txt:2", "cuda", True) in training(cuda)
    assert ("requirements/rocm.txt:2", "rocm", True) not in training(cuda)


def test_a_missing_dynamic_dependency_file_is_not_judged(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {
        "pyproject.toml": '[project]\nname = "p"\nversion = "1"\ndynamic = ["dependencies"]\n'
                          '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements/base.txt"]}\n',
        "requirements.txt": "numpy==1.26.4\n"})
    code, report, _ = _scan(project, tmp_path, "--policy", "baseline", "--stage", "production")
    assert code == 1
    said = _findings(report, "COV002")
    assert said == ["requirements/base.txt was not read (pyproject.toml:6 takes the project's dependencies from "
                    "it, but it does not exist): what it lists was not judged; add requirements/base.txt to the "
                    "project, or correct the name in pyproject.toml"]


def test_dynamic_dependencies_from_no_file_are_not_judged(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {
        "pyproject.toml": '[project]\nname = "p"\nversion = "1"\ndynamic = ["dependencies"]\n',
        "requirements.txt": "numpy==1.26.4\n"})
    _, report, _ = _scan(project, tmp_path, "--policy", "baseline")
    assert [m.split(":")[0:2] for m in _findings(report, "COV002")] == [["pyproject.toml", "4"]]


@pytest.mark.parametrize("pyproject", [
    '[project]\nname = "p"\nversion = "1"\ndynamic = ["dependencies"]\n'
    '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.in"]}\n',
    '[project]\nname = "p"\nversion = "1"\ndynamic = ["dependencies"]\n'])
def test_dynamic_dependencies_that_could_not_be_read_alone_are_nothing_to_judge(tmp_path: Path, pyproject: str) -> None:
    from tests.entry import invoke

    project = _write(tmp_path / "p", {"pyproject.toml": pyproject})
    code, output = invoke(["scan", str(project), *TARGET, "--policy", "baseline"])
    assert code == 2 and "nothing to judge in" in output, output


def test_a_project_whose_files_declare_nothing_is_not_passed() -> None:
    # faceswap: pyproject.toml holds tool settings only; the requirements are per-GPU files in requirements/
    from tests.entry import invoke

    for command in ("scan", "sbom"):
        code, output = invoke([command, str(_case("faceswap")), *TARGET])
        assert code == 2, output
        assert "nothing to judge in" in output and "pyproject.toml declare(s) no package" in output
        assert "requirements/ (a folder of requirements files" in output


# --- a conda environment file beside the conda-lock.yml made from it ----------------------------------

def test_conda_environment_specs_join_the_conda_lock_made_from_them() -> None:
    # ml-notebook/conda-lock.yml: metadata.sources = [environment.yml, ../pangeo-notebook/..., ...];
    # environment.yml:11 `jaxlib>=0.4.31=cuda12*`, :14 `tensorflow>=2.17.0=cuda12*`
    inventory = _inventory(_case("pangeo-docker-images/ml-notebook"))
    assert not [p.name for p in inventory.packages if p.version is None]
    jaxlib = [p for p in inventory.packages if p.name == "jaxlib"]
    assert len(jaxlib) == 1 and jaxlib[0].version == "0.7.2"
    assert ("environment.yml", 11, "manifest") in {(pr.file, pr.line, pr.kind) for pr in jaxlib[0].provenance}
    # the lock's exact build, not the environment's `cuda12*` selector
    assert [v for k, v in jaxlib[0].properties if k == "mlgov:conda:build"] == ["cuda129_py312h3ee6d78_202"]


_CONDA_LOCK = """version: 1
metadata:
  content_hash:
    linux-64: 0000
  channels:
  - url: conda-forge
    used_env_vars: []
  platforms:
  - linux-64
  sources:
  - environment.yml
package:
- name: numpy
  version: 1.26.4
  manager: conda
  platform: linux-64
  dependencies: {}
  url: https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda
  hash:
    md5: a502d7aad449a1206efb366d6a12c52d
    sha256: 3f4365e11b28e244c95ba8579942b0802761ba7bb31c026f50d1a9ea9c728149
  category: main
  optional: false
"""


def test_a_stale_conda_lock_is_drift(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {"environment.yml": "name: p\nchannels:\n  - conda-forge\ndependencies:\n"
                                                         "  - numpy>=2\n  - scipy\n",
                                      "conda-lock.yml": _CONDA_LOCK})
    _, report, sbom = _scan(project, tmp_path, "--policy", "baseline")
    assert [(c["name"], c.get("version")) for c in sbom["components"]] == [("numpy", "1.26.4")]
    assert sorted(m.split(";")[0] for m in _findings(report, "DRIFT004")) == [
        "numpy: environment.yml:5 asks for >=2 but conda-lock.yml:13 locks 1.26.4",
        # scipy, which the lock does not record at all, is the same drift (it was a note alone).
        "scipy: environment.yml:6 asks for scipy, which conda-lock.yml does not record"]
    assert not _findings(report, "PIN001")
    inventory = _inventory(project)
    assert any(n.startswith("environment.yml:6: scipy is not in conda-lock.yml: the lock is stale")
               for n in inventory.notes)


def test_pip_compile_from_setup_cfg_is_the_lock_of_its_install_requires(tmp_path: Path) -> None:
    project = _write(tmp_path / "p", {
        "setup.cfg": "[metadata]\nname = p\n\n[options]\ninstall_requires =\n    numpy>=2\n    requests\n",
        "requirements.txt": "#\n# This file is autogenerated by pip-compile with Python 3.11\n# by the following command:\n"
                            "#\n#    pip-compile setup.cfg\n#\nnumpy==1.26.4\n    # via p (setup.cfg)\n"
                            "requests==2.32.3\n    # via p (setup.cfg)\n"})
    _, report, sbom = _scan(project, tmp_path, "--policy", "baseline")
    assert {(c["name"], c.get("version")) for c in sbom["components"]} == {("numpy", "1.26.4"), ("requests", "2.32.3")}
    assert [m.split(" but ")[0] for m in _findings(report, "DRIFT004")] == ["numpy: setup.cfg:6 asks for >=2"]


def test_requirements_that_are_all_for_another_python_are_nothing_to_judge() -> None:
    # cleanrl's poetry exports: every line says `python_version >= "3.8" and python_version < "3.11"`
    from tests.entry import invoke

    folder = _case("cleanrl-poetry/requirements")
    code, output = invoke(["scan", str(folder), *TARGET, "--policy", "production"])
    assert code == 2 and "for linux-x86_64/py3.11: every requirement in" in output, output
    code, output = invoke(["scan", str(folder), "--target-platform", "linux-x86_64", "--target-python", "3.10",
                           "--policy", "baseline"])
    assert code in (0, 1) and "nothing to judge" not in output


def test_the_compiled_locks_input_is_the_file_its_header_names() -> None:
    # model_maker/requirements_lock.txt: `pip-compile ... model_maker_requirements_bazel.txt` (a copy the
    # build prefixes); requirements.txt beside it (with mediapipe) is not what the lock was compiled from
    inventory = _inventory(_case("mediapipe/mediapipe/model_maker"))
    tensorflow = next(p for p in inventory.packages if p.name == "tensorflow")
    assert ("requirements_bazel.txt", "manifest") in {(pr.file, pr.kind) for pr in tensorflow.provenance}
    mediapipe = next(p for p in inventory.packages if p.name == "mediapipe")
    assert [(pr.file, pr.kind) for pr in mediapipe.provenance] == [("requirements.txt", "requirements")]
