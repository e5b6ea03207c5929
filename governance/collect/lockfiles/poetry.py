"""poetry.lock, lock-version 1.x and 2.x.

Poetry 2 (lock-version 2.1) records on each entry the groups that need it and
the markers under which it is installed, so an entry applies when one of its
groups is installed and that group's marker holds. Older locks record only the
graph: the walk starts from pyproject.toml's dependencies, as `poetry install`
does. Every non-optional group is installed, as by a plain `poetry install`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles import pyproject
from governance.collect.lockfiles._declare import index_source, locked
from governance.collect.selection import DEFAULT, Selection
from governance.collect.target import label
from governance.model import Source

KNOWN_VERSION = (2, 1)


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("poetry.lock",)


def matches(path: Path) -> bool:
    return path.name == "poetry.lock"


_DEPENDENCY: c.Spec = (str, {"version": str, "markers": str, "optional": bool, "extras": [str], "python": str,
                              "platform": str, "url": str})
# The fields of a [[package]] entry, as mlgov reads them.
FIELDS: dict[str, c.Spec] = {
    "version": str, "dependencies": c.TableOf((_DEPENDENCY, [_DEPENDENCY])), "files": [{"hash": str, "file": str}],
    "markers": (str, c.TableOf(str)), "groups": [str], "extras": c.TableOf([str]), "optional": bool,
    "source": {"type": str, "url": str, "reference": str, "resolved_reference": str}, "category": str,
    "python-versions": str,
}


def _edges(dependencies: Any, shown: str, line: int | None) -> list[c.Edge]:
    edges = []
    for name, value in (dependencies or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                if item.get("optional"):
                    continue
                # lock-version 1.0 writes the condition as `python = "<3.11"` (and `platform`), not `markers`
                edges.append(c.Edge(name=c.key(name), marker=pyproject.item_marker(item),
                                    extras=_extras(item.get("extras")),
                                    specifier=str(item["version"]) if item.get("version") else None))
            else:
                edges.append(c.Edge(name=c.key(name), specifier=str(item)))
    return edges


def _extras(values: Any) -> tuple[str, ...]:
    # poetry normalises extra names (`xml-Validation` asks for the `xml-validation` extra)
    return tuple(c.key(str(e)) for e in values or [])


_EXTRA_ITEM = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?[^;]*(?:;\s*(.+))?$")


def _optional_markers(dependencies: Any) -> dict[str, list[tuple[str | None, tuple[str, ...]]]]:
    """The markers and extras of each optional dependency of an entry: the condition an extra's edge
    keeps, and the extras it asks for (`uvicorn = {extras = ["standard"], optional = true}` while the
    extra's list says only "uvicorn", as lock-version 1.1 writes it)."""
    found: dict[str, list[tuple[str | None, tuple[str, ...]]]] = {}
    for name, value in (dependencies or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("optional"):
                found.setdefault(c.key(name), []).append((pyproject.item_marker(item), _extras(item.get("extras"))))
    return found


def _extra_edges(items: list[Any], optional: dict[str, list[tuple[str | None, tuple[str, ...]]]]) -> list[c.Edge]:
    """The edges of one extra: `[package.extras] standard = ["colorama (>=0.4)"]` names the dependency,
    and the dependency's own entry (`colorama = {optional = true, markers = "sys_platform == 'win32'"}`)
    says where it is installed; losing that marker would put Windows-only packages on Linux."""
    edges = []
    for item in items:
        match = _EXTRA_ITEM.match(str(item))
        if not match:
            continue
        name = c.key(match.group(1))
        extras = _extras(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
        own = match.group(3)
        for marker, extras_of in optional.get(name, [(None, ())]):
            parts = [f"({m})" for m in (own, marker) if m]
            edges.append(c.Edge(name=name, marker=" and ".join(parts) or None,
                                extras=tuple(sorted(set(extras) | set(extras_of)))))
    return edges


def _source(source: dict[str, Any]) -> Source | None:
    kind = source.get("type")
    url = str(source.get("url", ""))
    if kind == "git":
        return Source(kind="vcs", url=url, vcs="git",
                      commit=source.get("resolved_reference") or source.get("reference"))
    if kind in ("directory", "file"):
        return Source(kind="path", url=url)
    if kind == "url":
        return Source(kind="url", url=url)
    if kind == "legacy":
        return index_source(url)
    return None


# poetry's Locker (poetry 2.5.1, poetry/packages/locker.py: _legacy_keys, _relevant_keys,
# _relevant_project_keys, _get_content_hash): the parts of pyproject.toml a lock's content-hash covers.
_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_RELEVANT_KEYS = (*_LEGACY_KEYS, "group")
_RELEVANT_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")


def content_hash(data: dict[str, Any], with_dependency_groups: bool = True) -> str:
    """The content-hash poetry writes into [metadata] for this pyproject.toml (Locker._get_content_hash)."""
    import hashlib
    import json

    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    groups = data.get("dependency-groups", {}) if with_dependency_groups else {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    relevant_project = {k: project[k] for k in _RELEVANT_PROJECT_KEYS if project.get(k) is not None}
    relevant_poetry = {}
    for key in _RELEVANT_KEYS:
        value = poetry.get(key)
        if value is None and (key not in _LEGACY_KEYS or relevant_project or groups):
            continue
        relevant_poetry[key] = value
    relevant: dict[str, Any] = {}
    if relevant_project:
        relevant["project"] = relevant_project
    if groups:
        relevant["dependency-groups"] = groups
    if relevant:
        relevant["tool"] = {"poetry": relevant_poetry}
    else:
        relevant = relevant_poetry  # poetry's backwards compatibility: [tool.poetry]'s parts at the top
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


_GENERATED_BY = re.compile(r"Poetry ([^ ]+)")


def _fresh(manifest: dict[str, Any], recorded: Any, text: str) -> bool:
    """Locker.is_fresh: the lock's content-hash is the pyproject's; a lock that Poetry < 2.3 wrote
    hashed it without [dependency-groups]. A lock without a content-hash is not fresh."""
    if not isinstance(recorded, str):
        return False
    try:
        if content_hash(manifest) == recorded:
            return True
    except (TypeError, ValueError):
        return False  # a value JSON cannot hold (a TOML date): poetry fails on it as well
    generated = _GENERATED_BY.search(text.split("\n", 1)[0])
    if generated:
        from packaging.version import InvalidVersion, Version

        try:
            older = Version(generated.group(1)) < Version("2.3.0")
        except InvalidVersion:
            older = False
        if older:
            return content_hash(manifest, with_dependency_groups=False) == recorded
    return False


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.load_toml(text, shown)
    if not isinstance(data.get("metadata"), dict):
        # poetry writes [metadata] last: a file cut short loses it first.
        raise c.fail("no [metadata] table at the end: the file is truncated, or not a poetry.lock", shown,
                     text.count("\n") or 1)
    metadata = data["metadata"]
    lock_version = metadata.get("lock-version", "1.0")
    c.check_version(lock_version, KNOWN_VERSION, "poetry.lock lock-version", shown, c.line_of(text, "lock-version"))
    entries = c.expect(data.get("package", []), list, "[[package]]", shown)
    lines = c.table_lines(text)
    files_1x = metadata.get("files") if isinstance(metadata.get("files"), dict) else {}

    manifest = pyproject.load_beside(path, root)
    if manifest is not None and not _fresh(manifest, metadata.get("content-hash"), text):
        # poetry install, sync and export stop here ("pyproject.toml changed significantly since
        # poetry.lock was last generated"): the lock installs nothing until it is locked again.
        raise c.fail("pyproject.toml changed significantly since poetry.lock was last generated (the lock's "
                     "content-hash is not that of pyproject.toml beside it): poetry install refuses the lock; "
                     "run `poetry lock`", shown, c.line_of(text, "content-hash") or text.count("\n") or 1)
    # poetry install: main and every non-optional group; --with (our --group) adds optional ones,
    # --all-groups takes every group, --no-dev (poetry's old flag) the main dependencies alone.
    default, every = pyproject.poetry_groups(manifest) if manifest is not None else ([], [])
    if selection.no_dev:
        wanted: list[str] = []
    elif selection.all_groups:
        wanted = every
    else:
        default = [] if selection.no_default_groups else default  # poetry --only main,GROUPS
        wanted = default + [g for g in selection.groups if g not in default]
    extras = frozenset(selection.extras)

    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        c.expect(entry, dict, "a [[package]] entry", shown, line)
        name = c.expect(entry.get("name"), str, "`name`", shown, line)
        c.check_fields(entry, FIELDS, f"package {name}", shown, line, text)
    per_entry_groups = all(isinstance(e, dict) and "groups" in e for e in entries) and bool(entries)
    reached: dict[int, str] = {}
    if per_entry_groups:
        for index, entry in enumerate(entries):
            line = lines[index] if index < len(lines) else None
            entry_markers = entry.get("markers")
            for group in sorted(entry["groups"], key=lambda g: (g != "main", g)):
                if group != "main" and manifest is not None and group not in wanted:
                    continue
                marker = entry_markers.get(group) if isinstance(entry_markers, dict) else entry_markers
                if c.applies(marker, markers, shown, line, extras):
                    reached[index] = group
                    break
    elif manifest is not None:
        nodes = []
        for index, entry in enumerate(entries):
            line = lines[index] if index < len(lines) else None
            c.expect(entry, dict, "a [[package]] entry", shown, line)
            source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
            node = c.Node(name=c.key(str(entry.get("name", ""))), version=entry.get("version"), index=index,
                          edges=_edges(entry.get("dependencies"), shown, line),
                          url=str(source["url"]) if source.get("type") in ("url", "file") and source.get("url") else None,
                          python=str(entry["python-versions"]) if entry.get("python-versions") else None)
            optional = _optional_markers(entry.get("dependencies"))
            node.extras = {c.key(e): _extra_edges(items, optional) for e, items in (entry.get("extras") or {}).items()}
            nodes.append(node)
        roots = pyproject.roots(manifest, shown, wanted)
        roots.update(pyproject.extra_roots(manifest, shown, selection.extras))
        reached = c.walk(nodes, roots, markers, shown)
    else:
        # No manifest to start from and no per-entry markers: every entry, by its category.
        reached = {i: str(e.get("category", "main")) for i, e in enumerate(entries) if isinstance(e, dict)}

    result = LockResult(file=shown, names=frozenset(c.key(str(e.get('name', ''))) for e in entries
                                                    if isinstance(e, dict)), decides=manifest is not None)
    left_out = 0
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        c.expect(entry, dict, "a [[package]] entry", shown, line)
        name = c.expect(entry.get("name"), str, "`name`", shown, line)
        if index not in reached:
            left_out += 1
            continue
        files = entry.get("files")
        if files is None:
            files = files_1x.get(name, [])
        marker = entry.get("markers")
        group = reached[index]
        if isinstance(marker, dict):
            marker = marker.get(group)
        requires = tuple(sorted({e.name for e in _edges(entry.get("dependencies"), shown, line)
                                 if c.applies(e.marker, markers, shown, line)}))
        result.declarations.append(locked(
            name, entry.get("version"), shown, line,
            hashes=c.hashes(f.get("hash") for f in files if isinstance(f, dict)),
            markers=marker if isinstance(marker, str) else None, group=group,
            source=_source(entry.get("source") or {}), requires=requires,
        ))
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries not installed on {label(markers)} "
                            "(other platforms, Pythons or groups) left out")
    return result
