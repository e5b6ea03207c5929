"""pylock.toml and pylock.<name>.toml (PEP 751, lock-version 1.0).

Each [[packages]] entry carries its own marker, which may test `extras` and
`dependency_groups`; the groups are the file's `default-groups` and no extras,
which is what an installer picks by default.

A lock is refused for a target it is not made for, as PEP 751's installation
steps say an installer MUST (and `uv pip install -r`, and packaging's
`Pylock.select`, do): the file's `requires-python` or none of its
`environments` do not admit the target, a selected entry's own
`requires-python` does not, or two selected entries have one name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import index_source, locked
from governance.collect.selection import DEFAULT, Selection
from governance.collect.target import label
from governance.model import Source

KNOWN_VERSION = (1, 0)
_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("pylock.toml", "pylock.*.toml")


_ARTEFACT: c.Spec = {"hashes": c.TableOf(str), "url": str, "path": str, "name": str}
# The fields of a [[packages]] entry (PEP 751), as mlgov reads them.
FIELDS: dict[str, c.Spec] = {
    "version": str, "marker": str, "index": str, "sdist": _ARTEFACT, "archive": _ARTEFACT, "wheels": [_ARTEFACT],
    "vcs": {"type": str, "url": str, "path": str, "commit-id": str}, "directory": {"path": str, "editable": bool},
    "dependencies": [dict], "requires-python": str,
}


def matches(path: Path) -> bool:
    return bool(_NAME.match(path.name))


def _applies(marker: str | None, markers: dict[str, str], groups: frozenset[str], shown: str,
             line: int | None) -> bool:
    if not marker:
        return True
    try:
        parsed = Marker(marker)
        environment: dict[str, Any] = {**markers, "extras": frozenset(), "dependency_groups": groups}
        return bool(parsed.evaluate(environment, context="lock_file"))  # type: ignore[arg-type,call-arg]
    except InvalidMarker as exc:
        raise c.fail(f"invalid marker {marker!r}: {str(exc).splitlines()[0]}", shown, line) from None
    except (UndefinedComparison, UndefinedEnvironmentName):
        return False


def _entry_hashes(entry: dict[str, Any]) -> list[str]:
    found = []
    artefacts = [entry.get("sdist"), entry.get("archive")] + list(entry.get("wheels", []) or [])
    for artefact in artefacts:
        if isinstance(artefact, dict):
            for algorithm, value in (artefact.get("hashes") or {}).items():
                found.append(f"{algorithm}:{value}")
    return found


def _source(entry: dict[str, Any]) -> Source | None:
    vcs = entry.get("vcs")
    if isinstance(vcs, dict):
        return Source(kind="vcs", url=str(vcs.get("url") or vcs.get("path") or ""), vcs=str(vcs.get("type", "git")),
                      commit=vcs.get("commit-id"))
    directory = entry.get("directory")
    if isinstance(directory, dict):
        editable = bool(directory.get("editable"))
        return Source(kind="editable" if editable else "path", url=str(directory.get("path", "")), editable=editable)
    archive = entry.get("archive")
    if isinstance(archive, dict):
        return Source(kind="url" if archive.get("url") else "path", url=str(archive.get("url") or archive.get("path")))
    return index_source(entry.get("index"))


def _admits(requires: str, markers: dict[str, str], shown: str, line: int | None) -> bool:
    try:
        return SpecifierSet(requires).contains(markers["python_full_version"], prereleases=True)
    except InvalidSpecifier as exc:
        raise c.fail(f"invalid requires-python {requires!r}: {exc}", shown, line) from None


def _not_for(markers: dict[str, str]) -> str:
    return (f"the target ({label(markers)}, Python {markers['python_full_version']}): an installer refuses the lock "
            "there (PEP 751; `uv pip install -r` does); scan with the --target-platform/--target-python it was "
            "locked for")


def _top_line(text: str, key: str) -> int | None:
    """The line of a top-level key (before the first table: an entry's own `requires-python` is not it)."""
    found = re.search(rf"^{re.escape(key)}\s*=", text.split("\n[", 1)[0], re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _refuse_other_targets(data: dict[str, Any], markers: dict[str, str], shown: str, text: str) -> None:
    """PEP 751's first installation steps: the file's requires-python, then its environments."""
    requires = data.get("requires-python")
    if requires is not None:
        line = _top_line(text, "requires-python")
        requires = c.expect(requires, str, "`requires-python`", shown, line)
        if not _admits(requires, markers, shown, line):
            raise c.fail(f"requires-python {requires!r} does not admit {_not_for(markers)}", shown, line)
    environments = data.get("environments")
    if environments is not None:
        line = _top_line(text, "environments")
        c.expect(environments, list, "`environments`", shown, line)
        if not any(_holds(c.expect(e, str, "an `environments` marker", shown, line), markers, shown, line)
                   for e in environments):
            raise c.fail(f"none of its environments holds for {_not_for(markers)}", shown, line)


def _holds(marker: str, markers: dict[str, str], shown: str, line: int | None) -> bool:
    try:
        return bool(Marker(marker).evaluate({**markers, "extra": ""}))
    except InvalidMarker as exc:
        raise c.fail(f"invalid marker {marker!r}: {str(exc).splitlines()[0]}", shown, line) from None
    except (UndefinedComparison, UndefinedEnvironmentName):
        return False


_IN_GROUP = re.compile(r"""['"]([^'"]+)['"]\s+in\s+dependency_groups""")


def _group(marker: str | None) -> str:
    match = _IN_GROUP.search(marker or "")
    return match.group(1) if match else "main"


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.load_toml(text, shown)
    c.require_version(data, "lock-version", KNOWN_VERSION, "PEP 751 pylock", shown, text)
    _refuse_other_targets(data, markers, shown, text)
    groups = frozenset() if selection.no_default_groups else frozenset(
        str(g) for g in data.get("default-groups", []) or [])
    entries = c.expect(data.get("packages", []), list, "[[packages]]", shown)
    lines = c.table_lines(text, "[[packages]]")
    declarations = []
    names = set()
    selected: dict[str, int | None] = {}
    has_project = False
    left_out = 0
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        c.expect(entry, dict, "a [[packages]] entry", shown, line)
        name = c.expect(entry.get("name"), str, "`name`", shown, line)
        c.check_fields(entry, FIELDS, f"package {name}", shown, line, text)
        names.add(c.key(name))
        marker = entry.get("marker")
        directory = entry.get("directory")
        if isinstance(directory, dict) and str(directory.get("path", "")).strip().rstrip("/") in (".", ""):
            has_project = True
            continue  # the project itself (uv export writes it as an editable "."): the SBOM's root
        if not _applies(marker, markers, groups, shown, line):
            left_out += 1
            continue
        requires = entry.get("requires-python")
        if requires is not None and not _admits(requires, markers, shown, line):
            raise c.fail(f"package {name}: requires-python {requires!r} does not admit {_not_for(markers)}",
                         shown, line)
        if c.key(name) in selected:
            other = selected[c.key(name)]
            raise c.fail(f"two entries of {name} are installed on {label(markers)} (the other at line {other}): "
                         "PEP 751 installers refuse an ambiguous lock", shown, line)
        selected[c.key(name)] = line
        declarations.append(locked(
            name, entry.get("version"), shown, line, hashes=c.hashes(_entry_hashes(entry)), markers=marker,
            source=_source(entry),
            group=_group(marker),
        ))
    # A lock that installs the project itself (its `directory = { path = "." }` entry) was made from the
    # pyproject.toml beside it and decides what that manifest's requirements install, as a uv.lock does.
    result = LockResult(file=shown, declarations=declarations, names=frozenset(names), decides=has_project)
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries not installed on {label(markers)} left out")
    return result
