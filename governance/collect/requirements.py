"""pip requirements files: what pip accepts, with every line's provenance.

Handles `-r`/`-c` includes, `--hash`, markers, extras, `name @ url`, bare URL,
VCS and local-path requirements, `-e`, and option lines (`--index-url`...).
Lines pip would reject are errors naming the file and line; range and
unpinned requirements are kept as they are, since they are what pin rules judge.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from governance.collect.declared import Declaration, exact_version
from governance.collect.environment import marker_applies
from governance.errors import InputError
from governance.escape import quote
from governance.frozen import frozen
from governance.inputs import allowed_roots, inside, read_input, reading
from governance.inputs import relative as relative_name
from governance.model import Hash, Provenance, Source, Unread

# Options that take a value and affect where packages come from or how pip
# resolves; they are recorded, not acted upon.
_VALUE_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host",
    "--no-binary", "--only-binary", "--use-feature", "--progress-bar", "--config-settings",
}
_FLAG_OPTIONS = {"--pre", "--prefer-binary", "--require-hashes", "--no-index", "--no-deps"}
_HASH_RE = re.compile(r"^(sha256|sha384|sha512|md5):([0-9a-fA-F]+)$")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?")
_MAX_INCLUDE_DEPTH = 20
MAX_REQUIREMENTS_BYTES = 16 * 1024 * 1024


@dataclass
class RequirementsFile:
    """What one scan of requirements files found (several files, includes followed)."""

    declarations: list[Declaration] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)  # lines pip accepts that name no package mlgov can tell


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and drop comments, keeping the first line number."""
    lines: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buffer:
            start = number
        stripped = _strip_comment(raw)
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        if buffer.strip():
            lines.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def _strip_comment(raw: str) -> str:
    r"""pip's rule: a comment starts a line or follows whitespace. Linear, unlike the
    regex `(^|\s+)#.*$`, which backtracks quadratically on a line of spaces."""
    position = raw.find("#")
    while position >= 0:
        if position == 0 or raw[position - 1].isspace():
            return raw[:position].rstrip()
        position = raw.find("#", position + 1)
    return raw


def read_requirements(paths: list[Path], root: Path, markers: dict[str, str]) -> RequirementsFile:
    result = RequirementsFile()
    seen: set[Path] = set()
    for path in paths:
        # Index options apply to the whole pip install of one file (and what it includes), so each
        # top-level file's PyTorch index goes to that file's declarations only: alternative files
        # (requirements-torch-cuda.txt with whl/cu130, requirements.txt with whl/cpu) keep their own.
        first = (len(result.declarations), len(result.index_urls), len(result.find_links))
        _read(path, root, markers, result, seen, constraint=False, depth=0)
        _pytorch_index(result, first[0], result.index_urls[first[1]:] + result.find_links[first[2]:])
    return result


# PyTorch's own packages: their builds (+cu130, +cpu) on PyTorch's index are what pip takes from it,
# with or without a version pinned (a local version sorts above PyPI's public one).
_PYTORCH_BUILDS = frozenset({"torch", "torchvision", "torchaudio"})


def _pytorch_index(result: RequirementsFile, start: int, urls: list[str]) -> None:
    """A `+cuXYZ` pin is served by PyTorch's index only: when the files name such an index
    (-i, --extra-index-url, -f), it is the pin's source, so the GPU rules can tell an
    installable pin from one no index serves (GPU008), and it says the build of an unpinned
    torch (the index whl/cu130 serves CUDA 13.0 builds only)."""
    pytorch = [u for u in urls if "download.pytorch.org" in u]
    if not pytorch:
        return
    for position in range(start, len(result.declarations)):
        declaration = result.declarations[position]
        if declaration.provenance.source is not None:
            continue
        local = (declaration.version or "").partition("+")[2].lower()
        if local.startswith(("cu", "rocm", "cpu")):
            url = next((u for u in pytorch if u.rstrip("/").lower().endswith("/" + local)), pytorch[0])
        elif declaration.name.lower() in _PYTORCH_BUILDS and len(set(pytorch)) == 1:
            url = pytorch[0]
        else:
            continue
        provenance = replace(declaration.provenance, source=Source(kind="index", url=url))
        result.declarations[position] = replace(declaration, provenance=provenance)


def _read(path: Path, root: Path, markers: dict[str, str], result: RequirementsFile,
          seen: set[Path], constraint: bool, depth: int, included_from: tuple[str, int] | None = None) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    if depth > _MAX_INCLUDE_DEPTH:
        raise InputError("includes nest too deeply (a cycle?)", file=included_from[0] if included_from else path,
                         line=included_from[1] if included_from else None)
    relative = relative_name(path, root)
    if included_from:
        # An include may name only a file of the project: `-r /etc/passwd`,
        # `-r ../token` or a link out would put another file's lines in messages.
        if not inside(path, (root.resolve(),)):
            raise InputError(f"included file {quote(relative, 120)} lies outside the project; not read",
                             file=included_from[0], line=included_from[1])
        if not os.path.lexists(path):
            raise InputError(f"included file not found: {quote(relative, 120)}", file=included_from[0],
                             line=included_from[1])
    text = read_input(path, "requirements file", MAX_REQUIREMENTS_BYTES, shown=relative,
                      within=(root.resolve(),))
    result.files.append(relative)
    with reading(relative, "requirements file"):
        for number, line in _logical_lines(text):
            _parse_line(line, number, path, relative, root, markers, result, seen, constraint, depth)


def _split(line: str, relative: str, number: int) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise InputError(f"cannot split line: {exc}", file=relative, line=number) from None


def _parse_line(line: str, number: int, path: Path, relative: str, root: Path,
                markers: dict[str, str], result: RequirementsFile, seen: set[Path],
                constraint: bool, depth: int) -> None:
    if line.startswith("-"):
        tokens = _split(line, relative, number)
        option, _, inline = tokens[0].partition("=")
        value = inline or (tokens[1] if len(tokens) > 1 else "")
        if option in ("-r", "--requirement", "-c", "--constraint"):
            if not value:
                raise InputError(f"{option} needs a file name", file=relative, line=number)
            _read(path.parent / value, root, markers, result, seen,
                  constraint=constraint or option in ("-c", "--constraint"), depth=depth + 1,
                  included_from=(relative, number))
            return
        if option in ("-e", "--editable"):
            if not value:
                raise InputError("-e needs a path or URL", file=relative, line=number)
            _add(value, number, relative, markers, result, constraint, editable=True, hashes=(),
                 base=path.parent)
            return
        if option in _VALUE_OPTIONS:
            if not value:
                raise InputError(f"{option} needs a value", file=relative, line=number)
            if option in ("-i", "--index-url", "--extra-index-url"):
                result.index_urls.append(value)
            elif option in ("-f", "--find-links"):
                result.find_links.append(value)
            return
        if option in _FLAG_OPTIONS:
            return
        raise InputError(f"unknown option {quote(option, 60)}", file=relative, line=number)

    # A requirement, perhaps followed by per-requirement options (--hash=...).
    requirement_text, hashes = _split_hashes(line, relative, number)
    _add(requirement_text, number, relative, markers, result, constraint, editable=False,
         hashes=hashes, base=path.parent)


def _split_hashes(line: str, relative: str, number: int) -> tuple[str, tuple[Hash, ...]]:
    position = line.find(" --")
    if position < 0:
        return line, ()
    requirement_text = line[:position].strip()
    hashes: list[Hash] = []
    tokens = _split(line[position:], relative, number)
    iterator = iter(tokens)
    for token in iterator:
        option, _, value = token.partition("=")
        if option == "--hash":
            if not value:
                value = next(iterator, "")
            match = _HASH_RE.match(value)
            if not match:
                raise InputError(f"bad --hash value {quote(value, 80)} (expected sha256:<hex>)",
                                 file=relative, line=number)
            hashes.append(Hash(match.group(1), match.group(2).lower()))
        elif option in ("--global-option", "--config-settings", "--install-option"):
            if not value:
                next(iterator, None)
        else:
            raise InputError(f"unknown per-requirement option {quote(option, 60)}", file=relative, line=number)
    return requirement_text, tuple(sorted(set(hashes)))


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "/", "~")) or text.startswith("file:") or (
        "/" in text and "@" not in text and not re.match(r"^[A-Za-z0-9._-]+\s*[<>=!~;\[]", text))


def _add(text: str, number: int, relative: str, markers: dict[str, str], result: RequirementsFile,
         constraint: bool, editable: bool, hashes: tuple[Hash, ...], base: Path) -> None:
    marker_text: str | None = None
    source: Source | None = None
    extras: tuple[str, ...] = ()
    specifier = ""
    name: str | None = None

    bare = text
    # A URL or path with markers separates them with "; " (pip's rule).
    if (bare.startswith(_VCS_PREFIXES) or "://" in bare.split()[0] or _looks_like_path(bare)) and " @ " not in bare:
        location, sep, rest = bare.partition("; ")
        if sep:
            marker_text = rest.strip()
        location = location.strip()
        egg = _EGG_RE.search(location)
        if egg:
            name = egg.group(1)
            extras = tuple(sorted(e.strip() for e in (egg.group(2) or "").split(",") if e.strip()))
        source = _source_for(location, editable)
        if name is None:
            name = _name_from_location(location, base)
        if name is None:
            # pip accepts this (it learns the name by building the package); mlgov builds nothing, so the
            # line is said not judged (COV002) and the rest of the file is still read.
            result.unread.append(Unread(
                file=relative, line=number,
                reason=f"{quote(location)} names no package; pip learns its name only by building it",
                fix="name it: 'NAME @ URL' or #egg=NAME"))
            return
    else:
        try:
            requirement = Requirement(bare)
        except InvalidRequirement as exc:
            raise InputError(f"invalid requirement {quote(bare)}: {_first_line(str(exc))}",
                             file=relative, line=number) from None
        name = requirement.name
        extras = tuple(sorted(requirement.extras))
        specifier = str(requirement.specifier)
        marker_text = str(requirement.marker) if requirement.marker else None
        if requirement.url:
            source = _source_for(requirement.url, editable)

    applies = True
    if marker_text:
        from packaging.markers import InvalidMarker, Marker

        try:
            applies = marker_applies(Marker(marker_text), markers)
        except InvalidMarker as exc:
            raise InputError(f"invalid marker {quote(marker_text)}: {_first_line(str(exc))}",
                             file=relative, line=number) from None
    provenance = Provenance(
        file=relative, kind="requirements", line=number, specifier=specifier,
        markers=marker_text, hashes=hashes, extras=extras,
        group="constraints" if constraint else None, source=source, applies=applies,
    )
    version = exact_version(specifier) if specifier else None
    result.declarations.append(Declaration(name=name, version=version, provenance=provenance))


def _first_line(text: str) -> str:
    # packaging's messages quote the requirement again: inert and short as well.
    from governance.escape import clip, terminal

    return clip(terminal(text.strip().splitlines()[0] if text.strip() else text), 200)


def _source_for(location: str, editable: bool) -> Source:
    if location.startswith(_VCS_PREFIXES):
        vcs, _, url = location.partition("+")
        commit = None
        base = url.split("#", 1)[0]
        if "@" in base.rsplit("/", 1)[-1]:
            commit = base.rsplit("@", 1)[1]
        return Source(kind="vcs", url=location, vcs=vcs, commit=commit, editable=editable)
    if "://" in location and not location.startswith("file:"):
        return Source(kind="url", url=location, editable=editable)
    return Source(kind="editable" if editable else "path", url=location, editable=editable)


def _name_from_location(location: str, folder: Path) -> str | None:
    base = location.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    last = base.rsplit("/", 1)[-1]
    if "://" not in base:
        # A local project folder: its pyproject.toml names it (read, never built).
        local = folder / base.removeprefix("file:")
        roots = allowed_roots()
        if local.is_dir() and (roots is None or inside(local, roots)):
            from governance.collect.project import stated_name

            # Only a name the folder states (pyproject.toml, setup.cfg): pip learns it from the build
            # backend, and a folder's own name is a guess (stable-diffusion's `-e .` is latent-diffusion).
            return stated_name(local)
    # A wheel or sdist file name carries the project name.
    if last.endswith(".whl"):
        return last.split("-", 1)[0]
    for suffix in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if last.endswith(suffix):
            stem = last[: -len(suffix)]
            return stem.rsplit("-", 1)[0] if "-" in stem else stem
    return None


# The requirements files read at the top of a project (discover.py names them when nothing is found).
PATTERNS = ("requirements*.txt", "*-requirements.txt", "*_requirements.txt")


def find_requirements_files(root: Path) -> list[Path]:
    """requirements*.txt (and *-requirements.txt) at the top of the project."""
    names = {p for pattern in PATTERNS for p in root.glob(pattern) if p.is_file()}
    return sorted(names)


# --- compiled requirements: a lock of the requirements it was compiled from -------------------------

_COMPILED = re.compile(r"^#\s*This file (?:is|was) autogenerated by (pip-compile|uv)\b(?:.*?\bwith [Pp]ython (\d+\.\d+))?")
_HEAD_LINES = 40
# Options of pip-compile and `uv pip compile` whose value is the next word: never an input file.
_COMMAND_VALUES = {
    "-o", "--output-file", "-c", "--constraint", "--constraints", "--override", "--overrides", "-f", "--find-links",
    "-i", "--index-url", "--extra-index-url", "--python-version", "-p", "--python", "--extra", "--only-binary",
    "--no-binary", "-P", "--upgrade-package", "--pip-args", "--cache-dir", "--resolver", "--annotation-style",
    "--python-platform", "--build-constraint", "--build-constraints", "--group", "--exclude-newer",
    "--index-strategy", "--keyring-provider", "--prerelease", "--resolution", "--config-file", "--torch-backend",
    "--unsafe-package", "--no-emit-package", "--trusted-host", "--index", "--default-index", "--link-mode",
}
_INPUT_SUFFIXES = (".in", ".txt", ".toml", ".cfg")
_PYTHON_IN_NAME = re.compile(r"(?:^|[-_.])(?:py|python|cp)?3[._]?(\d{1,2})(?=$|[-_.])")
_LOCK_IN_NAME = re.compile(r"[-_.]?lock(?:[-_.].*)?$")


@frozen
class Compiled:
    """A requirements file that pip-compile or `uv pip compile` wrote: the lock of its inputs.

    inputs are the project's files it was compiled from (requirements files, `.in` files or
    pyproject.toml), as paths; python is the Python it was compiled for, when it says.
    """

    path: Path
    tool: str
    python: str | None
    inputs: tuple[Path, ...]
    named_python: str | None  # a Python version in the file's name (requirements_lock_3_12.txt)


@dataclass
class CompiledPlan:
    """The compiled requirements locks (pip-compile outputs) that apply to the target, and those left out."""
    locks: list[Compiled] = field(default_factory=list)  # the compiled locks that apply to the target
    left_out: list[Path] = field(default_factory=list)  # compiled for another Python than the target's
    notes: list[str] = field(default_factory=list)

    def inputs(self) -> dict[Path, list[Compiled]]:
        """Each input file, with the locks compiled from it."""
        out: dict[Path, list[Compiled]] = {}
        for lock in self.locks:
            for path in lock.inputs:
                out.setdefault(path, []).append(lock)
        return out


def _head_lines(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return [handle.readline() for _ in range(_HEAD_LINES)]
    except OSError:
        return []


def _fully_pinned(path: Path) -> bool:
    """Every requirement of the file fixes one version (`==`/`===`, or names one file): a lock's shape."""
    try:
        text = read_input(path, "requirements file", MAX_REQUIREMENTS_BYTES, shown=path.name)
    except InputError:
        return False
    seen = False
    for _, line in _logical_lines(text):
        if line.startswith("-"):
            if line.startswith(("-e", "--editable", "-r", "--requirement")):
                return False
            continue
        requirement = line.split(" --", 1)[0]
        if " @ " in requirement or "://" in requirement.split(";", 1)[0]:
            seen = True
            continue
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s,;*]+\s*(;.*)?$", requirement):
            return False
        seen = True
    return seen


def _command(lines: list[str]) -> list[str]:
    """The command words the header records (`#    pip-compile --output-file=... requirements.in`)."""
    words: list[str] = []
    after = False
    for raw in lines:
        if not raw.startswith("#"):
            break
        text = raw[1:].strip()
        if "following command" in text:
            after = True
            continue
        if after and text:
            try:
                words.extend(shlex.split(text))
            except ValueError:
                words.extend(text.split())
        elif after and words:
            break
    return words


def _is_file(path: Path) -> bool:
    """Path.is_file, False for a name the system refuses (over 255 bytes: ENAMETOOLONG is raised, not
    answered False): a name written in a scanned file is input, not an internal error."""
    try:
        return path.is_file()
    except OSError:
        return False


def _inputs_of(words: list[str], lock: Path, root: Path) -> tuple[list[Path], str | None, str, list[str]]:
    """(input files that exist in the project, the Python asked for, the tool, every input the command
    names) from a compile command."""
    tool = "pip-compile"
    if len(words) >= 2 and words[0] == "uv":
        tool = "uv " + " ".join(words[1:3] if len(words) > 2 and words[1] == "pip" else words[1:2])
    python: str | None = None
    found: list[Path] = []
    named: list[str] = []
    skip = False
    for position, word in enumerate(words[1:], 1):
        if skip:
            skip = False
            continue
        option, equals, value = word.partition("=")
        if word.startswith("-"):
            if option in ("--python-version", "-p", "--python"):
                python = value if equals else (words[position + 1] if position + 1 < len(words) else None)
            skip = option in _COMMAND_VALUES and not equals
            continue
        if not word.endswith(_INPUT_SUFFIXES):
            continue
        named.append(word)
        # The path in the repository the command ran in, then the name beside the lock, then a file
        # beside it whose name ends the recorded one (a build that prefixes copies:
        # model_maker_requirements_bazel.txt for requirements_bazel.txt).
        base = Path(word).name
        beside = sorted((p for p in lock.parent.iterdir() if _is_file(p) and p.name != base
                         and base.endswith(("_" + p.name, "-" + p.name))), key=lambda p: -len(p.name)) \
            if lock.parent.is_dir() else []
        for candidate in (root / word, lock.parent / word, lock.parent / base, *beside[:1]):
            if _is_file(candidate) and inside(candidate, (root.resolve(),)) and candidate.resolve() != lock.resolve():
                found.append(candidate)
                break
    if python is not None:
        match = re.match(r"^(?:cpython-?|python)?(3\.\d+)", python)
        python = match.group(1) if match else None
    return found, python, tool, named


def _conventional_inputs(lock: Path) -> list[Path]:
    """The input by name: `X.in` for `X.txt`; `requirements.txt` for `requirements_lock*.txt`."""
    found = [lock.with_suffix(".in")] if lock.with_suffix(".in").is_file() else []
    base = _LOCK_IN_NAME.sub("", lock.stem)
    if base != lock.stem and base:
        for suffix in (".txt", ".in"):
            candidate = lock.with_name(base + suffix)
            if _is_file(candidate) and candidate != lock and not _fully_pinned(candidate):
                found.append(candidate)
    return found


def compiled_lock(path: Path, root: Path) -> Compiled | None:
    """The file as a compiled lock, or None when it is not one.

    A compiled lock is what pip-compile or `uv pip compile` wrote (its header says so and names the
    inputs), or a file in which every requirement is an exact pin beside the file it was evidently
    compiled from (`requirements.in` for `requirements.txt`, `requirements.txt` for
    `requirements_lock.txt`). `uv export` output locks a uv.lock, not a requirements file.
    """
    lines = _head_lines(path)
    header = next((m for m in (_COMPILED.match(line) for line in lines[:10]) if m), None)
    named = _PYTHON_IN_NAME.search(path.stem)
    named_python = f"3.{named.group(1)}" if named else None
    if header is not None:
        words = _command(lines)
        if len(words) >= 2 and words[0] == "uv" and words[1] != "pip":
            return None
        inputs, python, tool, names_inputs = _inputs_of(words, path, root)
        if not names_inputs and words:
            # pip-compile with no input compiles requirements.in
            inputs = [path.parent / "requirements.in"] if (path.parent / "requirements.in").is_file() else []
        if not words:
            inputs = _conventional_inputs(path)
        # A command that names inputs the project does not hold has none here: guessing by name would
        # take another file for its manifest.
        return Compiled(path=path, tool=tool if header.group(1) == "uv" else "pip-compile",
                        python=header.group(2) or python, inputs=tuple(dict.fromkeys(inputs)),
                        named_python=named_python)
    inputs = _conventional_inputs(path)
    if inputs and _fully_pinned(path):
        return Compiled(path=path, tool="pip-compile", python=None, inputs=tuple(inputs), named_python=named_python)
    return None


def plan_compiled(paths: list[Path], root: Path, markers: dict[str, str]) -> CompiledPlan:
    """Which of the requirements files are compiled locks, and which of those the target installs from.

    Locks compiled from the same inputs for different Pythons (mediapipe's requirements_lock.txt
    for 3.9 and requirements_lock_3_12.txt for 3.12) are alternatives: the target takes the one for
    its Python; when none is for it, the one whose name names no Python (the project's default),
    and a note says for which Python it was compiled. The others are left out, said in a note.
    """
    plan = CompiledPlan()
    compiled = [lock for lock in (compiled_lock(p, root) for p in paths) if lock is not None and lock.inputs]
    target = markers.get("python_version")
    groups: dict[tuple[Path, ...], list[Compiled]] = {}
    for lock in compiled:
        groups.setdefault(tuple(sorted(p.resolve() for p in lock.inputs)), []).append(lock)
    for members in groups.values():
        versions = {m.path: m.python or m.named_python for m in members}
        if len(members) < 2 or len(set(versions.values())) < len(members) or None in versions.values() and \
                sum(v is None for v in versions.values()) > 1:
            plan.locks.extend(members)  # not one lock per Python: alternatives of another kind, all read
            continue
        chosen = [m for m in members if versions[m.path] == target]
        why = f"compiled for Python {target}, the target's"
        if not chosen:
            chosen = [m for m in members if m.named_python is None]
            if chosen:
                why = (f"the project's default, compiled with Python {versions[chosen[0].path]}: "
                       f"none is compiled for the target's Python {target}")
        if not chosen:
            plan.locks.extend(members)
            continue
        plan.locks.extend(chosen)
        others = [m for m in members if m not in chosen]
        plan.left_out.extend(m.path for m in others)
        plan.notes.append(
            f"{relative_name(chosen[0].path, root)} is the lock for this target ({why}); left out as locks "
            "for other Pythons: " + ", ".join(f"{relative_name(m.path, root)} (Python {versions[m.path]})"
                                               for m in others))
    return plan
