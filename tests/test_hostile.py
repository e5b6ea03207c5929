"""A hostile corpus: every file of a scanned pull request may be written by an attacker.

Each case runs the real `mlgov` entry point in a child process, with a canary
secret in its environment and another in a file beside the project, and asserts:
the exit class, no traceback, no marker file written by a payload, no canary in
any output (stdout, stderr, every report), inert text, and a time bound.
FIFOs, device links and big files are made at test time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.dom.minidom
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakevenv import Dist, make_venv

ENV_CANARY = "CANARY-ENV-5f1c0e8a"
FILE_CANARY = "CANARY-FILE-9b2d7c41"
TIME_LIMIT_S = 30.0
PROFILE = {"format": "mlgov-host-profile", "version": 1, "host": "node",
           "nvidia": {"driver_version": "550.54.14", "gpus": []}, "cuda_runtimes": [], "cudnn": []}


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    seconds: float
    reports: dict[str, str]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """tmp/secret.txt (the file canary) beside tmp/proj (the scanned project)."""
    (tmp_path / "secret.txt").write_text(f"token={FILE_CANARY}\n")
    project = tmp_path / "proj"
    project.mkdir()
    return project


def mlgov(args: list[str], cwd: Path, reports: tuple[Path, ...] = ()) -> Outcome:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MLGOV_SECRET_TOKEN": ENV_CANARY,
           "HOME": str(cwd), "MLGOV_CACHE_DIR": str(cwd / ".mlgov-cache"), "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "governance", *args], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=TIME_LIMIT_S * 2, check=False, errors="replace")
    except subprocess.TimeoutExpired:
        pytest.fail(f"mlgov {' '.join(args)} hung (over {TIME_LIMIT_S * 2} s)")
    seconds = time.monotonic() - start
    texts = {p.name: p.read_text(errors="replace") for p in reports if p.exists()}
    return Outcome(done.returncode, done.stdout, done.stderr, seconds, texts)


def assert_safe(result: Outcome, codes: set[int], marker: Path | None = None) -> None:
    everything = result.out + result.err + "".join(result.reports.values())
    assert result.code in codes, (result.code, result.err[-2000:])
    assert "Traceback" not in everything
    assert ENV_CANARY not in everything and FILE_CANARY not in everything
    assert result.seconds < TIME_LIMIT_S, result.seconds
    if marker is not None:
        assert not marker.exists(), "a payload from the scanned tree ran"
    for stream in (result.out, result.err):
        for line in stream.splitlines():
            # every line starts with mlgov's own text: nothing can forge a workflow command
            assert not line.lstrip().startswith("::"), line
            assert "\x1b" not in line and "\r" not in line and "\u202e" not in line, line


def payload(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho pwned > "{marker}"\necho \'{{"paths": [], "markers": {{}}}}\'\n')
    path.chmod(0o755)


# -- 1. nothing from the scanned tree is executed ---------------------------------------------------

@pytest.mark.parametrize("command", [["scan", "."], ["sbom", "."], ["probe"]])
def test_a_venv_without_pyvenv_cfg_is_never_run(world: Path, command: list[str]) -> None:
    marker = world.parent / "marker"
    payload(world / ".venv" / "bin" / "python", marker)
    (world / "requirements.txt").write_text("six==1.16.0\n")
    result = mlgov(command, world)
    assert_safe(result, {0, 1, 2}, marker)
    if command[0] != "probe":
        assert result.code == 2 and "does not run interpreters" in result.err


def test_a_venv_read_by_its_layout_runs_nothing(world: Path) -> None:
    marker = world.parent / "marker"
    make_venv(world / ".venv", [Dist("six", "1.16.0")])
    (world / ".venv" / "pyvenv.cfg").unlink()
    payload(world / ".venv" / "bin" / "python", marker)
    result = mlgov(["scan", "."], world)
    assert_safe(result, {0, 1}, marker)
    assert "1 package(s) from <environment>" in result.out and "no pyvenv.cfg; read by its layout" in result.out


def test_an_interpreter_inside_the_project_is_refused(world: Path) -> None:
    marker = world.parent / "marker"
    make_venv(world / "env", [Dist("six", "1.16.0")])
    payload(world / "env" / "bin" / "python", marker)
    for command in (["scan", ".", "--python", "env/bin/python"], ["sbom", ".", "--python", "env/bin/python"],
                    ["probe", "--python", "env/bin/python"]):
        result = mlgov(command, world)
        assert_safe(result, {2}, marker)
        assert "inside the scanned project" in result.err


# -- 2. one guarded way to open an input ------------------------------------------------------------

@pytest.mark.parametrize("line", ["-r ../secret.txt", "-r /proc/self/environ", "-c ../secret.txt",
                                  "-r {secret}"])
def test_includes_stay_inside_the_project(world: Path, line: str) -> None:
    (world / "requirements.txt").write_text("six==1.16.0\n" + line.format(secret=world.parent / "secret.txt") + "\n")
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "requirements.txt:2:" in result.err and "outside the project" in result.err


@pytest.mark.parametrize("target", ["secret", "/proc/self/environ"])
def test_links_out_of_the_project_are_not_read(world: Path, target: str) -> None:
    source = world.parent / "secret.txt" if target == "secret" else Path(target)
    (world / "requirements.txt").symlink_to(source)
    assert_safe(mlgov(["scan", "."], world), {2})


def test_links_out_of_a_venv_are_not_read(world: Path) -> None:
    make_venv(world / ".venv", [Dist("six", "1.16.0")])
    installer = next((world / ".venv").rglob("INSTALLER"))
    installer.unlink()
    installer.symlink_to("/proc/self/environ")
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "INSTALLER" in result.err
    cfg = world / ".venv" / "pyvenv.cfg"
    cfg.unlink()
    cfg.symlink_to(world.parent / "secret.txt")
    assert_safe(mlgov(["scan", "."], world), {2})


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_and_devices_never_block(world: Path, tmp_path: Path) -> None:
    (world / "requirements.txt").write_text("-r pipe.txt\n")
    fifo(world / "pipe.txt")
    assert_safe(mlgov(["scan", "."], world), {2})
    (world / "requirements.txt").write_text("-r zero.txt\n")
    (world / "zero.txt").symlink_to("/dev/zero")
    assert_safe(mlgov(["scan", "."], world), {2})
    (world / "requirements.txt").write_text("six==1.16.0\n")
    for args in (["scan", ".", "--host", str(fifo(tmp_path / "host.json"))],
                 ["scan", ".", "--vuln-db", str(fifo(tmp_path / "db.zip"))],
                 ["check", str(fifo(tmp_path / "sbom.json"))],
                 ["scan", ".", "--policy", str(fifo(tmp_path / "policy.toml"))]):
        result = mlgov(args, world)
        assert_safe(result, {2})
        assert "FIFO" in result.err or "policy file not found" in result.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_venv_never_blocks(world: Path) -> None:
    make_venv(world / ".venv", [Dist("six", "1.16.0")])
    metadata = next((world / ".venv").rglob("METADATA"))
    metadata.unlink()
    fifo(metadata)
    assert_safe(mlgov(["scan", "."], world), {2})


def test_a_big_file_is_refused_within_the_limit(world: Path) -> None:
    with (world / "requirements.txt").open("wb") as handle:
        handle.truncate(20 * 1024 * 1024)  # sparse: 20 MB of NULs, over the requirements limit
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "limit" in result.err


# -- 3. every string from an input is inert where it is printed --------------------------------------

HOSTILE_NAME = "::add-mask::FAIL\n::error file=x.py,line=1::forged\x1b]8;;https://evil\x07\r\u202e@octocat <b>x</b>"


def test_hostile_names_are_inert_in_every_format(world: Path, tmp_path: Path) -> None:
    (world / "pyproject.toml").write_text(
        "[project]\nname = " + json.dumps(HOSTILE_NAME) + "\nversion = \"1\"\n"
        "dependencies = [\"six\"]\n")
    (world / "requirements.txt").write_text("six==1.16.0\n")
    profile = dict(PROFILE, host="::error::host\nhttps://evil.example/\u202e")
    (tmp_path / "host.json").write_text(json.dumps(profile))
    out = tmp_path / "out"
    out.mkdir()
    reports = tuple(out / name for name in ("r.md", "r.sarif", "r.junit.xml", "r.html", "r.json", "r.txt"))
    for fmt in ("terminal", "md", "json", "sarif", "junit"):
        args = ["scan", ".", "--host", str(tmp_path / "host.json"), "--format", fmt,
                "--sbom", str(out / "sbom.xml")]
        for report in reports:
            args += ["--report", str(report)]
        result = mlgov(args, world, reports + (out / "sbom.xml",))
        assert_safe(result, {0, 1})
    # Outside code spans (which GitHub shows literally) no HTML, mention or link survives.
    markdown = re.sub(r"`[^`\n]*`", "", result.reports["r.md"])
    assert "<b>" not in markdown and "@octocat" not in markdown and "https://evil" not in markdown
    assert "\x1b" not in result.reports["r.md"] and "\u202e" not in result.reports["r.md"]
    for name in ("r.junit.xml", "sbom.xml"):
        xml.dom.minidom.parseString(result.reports[name].encode("utf-8"))  # well-formed
    sarif = json.loads(result.reports["r.sarif"])
    for run in sarif["runs"]:
        for item in run["results"]:
            for location in item.get("locations", []):
                uri = location["physicalLocation"]["artifactLocation"]["uri"]
                assert not uri.startswith(("/", "..")) and ":" not in uri, uri


def test_error_messages_are_one_inert_line(world: Path) -> None:
    (world / "requirements.txt").write_text("six==1.16.0 \\\n" + "x" * 5000 + "\x1b[2J\u202e ; ;;\n")
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert len(result.err.splitlines()) == 1 and len(result.err) < 1200


# -- 4. linear work -----------------------------------------------------------------------------------

def test_pathological_lines_take_linear_time(world: Path) -> None:
    (world / "requirements.txt").write_text(
        "six==1.16.0" + " " * 200_000 + "x\n" + "".join(f"torch=={i}.0\n" for i in range(4000)))
    make_venv(world / ".venv", [Dist("six", "1.16.0", requires=["a" * 100_000 + "@", "b" + "-" * 100_000 + "!"])])
    assert_safe(mlgov(["scan", "."], world), {0, 1, 2})


@pytest.mark.parametrize("name", ["pyproject.toml", "uv.lock", "policy.toml"])
def test_a_toml_key_of_many_parts_is_refused_at_once(world: Path, name: str) -> None:
    # The standard library's tomllib (3.11-3.14) takes quadratic time in a key's dotted parts:
    # this 100 KB line kept it busy for about a minute. tomli >= 2.3.1 refuses over 1,000 parts.
    (world / name).write_text("a" + ".a" * 50_000 + " = 1\n")
    args = ["scan", ".", "--policy", "policy.toml"] if name == "policy.toml" else ["scan", "."]
    if name == "uv.lock":
        (world / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["six"]\n')
    result = mlgov(args, world)
    assert_safe(result, {2})
    assert name in result.err and "1000 parts" in result.err, result.err


@pytest.mark.parametrize("name", ["pyproject.toml", "uv.lock", "policy.toml"])
def test_deeply_nested_toml_is_an_input_error(world: Path, name: str) -> None:
    (world / name).write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    args = ["scan", ".", "--policy", "policy.toml"] if name == "policy.toml" else ["scan", "."]
    if name == "uv.lock":
        (world / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["six"]\n')
    result = mlgov(args, world)
    assert_safe(result, {2})
    assert name in result.err and "nested" in result.err, result.err


def test_yaml_aliases_are_refused(world: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    (world / "environment.yml").write_text("\n".join(lines) + "\ndependencies: [python=3.11]\n")
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "environment.yml" in result.err


# -- 5. readers validate shape: exit 2 naming the file, never 3 ----------------------------------------

@pytest.mark.parametrize(("name", "text"), [
    ("uv.lock", "version = 1\n[[package]]\nname = 5\nversion = [1]\n"),
    ("poetry.lock", "[[package]]\nname = \"x\"\nversion = 1.5\n[metadata]\nlock-version = \"2.0\"\n"),
    ("Pipfile.lock", "{\"default\": [1, 2], \"_meta\": {}}"),
    ("Pipfile.lock", "[" * 100_000 + "]" * 100_000),
    ("requirements.txt", "torch==" + "1" * 5000 + "\n"),
    ("requirements.txt", "six==1.0; python_version > '" + "9" * 5000 + "'\n"),
])
def test_malformed_shapes_are_input_errors(world: Path, name: str, text: str) -> None:
    (world / name).write_text(text)
    assert_safe(mlgov(["scan", "."], world), {0, 1, 2})


@pytest.mark.parametrize("profile", [
    dict(PROFILE, nvidia={"driver_version": "5\u00b20", "gpus": []}),
    dict(PROFILE, host="\ud800"),
    dict(PROFILE, nvidia={"driver_version": "550.54.14", "gpus": [{"index": "x", "name": 5}]}),
    dict(PROFILE, cudnn=[{"version": 10 ** 1000}]),
])
def test_malformed_host_profiles_are_input_errors(world: Path, tmp_path: Path, profile: dict[str, object]) -> None:
    (world / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "host.json").write_text(json.dumps(profile))
    assert_safe(mlgov(["scan", ".", "--host", str(tmp_path / "host.json")], world), {2})


@pytest.mark.parametrize("document", [
    {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 5, "version": []}]},
    {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "x"},
    {"bomFormat": "CycloneDX", "specVersion": "1.6",
     "components": [{"type": "library", "name": "six", "version": "1" * 5000, "purl": "pkg:pypi/six@1"}]},
    {"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"properties": [{"name": "mlgov:hosts",
                                                                                   "value": "[[[["}]}},
])
def test_malformed_sboms_are_input_errors(tmp_path: Path, document: dict[str, object]) -> None:
    (tmp_path / "sbom.json").write_text(json.dumps(document))
    assert_safe(mlgov(["check", "sbom.json"], tmp_path), {0, 1, 2})


# -- 6. all-or-nothing outputs -------------------------------------------------------------------------

def test_nothing_is_left_behind_on_bad_input(world: Path, tmp_path: Path) -> None:
    (world / "requirements.txt").write_text("-r ../secret.txt\n")
    out = tmp_path / "out"
    out.mkdir()
    result = mlgov(["scan", ".", "--sbom", str(out / "s.json"), "--report", str(out / "r.md")], world)
    assert_safe(result, {2})
    assert list(out.iterdir()) == []


def test_a_model_file_linked_out_of_the_project_is_not_read(world: Path) -> None:
    (world / "requirements.txt").write_text("six==1.16.0\n")
    (world / "model.pkl").symlink_to(world.parent / "secret.txt")
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "model.pkl" in result.err


@pytest.mark.parametrize("advisory", [{"id": "X", "affected": 5},
                                      {"id": "X", "affected": [{"package": {"name": "six", "ecosystem": "PyPI"},
                                                                "ranges": 5}]},
                                      {"id": "X", "affected": [{"package": {"name": "six", "ecosystem": "PyPI"},
                                                                "versions": ["1" * 5000]}]}])
def test_malformed_advisories_are_input_errors(world: Path, tmp_path: Path, advisory: dict[str, object]) -> None:
    import zipfile

    (world / "requirements.txt").write_text("six==1.16.0\n")
    with zipfile.ZipFile(tmp_path / "all.zip", "w") as archive:
        archive.writestr("X.json", json.dumps(advisory))
    assert_safe(mlgov(["scan", ".", "--vuln-db", str(tmp_path / "all.zip")], world), {0, 1, 2})


def test_a_huge_installed_version_is_an_input_error(world: Path) -> None:
    make_venv(world / ".venv", [Dist("six", "1.0")])
    metadata = next((world / ".venv").rglob("METADATA"))
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: " + "1" * 5000))
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "METADATA: version" in result.err


def test_a_venv_linked_out_of_the_project_is_not_read(world: Path, tmp_path: Path) -> None:
    make_venv(tmp_path / "elsewhere", [Dist("six", "1.16.0")])
    (world / ".venv").symlink_to(tmp_path / "elsewhere")
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "links outside the scanned project" in result.err
    (world / ".venv").unlink()
    make_venv(world / ".venv", [])
    site = next((world / ".venv").glob("lib/python3*/site-packages"))
    site.rmdir()
    site.symlink_to(next((tmp_path / "elsewhere").glob("lib/python3*/site-packages")))
    result = mlgov(["scan", "."], world)
    assert_safe(result, {2})
    assert "links outside the scanned project" in result.err
