"""uv.lock: uv's universal lock (every platform and Python in one file).

The entries a target installs are found as `uv sync` finds them: from the
workspace members, following each dependency whose marker holds for the
target, with the default dependency groups (`dev`, or
`[tool.uv] default-groups` of the pyproject.toml beside the lock).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import index_source, locked
from governance.collect.target import label
from governance.model import Source

KNOWN_VERSION = (1,)


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("uv.lock",)


def matches(path: Path) -> bool:
    return path.name == "uv.lock"


def _edge(value: Any, shown: str, line: int | None) -> c.Edge:
    c.expect(value, dict, "a dependency", shown, line)
    name = c.expect(value.get("name"), str, "a dependency's name", shown, line)
    extras = value.get("extra") or ()
    return c.Edge(name=c.key(name), marker=value.get("marker"), extras=tuple(extras),
                  version=value.get("version") if isinstance(value.get("version"), str) else None)


def _source(source: dict[str, Any]) -> Source | None:
    if "registry" in source:
        return index_source(str(source["registry"]))
    if "git" in source:
        url = str(source["git"])
        base, _, commit = url.partition("#")
        return Source(kind="vcs", url=base, vcs="git", commit=commit or None)
    if "url" in source:
        return Source(kind="url", url=str(source["url"]))
    for kind in ("editable", "directory", "path", "virtual"):
        if kind in source:
            return Source(kind="editable" if kind == "editable" else "path", url=str(source[kind]),
                          editable=kind == "editable")
    return None


def _default_groups(lock_path: Path, members: list[dict[str, Any]]) -> list[str] | None:
    """[tool.uv] default-groups of the pyproject beside the lock; None: every group ("all")."""
    pyproject = lock_path.parent / "pyproject.toml"
    groups: Any = ["dev"]
    if pyproject.is_file():
        from governance.collect.project import read_pyproject

        data = read_pyproject(lock_path.parent) or {}
        tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
        uv = tool.get("uv") if isinstance(tool, dict) and isinstance(tool.get("uv"), dict) else {}
        groups = uv.get("default-groups", ["dev"]) if isinstance(uv, dict) else ["dev"]
    if groups == "all":
        return None
    return [str(g) for g in groups] if isinstance(groups, list) else ["dev"]


def read(path: Path, root: Path, markers: dict[str, str]) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.load_toml(text, shown)
    c.require_version(data, "version", KNOWN_VERSION, "uv.lock", shown, text)
    entries = c.expect(data.get("package", []), list, "[[package]]", shown)
    lines = c.table_lines(text)
    nodes: list[c.Node] = []
    members: list[int] = []
    workspace = set((data.get("manifest") or {}).get("members", []) or [])
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        c.expect(entry, dict, "a [[package]] entry", shown, line)
        name = c.expect(entry.get("name"), str, "`name`", shown, line)
        source = entry.get("source") or {}
        node = c.Node(name=c.key(name), version=entry.get("version"), index=index,
                      edges=[_edge(d, shown, line) for d in entry.get("dependencies", [])])
        for extra, deps in (entry.get("optional-dependencies") or {}).items():
            node.extras[extra] = [_edge(d, shown, line) for d in deps]
        nodes.append(node)
        if isinstance(source, dict) and (source.get("virtual") == "." or source.get("editable") == "."
                                         or (("virtual" in source or "editable" in source)
                                             and c.key(name) in {c.key(m) for m in workspace})):
            members.append(index)
    if not members:
        raise c.fail("no workspace member (a package with source virtual or editable \".\") to start from",
                     shown)

    wanted = _default_groups(path, [entries[i] for i in members])
    roots: dict[str, list[c.Edge]] = {"main": []}
    for index in members:
        roots["main"].extend(nodes[index].edges)
        line = lines[index] if index < len(lines) else None
        for group, deps in (entries[index].get("dev-dependencies") or {}).items():
            if wanted is None or group in wanted:
                roots.setdefault(group, []).extend(_edge(d, shown, line) for d in deps)
    reached = c.walk(nodes, roots, markers, shown)

    result = LockResult(file=shown)
    member_set = set(members)
    left_out = 0
    for index, entry in enumerate(entries):
        if index in member_set:
            continue  # the project itself
        if index not in reached:
            left_out += 1
            continue
        sdist = entry.get("sdist") or {}
        files = [sdist.get("hash")] + [w.get("hash") for w in entry.get("wheels", []) if isinstance(w, dict)]
        result.declarations.append(locked(
            entry["name"], entry.get("version"), shown, lines[index] if index < len(lines) else None,
            hashes=c.hashes(files), group=reached[index], source=_source(entry.get("source") or {}),
            requires=tuple(sorted({e.name for e in nodes[index].edges if c.applies(e.marker, markers, shown)})),
        ))
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries not installed on {label(markers)} "
                            "(other platforms, Pythons or groups) left out")
    return result
