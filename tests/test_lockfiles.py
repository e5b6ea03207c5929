"""Lockfile readers against what each tool itself says it installs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.collect import lockfiles
from governance.collect.environment import host_markers
from governance.collect.lockfiles import pyproject
from governance.collect.requirements import read_requirements
from governance.collect.selection import Selection
from governance.collect.target import target_markers

LINUX = ("linux-x86_64", "3.11")
TARGETS = [LINUX, ("linux-aarch64", "3.12"), ("macos-arm64", "3.12"), ("windows-amd64", "3.11")]
# tool folder, lockfile, the tool's own export(s) of the same lock
TOOLS = [
    ("uv", "uv.lock", ["uv-export.txt"]),
    ("poetry", "poetry.lock", ["poetry-export.txt"]),
    ("pipenv", "Pipfile.lock", ["pipenv-export.txt", "pipenv-export-dev.txt"]),
]


def markers_for(platform: str, python: str) -> dict[str, str]:
    return target_markers(platform, python, host_markers())


def export_view(folder: Path, exports: list[str], markers: dict[str, str]) -> dict[tuple[str, str | None], tuple]:
    found = read_requirements([folder / e for e in exports], folder, markers)
    return {(d.key, d.version): d.provenance.hashes for d in found.declarations if d.provenance.applies}


def lock_view(folder: Path, lock: str, markers: dict[str, str]) -> dict[tuple[str, str | None], tuple]:
    # The pipenv exports include --dev-only: pipenv installs `develop` with --dev (mlgov: --group dev).
    selection = Selection(groups=("dev",)) if lock == "Pipfile.lock" else Selection()
    result = lockfiles.read(folder / lock, folder, markers, selection)
    return {(d.key, d.version): d.provenance.hashes for d in result.declarations}


@pytest.mark.parametrize("platform,python", TARGETS)
@pytest.mark.parametrize("tool,lock,exports", TOOLS)
def test_reader_installs_what_the_tools_export_installs(data_dir: Path, tool: str, lock: str, exports: list[str],
                                                        platform: str, python: str) -> None:
    folder = data_dir / "lockfiles" / tool
    markers = markers_for(platform, python)
    expected = export_view(folder, exports, markers)
    got = lock_view(folder, lock, markers)
    assert set(got) == set(expected)
    for entry, hashes in expected.items():
        if hashes:  # pipenv's export carries no hashes
            assert got[entry] == hashes, entry


@pytest.mark.parametrize("platform,python", TARGETS)
def test_pdm_lock_without_markers_walks_the_graph_like_uv(data_dir: Path, platform: str, python: str) -> None:
    # pdm could not export this lock (see its GENERATED.md); uv locked the same project.
    markers = markers_for(platform, python)
    assert lock_view(data_dir / "lockfiles" / "pdm", "pdm.lock", markers) == \
        lock_view(data_dir / "lockfiles" / "uv", "uv.lock", markers)


@pytest.mark.parametrize("tool,lock,exports", TOOLS + [("pip-tools", None, ["requirements.txt", "dev-requirements.txt"])])
def test_sbom_for_linux_lists_exactly_what_the_tool_installs(data_dir: Path, tmp_path: Path, tool: str,
                                                             lock: str | None, exports: list[str]) -> None:
    folder = data_dir / "lockfiles" / tool
    out = tmp_path / "sbom.json"
    result = CliRunner().invoke(cli, ["sbom", str(folder), "--target-platform", LINUX[0],
                                      "--target-python", LINUX[1], "-o", str(out)]
                                + (["--group", "dev"] if tool == "pipenv" else []))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    from packaging.utils import canonicalize_name

    components = {(canonicalize_name(c["name"]), c.get("version")): tuple(sorted(h["content"] for h in c.get("hashes", [])))
                  for c in document["components"]}
    expected = export_view(folder, exports, markers_for(*LINUX))
    assert set(components) == set(expected)
    for entry, hashes in expected.items():
        if hashes:
            assert components[entry] == tuple(sorted(h.value for h in hashes))
    target = [p["value"] for p in document["metadata"]["properties"] if p["name"] == "mlgov:target"]
    assert target == ["linux-x86_64/py3.11"]


def test_torch_is_found_at_its_entry_line_with_group_and_source(data_dir: Path) -> None:
    folder = data_dir / "lockfiles"
    for tool, lock, header in [("uv", "uv.lock", "[[package]]"), ("poetry", "poetry.lock", "[[package]]"),
                               ("pdm", "pdm.lock", "[[package]]")]:
        result = lockfiles.read(folder / tool / lock, folder / tool, markers_for(*LINUX))
        torch = next(d for d in result.declarations if d.key == "torch")
        lines = (folder / tool / lock).read_text().splitlines()
        assert lines[torch.provenance.line - 1] == header
        assert lines[torch.provenance.line] == 'name = "torch"'
        assert torch.provenance.group == "main" and torch.provenance.kind == "lockfile"
        pytest_entry = next(d for d in result.declarations if d.key == "pytest")
        assert pytest_entry.provenance.group == "dev"
    pipenv = lockfiles.read(folder / "pipenv" / "Pipfile.lock", folder / "pipenv", markers_for(*LINUX))
    torch = next(d for d in pipenv.declarations if d.key == "torch")
    assert '"torch": {' in (folder / "pipenv" / "Pipfile.lock").read_text().splitlines()[torch.provenance.line - 1]


def test_cuda_wheels_are_tagged_for_the_gpu_stack(data_dir: Path) -> None:
    result = lockfiles.read(data_dir / "lockfiles/uv/uv.lock", data_dir / "lockfiles/uv", markers_for(*LINUX))
    tagged = {d.key: dict(d.properties).get("mlgov:gpu-stack") for d in result.declarations
              if "mlgov:gpu-stack" in dict(d.properties)}
    assert tagged == {"nvidia-cudnn-cu12": "cudnn", "nvidia-cuda-runtime-cu12": "cuda-runtime"}


def test_macos_sbom_has_no_cuda_wheels_and_says_what_was_left_out(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["sbom", str(data_dir / "lockfiles/uv"), "--target-platform", "macos-arm64",
                                      "--target-python", "3.12"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    names = {c["name"] for c in document["components"]}
    assert "torch" in names and "tensorflow" not in names
    assert not any(n.startswith("nvidia-") or n == "triton" for n in names)
    notes = json.loads(next(p["value"] for p in document["metadata"]["properties"] if p["name"] == "mlgov:notes"))
    assert any("left out" in n for n in notes)


def _copy(data_dir: Path, tool: str, tmp_path: Path) -> Path:
    target = tmp_path / tool
    shutil.copytree(data_dir / "lockfiles" / tool, target)
    return target


@pytest.mark.parametrize("tool,lock", [("uv", "uv.lock"), ("poetry", "poetry.lock"), ("pdm", "pdm.lock"),
                                       ("pipenv", "Pipfile.lock")])
def test_truncated_lockfile_exits_2_naming_it_and_writes_nothing(data_dir: Path, tmp_path: Path, tool: str,
                                                                 lock: str) -> None:
    folder = _copy(data_dir, tool, tmp_path)
    text = (folder / lock).read_text()
    (folder / lock).write_text(text[: len(text) // 2])
    out = tmp_path / "sbom.json"
    result = CliRunner().invoke(cli, ["sbom", str(folder), "-o", str(out)], standalone_mode=False,
                                catch_exceptions=True)
    from governance.errors import InputError

    assert isinstance(result.exception, InputError), result.output
    assert result.exception.file == lock and result.exception.line is not None
    assert not out.exists()


@pytest.mark.parametrize("tool,lock,old,new", [
    ("uv", "uv.lock", "version = 1\n", "version = 2\n"),
    ("poetry", "poetry.lock", 'lock-version = "2.1"', 'lock-version = "3.0"'),
    ("pdm", "pdm.lock", 'lock_version = "4.5.1"', 'lock_version = "5.0"'),
    ("pipenv", "Pipfile.lock", '"pipfile-spec": 6', '"pipfile-spec": 7'),
])
def test_newer_format_version_exits_2(data_dir: Path, tmp_path: Path, tool: str, lock: str, old: str,
                                      new: str) -> None:
    from governance.cli import main

    folder = _copy(data_dir, tool, tmp_path)
    text = (folder / lock).read_text()
    assert old in text
    (folder / lock).write_text(text.replace(old, new, 1))
    with pytest.raises(SystemExit) as exit_info:
        main(["sbom", str(folder), "-o", str(tmp_path / "out.json")])
    assert exit_info.value.code == 2
    assert not (tmp_path / "out.json").exists()


def test_newer_format_message_names_file_and_line(data_dir: Path, tmp_path: Path) -> None:
    folder = _copy(data_dir, "uv", tmp_path)
    (folder / "uv.lock").write_text((folder / "uv.lock").read_text().replace("version = 1\n", "version = 2\n", 1))
    with pytest.raises(Exception) as error:
        lockfiles.read(folder / "uv.lock", folder, markers_for(*LINUX))
    assert str(error.value).startswith("uv.lock:1: uv.lock version 2 is newer")


def test_unknown_lockfile_is_mentioned_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy==2.0.2\n")
    (tmp_path / "Cargo.lock").write_text("# not python\n")
    result = CliRunner().invoke(cli, ["sbom", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    unread = json.loads(next(p["value"] for p in document["metadata"]["properties"] if p["name"] == "mlgov:unread"))
    assert [(u["file"], u["reason"]) for u in unread] == [("Cargo.lock", "a lockfile of a kind this mlgov does not read")]
    assert [c["name"] for c in document["components"]] == ["numpy"]


def test_export_files_are_not_globbed_as_requirements(data_dir: Path) -> None:
    from governance.collect.requirements import find_requirements_files

    assert find_requirements_files(data_dir / "lockfiles" / "uv") == []


@pytest.mark.parametrize("constraint,expected", [
    ("^1.2.3", ">=1.2.3,<2"), ("^0.2.3", ">=0.2.3,<0.3"), ("^0.0.3", ">=0.0.3,<0.0.4"), ("~1.2.3", ">=1.2.3,<1.3"),
    ("~1", ">=1,<2"), ("*", ""), ("1.2.3", "==1.2.3"), (">=8.0,<10", ">=8.0,<10"), (">=1 <2", ">=1,<2"),
])
def test_poetry_constraints_become_pep440(constraint: str, expected: str) -> None:
    assert pyproject.poetry_constraint(constraint) == expected


def test_pyproject_manifest_groups_and_markers(data_dir: Path) -> None:
    folder = data_dir / "lockfiles" / "poetry"
    result = lockfiles.read(folder / "pyproject.toml", folder, markers_for("macos-arm64", "3.11"))
    by_name = {d.key: d for d in result.declarations}
    assert by_name["pytest"].provenance.group == "dev"
    assert by_name["pytest"].provenance.specifier == ">=8.0,<10"
    assert by_name["tensorflow"].provenance.applies is False
    assert by_name["torch"].version == "2.5.1" and by_name["torch"].provenance.kind == "manifest"


@pytest.mark.parametrize(("body", "message", "line"), [
    # A string was iterated letter by letter: packages n, u, m, p and y were declared.
    ('[project]\nname = "x"\ndependencies = "numpy==1.26.4"\n', "[project] dependencies is not a list", 3),
    ('[project]\nname = "x"\ndependencies = ["numpy==1.26.4", 5]\n', "[project] dependencies is not a list", 3),
    ('[project]\nname = "x"\n[project.optional-dependencies]\ngpu = "torch"\n', "optional-dependencies] gpu", 4),
    ('project = 3\n', "[project] is not a table", 1),
    ('[project]\nname = "x"\n[dependency-groups]\ndev = 1.5\n', "[dependency-groups] dev is not a list", 4),
    ('[tool]\npoetry = 1\n', "[tool.poetry] is not a table", 2),
])
def test_a_pyproject_table_of_the_wrong_type_is_an_error_at_its_line(tmp_path: Path, body: str, message: str,
                                                                     line: int) -> None:
    from governance.errors import InputError

    (tmp_path / "pyproject.toml").write_text(body)
    with pytest.raises(InputError, match=message.replace("[", r"\[")) as raised:
        lockfiles.read(tmp_path / "pyproject.toml", tmp_path, markers_for("linux-x86_64", "3.11"))
    assert raised.value.line == line


def test_the_pyproject_beside_a_lock_is_checked_before_the_lock_reader_uses_it(data_dir: Path, tmp_path: Path) -> None:
    # pdm.lock's reader took `[dependency-groups]` as a table: a float there was "unexpected content" in pdm.lock.
    from governance.errors import InputError

    shutil.copytree(data_dir / "lockfiles" / "pdm", tmp_path / "p")
    (tmp_path / "p" / "pyproject.toml").write_text('dependency-groups = 1.5\n[project]\nname = "x"\n')
    with pytest.raises(InputError, match=r"\[dependency-groups\] is not a table") as raised:
        lockfiles.read(tmp_path / "p" / "pdm.lock", tmp_path / "p", markers_for("linux-x86_64", "3.11"))
    assert raised.value.file == "pyproject.toml" and raised.value.line == 1


def test_twenty_thousand_requirements_are_placed_in_linear_time(tmp_path: Path) -> None:
    import time

    # Each requirement's line was found by searching the text from its start: quadratic (13 s for these).
    count = 20_000
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "q"\ndependencies = [\n'
                                             + "".join(f'  "pkg{i}==1.0",\n' for i in range(count)) + "]\n")
    started = time.perf_counter()
    result = lockfiles.read(tmp_path / "pyproject.toml", tmp_path, markers_for("linux-x86_64", "3.11"))
    assert time.perf_counter() - started < 4
    lines = {d.key: d.provenance.line for d in result.declarations}
    assert len(lines) == count and lines["pkg0"] == 4 and lines[f"pkg{count - 1}"] == count + 3


PYLOCK = '''lock-version = "1.0"
environments = ["sys_platform == 'linux'", "sys_platform == 'darwin'"]
requires-python = ">=3.11"
default-groups = ["dev"]
created-by = "hand"

[[packages]]
name = "numpy"
version = "2.0.2"
index = "https://pypi.org/simple"
wheels = [{ name = "numpy-2.0.2-cp311-cp311-manylinux_2_17_x86_64.whl", url = "https://files.example/numpy.whl", hashes = { sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" } }]

[[packages]]
name = "triton"
version = "3.1.0"
marker = "sys_platform == 'linux' and platform_machine == 'x86_64'"
wheels = [{ url = "https://files.example/triton.whl", hashes = { sha256 = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" } }]

[[packages]]
name = "pytest"
version = "9.2.0"
marker = "'dev' in dependency_groups"
vcs = { type = "git", url = "https://github.com/pytest-dev/pytest", commit-id = "4f0d5a1c2b3e4d5f6a7b8c9d0e1f2a3b4c5d6e7f" }
'''


@pytest.mark.parametrize("platform,expected", [("linux-x86_64", {"numpy", "triton", "pytest"}),
                                               ("macos-arm64", {"numpy", "pytest"})])
def test_pylock(tmp_path: Path, platform: str, expected: set[str]) -> None:
    (tmp_path / "pylock.ci.toml").write_text(PYLOCK)
    assert [p.name for p in lockfiles.find(tmp_path)] == ["pylock.ci.toml"]
    result = lockfiles.read(tmp_path / "pylock.ci.toml", tmp_path, markers_for(platform, "3.11"))
    by_name = {d.key: d for d in result.declarations}
    assert set(by_name) == expected
    assert by_name["pytest"].provenance.group == "dev"
    assert by_name["pytest"].provenance.source.commit == "4f0d5a1c2b3e4d5f6a7b8c9d0e1f2a3b4c5d6e7f"
    assert by_name["numpy"].provenance.line == 7 and by_name["numpy"].provenance.hashes[0].value.startswith("0123")


def test_conda_files_for_linux(data_dir: Path) -> None:
    folder = data_dir / "lockfiles" / "conda"
    markers = markers_for(*LINUX)
    assert [p.name for p in lockfiles.find(folder)] == ["conda-linux-64.lock", "conda-lock.yml", "environment.yml"]
    lock = {d.key: d for d in lockfiles.read(folder / "conda-lock.yml", folder, markers).declarations}
    assert lock["pytorch"].ecosystem == "conda"
    assert dict(lock["pytorch"].properties)["mlgov:conda:build"] == "cuda124_py311h3cc6e6a_303"
    assert dict(lock["cudnn"].properties)["mlgov:gpu-stack"] == "cudnn"
    assert dict(lock["cuda-cudart"].properties)["mlgov:gpu-stack"] == "cuda-runtime"
    assert lock["tensorflow"].ecosystem == "pypi"
    assert lock["cudnn"].provenance.line == 53
    explicit = {d.key: d for d in lockfiles.read(folder / "conda-linux-64.lock", folder, markers).declarations}
    assert explicit["cudatoolkit"].version == "11.8.0"
    assert dict(explicit["cudatoolkit"].properties)["mlgov:gpu-stack"] == "cudatoolkit"
    assert str(explicit["cudatoolkit"].provenance.hashes[0]) == "md5:eb43f5f1f16e2fad2eba22219c3e499b"
    environment = {d.key: d for d in lockfiles.read(folder / "environment.yml", folder, markers).declarations}
    assert environment["pytorch"].version == "2.5.1" and environment["cudnn"].version is None
    assert environment["cudnn"].provenance.specifier == ">=9.1,<10"
    assert environment["pytest"].ecosystem == "pypi" and environment["pytest"].provenance.group == "pip"


def test_conda_purls_and_platform_filter(data_dir: Path) -> None:
    folder = data_dir / "lockfiles" / "conda"
    result = CliRunner().invoke(cli, ["sbom", str(folder), "--target-platform", "macos-arm64",
                                      "--target-python", "3.11"])
    assert result.exit_code == 0, result.output
    purls = {c["purl"] for c in json.loads(result.output)["components"]}
    assert "pkg:conda/pytorch@2.5.1?build=cpu_generic_py311h9ea0d0c_3&channel=conda-forge&subdir=osx-arm64" in purls
    assert not any("linux-64" in p for p in purls)
    # environment.yml asks for cudnn everywhere, but conda-lock.yml, made from it (metadata.sources) for
    # linux-64 and osx-arm64, installs it on Linux only: the lock decides, as uv.lock does for
    # pyproject.toml, so macOS has no cudnn component (the spec's channel rule without a lock: stylegan3,
    # kraken in test_lockfiles_traps).
    assert not any(p.startswith("pkg:conda/cudnn") for p in purls)
    linux = CliRunner().invoke(cli, ["sbom", str(folder), "--target-platform", "linux-x86_64", "--target-python", "3.11"])
    cudnn = [c for c in json.loads(linux.output)["components"] if c["name"] == "cudnn"]
    assert [c.get("version") for c in cudnn] == ["9.3.0.75"]


@pytest.mark.parametrize("text,line", [("name: x\ndependencies: [a, b\n", 3), ("version: 1\npackage: 5\n", None)])
def test_bad_conda_yaml_exits_2_with_the_file(tmp_path: Path, text: str, line: int | None) -> None:
    from governance.errors import InputError

    name = "environment.yml" if text.startswith("name") else "conda-lock.yml"
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError) as error:
        lockfiles.read(tmp_path / name, tmp_path, markers_for(*LINUX))
    assert error.value.file == name and error.value.line == line
