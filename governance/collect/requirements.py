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
