"""uv.lock: uv's universal lock (every platform and Python in one file).

The entries a target installs are found as `uv sync` finds them:

- a package is the triple (name, version, source). One name may have several
  entries (`torch 2.9.1` from PyPI for Linux and from the `whl/cpu` index for
  macOS; `2.10.0`, `2.10.0+cpu`, `2.10.0+cu128` for conflicting extras); a
  dependency names the version and source when its name is ambiguous, and only
  that entry, with its own hashes and dependencies, is followed.
- the walk starts from the project (the member at "."; every workspace member
  when the root is not a project) with its dependencies, the extras asked for
  and its dependency groups: `[tool.uv] default-groups` (`dev` unless set),
  changed by --group/--all-groups/--no-dev.
- uv writes the choice between conflicting extras and groups (`[tool.uv]
  conflicts`) into the markers: `extra == 'extra-8-invokeai-cuda'`,
  `extra == 'group-7-nemo-rl-build'`. Those markers are evaluated with the set
  of extras and groups that are active: the project's selected ones and every
  `pkg[extra]` the walk asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._common import TableOf
from governance.collect.lockfiles._declare import index_source, locked
from governance.collect.selection import DEFAULT, Selection
from governance.collect.target import label
from governance.errors import InputError
from governance.frozen import frozen
from governance.model import Source

KNOWN_VERSION = (1,)


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("uv.lock",)


def matches(path: Path) -> bool:
    return path.name == "uv.lock"


_DEPENDENCY: c.Spec = {"name": str, "version": str, "marker": str, "extra": [str], "source": dict}
# The fields of a [[package]] entry, as mlgov reads them.
FIELDS: dict[str, c.Spec] = {
    "version": str, "source": TableOf(str), "sdist": {"hash": str, "url": str}, "wheels": [{"hash": str, "url": str}],
    "dependencies": [_DEPENDENCY], "optional-dependencies": TableOf([_DEPENDENCY]),
    "dev-dependencies": TableOf([_DEPENDENCY]),
}


@frozen
class _Edge:
    """A dependency of a uv.lock entry, with its marker and extras."""
    name: str  # canonical
    version: str | None
    source: tuple[tuple[str, str], ...] | None  # uv's source table, when the name is ambiguous
    marker: str | None
    extras: tuple[str, ...]


@dataclass
class _Entry:
    """A uv.lock [[package]] entry with its dependencies, extras and groups."""
    name: str
    version: str | None
    source: tuple[tuple[str, str], ...]
    line: int | None
    edges: list[_Edge] = field(default_factory=list)
    extras: dict[str, list[_Edge]] = field(default_factory=dict)  # [package.optional-dependencies]
    groups: dict[str, list[_Edge]] = field(default_factory=dict)  # [package.dev-dependencies]


def _source_key(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _edge(value: Any, shown: str, line: int | None) -> _Edge:
    c.expect(value, dict, "a dependency", shown, line)
    name = c.expect(value.get("name"), str, "a dependency's name", shown, line)
    extras = value.get("extra") or ()
    version = value.get("version")
    return _Edge(name=c.key(name), version=version if isinstance(version, str) else None,
                 source=_source_key(value["source"]) if isinstance(value.get("source"), dict) else None,
                 marker=value.get("marker"), extras=tuple(str(e) for e in extras))


def _edges(values: Any, shown: str, line: int | None) -> list[_Edge]:
    return [_edge(d, shown, line) for d in c.expect(values or [], list, "a dependency list", shown, line)]


def _source(source: dict[str, str]) -> Source | None:
    if "registry" in source:
        return index_source(source["registry"])
    if "git" in source:
        base, _, commit = source["git"].partition("#")
        return Source(kind="vcs", url=base, vcs="git", commit=commit or None)
    if "url" in source:
        return Source(kind="url", url=source["url"])
    for kind in ("editable", "directory", "path", "virtual"):
        if kind in source:
            return Source(kind="editable" if kind == "editable" else "path", url=source[kind],
                          editable=kind == "editable")
    return None


def conflict_name(kind: str, package: str, name: str) -> str:
    """uv's encoding of a package's extra or group in a conflict marker: `extra-8-invokeai-cuda`."""
    return f"{kind}-{len(package)}-{package}-{c.key(name)}"


def _tool_uv(lock_path: Path) -> dict[str, Any]:
    pyproject = lock_path.parent / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    from governance.collect.project import read_pyproject

    data = read_pyproject(lock_path.parent) or {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    uv = tool.get("uv") if isinstance(tool, dict) else None
    return uv if isinstance(uv, dict) else {}


def _default_groups(lock_path: Path, every: list[str]) -> list[str]:
    """[tool.uv] default-groups of the pyproject beside the lock (`dev` unless set; "all": every group)."""
    groups = _tool_uv(lock_path).get("default-groups", ["dev"])
    if groups == "all":
        return list(every)
    return [c.key(str(g)) for g in groups] if isinstance(groups, list) else ["dev"]


def _refuse_conflicts(data: dict[str, Any], shown: str, extras: set[tuple[str, str]],
                      groups: set[tuple[str, str]]) -> None:
    """uv refuses to install two extras or groups that `[tool.uv] conflicts` declares incompatible;
    so does mlgov, rather than listing both variants of torch."""
    for conflict in data.get("conflicts", []) or []:
        chosen = []
        for item in conflict if isinstance(conflict, list) else []:
            if not isinstance(item, dict):
                continue
            package = c.key(str(item.get("package", "")))
            if "extra" in item and (package, c.key(str(item["extra"]))) in extras:
                chosen.append(f"extra {item['extra']}")
            if "group" in item and (package, c.key(str(item["group"]))) in groups:
                chosen.append(f"group {item['group']}")
        if len(chosen) > 1:
            raise InputError(f"{' and '.join(chosen)} are incompatible (the lock's `conflicts`), as uv says; "
                             "choose one (--no-dev, or the other group or extra)", file=shown)


class _Walk:
    """The entries `uv sync` installs for one target and one choice of extras and groups."""

    def __init__(self, entries: list[_Entry], markers: dict[str, str], shown: str) -> None:
        self.entries = entries
        self.markers = markers
        self.shown = shown
        self.by_name: dict[str, list[int]] = {}
        for index, entry in enumerate(entries):
            self.by_name.setdefault(entry.name, []).append(index)
        self.ambiguous: set[str] = set()

    def target(self, edge: _Edge) -> list[int]:
        candidates = self.by_name.get(edge.name, [])
        if len(candidates) > 1:
            if edge.version is not None:
                candidates = [i for i in candidates if self.entries[i].version == edge.version]
            if edge.source is not None:
                candidates = [i for i in candidates if self.entries[i].source == edge.source]
            if len(candidates) > 1:
                # uv names version and source whenever a name is ambiguous; a lock
                # without them is hand-edited or from a uv we do not know.
                self.ambiguous.add(edge.name)
                candidates = candidates[:1]
        return candidates

    def run(self, roots: list[tuple[str, list[_Edge]]], active: set[str]) -> dict[int, str]:
        """Entry index -> the first root group reaching it. `active` grows with every pkg[extra] asked for;
        conflict markers may depend on it, so the walk is repeated until it no longer grows."""
        while True:
            before = len(active)
            reached: dict[int, str] = {}
            done: set[tuple[int, str]] = set()
            for group, edges in roots:
                stack = list(reversed(edges))
                while stack:
                    edge = stack.pop()
                    if not c.applies(edge.marker, self.markers, self.shown, None, frozenset(active)):
                        continue
                    for index in self.target(edge):
                        reached.setdefault(index, group)
                        entry = self.entries[index]
                        for extra in ("",) + edge.extras:
                            if (index, extra) in done:
                                continue
                            done.add((index, extra))
                            if extra:
                                active.add(conflict_name("extra", entry.name, extra))
                                stack.extend(entry.extras.get(c.key(extra), entry.extras.get(extra, [])))
                            else:
                                stack.extend(entry.edges)
            if len(active) == before:
                return reached


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.load_toml(text, shown)
    c.require_version(data, "version", KNOWN_VERSION, "uv.lock", shown, text)
    raw = c.expect(data.get("package", []), list, "[[package]]", shown)
    lines = c.table_lines(text)
    entries: list[_Entry] = []
    for index, item in enumerate(raw):
        line = lines[index] if index < len(lines) else None
        c.expect(item, dict, "a [[package]] entry", shown, line)
        name = c.expect(item.get("name"), str, "`name`", shown, line)
        c.check_fields(item, FIELDS, f"package {name}", shown, line, text)
        entry = _Entry(name=c.key(name), version=item.get("version"), source=_source_key(item.get("source")),
                       line=line, edges=_edges(item.get("dependencies"), shown, line))
        for extra, deps in c.expect(item.get("optional-dependencies") or {}, dict, "optional-dependencies",
                                    shown, line).items():
            entry.extras[c.key(extra)] = _edges(deps, shown, line)
        for group, deps in c.expect(item.get("dev-dependencies") or {}, dict, "dev-dependencies",
                                    shown, line).items():
            entry.groups[c.key(group)] = _edges(deps, shown, line)
        entries.append(entry)

    manifest: dict[str, Any] = data["manifest"] if isinstance(data.get("manifest"), dict) else {}
    members = {c.key(str(m)) for m in manifest.get("members", []) or []}
    project = [i for i, e in enumerate(entries) if dict(e.source).get("editable") == "."
               or dict(e.source).get("virtual") == "."]
    if not project:
        # A workspace whose root is not a project: `uv sync` installs every member.
        project = [i for i, e in enumerate(entries) if e.name in members
                   and any(k in dict(e.source) for k in ("editable", "virtual", "directory"))]
    if not project:
        raise c.fail("no workspace member (a package with source virtual or editable \".\") to start from",
                     shown)

    every_group = sorted({g for i in project for g in entries[i].groups})
    recorded = [raw[i].get("default-groups") for i in project if "default-groups" in raw[i]]
    if recorded:
        # uv (lock revision 5 on) writes the project's default-groups into its entry.
        defaults = every_group if recorded[0] == "all" else [c.key(str(g)) for g in recorded[0] or []]
    else:
        defaults = _default_groups(path, every_group)
    groups = selection.groups_from(defaults, every_group)
    extras = [c.key(e) for e in selection.extras]
    unknown = [e for e in extras if not any(e in entries[i].extras for i in project)]
    if unknown:
        raise InputError(f"--extra {', '.join(unknown)}: the project has no such extra "
                         f"(it has: {', '.join(sorted({x for i in project for x in entries[i].extras})) or 'none'})",
                         file=shown)
    _refuse_conflicts(data, shown, {(entries[i].name, e) for i in project for e in extras if e in entries[i].extras},
                      {(entries[i].name, g) for i in project for g in groups if g in entries[i].groups})
    active: set[str] = set()
    roots: list[tuple[str, list[_Edge]]] = [("main", [])]
    for index in project:
        entry = entries[index]
        roots[0][1].extend(entry.edges)
        for extra in extras:
            if extra in entry.extras:
                active.add(conflict_name("extra", entry.name, extra))
                roots.append((extra, entry.extras[extra]))
        for group in groups:
            if group in entry.groups:
                active.add(conflict_name("group", entry.name, group))
                roots.append((group, entry.groups[group]))
    walk = _Walk(entries, markers, shown)
    reached = walk.run(roots, active)

    result = LockResult(file=shown, names=frozenset(e.name for e in entries), decides=True)
    project_set = set(project)
    left_out = 0
    for index, item in enumerate(raw):
        if index in project_set:
            continue  # the project itself
        if index not in reached:
            left_out += 1
            continue
        entry = entries[index]
        sdist = item.get("sdist") or {}
        files = [sdist.get("hash")] + [w.get("hash") for w in item.get("wheels", []) if isinstance(w, dict)]
        requires = set()
        for edge in entry.edges:
            if c.applies(edge.marker, markers, shown, None, frozenset(active)):
                requires.add(edge.name)
        result.declarations.append(locked(
            item["name"], item.get("version"), shown, entry.line,
            hashes=c.hashes(files), group=reached[index], source=_source(dict(entry.source)),
            requires=tuple(sorted(requires)),
        ))
    chosen = selection.label
    revision = data.get("revision")
    if not (path.parent / "pyproject.toml").is_file() and not (isinstance(revision, int) and revision >= 5):
        # uv reads a lock without its project only from revision 5 on ("Frozen lockfile discovery requires a
        # lockfile with revision 5 or later"): an sdist that ships uv.lock apart from its pyproject.toml.
        result.notes.append(f"{shown}: no pyproject.toml beside it, and uv installs from such a lock only from "
                            f"revision 5 on (this one is revision {revision}): read with the default group `dev`")
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries not installed on {label(markers)}"
                            f"{' with ' + chosen if chosen else ''} (other platforms, Pythons, extras or groups) "
                            "left out")
    if walk.ambiguous:
        result.notes.append(f"{shown}: several entries of {', '.join(sorted(walk.ambiguous))} and a dependency "
                            "that does not say which one; the first was taken")
    return result
