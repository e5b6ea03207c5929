"""pip's and conda's own reading of the real projects' requirements and environment files.

No resolver can answer for these cases here: their indexes (download.pytorch.org,
the conda channels) are unreachable and a resolve against today's PyPI is not the
project's date. What the installers do with the file *before* resolving is
deterministic and offline, and it is what mlgov must agree with:

- requirements files: pip's own parser, the code `pip install -r FILE` runs
  (`pip._internal.req.req_file.parse_requirements` with a PipSession, then
  `install_req_from_parsed_requirement`): -r/-c includes, -e, URLs, line
  continuations, per-line options, environment variables. Markers are then
  evaluated for the target with `packaging` (pip evaluates them for the running
  interpreter; the target here is linux-x86_64 and the project's CPython).
- conda environment files: conda-lock's own environment-file parser
  (`conda_lock.src_parser.environment_yaml.parse_environment_file`, whose match
  specs are conda's vendored MatchSpec) for the conda specs, run with the tools'
  Python in a subprocess and recorded in tests/data/lock-truth/*.env.json; the
  `pip:` section is what conda hands to `pip install -r` (a temporary
  requirements file in the environment file's folder), so pip's parser reads it.
- `conda list --explicit` files: conda's own explicit() reading (conda/misc.py's url_pat
  and MatchSpec(url), vendored in conda-lock), recorded in *.explicit.json.

Each entry is reduced to one line of what the installer is asked for:
(file, line, name, exact version or "", extras, source, constraint, hashes).
A line pip cannot name without building it (a bare VCS URL without #egg=) is
"unnamed" on both sides; mlgov reports it as not judged (COV002).
"""

from __future__ import annotations

import json
import configparser
import functools
import os
import shutil
import subprocess
import tomllib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.locktruth import CORPUS, RECORDED, ROOT, tool_path

# The pip whose parser is the truth: pinned in the test extra (pyproject.toml), because
# pip._internal is not a public API and may change between releases.
PIP_VERSION = "26.3"
CONDA_LOCK_VERSION = "1.1.1"  # scripts/lock-tools.txt

# (file, line, name, version, extras, source, constraint, hashes)
Entry = tuple[str, int, str, str, str, str, bool, str]


class _InCorpus:
    """A file of one corpus case: `case` (its folder) and `file` (relative to it), set by the dataclass."""

    case: str
    file: str

    @property
    def root(self) -> Path:
        return CORPUS / self.case

    @property
    def path(self) -> Path:
        return self.root / self.file


@dataclass(frozen=True)
class ReqCase(_InCorpus):
    id: str
    case: str  # folder in the corpus
    file: str  # relative to the case folder
    python: str = "3.11"
    platform: str = "linux-x86_64"
    why: str = ""  # why this target


@dataclass(frozen=True)
class EnvCase(_InCorpus):
    id: str
    case: str
    file: str
    python: str = "3.11"
    kind: str = "environment"  # or "explicit": a `conda list --explicit` file

    @property
    def recording(self) -> Path:
        return RECORDED / f"{self.id}.{'env' if self.kind == 'environment' else 'explicit'}.json"


REQ_CASES = [
    ReqCase("alphafold2", "alphafold2", "requirements.txt"),
    ReqCase("alphafold2-docker", "alphafold2", "docker/requirements.txt"),
    ReqCase("alphafold3-hashed", "alphafold3-hashed", "requirements.txt", "3.12", why="requires-python >=3.12"),
    ReqCase("alphafold3-hashed-dev", "alphafold3-hashed", "dev-requirements.txt", "3.12"),
    ReqCase("cleanrl-requirements", "cleanrl-poetry", "requirements/requirements.txt", "3.10",
            why="python >=3.8,<3.11"),
    ReqCase("cleanrl-requirements-jax", "cleanrl-poetry", "requirements/requirements-jax.txt", "3.10"),
    ReqCase("deep-live-cam", "deep-live-cam", "requirements.txt"),
    ReqCase("deeplabcut-2023", "deeplabcut-2023", "requirements.txt"),
    *(ReqCase(f"faceswap-{variant}", "faceswap", f"requirements/requirements_{variant}.txt")
      for variant in ("cpu", "nvidia", "nvidia_11", "nvidia_12", "nvidia_13")),
    ReqCase("faceswap-apple-silicon", "faceswap", "requirements/requirements_apple-silicon.txt",
            platform="macos-arm64", why="the file is for Apple silicon"),
    ReqCase("glados", "glados", "requirements.txt"),
    ReqCase("glados-cuda", "glados", "requirements_cuda.txt"),
    ReqCase("h2o-llmstudio-pipenv-requirements", "h2o-llmstudio-pipenv", "requirements.txt", "3.10",
            why="Pipfile python_version 3.10"),
    ReqCase("h2o-llmstudio-uv-requirements", "h2o-llmstudio-uv", "requirements.txt", "3.10",
            why="requires-python ==3.10.*"),
    ReqCase("instructlab", "instructlab", "requirements.txt"),
    ReqCase("instructlab-vllm-cuda", "instructlab", "requirements-vllm-cuda.txt"),
    ReqCase("instructlab-cpu", "instructlab", "requirements/cpu.txt"),
    ReqCase("instructlab-cuda", "instructlab", "requirements/cuda.txt"),
    ReqCase("instructlab-rocm", "instructlab", "requirements/rocm.txt"),
    ReqCase("instructlab-constraints-dev", "instructlab", "constraints-dev.txt"),
    ReqCase("invokeai-2022-linux", "invokeai-2022-installer", "binary_installer/py3.10-linux-x86_64-cuda-reqs.txt",
            "3.10", why="the file is for py3.10 linux-x86_64"),
    ReqCase("invokeai-2022-darwin", "invokeai-2022-installer", "binary_installer/py3.10-darwin-arm64-mps-reqs.txt",
            "3.10", platform="macos-arm64", why="the file is for py3.10 darwin-arm64"),
    ReqCase("invokeai-2022-windows", "invokeai-2022-installer",
            "binary_installer/py3.10-windows-x86_64-cuda-reqs.txt", "3.10", platform="windows-amd64",
            why="the file is for py3.10 windows-x86_64"),
    ReqCase("jamun-2024-findlinks", "jamun-2024-findlinks", "env/linux-cuda/requirements.txt"),
    ReqCase("jamun-env", "jamun", "env/requirements.txt"),
    *(ReqCase(f"keras-{name.removeprefix('requirements').strip('-') or 'default'}", "keras", f"{name}.txt")
      for name in ("requirements", "requirements-common", "requirements-jax-cuda", "requirements-jax-tpu",
                   "requirements-tensorflow-cuda", "requirements-tensorflow-tpu", "requirements-torch-cuda")),
    ReqCase("lightning-hydra-template-2021", "lightning-hydra-template-2021", "requirements.txt"),
    ReqCase("mediapipe", "mediapipe", "requirements.txt"),
    ReqCase("mediapipe-lock", "mediapipe", "requirements_lock.txt"),
    ReqCase("mediapipe-lock-3-12", "mediapipe", "requirements_lock_3_12.txt", "3.12", why="the file is for 3.12"),
    ReqCase("mediapipe-model-maker", "mediapipe", "mediapipe/model_maker/requirements.txt"),
    ReqCase("mediapipe-model-maker-bazel", "mediapipe", "mediapipe/model_maker/requirements_bazel.txt"),
    ReqCase("mediapipe-model-maker-lock", "mediapipe", "mediapipe/model_maker/requirements_lock.txt"),
    ReqCase("openpi-libero", "openpi", "examples/libero/requirements.txt", "3.8",
            why="examples/libero/requirements.in is compiled for Python 3.8"),
    ReqCase("paris", "paris", "requirements.txt"),
    ReqCase("tgi-poetry-requirements-cuda", "tgi-poetry", "server/requirements_cuda.txt"),
    ReqCase("tgi-uv-requirements-cuda", "tgi-uv", "server/requirements_cuda.txt"),
]

ENV_CASES = [
    EnvCase("deeplabcut-env", "deeplabcut", "conda-environments/DEEPLABCUT.yaml"),
    EnvCase("deeplabcut-2023-env", "deeplabcut-2023", "conda-environments/DEEPLABCUT.yaml"),
    EnvCase("deeplabcut-2023-env-m1", "deeplabcut-2023", "conda-environments/DEEPLABCUT_M1.yaml"),
    EnvCase("glados-env", "glados", "environment.yml"),
    EnvCase("glados-env-cuda", "glados", "environment_cuda.yml"),
    EnvCase("kraken-env", "kraken", "environment.yml"),
    EnvCase("kraken-env-cuda", "kraken", "environment_cuda.yml"),
    EnvCase("lightning-hydra-template-2021-env", "lightning-hydra-template-2021", "conda_env_gpu.yaml"),
    EnvCase("paris-env", "paris", "environment.yml"),
    EnvCase("stable-diffusion-env", "stable-diffusion", "environment.yaml"),
    EnvCase("stylegan3-env", "stylegan3", "environment.yml"),
    EnvCase("zoedepth-env", "zoedepth", "environment.yml"),
    EnvCase("pangeo-ml-notebook-env", "pangeo-docker-images", "ml-notebook/environment.yml"),
    EnvCase("pangeo-pytorch-notebook-env", "pangeo-docker-images", "pytorch-notebook/environment.yml"),
    EnvCase("pangeo-notebook-env", "pangeo-docker-images", "pangeo-notebook/environment.yml"),
    # `conda list --explicit` files: what `conda create --file` reads (conda's own explicit())
    EnvCase("paris-explicit", "paris", "spec-file.txt", kind="explicit"),
    EnvCase("pangeo-ml-notebook-explicit", "pangeo-docker-images", "ml-notebook/conda-linux-64.lock",
            kind="explicit"),
    EnvCase("pangeo-pytorch-notebook-explicit", "pangeo-docker-images", "pytorch-notebook/conda-linux-64.lock",
            kind="explicit"),
]


def target(platform: str, python: str) -> dict[str, str]:
    from governance.collect.target import target_markers

    return target_markers(platform, python, {})


# ---------------------------------------------------------------- pip's side


class PipRefuses(Exception):
    """pip refuses the file (e.g. an include that does not exist): `pip install -r` stops there."""


def pip_version() -> str:
    return str(_pip_answers()["pip"])


@functools.cache
def _pip_answers() -> dict[str, Any]:
    """pip's reading of every case, from one child process: importing pip switches setuptools'
    distutils shim to the standard library's for the rest of the process on Python < 3.12 (pypa/pip#8761),
    which breaks tests that ask setuptools itself; and pip's parser shares no state with mlgov's."""
    done = subprocess.run([sys.executable, "-m", "tests.reqtruth", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(f"pip's parser failed: {done.stderr.strip()[-3000:]}")
    return dict(json.loads(done.stdout))


def _all_pip_answers() -> dict[str, Any]:
    """In the child: every requirements-file case and every `pip:` section, as JSON."""
    import pip
    from pip._internal.exceptions import InstallationError

    answers: dict[str, Any] = {"pip": pip.__version__, "cases": {}}
    for case in REQ_CASES:
        try:
            answers["cases"][case.id] = {"entries": pip_reads(case.path, case.root,
                                                               target(case.platform, case.python))}
        except InstallationError as refusal:
            answers["cases"][case.id] = {"refused": str(refusal)}
    for env in ENV_CASES:
        lines = _pip_section(env.path) if env.kind == "environment" else None
        entries = pip_reads(env.path, env.root, target("linux-x86_64", env.python), lines) if lines else []
        answers["cases"][env.id] = {"entries": entries}
    return answers


def _answer(case_id: str) -> list[Entry]:
    answer = _pip_answers()["cases"][case_id]
    if "refused" in answer:
        raise PipRefuses(answer["refused"])
    return [tuple(entry) for entry in answer["entries"]]  # type: ignore[misc]


def _exact(specifier: Any) -> str:
    """The version a requirement's specifiers fix: one `==X` (no wildcard) or `===X`, alone."""
    specs = list(specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and not specs[0].version.endswith(".*"):
        return str(specs[0].version)
    return ""


def _pip_source(ireq: Any, root: Path) -> str:
    link = ireq.link
    prefix = "-e " if ireq.editable else ""
    if link is None:
        return prefix
    if link.is_vcs:
        return f"{prefix}vcs {link.url_without_fragment}"
    if link.scheme == "file":
        return f"{prefix}path {_relative(Path(link.file_path), root)}"
    return f"{prefix}url {link.url_without_fragment}"


def _relative(path: Path, root: Path) -> str:
    return os.path.relpath(os.path.normpath(path), root)


def pip_reads(path: Path, root: Path, markers: dict[str, str], lines: list[str] | None = None) -> list[Entry]:
    """What pip asks its resolver for from the file (or, with `lines`, from those lines written
    as a temporary requirements file in the file's folder, as conda does with a `pip:` section)."""
    if lines is None:
        return _pip_reads(path, path, root, root, markers)
    # conda writes the section to `condaenv.*.requirements.txt` beside the environment file and runs pip
    # there, so `-r other.txt` and `-e .` mean what they mean beside it; the corpus is read-only, so
    # this happens in a copy of the case's folder.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "case"
        shutil.copytree(root, copy)
        section = copy / _relative(path.parent, root) / "condaenv.section.requirements.txt"
        section.write_text("\n".join(lines) + "\n")
        return _pip_reads(section, path, copy, root, markers)


def _pip_reads(filename: Path, shown: Path, root: Path, real_root: Path, markers: dict[str, str]) -> list[Entry]:
    from pip._internal.network.session import PipSession
    from pip._internal.req.constructors import install_req_from_parsed_requirement
    from pip._internal.req.req_file import parse_requirements

    entries: list[Entry] = []
    cwd = os.getcwd()
    os.chdir(filename.parent)  # pip resolves a relative path requirement against the working directory
    try:
        with PipSession() as session:
            for parsed in parse_requirements(str(filename), session=session, constraint=False):
                ireq = install_req_from_parsed_requirement(parsed)
                if ireq.markers is not None and not ireq.markers.evaluate({**markers, "extra": ""}):
                    continue
                file_name, _, line = parsed.comes_from.removeprefix("-r ").removeprefix("-c ").rpartition(" (line ")
                file = _relative(shown, real_root) if Path(file_name) == filename else _relative(Path(file_name), root)
                number = int(line.rstrip(")"))
                req = ireq.req
                hashes = ",".join(sorted(f"{alg}:{value.lower()}" for alg, values in ireq.hash_options.items()
                                         for value in values))
                source = _pip_source(ireq, root)
                name = canonicalize_name(req.name) if req is not None else _built_name(ireq, root, real_root)
                if not name:
                    entries.append((file, number, "", "", "", "unnamed", ireq.constraint, hashes))
                    continue
                entries.append((file, number, name, _exact(req.specifier) if req is not None else "",
                                ",".join(sorted(req.extras)) if req is not None else "", source, ireq.constraint,
                                hashes))
    finally:
        os.chdir(cwd)
    return sorted(entries)


def _built_name(ireq: Any, root: Path, real_root: Path) -> str:
    """The name pip learns for a local project folder by asking its build backend for metadata
    (PEP 517), which needs the project's sources; the corpus keeps only its dependency files, so
    the name is taken where the backends take it from without running anything: pyproject.toml
    [project] name (PEP 621), [tool.poetry] name, or setup.cfg [metadata] name (setuptools, pbr).
    A folder that states none of them (its setup.py is not kept) stays unnamed."""
    link = ireq.link
    if link is None or link.scheme != "file" or not Path(link.file_path).is_dir():
        return ""
    folder = Path(link.file_path)
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text())
        for table in (data.get("project") or {}, data.get("tool", {}).get("poetry") or {}):
            if isinstance(table.get("name"), str):
                return canonicalize_name(table["name"])
    setup_cfg = folder / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        parser.read(setup_cfg)
        if parser.has_option("metadata", "name"):
            return canonicalize_name(parser.get("metadata", "name"))
    return ""


# ---------------------------------------------------------------- mlgov's side


def _mlgov_source(source: Any, file: str, root: Path) -> str:
    if source is None or source.kind == "index":
        return ""
    prefix = "-e " if source.editable else ""
    location = source.url.split("#", 1)[0]
    if source.kind == "vcs":
        return f"{prefix}vcs {location}"
    if source.kind in ("path", "editable") or location.startswith("file:"):
        local = location.removeprefix("file://").removeprefix("file:")
        return f"{prefix}path {_relative((root / file).parent / local, root)}"
    return f"{prefix}url {location}"


def _mlgov_entries(declarations: list[Any], unread: list[Any], root: Path) -> list[Entry]:
    entries: list[Entry] = []
    for declaration in declarations:
        provenance = declaration.provenance
        if not provenance.applies:
            continue
        hashes = ",".join(sorted(f"{h.algorithm}:{h.value}" for h in provenance.hashes))
        entries.append((provenance.file, provenance.line or 0, declaration.key, declaration.version or "",
                        ",".join(sorted(provenance.extras)), _mlgov_source(provenance.source, provenance.file, root),
                        provenance.group == "constraints", hashes))
    for line in unread:
        entries.append((line.file, line.line or 0, "", "", "", "unnamed", False, ""))
    return sorted(entries)


def mlgov_reads(case: ReqCase) -> list[Entry]:
    """mlgov's requirements reader on the same file, for the same target."""
    from governance.collect.requirements import read_requirements

    result = read_requirements([case.path], case.root, target(case.platform, case.python))
    return _mlgov_entries(result.declarations, result.unread, case.root)


def truth(case: ReqCase) -> list[Entry]:
    """pip's reading of the case's file (PipRefuses when pip refuses it)."""
    return _answer(case.id)


# ---------------------------------------------------------------- conda environment files

# Run with the tools' Python (conda-lock lives in its own venv): prints the parser's answer as JSON.
_CONDA_LOCK_SCRIPT = r"""
import json, pathlib, sys, warnings
warnings.simplefilter("ignore")
import conda_lock
from conda_lock.src_parser.environment_yaml import parse_environment_file
spec = parse_environment_file(pathlib.Path(sys.argv[1]), pip_support=False)
print(json.dumps({
    "tool": f"conda-lock {conda_lock.__version__}",
    "channels": [getattr(c, "url", str(c)) for c in spec.channels],
    "dependencies": [
        {"name": d.name, "manager": d.manager, "version": getattr(d, "version", ""),
         "build": getattr(d, "build", None), "channel": getattr(d, "conda_channel", None)}
        for d in spec.dependencies
    ],
}, indent=1, sort_keys=True))
"""


# conda's own reading of an explicit file (conda/misc.py explicit(), vendored in conda-lock): every line
# after @EXPLICIT matched by url_pat, the package named by MatchSpec(url).
_EXPLICIT_SCRIPT = r"""
import json, pathlib, sys, warnings
warnings.simplefilter("ignore")
import conda_lock
import ast, re
import conda_lock.vendor.conda as vendored
# conda/misc.py needs the whole of conda to import; its url_pat (the explicit-line pattern) is taken
# from its source as it stands, not copied.
source = (pathlib.Path(vendored.__file__).parent / "misc.py").read_text()
node = next(n for n in ast.parse(source).body if isinstance(n, ast.Assign) and
            any(getattr(t, "id", "") == "url_pat" for t in n.targets))
scope = {"re": re}
exec(compile(ast.Module(body=[node], type_ignores=[]), "conda/misc.py", "exec"), scope)
url_pat = scope["url_pat"]
from conda_lock.vendor.conda.models.match_spec import MatchSpec
from conda_lock.vendor.conda.common.url import join_url
packages = []
explicit = False
for line in pathlib.Path(sys.argv[1]).read_text().splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if line == "@EXPLICIT":
        explicit = True
        continue
    if not explicit:
        continue
    m = url_pat.match(line)
    if m is None:
        raise SystemExit(f"conda cannot parse explicit URL {line!r}")
    url = join_url(m.group("url_p"), m.group("fn"))
    spec = MatchSpec(url, md5=m.group("md5")) if m.group("md5") else MatchSpec(url)
    packages.append({"name": spec.name, "version": str(spec.version), "build": str(spec.get("build")),
                     "channel": spec.get("channel").canonical_name, "subdir": spec.get("subdir"),
                     "md5": spec.get("md5"), "url": url})
print(json.dumps({"tool": f"conda-lock {conda_lock.__version__} (vendored conda)", "packages": packages},
                 indent=1, sort_keys=True))
"""


def conda_lock_python() -> str | None:
    """The Python of the venv that holds conda-lock (.tools/, or MLGOV_LOCK_TOOLS)."""
    exe = tool_path("conda-lock")
    if exe is None:
        return None
    python = Path(exe).parent / "python"
    return str(python) if python.is_file() else None


def run_conda_lock(case: EnvCase) -> str:
    python = conda_lock_python()
    assert python is not None
    script = _CONDA_LOCK_SCRIPT if case.kind == "environment" else _EXPLICIT_SCRIPT
    done = subprocess.run([python, "-c", script, str(case.path)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"conda-lock failed on {case.id}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _pip_section(path: Path) -> list[str] | None:
    import yaml

    data = yaml.safe_load(path.read_text())
    for item in data.get("dependencies") or []:
        if isinstance(item, dict) and "pip" in item:
            return [str(line) for line in item["pip"] or []]
    return None


def _conda_version(version: str) -> str:
    """The version a MatchSpec's version fixes exactly (`1.12.1`, `==1.12.1`), else ""."""
    if version.startswith("=="):
        version = version[2:]
    if not version or any(ch in version for ch in "*<>!=~,| "):
        return ""
    return version


# (manager, name, version or fuzzy/range spec, build, channel)
CondaEntry = tuple[str, str, str, str, str]


def env_truth(case: EnvCase, recorded: str) -> tuple[list[CondaEntry], list[Entry]]:
    """conda-lock's conda specs, and pip's reading of the `pip:` section."""
    data = json.loads(recorded)
    if case.kind == "explicit":
        # where from: the URL and conda's subdir (conda's channel name for repo.anaconda.com/pkgs/main is
        # "defaults"; mlgov's purl says channel=main, as the purl spec's own conda example does)
        return sorted(("conda", p["name"].lower(), p["version"], p["build"],
                       f"{p['url']} {p['subdir']} md5:{p['md5'] or ''}") for p in data["packages"]), []
    conda = sorted(("conda", d["name"].lower(), d["version"] or "", d.get("build") or "", d.get("channel") or "")
                   for d in data["dependencies"] if d["manager"] == "conda")
    return conda, _section_lines(_answer(case.id), case)


def mlgov_env(case: EnvCase) -> tuple[list[CondaEntry], list[Entry]]:
    from governance.collect.lockfiles import conda

    result = conda.read(case.path, case.root, target("linux-x86_64", case.python))
    if case.kind == "explicit":
        # every package of the file: all of them are linux-64 or noarch, so none is left out for the target
        found: list[CondaEntry] = []
        for declaration in result.declarations:
            properties = dict(declaration.properties)
            md5 = next((h.value for h in declaration.provenance.hashes if h.algorithm == "md5"), "")
            found.append(("conda", declaration.name.lower(), declaration.version or "",
                          properties.get("mlgov:conda:build", ""),
                          f"{declaration.provenance.source.url if declaration.provenance.source else ''} "
                          f"{properties.get('mlgov:conda:subdir')} md5:{md5}"))
        return sorted(found), []
    specs: list[CondaEntry] = []
    pip_declarations = []
    for declaration in result.declarations:
        if declaration.ecosystem == "conda":
            properties = dict(declaration.properties)
            specs.append(("conda", declaration.name.lower(), _spec_of(declaration),
                          properties.get("mlgov:conda:build", ""), properties.get("mlgov:conda:channel", "")))
        else:
            pip_declarations.append(declaration)
    unread = [_Unread.of(note) for note in result.notes if "pip entry not in the inventory" in note]
    return sorted(specs), _section_lines(_mlgov_entries(pip_declarations, [u for u in unread if u], case.root), case)


def _section_lines(entries: list[Entry], case: EnvCase) -> list[Entry]:
    """The `pip:` section's own entries without their line: pip numbers the lines of the file conda
    writes, mlgov those of the environment file (an included file keeps its lines on both sides)."""
    return sorted((file, 0 if file == case.file else line, *rest) for file, line, *rest in entries)


def _spec_of(declaration: Any) -> str:
    """mlgov's version of a conda spec in MatchSpec's words: the exact version, or the range."""
    specifier = declaration.provenance.specifier or ""
    if specifier.startswith("==") and specifier.endswith(".*"):
        return specifier[2:]  # conda's fuzzy `=1.12.1`: MatchSpec says 1.12.1.*
    if declaration.version:
        return declaration.version
    return specifier


@dataclass(frozen=True)
class _Unread:
    file: str
    line: int | None

    @staticmethod
    def of(note: str) -> _Unread | None:
        location = note.split(": ", 1)[0]
        file, _, line = location.rpartition(":")
        return _Unread(file, int(line)) if line.isdigit() else None


if __name__ == "__main__":
    if sys.argv[1:] == ["--json"]:  # the child process of _pip_answers
        print(json.dumps(_all_pip_answers()))
    else:  # a quick look: python -m tests.reqtruth CASE_ID
        for wanted in sys.argv[1:]:
            for entry in truth(next(c for c in REQ_CASES if c.id == wanted)):
                print(entry)
