"""pdm.lock (lock_version 4.x).

With the inherit_metadata strategy each entry carries its groups and marker;
without it (pdm in uv mode writes such locks) only the graph is recorded and
the walk starts from pyproject.toml, as `pdm install` does: the default group
and every dev dependency group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles import pyproject
from governance.collect.lockfiles._declare import index_source, locked, wheel_local
from governance.collect.selection import DEFAULT, Selection
from governance.collect.target import label
from governance.model import Source

KNOWN_VERSION = (4, 5, 999)


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("pdm.lock",)


def matches(path: Path) -> bool:
    return path.name == "pdm.lock"


def _source(entry: dict[str, Any]) -> Source | None:
    if "git" in entry:
        return Source(kind="vcs", url=str(entry["git"]), vcs="git",
                      commit=str(entry.get("revision")) if entry.get("revision") else None)
    if "path" in entry:
        editable = bool(entry.get("editable"))
        return Source(kind="editable" if editable else "path", url=str(entry["path"]), editable=editable)
    if "url" in entry:
        return Source(kind="url", url=str(entry["url"]))
    return None


# The fields of a [[package]] entry, as mlgov reads them.
FIELDS: dict[str, c.Spec] = {
    "version": str, "dependencies": [str], "files": [{"hash": str, "file": str, "url": str}], "marker": str,
    "groups": [str], "extras": [str], "git": str, "revision": str, "path": str, "url": str, "editable": bool,
}


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.load_toml(text, shown)
    metadata = c.expect(data.get("metadata"), dict, "[metadata] (missing: not a pdm.lock?)", shown, 1)
    c.check_version(metadata.get("lock_version", "0"), KNOWN_VERSION, "pdm.lock lock_version", shown,
                    c.line_of(text, "lock_version"))
    entries = c.expect(data.get("package", []), list, "[[package]]", shown)
    lines = c.table_lines(text)
    locked_groups = [str(g) for g in metadata.get("groups", ["default"])]
    inherit = "inherit_metadata" in (metadata.get("strategy") or [])

    manifest = pyproject.load_beside(path, root)
    wanted: list[str] = []
    if manifest is not None:
        # A table of another type is the pyproject.toml reader's error to report (with its line), not a crash here.
        table = pyproject._table
        dev_groups = set(table(manifest.get("dependency-groups"))) | set(
            table(table(table(manifest.get("tool")).get("pdm")).get("dev-dependencies")))
        wanted = [g for g in locked_groups if g in dev_groups]
    # pdm install with no group option installs every group the lock records that the project still has
    # (pdm's GroupSelection: is_unset -> lockfile.groups, optional ones included); -G (our --group/--extra)
    # gives the default group, every dev group and those; --prod (our --no-dev) drops the dev groups,
    # `-G :all` (our --all-groups) takes every locked group.
    unset = not (selection.groups or selection.extras or selection.all_groups or selection.no_dev
                 or selection.no_default_groups)
    if unset and manifest is not None:
        table = pyproject._table
        project_groups = {c.key(str(g)) for g in table(table(manifest.get("project")).get("optional-dependencies"))}
        project_groups |= {c.key(str(g)) for g in dev_groups}
        wanted = [g for g in locked_groups if g != "default" and c.key(g) in project_groups]
    if selection.no_dev or selection.no_default_groups:
        wanted = []
    if selection.all_groups:
        wanted = [g for g in locked_groups if g != "default"]
    wanted += [g for g in selection.groups + selection.extras if g not in wanted]

    nodes: list[c.Node] = []
    base_of: dict[tuple[str, str | None], c.Node] = {}
    extra_entries: list[tuple[int, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        c.expect(entry, dict, "a [[package]] entry", shown, line)
        name = c.expect(entry.get("name"), str, "`name`", shown, line)
        c.check_fields(entry, FIELDS, f"package {name}", shown, line, text)
        if entry.get("extras"):
            extra_entries.append((index, entry))  # name[extra]: the extra's dependencies
            continue
        node = c.Node(name=c.key(name), version=entry.get("version"), index=index,
                      edges=[c.requirement_edge(str(d), shown, line) for d in entry.get("dependencies", [])])
        nodes.append(node)
        base_of[(node.name, node.version)] = node
    for index, entry in extra_entries:
        line = lines[index] if index < len(lines) else None
        base = base_of.get((c.key(entry["name"]), entry.get("version")))
        if base is None:
            continue
        own = c.key(entry["name"])
        edges = [e for e in (c.requirement_edge(str(d), shown, line) for d in entry.get("dependencies", []))
                 if e.name != own]
        for extra in entry["extras"]:
            base.extras[str(extra)] = edges

    reached: dict[int, str] = {}
    if inherit:
        for node in nodes:
            entry = entries[node.index]
            groups = [g for g in entry.get("groups", ["default"]) if g == "default" or g in wanted]
            if groups and c.applies(entry.get("marker"), markers, shown, lines[node.index]):
                reached[node.index] = "main" if "default" in groups else groups[0]
    elif manifest is not None:
        roots = pyproject.roots(manifest, shown, wanted)
        optional = (manifest.get("project") or {}).get("optional-dependencies") or {}
        roots.update(pyproject.extra_roots(manifest, shown, tuple(g for g in wanted if g in optional)))
        reached = c.walk(nodes, roots, markers, shown)
    else:
        raise c.fail("this pdm.lock records no markers (no inherit_metadata strategy) and there is no "
                     "pyproject.toml beside it to start from", shown)

    result = LockResult(file=shown, names=frozenset(n.name for n in nodes), decides=manifest is not None)
    left_out = 0
    for node in nodes:
        entry = entries[node.index]
        if node.index not in reached:
            left_out += 1
            continue
        files = [f.get("hash") for f in entry.get("files", []) if isinstance(f, dict)]
        names = [str(f["file"]) for f in entry.get("files", []) if isinstance(f, dict) and f.get("file")]
        result.declarations.append(locked(
            entry["name"], entry.get("version"), shown, lines[node.index] if node.index < len(lines) else None,
            hashes=c.hashes(files), group=reached[node.index], markers=entry.get("marker"),
            source=_source(entry) or index_source(None),
            requires=tuple(sorted({e.name for e in node.edges if c.applies(e.marker, markers, shown)})),
            properties=wheel_local(names, markers),
        ))
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries not installed on {label(markers)} "
                            "(other platforms, Pythons or groups) left out")
    return result
