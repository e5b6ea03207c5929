"""The installers' own answer for the real projects in ../shared/real-projects.

For each case the tool that owns the lockfile (uv, poetry, pdm, pipenv,
conda-lock) is asked what it installs, and its answer is reduced to the set
of (name, version, source) for one target (linux-x86_64 and the CPython the
project requires). tests/test_real_projects.py compares mlgov's reading of
the same files with that set.

The tools' raw outputs are recorded in tests/data/lock-truth/ by
scripts/record_lock_truth.py (run by a maintainer after a tool upgrade or a
refresh of the corpus). A test asks the live tool whenever it is installed
(.ci/run installs them into .tools/; MLGOV_LOCK_TOOLS names another folder of
executables) and then also checks that the recording is the tool's current
answer, so a stale recording fails rather than passing quietly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "real-projects"
RECORDED = ROOT / "tests" / "data" / "lock-truth"

PLATFORM = "linux-x86_64"
CONDA_SUBDIR = "linux-64"

Triple = tuple[str, str, str]  # (canonical name, version, source: "" for an index)


@dataclass(frozen=True)
class Case:
    id: str  # the recording's name
    case: str  # folder in the corpus
    tool: str  # uv | poetry | pdm | pipenv | conda-lock
    lock: str  # the lockfile, relative to the case folder
    python: str  # the CPython the project requires
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    no_dev: bool = False
    why_python: str = ""
    note: str = ""
    known: tuple[str, ...] = field(default=())  # not used by the comparison: context for the reader of the test
    # A whole scan of the folder with --lock for each of these (default: the case's lockfile alone);
    # the cases of the others' truth join this one's (a variant installed with a supplement).
    scan_with: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return CORPUS / self.case / Path(self.lock).parent

    @property
    def recording(self) -> Path:
        suffix = {"uv": "pylock.toml", "conda-lock": "lock", "uv-pylock": "installs.txt"}.get(self.tool, "txt")
        return RECORDED / f"{self.id}.{suffix}"


CASES = [
    Case("invokeai", "invokeai", "uv", "uv.lock", "3.11"),
    Case("invokeai-cuda", "invokeai", "uv", "uv.lock", "3.11", extras=("cuda",)),
    Case("invokeai-cpu", "invokeai", "uv", "uv.lock", "3.11", extras=("cpu",)),
    Case("nemo-rl", "nemo-rl", "uv", "uv.lock", "3.13.14", why_python="requires-python >=3.13.14,<3.14"),
    Case("nemo-rl-no-dev", "nemo-rl", "uv", "uv.lock", "3.13.14", no_dev=True),
    Case("openpi-no-dev", "openpi", "uv", "uv.lock", "3.11", no_dev=True),
    Case("openpi", "openpi", "uv", "uv.lock", "3.11"),
    Case("alphafold3", "alphafold3", "uv", "uv.lock", "3.12", why_python="requires-python >=3.12"),
    Case("jamun", "jamun", "uv", "uv.lock", "3.11"),
    Case("mlcg-uv", "mlcg-pylock", "uv", "uv.lock", "3.12", why_python="requires-python ==3.12.*"),
    Case("h2o-llmstudio-uv", "h2o-llmstudio-uv", "uv", "uv.lock", "3.10", why_python="requires-python ==3.10.*"),
    Case("tgi-uv", "tgi-uv", "uv", "server/uv.lock", "3.11"),
    Case("cleanrl-poetry", "cleanrl-poetry", "poetry", "poetry.lock", "3.10", why_python="python >=3.8,<3.11"),
    Case("tgi-poetry", "tgi-poetry", "poetry", "server/poetry.lock", "3.11"),
    Case("tgi-poetry-extras", "tgi-poetry", "poetry", "server/poetry.lock", "3.11",
         extras=("torch", "attention", "quantize")),
    Case("cleanrl-poetry-extras", "cleanrl-poetry", "poetry", "poetry.lock", "3.10", extras=("jax", "atari")),
    Case("spleeter", "spleeter", "poetry", "poetry.lock", "3.11"),
    Case("bentoml-pdm", "bentoml-pdm", "pdm", "pdm.lock", "3.11"),
    Case("bentoml-pdm-io", "bentoml-pdm", "pdm", "pdm.lock", "3.11", extras=("io", "grpc")),
    Case("h2o-llmstudio-pipenv", "h2o-llmstudio-pipenv", "pipenv", "Pipfile.lock", "3.10",
         why_python="Pipfile python_version 3.10"),
    # PEP 751 files exported by uv, installed by uv itself (`uv pip install -r pylock.X.toml`).
    Case("mlcg-pylock-cpu", "mlcg-pylock", "uv-pylock", "pylock.cpu.toml", "3.12", why_python="requires-python ==3.12.*"),
    Case("mlcg-pylock-cu128", "mlcg-pylock", "uv-pylock", "pylock.cu128.toml", "3.12"),
    Case("mlcg-pylock-cu130", "mlcg-pylock", "uv-pylock", "pylock.cu130.toml", "3.12"),
    Case("mlcg-pylock-rocm72", "mlcg-pylock", "uv-pylock", "pylock.rocm72.toml", "3.12"),
    # Only the git dependency the others leave out (`--only-emit-package aggforce`): installed after a variant.
    Case("mlcg-pylock-no-hashes", "mlcg-pylock", "uv-pylock", "pylock.no_hashes.toml", "3.12",
         scan_with=("mlcg-pylock-cu128",)),
    Case("pangeo-ml-notebook", "pangeo-docker-images", "conda-lock", "ml-notebook/conda-lock.yml", "3.12"),
    Case("pangeo-pytorch-notebook", "pangeo-docker-images", "conda-lock", "pytorch-notebook/conda-lock.yml", "3.12"),
]

TOOLS = ("uv", "poetry", "pdm", "pipenv", "conda-lock")


def by_id(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)


class Unavailable(RuntimeError):
    """The tool is installed but cannot answer here (said in the test's output)."""


def python_for(version: str) -> str | None:
    """A CPython of this X.Y for `uv pip install` (it refuses a pylock whose requires-python the
    interpreter does not meet, even in a dry run)."""
    short = ".".join(version.split(".")[:2])
    found = shutil.which(f"python{short}")
    if found:
        done = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if done.returncode == 0:
            return found
    for folder in sorted(Path.home().glob(f".pyenv/versions/{short}.*")) + sorted(Path("/usr/bin").glob(f"python{short}")):
        candidate = folder / "bin" / f"python{short}" if folder.is_dir() else folder
        if candidate.is_file():
            return str(candidate)
    return None


def tool_path(tool: str) -> str | None:
    """The executable of a tool: MLGOV_LOCK_TOOLS, then .tools/bin (made by .ci/run), then PATH."""
    tool = "uv" if tool == "uv-pylock" else tool
    folders = [os.environ.get("MLGOV_LOCK_TOOLS", ""), str(ROOT / ".tools" / "bin")]
    for folder in folders:
        if folder and (Path(folder) / tool).is_file():
            return str(Path(folder) / tool)
    return shutil.which(tool)


def _poetry_groups(pyproject: Path) -> list[str]:
    data = tomllib.loads(pyproject.read_text())
    poetry = data.get("tool", {}).get("poetry", {})
    groups = [g for g, body in poetry.get("group", {}).items() if not body.get("optional")]
    if poetry.get("dev-dependencies") and "dev" not in groups:
        groups.append("dev")
    return groups


def command(case: Case, out: Path) -> list[str]:
    """The tool's own command for the default install of the case (plus the case's extras/groups)."""
    exe = tool_path(case.tool) or case.tool
    lock = Path(case.lock).name
    if case.tool == "uv":
        # Written inside the project: pylock.toml gives directory paths relative to itself.
        cmd = [exe, "export", "--frozen", "--format", "pylock.toml", "--no-emit-project", "--python", case.python,
               "-o", "pylock.toml"]
        return cmd + [f"--extra={e}" for e in case.extras] + [f"--group={g}" for g in case.groups] + \
            (["--no-dev"] if case.no_dev else [])
    if case.tool == "poetry":
        groups = _poetry_groups(case.folder / "pyproject.toml")
        cmd = [exe, "export", "--without-hashes", "-f", "requirements.txt", "-o", str(out / "export.txt")]
        return cmd + ([f"--with={','.join(groups)}"] if groups else []) + [f"--extras={e}" for e in case.extras]
    if case.tool == "pdm":
        # With no group asked for, `pdm install` installs every group the lock records (pdm's GroupSelection:
        # is_unset -> lockfile.groups, optional ones too), and so does a bare export; with -G, the default
        # group, every dev group (-d) and those.
        chosen = [f"--group={g}" for g in case.extras + case.groups]
        return [exe, "export", "-f", "requirements", "--no-hashes", *(["-d"] if chosen else []),
                "-o", str(out / "export.txt")] + chosen
    if case.tool == "pipenv":
        return [exe, "requirements"]
    if case.tool == "uv-pylock":
        return [exe, "pip", "install", "--dry-run", "--python", str(out / "venv" / "bin" / "python"), "-r", lock,
                "--python-platform", "x86_64-manylinux_2_35"]  # glibc 2.35 (Ubuntu 22.04): the ROCm wheels need 2.32
    if case.tool == "conda-lock":
        return [exe, "render", "-p", CONDA_SUBDIR, "--kind", "explicit",
                "--filename-template", str(out / "render-{platform}.lock"), lock]
    raise ValueError(case.tool)


def run_tool(case: Case) -> str:
    """Run the tool on a copy of the case (tools write next to their inputs; the corpus stays untouched)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(case.folder, work)
        out = Path(tmp) / "out"
        out.mkdir()
        home = Path(tmp) / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "UV_OFFLINE": "1",
               "PDM_CHECK_UPDATE": "false", "PDM_HOME": str(home / "pdm"), "PIPENV_VERBOSITY": "-1",
               "PIPENV_IGNORE_VIRTUALENVS": "1", "POETRY_VIRTUALENVS_CREATE": "false", "NO_COLOR": "1",
               "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
        if case.tool == "uv-pylock":
            python = python_for(case.python)
            if python is None:
                raise Unavailable(f"no CPython {case.python} here for `uv pip install -r {case.lock}`")
            env["UV_PREVIEW"] = "1"
            subprocess.run([tool_path("uv") or "uv", "venv", "-q", "--python", python, str(out / "venv")], env=env,
                           check=True, capture_output=True, timeout=120)
        done = subprocess.run(command(case, out), cwd=work, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{case.tool} failed on {case.id}: {done.stderr.strip()[-2000:]}")
        if case.tool == "pipenv":
            return done.stdout
        if case.tool == "uv-pylock":
            # `+ name==version` lines; the project itself is installed from the copy's folder
            said = [line.strip().replace(work.as_uri(), "file://.") for line in (done.stdout + done.stderr).splitlines()
                    if line.startswith(" + ")]
            return "\n".join(sorted(said)) + "\n"
        if case.tool == "uv":
            return (work / "pylock.toml").read_text()
        produced = sorted(p for p in out.iterdir() if p.is_file())
        return produced[0].read_text()


def stable(text: str) -> str:
    """The recording without lines that change from run to run (headers naming the command or a temp path)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("#")).strip() + "\n"


def target_markers(case: Case) -> dict[str, str]:
    from governance.collect.target import target_markers as markers

    return markers(PLATFORM, case.python, {})


def _norm_url(url: str) -> str:
    return url.split("?")[0].split("#")[0].rstrip("/")


def _index(url: str | None) -> str:
    if not url:
        return ""
    norm = _norm_url(url)
    return "" if norm in ("https://pypi.org/simple", "https://pypi.python.org/simple") else f"index {norm}"


def truth(case: Case, raw: str) -> set[Triple]:
    """The tool's answer as (name, version, source) for the target."""
    markers = target_markers(case)
    if case.tool == "uv":
        return _from_pylock(raw, markers)
    if case.tool == "conda-lock":
        return _from_explicit(raw)
    if case.tool == "uv-pylock":
        lines = [line[2:] for line in raw.splitlines() if line.startswith("+ ") and "@ file://." not in line]
        return _from_requirements("\n".join(lines), markers)
    return _from_requirements(raw, markers)


def _from_pylock(raw: str, markers: dict[str, str]) -> set[Triple]:
    data = tomllib.loads(raw)
    found: set[Triple] = set()
    environment = {**markers, "extras": frozenset(), "dependency_groups": frozenset()}
    for package in data.get("packages", []):
        marker = package.get("marker")
        if marker and not Marker(marker).evaluate(environment, context="lock_file"):  # type: ignore[arg-type]
            continue
        if "vcs" in package:
            vcs = package["vcs"]
            source = f"git {_norm_url(vcs.get('url') or vcs.get('path'))}@{vcs.get('commit-id')}"
        elif "directory" in package:
            source = f"path {package['directory']['path']}"
            found.add((canonicalize_name(package["name"]), "", source))  # uv names no version for a directory
            continue
        elif "archive" in package:
            source = f"url {package['archive'].get('url') or package['archive'].get('path')}"
        else:
            source = _index(package.get("index"))
        found.add((canonicalize_name(package["name"]), str(package.get("version", "")), source))
    return found


_DIRECT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*@\s*(\S+)")
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;]+)")


def _from_requirements(raw: str, markers: dict[str, str]) -> set[Triple]:
    found: set[Triple] = set()
    for line in raw.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-i", "--")):
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate({**markers, "extra": ""}):
            continue
        requirement = requirement.strip()
        if requirement.startswith("-e "):
            found.add(("", "", f"path {requirement[3:].strip()}"))
            continue
        direct = _DIRECT.match(requirement)
        if direct:
            url = direct.group(2)
            if url.startswith("git+"):
                base, _, commit = url[4:].rpartition("@")
                source = f"git {_norm_url(base)}@{commit}"
            elif url.startswith("file:"):
                source = f"path {url}"
            else:
                source = f"url {url}"
            found.add((canonicalize_name(direct.group(1)), "", source))
            continue
        pinned = _PINNED.match(requirement)
        if not pinned:
            raise ValueError(f"cannot read the tool's line {line!r}")
        found.add((canonicalize_name(pinned.group(1)), pinned.group(2), ""))
    return found


def _from_explicit(raw: str) -> set[Triple]:
    found: set[Triple] = set()
    for line in raw.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "@EXPLICIT":
            continue
        url = line.split("#")[0]
        file_name = url.rsplit("/", 1)[-1]
        stem = file_name.removesuffix(".conda").removesuffix(".tar.bz2")
        name, version, _build = stem.rsplit("-", 2)
        found.add((name.lower(), version, f"url {url}"))
    return found


def mlgov(case: Case) -> set[Triple]:
    """mlgov's reading of the case's lockfile for the same target and choice of extras/groups."""
    from governance.collect import lockfiles
    from governance.collect.selection import Selection

    folder = case.folder
    result = lockfiles.read(folder / Path(case.lock).name, folder, target_markers(case),
                            Selection(groups=case.groups, extras=case.extras, no_dev=case.no_dev))
    return _triples(case, [(d.key, d.name, d.version, d.ecosystem, d.provenance.source)
                           for d in result.declarations if d.provenance.applies])


def mlgov_scan(case: Case) -> set[Triple]:
    """What a whole scan of the case's folder lists with `--lock <its lockfile>`: the project's
    manifest is read beside it and the other lockfiles (named PEP 751 alternatives) are not."""
    from governance.collect import ScanOptions, collect
    from governance.collect.selection import Selection

    locks = (Path(case.lock).name, *(Path(by_id(other).lock).name for other in case.scan_with))
    inventory = collect(ScanOptions(project=case.folder, include_environment=False, include_models=False,
                                    markers=target_markers(case), locks=locks,
                                    selection=Selection(groups=case.groups, extras=case.extras, no_dev=case.no_dev)))
    return _triples(case, [(p.key, p.name, p.version, p.ecosystem,
                            p.source or next((q.source for q in p.provenance if q.source is not None), None))
                           for p in inventory.packages])


def _triples(case: Case, entries: list[tuple[str, str, str | None, str, Any]]) -> set[Triple]:
    found: set[Triple] = set()
    for key, name, version, ecosystem, source in entries:
        shown = ""
        if source is not None:
            if source.kind == "index":
                shown = _index(source.url) if case.tool == "uv" else ""
            elif source.kind == "vcs":
                shown = f"git {_norm_url(source.url)}@{source.commit}"
            elif source.kind in ("path", "editable"):
                shown = f"path {source.url}"
            else:
                shown = f"url {source.url}"
        version = version or ""
        if source is not None and source.kind in ("path", "editable") or (
                case.tool not in ("uv", "conda-lock") and source is not None and source.kind != "index"):
            version = ""  # the exports name a direct reference or a directory without its version
        shown_name = key if case.tool != "conda-lock" else name.lower()
        if case.tool == "conda-lock" and ecosystem != "conda":
            continue  # pip entries of a conda-lock file are not in the explicit rendering
        found.add((shown_name, version, shown))
    return found


# ---------------------------------------------------------------- poetry install itself

_INSTALLING = re.compile(r"- Installing (\S+) \(([^)\s]+)[^)]*\)(.*)")


def poetry_installs(folder: Path, python: str, args: tuple[str, ...] = ()) -> str:
    """What `poetry install --dry-run --no-root ARGS` installs from the folder's lock into a fresh
    virtual environment of that CPython, offline (poetry re-resolves a lock older than 2.1 from the
    lock alone): one `name==version` line per package it would install, sorted. Skipped operations
    ("Skipped for the following reason: Not required", an extra not asked for) are not installs.
    poetry-plugin-export's walk of a lock older than 2.1 is not always what install does (it drops
    `virtualenv` from ray[serve] when the two spellings of its range differ), so this is the truth
    for tests/test_poetry_installs.py."""
    interpreter = python_for(python)
    exe = tool_path("poetry")
    if interpreter is None or exe is None:
        raise Unavailable(f"poetry or a CPython {python} is not installed here")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("installs.*.txt"))
        venv = Path(tmp) / "venv"
        subprocess.run([interpreter, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
        env = {**os.environ, "HOME": tmp, "VIRTUAL_ENV": str(venv), "PATH": f"{venv}/bin:{os.environ['PATH']}",
               "POETRY_VIRTUALENVS_CREATE": "false", "NO_COLOR": "1", "XDG_CACHE_HOME": f"{tmp}/cache",
               "XDG_CONFIG_HOME": f"{tmp}/config"}
        done = subprocess.run([exe, "install", "--dry-run", "--no-root", "--no-ansi", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"poetry install failed in {folder.name}: {(done.stdout + done.stderr)[-2000:]}")
    installs = {f"{canonicalize_name(m.group(1))}=={m.group(2)}" for m in _INSTALLING.finditer(done.stdout)
                if "Skipped" not in m.group(3)}
    return "".join(f"{line}\n" for line in sorted(installs))
