"""conda: environment.yml, conda-lock.yml and `conda list --explicit` files.

conda packages get ecosystem "conda" (pkg:conda purls with channel, subdir
and build); the `pip:` section of environment.yml and conda-lock's pip
entries are PyPI packages. A conda-lock entry or an explicit file applies to
the target when its platform (subdir) is the target's, or noarch.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from governance.collect.declared import Declaration
from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import locked
from governance.collect.selection import DEFAULT, Selection
from governance.collect.target import conda_subdir, label
from governance.inputs import head
from governance.model import Hash, Source

KNOWN_LOCK_VERSION = (1,)
_ENVIRONMENT_NAMES = ("environment.yml", "environment.yaml")
_LOCK_NAME = re.compile(r"^conda-lock(\.[^.]+)?\.ya?ml$")
_EXPLICIT_SUFFIXES = (".txt", ".lock", ".explicit")
_SPEC = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<rest>.*)$")


def _is_explicit(path: Path) -> bool:
    for raw in (head(path, 8192) or "").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            return line == "@EXPLICIT"
    return False


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("environment.yml", "environment.yaml", "conda-lock.yml", "conda-lock.*.yml")
# Read by content rather than name: said in that message too.
ALSO_READS = ("`conda list --explicit` files (*.txt, *.lock starting with @EXPLICIT); conda environment files "
              "under any name (*.yml, *.yaml with a top-level `dependencies:` list: conda.yaml, "
              "environment_cuda.yml, ...)")


def _is_environment(path: Path) -> bool:
    """A conda environment file under any name (conda.yaml, as MLflow names every logged model's,
    environment_cuda.yml, conda_env_gpu.yaml, DEEPLABCUT.yaml): YAML with a top-level `dependencies:`."""
    if path.name in _ENVIRONMENT_NAMES:
        return True
    if path.suffix.lower() not in (".yml", ".yaml") or _LOCK_NAME.match(path.name):
        return False
    return re.search(r"(?m)^dependencies\s*:", head(path, 65536) or "") is not None


def is_manifest(path: Path) -> bool:
    """A conda environment file declares (a manifest, read whatever --lock chooses); the rest lock."""
    return _is_environment(path)


def matches(path: Path) -> bool:
    if _is_environment(path) or _LOCK_NAME.match(path.name):
        return True
    return path.suffix in _EXPLICIT_SUFFIXES and _is_explicit(path)


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    if _LOCK_NAME.match(path.name):
        return _conda_lock(text, shown, markers)
    if path.suffix.lower() in (".yml", ".yaml"):
        return _environment(path, root, text, shown, markers)
    return _explicit(text, shown, markers)


def _conda_properties(channel: str | None, subdir: str | None, build: str | None) -> tuple[tuple[str, str], ...]:
    return tuple((f"mlgov:conda:{k}", v) for k, v in (("channel", channel), ("subdir", subdir), ("build", build)) if v)


def _channel_of(url: str) -> tuple[str | None, str | None, str]:
    """(channel, subdir, file name) of a package URL such as
    https://conda.anaconda.org/conda-forge/linux-64/cudnn-9.1.0.70-h87de6fd_1.conda"""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    file_name = unquote(parts[-1]) if parts else ""
    subdir = parts[-2] if len(parts) >= 2 else None
    channel = parts[-3] if len(parts) >= 3 else None
    return channel, subdir, file_name


def _split_file_name(file_name: str) -> tuple[str, str, str] | None:
    for suffix in (".conda", ".tar.bz2"):
        if file_name.endswith(suffix):
            stem = file_name[: -len(suffix)]
            pieces = stem.rsplit("-", 2)
            if len(pieces) == 3:
                return pieces[0], pieces[1], pieces[2]
    return None


def _environment(path: Path, root: Path, text: str, shown: str, markers: dict[str, str]) -> LockResult:
    data = c.load_yaml(text, shown)
    c.expect(data, dict, "the document (expected a mapping with `dependencies`)", shown, 1)
    channels = [str(ch) for ch in data.get("channels", []) or []]
    result = LockResult(file=shown)
    lines = text.splitlines()
    cursor = 0

    def line_for(needle: str) -> int | None:
        # Entries appear in file order: search forward from the last one found. O(n) overall.
        nonlocal cursor
        for number in range(cursor, len(lines)):
            if needle in lines[number]:
                cursor = number + 1
                return number + 1
        return None

    for item in c.expect(data.get("dependencies", []) or [], list, "`dependencies`", shown):
        if isinstance(item, dict) and "pip" in item:
            pip = c.expect(item["pip"] or [], list, "the `pip:` section", shown)
            result.declarations.extend(_pip_section(path, root, [(str(r), line_for(str(r))) for r in pip],
                                                    shown, markers, result.notes))
            continue
        spec = str(item).strip()
        line = line_for(spec)
        match = _SPEC.match(spec)
        if not match:
            raise c.fail(f"cannot read the conda spec {spec!r}", shown, line)
        name, rest = match.group("name"), match.group("rest").strip()
        version, build, specifier = _conda_version(rest)
        # The channel qualifier says where the spec itself pins the package (`conda-forge::pytorch`);
        # the file's channel list is a search order, not where each package came from.
        channel = match.group("channel")
        result.declarations.append(locked(
            name, version, shown, line, ecosystem="conda", kind="manifest", specifier=specifier,
            properties=_conda_properties(channel, None, build),
        ))
    return result


# conda's own split of a match spec's "version build" part (conda/models/match_spec.py,
# _parse_version_plus_build, BSD-3-Clause): the build follows a space or an `=` that no operator
# precedes (`1.10.0=0`, `>=2.7.0=cuda12*`, `1.9.1 py3.9_cuda11.1_0`); spaces inside the version
# part are then dropped, so `python >= 3.8` is `>=3.8`, not version `>=` with build `3.8`.
_VERSION_BUILD = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")
_OPERATOR = re.compile(r"^(==|=|>=|<=|!=|~=|>|<)?")


def _conda_version(rest: str) -> tuple[str | None, str | None, str]:
    """(version, build, PEP 440-like specifier) of a conda match spec's version part.

    `1.12.1` and `==1.12.1` are exact, as is `=1.26.4=py311_0` (a build given); `=1.12.1` is conda's
    fuzzy 1.12.1.*, which names one release when it has three parts (its version is kept) and a
    series when fewer (`=1.26`: no version); a build after the version (`>=2.7.0=cuda12*`,
    `1.9.1 py3.9_cuda11.1_cudnn8.0.5_0`, `1.10.0=0`) is kept for the GPU rules.
    """
    rest = rest.strip()
    if not rest:
        return None, None, ""
    parts = _VERSION_BUILD.search(rest)
    version_part, build = parts.groups() if parts else (rest, None)
    build = build.strip() if build and build.strip() else None
    rest = (version_part or "").replace(" ", "")
    if rest.startswith("=") and not rest.startswith("==") and build is not None:
        rest = rest[1:]  # `=1.2.3=build` (MatchSpec: version 1.2.3, exact with its build)
    operator = _OPERATOR.match(rest).group(1) or ""  # type: ignore[union-attr]
    value = rest[len(operator):]
    if "," in value or "|" in value or operator not in ("", "=", "=="):
        return None, build, rest
    if (operator == "=" and build is None) or value.endswith("*"):
        series = value.rstrip("*").rstrip(".")
        version = series if len(series.split(".")) >= 3 else None
        return version, build, f"=={series}.*"
    return value, build, f"=={value}"


def _pip_section(path: Path, root: Path, entries: list[tuple[str, int | None]], shown: str,
                 markers: dict[str, str], notes: list[str]) -> list[Declaration]:
    """The `pip:` list, read as the lines of a requirements file (conda hands it to pip as one):
    `-r file`, `-e git+...#egg=name`, `file:.`, `--pre` and URLs mean what they mean to pip."""
    from dataclasses import replace

    from governance.collect import requirements
    from governance.errors import InputError

    result = requirements.RequirementsFile()
    for text, line in entries:
        entry = text.split(" #", 1)[0].strip()
        if not entry:
            continue
        try:
            requirements._parse_line(entry, line or 0, path, shown, root, markers, result, {path.resolve()},
                                     constraint=False, depth=0)
        except InputError as exc:
            if exc.file != shown or "cannot tell the package name" not in str(exc):
                raise
            # A URL without #egg= names no package until pip builds it, which mlgov never does.
            notes.append(f"{shown}:{line}: pip entry {entry!r} names no package (add #egg=NAME); "
                         "not in the inventory")
    for unread in result.unread:
        # pip learns such an entry's name only by building it, which mlgov never does: said, not guessed.
        notes.append(f"{unread.file}:{unread.line}: pip entry not in the inventory: {unread.reason} ({unread.fix})")
    return [replace(d, provenance=replace(d.provenance, group="pip")) if d.provenance.file == shown else d
            for d in result.declarations]


def _conda_lock(text: str, shown: str, markers: dict[str, str]) -> LockResult:
    data = c.load_yaml(text, shown)
    c.expect(data, dict, "the document (expected a mapping with `package`)", shown, 1)
    c.require_version(data, "version", KNOWN_LOCK_VERSION, "conda-lock file", shown, text, "version:")
    subdir = conda_subdir(markers)
    entries = c.expect(data.get("package", []) or [], list, "`package`", shown)
    starts = [n for n, raw in enumerate(text.splitlines(), 1) if re.match(r"^\s*- name:", raw)]
    use_lines = len(starts) == len(entries)
    result = LockResult(file=shown)
    left_out = 0
    other_subdirs: set[str] = set()
    for index, entry in enumerate(entries):
        line = starts[index] if use_lines else None
        c.expect(entry, dict, "a package entry", shown, line)
        name = c.expect(entry.get("name"), str, "`name`", shown, line)
        platform = str(entry.get("platform", ""))
        if entry.get("optional") or (subdir is not None and platform not in (subdir, "noarch")):
            left_out += 1
            if not entry.get("optional") and platform:
                other_subdirs.add(platform)
            continue
        hash_table = entry.get("hash") or {}
        hashes = c.hashes(f"{k}:{v}" for k, v in hash_table.items()) if isinstance(hash_table, dict) else ()
        url = str(entry.get("url", ""))
        requires = tuple(sorted(c.key(d) for d in (entry.get("dependencies") or {})))
        group = str(entry.get("category", "main"))
        if entry.get("manager") == "pip":
            result.declarations.append(locked(name, str(entry.get("version")), shown, line, hashes=hashes,
                                              group=group, requires=requires,
                                              source=Source(kind="url", url=url) if url else None))
            continue
        channel, url_subdir, file_name = _channel_of(url)
        parsed = _split_file_name(file_name)
        build = parsed[2] if parsed else None
        result.declarations.append(locked(
            name, str(entry.get("version")), shown, line, hashes=hashes, group=group, ecosystem="conda",
            requires=tuple(sorted(d.lower() for d in (entry.get("dependencies") or {}))),
            properties=_conda_properties(channel, url_subdir or platform, build),
            source=Source(kind="url", url=url) if url else None,
        ))
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries for other platforms than {label(markers)} left out")
    # Every name it records (any platform), and the environment files it was made from (relative to its
    # folder in `metadata.sources`): their specs join the locked packages (lockfiles.under_lock).
    names = {str(e.get("name")).lower() if e.get("manager") != "pip" else c.key(str(e.get("name")))
             for e in entries if isinstance(e, dict) and e.get("name")}
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    folder = posixpath.dirname(shown)
    made_from = tuple(dict.fromkeys(
        posixpath.normpath(posixpath.join(folder, str(source))) for source in metadata.get("sources", []) or []
        if isinstance(source, str)))
    return replace(result, names=frozenset(names), manifests=tuple(m for m in made_from if not m.startswith("..")),
                   other_targets=tuple(sorted(other_subdirs)))


_PLATFORM_COMMENT = re.compile(r"^#\s*platform:\s*(\S+)\s*$")


def _explicit(text: str, shown: str, markers: dict[str, str]) -> LockResult:
    subdir = conda_subdir(markers)
    result = LockResult(file=shown)
    left_out = 0
    other_subdirs: set[str] = set()
    seen_marker = False
    # `conda list --explicit` and conda-lock write the platform the file is for ("# platform: linux-64"):
    # the whole file, its noarch packages included, installs there and nowhere else.
    for_platform: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not seen_marker and line.startswith("#"):
            named = _PLATFORM_COMMENT.match(line)
            if named:
                for_platform = named.group(1)
            continue
        if not line or line.startswith("#"):
            continue
        if line == "@EXPLICIT":
            seen_marker = True
            continue
        if not seen_marker:
            raise c.fail("an explicit file must start with @EXPLICIT", shown, number)
        url, _, digest = line.partition("#")
        channel, url_subdir, file_name = _channel_of(url)
        parsed = _split_file_name(file_name)
        if parsed is None:
            raise c.fail(f"not a conda package URL (name-version-build.conda or .tar.bz2): {url!r}", shown, number)
        name, version, build = parsed
        hashes: tuple[Hash, ...] = ()
        if digest:
            value = digest.split(":", 1)[-1]
            algorithm = digest.split(":", 1)[0] if ":" in digest else ("md5" if len(value) == 32 else "sha256")
            hashes = c.hashes([f"{algorithm}:{value}"])
            if not hashes:
                raise c.fail(f"bad package hash {digest!r}", shown, number)
        elsewhere = for_platform != subdir if for_platform is not None else url_subdir not in (subdir, "noarch")
        if subdir is not None and elsewhere:
            left_out += 1
            other_subdirs.add(for_platform or url_subdir or "?")
            continue
        result.declarations.append(locked(
            name, version, shown, number, hashes=hashes, ecosystem="conda", group="main",
            properties=_conda_properties(channel, url_subdir, build), source=Source(kind="url", url=url),
        ))
    if not seen_marker:
        raise c.fail("no @EXPLICIT line: not a `conda list --explicit` file", shown)
    if left_out:
        result.notes.append(f"{shown}: {left_out} packages for other platforms than {label(markers)} left out")
    return replace(result, other_targets=tuple(sorted(other_subdirs)))
