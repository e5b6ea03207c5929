"""pyproject.toml as a manifest: what the project asks for, in ranges.

[project] dependencies and optional-dependencies, [dependency-groups]
(PEP 735) and poetry's [tool.poetry] dependencies, dev-dependencies and
group.<name>.dependencies. Poetry's `^` and `~` constraints are written as
PEP 440 ranges so that they can be matched against locked versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from governance.collect.declared import Declaration, exact_version
from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import locked
from governance.collect.selection import DEFAULT, Selection
from governance.frozen import frozen
from governance.model import Source, Unread


# The names this reader takes, for the message when a project has nothing to read.
# A manifest: it declares, a lock beside it decides; read whatever --lock chooses (lockfiles.choice).
MANIFEST = True
NAMES = ("pyproject.toml",)


def matches(path: Path) -> bool:
    return path.name == "pyproject.toml"


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def poetry_constraint(text: str) -> str:
    """`^1.2.3` -> `>=1.2.3,<2.0.0`, `~1.2` -> `>=1.2,<1.3`, `1.2.3` -> `==1.2.3`, `*` -> ``."""
    parts = []
    for piece in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text.strip()):
        piece = piece.strip()
        if not piece or piece == "*":
            continue
        if piece.startswith("^"):
            parts.append(_caret(piece[1:].strip()))
        elif piece.startswith("~") and not piece.startswith("~="):
            parts.append(_tilde(piece[1:].strip()))
        elif piece[0].isdigit():
            parts.append(f"=={piece}")
        else:
            parts.append(piece.replace(" ", ""))
    return ",".join(parts)


def _numbers(version: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", version.split("+")[0])[:3]] or [0]


def _caret(version: str) -> str:
    numbers = _numbers(version)
    for position, value in enumerate(numbers):
        if value != 0 or position == len(numbers) - 1:
            upper = numbers[:position] + [value + 1]
            break
    return f">={version},<{'.'.join(str(x) for x in upper)}"


def _tilde(version: str) -> str:
    numbers = _numbers(version)
    upper = [numbers[0] + 1] if len(numbers) == 1 else [numbers[0], numbers[1] + 1]
    return f">={version},<{'.'.join(str(x) for x in upper)}"


def _python_marker(constraint: str) -> str | None:
    """poetry's `python = "~3.10"` on a dependency, as a marker: `python_full_version >= "3.10" and ...`."""
    spec = poetry_constraint(constraint)
    parts = []
    for clause in (c.strip() for c in spec.split(",") if c.strip()):
        match = re.match(r"^(===|==|!=|>=|<=|~=|>|<)\s*(.+)$", clause)
        if match:
            parts.append(f'python_full_version {match.group(1)} "{match.group(2)}"')
    return " and ".join(parts) or None


def item_marker(item: dict[str, Any]) -> str | None:
    """The condition of one poetry dependency table: `markers`, `platform` and `python` together."""
    parts = [str(item["markers"])] if item.get("markers") else []
    if item.get("platform"):
        parts.append(f"sys_platform == \"{item['platform']}\"")
    if item.get("python"):
        python = _python_marker(str(item["python"]))
        if python:
            parts.append(python)
    if len(parts) <= 1:
        return parts[0] if parts else None
    return " and ".join(f"({p})" for p in parts)


def _poetry_entries(name: str, value: Any) -> list[tuple[str, str | None, Source | None, tuple[str, ...]]]:
    """(specifier, markers, source, extras) for each constraint poetry allows for one name."""
    values = value if isinstance(value, list) else [value]
    out: list[tuple[str, str | None, Source | None, tuple[str, ...]]] = []
    for item in values:
        if isinstance(item, str):
            out.append((poetry_constraint(item), None, None, ()))
        elif isinstance(item, dict):
            if item.get("optional"):
                continue  # only installed through an extra
            source = None
            if "git" in item:
                source = Source(kind="vcs", url=str(item["git"]), vcs="git",
                                commit=str(item["rev"]) if item.get("rev") else None)
            elif "path" in item:
                source = Source(kind="editable" if item.get("develop") else "path", url=str(item["path"]),
                                editable=bool(item.get("develop")))
            elif "url" in item:
                source = Source(kind="url", url=str(item["url"]))
            marker = item_marker(item)
            out.append((poetry_constraint(str(item.get("version", ""))), marker, source,
                        tuple(sorted(c.key(str(e)) for e in item.get("extras", []) or []))))
    return out


# A quoted TOML string on one line, without escapes: what a requirement is written as. One
# character class per quote, each stopping at its closing quote: linear in the line.
_QUOTED = re.compile(r'"([^"\\\n]*)"|\'([^\'\n]*)\'')


class _Lines:
    """Where a requirement string or a `name =` key first appears, from one pass over the file.

    Looking each one up with text.find (and counting the newlines before it) is quadratic in
    the number of requirements: 20,000 of them took 13 s."""

    def __init__(self, text: str) -> None:
        self.quoted: dict[str, int] = {}
        self.keys: dict[str, int] = {}
        for number, raw in enumerate(text.split("\n"), 1):
            for match in _QUOTED.finditer(raw):
                self.quoted.setdefault(match.group(1) if match.group(1) is not None else match.group(2), number)
            key, eq, _ = raw.partition("=")
            if eq and number > 1:  # the key starts its line, as `\n{name} =` found it
                self.keys.setdefault(key[:-1] if key.endswith(" ") else key, number)


def _strings(value: Any, what: str, shown: str, text: str, key: str) -> list[str]:
    """A list of requirement strings; anything else is refused at its key's line, never iterated
    (`dependencies = "numpy"` read letter by letter declared n, u, m, p and y)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise c.fail(f"{what} is not a list of requirement strings", shown, _assignment_line(text, key))
    return value


def _assignment_line(text: str, key: str) -> int | None:
    """The first line that starts with `key =` (an error's line; the file's own table is not tracked)."""
    text = "\n" + text  # so that the first line starts after a newline too; the match starts at it
    return c.line_of(text, f"\n{key} =") or c.line_of(text, f"\n{key}=")


def _mapping(value: Any, what: str, shown: str, text: str, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise c.fail(f"{what} is not a table", shown, _assignment_line(text, key))
    return value


def check_shape(data: dict[str, Any], shown: str, text: str) -> dict[str, Any]:
    """The tables and lists every reader of a pyproject.toml takes its dependencies from, checked once
    (for the lockfile readers too, which read the one beside their lock): a wrong type is an error
    at its line, never iterated as something else nor taken as empty."""
    project = _mapping(data.get("project"), "[project]", shown, text, "project")
    _strings(project.get("dependencies"), "[project] dependencies", shown, text, "dependencies")
    optional = _mapping(project.get("optional-dependencies"), "[project.optional-dependencies]", shown, text,
                        "optional-dependencies")
    for extra, requirements in optional.items():
        _strings(requirements, f"[project.optional-dependencies] {extra}", shown, text, extra)
    groups = _mapping(data.get("dependency-groups"), "[dependency-groups]", shown, text, "dependency-groups")
    for group, items in groups.items():
        if not isinstance(items, list):
            raise c.fail(f"[dependency-groups] {group} is not a list", shown, _assignment_line(text, group))
    tool = _mapping(data.get("tool"), "[tool]", shown, text, "tool")
    for name in ("poetry", "pdm", "uv"):
        table = _mapping(tool.get(name), f"[tool.{name}]", shown, text, name)
        for key in ("dependencies", "dev-dependencies", "group", "optional-dependencies"):
            if key in table and name != "uv":
                _mapping(table[key], f"[tool.{name}.{key}]", shown, text, key)
    return data


def _groups(data: dict[str, Any], shown: str, text: str = "") -> dict[str, list[str]]:
    """[dependency-groups], with {include-group = "..."} expanded (PEP 735)."""
    raw = _mapping(data.get("dependency-groups"), "[dependency-groups]", shown, text, "dependency-groups")

    def expand(group: str, seen: tuple[str, ...]) -> list[str]:
        if group in seen:
            raise c.fail(f"[dependency-groups] {group} includes itself", shown)
        out: list[str] = []
        items = raw.get(group, [])
        if not isinstance(items, list):
            raise c.fail(f"[dependency-groups] {group} is not a list", shown, _assignment_line(text, group))
        for item in items:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                out.extend(expand(item["include-group"], seen + (group,)))
        return out

    return {group: expand(group, ()) for group in raw}


def read_manifest(data: dict[str, Any], shown: str, text: str, markers: dict[str, str],
                  selection: Selection = DEFAULT) -> list[Declaration]:
    declarations: list[Declaration] = []

    lines = _Lines(text)

    def pep508(requirement: str, group: str, extra: str | None = None) -> None:
        from packaging.requirements import InvalidRequirement, Requirement

        line = lines.quoted.get(requirement)
        try:
            parsed = Requirement(requirement)
        except InvalidRequirement as exc:
            raise c.fail(f"invalid requirement {requirement!r}: {str(exc).splitlines()[0]}", shown, line) from None
        marker = str(parsed.marker) if parsed.marker else None
        specifier = str(parsed.specifier)
        declarations.append(locked(
            parsed.name, exact_version(specifier), shown, line, markers=marker, group=group,
            source=Source(kind="url", url=parsed.url) if parsed.url else None, kind="manifest",
            specifier=specifier, extras=tuple(sorted(parsed.extras)),
            applies=c.applies(marker, markers, shown, line) and (extra is None or extra in selection.extras),
        ))

    project = _mapping(data.get("project"), "[project]", shown, text, "project")
    for requirement in _strings(project.get("dependencies"), "[project] dependencies", shown, text, "dependencies"):
        pep508(requirement, "main")
    optional = _mapping(project.get("optional-dependencies"), "[project.optional-dependencies]", shown, text,
                        "optional-dependencies")
    for extra, requirements in optional.items():
        for requirement in _strings(requirements, f"[project.optional-dependencies] {extra}", shown, text, extra):
            pep508(requirement, extra, extra=extra)
    for group, requirements in _groups(data, shown, text).items():
        for requirement in requirements:
            pep508(requirement, group)

    poetry = _table(_table(data.get("tool")).get("poetry"))
    tables: list[tuple[str, dict[str, Any]]] = [("main", _table(poetry.get("dependencies"))),
                                                ("dev", _table(poetry.get("dev-dependencies")))]
    tables += [(group, _table(_table(body).get("dependencies")))
               for group, body in _table(poetry.get("group")).items()]
    for group, table in tables:
        for name, value in table.items():
            if name.lower() == "python":
                continue
            line = lines.keys.get(name)
            for specifier, marker, source, extras in _poetry_entries(name, value):
                declarations.append(locked(
                    name, exact_version(specifier), shown, line, markers=marker, group=group, source=source,
                    kind="manifest", specifier=specifier, extras=extras,
                    applies=c.applies(marker, markers, shown, line),
                ))
    return declarations


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = check_shape(c.load_toml(text, shown), shown, text)
    declarations = read_manifest(data, shown, text, markers, selection)
    dynamic = read_dynamic(data, shown, text, path, root, markers, selection)
    return LockResult(file=shown, declarations=declarations + dynamic.declarations, notes=dynamic.notes,
                      unread=dynamic.unread, also_read=dynamic.files)


@frozen
class DynamicSource:
    """One file that [tool.setuptools.dynamic] takes dependencies from."""

    file: str  # as pyproject.toml names it, relative to its folder
    extra: str | None  # None: the project's dependencies; else the extra's name
    line: int | None  # of the key in pyproject.toml


@dataclass
class Dynamic:
    """The dependencies a pyproject.toml takes from files (`{file = [...]}`), with the files read."""
    declarations: list[Declaration] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file read, includes too (relative to the project)
    notes: list[str] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)


def _file_list(value: Any) -> list[str] | None:
    """`{file = "a.txt"}` or `{file = ["a.txt", "b.txt"]}` -> the names; None when not a file directive."""
    if not isinstance(value, dict) or "file" not in value:
        return None
    files = value["file"]
    files = [files] if isinstance(files, str) else files
    return [str(f) for f in files] if isinstance(files, list) else None


def _key_line(text: str, key: str) -> int | None:
    """The line of `key =` under [tool.setuptools.dynamic] (or a sub-table of it)."""
    start = text.find("[tool.setuptools.dynamic")
    if start < 0:
        return None
    match = re.compile(rf"^[ \t]*{key}[ \t]*=", re.MULTILINE).search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else None


def dynamic_sources(data: dict[str, Any], text: str) -> list[DynamicSource]:
    """The files setuptools reads the dependencies (and each extra's) from, when `[project] dynamic`
    lists them and `[tool.setuptools.dynamic]` says `{file = [...]}` (PEP 621 + setuptools)."""
    project = _table(data.get("project"))
    dynamic = project.get("dynamic")
    listed: list[Any] = dynamic if isinstance(dynamic, list) else []
    table = _table(_table(_table(data.get("tool")).get("setuptools")).get("dynamic"))
    out: list[DynamicSource] = []
    if "dependencies" in listed:
        line = _key_line(text, "dependencies")
        for name in _file_list(table.get("dependencies")) or []:
            out.append(DynamicSource(name, None, line))
    if "optional-dependencies" in listed:
        for extra, value in _table(table.get("optional-dependencies")).items():
            line = _key_line(text, rf"(?:optional-dependencies\.)?[\"']?{re.escape(str(extra))}[\"']?")
            for name in _file_list(value) or []:
                out.append(DynamicSource(name, str(extra), line))
    return out


def dynamic_files(root: Path) -> set[Path]:
    """The files (resolved) the project's pyproject.toml takes dependencies from, extras' included."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return set()
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    return {(root / source.file).resolve() for source in dynamic_sources(c.load_toml(text, shown), text)}


def read_dynamic(data: dict[str, Any], shown: str, text: str, path: Path, root: Path, markers: dict[str, str],
                 selection: Selection = DEFAULT) -> Dynamic:
    """The dependencies pyproject.toml takes from requirements files, read as pip reads them
    (`-r`, `-c`, `--find-links`, markers, hashes), each line with its own file:line.

    They are the project's manifest (kind "manifest", group main or the extra's name): beside a lock
    they join what it installs. A file the project's dependencies (or an extra asked for) come from
    that cannot be read is not judged (COV002); one of an extra nobody asked for is a note.
    """
    import os

    from governance.collect.requirements import read_requirements
    from governance.inputs import inside

    out = Dynamic()
    project = _table(data.get("project"))
    dynamic = project.get("dynamic")
    listed: list[Any] = dynamic if isinstance(dynamic, list) else []
    sources = dynamic_sources(data, text)
    if "dependencies" in listed and not any(s.extra is None for s in sources) \
            and not any((path.parent / lock).is_file() for lock in ("uv.lock", "poetry.lock", "pdm.lock")):
        out.unread.append(Unread(
            file=shown, line=c.line_of(text, "dynamic"),
            reason="[project] dynamic lists `dependencies` but [tool.setuptools.dynamic] takes them from no file: "
                   "the build backend computes them (setup.py, a plugin), and mlgov runs no build",
            fix="list them in [project] dependencies, or `dependencies = {file = [\"requirements.txt\"]}` under "
                "[tool.setuptools.dynamic], or lock them"))
    folder = path.parent
    for source in sources:
        wanted = source.extra is None or source.extra in selection.extras
        what = "the project's dependencies" if source.extra is None else f"the dependencies of extra {source.extra!r}"
        target = folder / source.file
        why = None
        if not inside(target, (root.resolve(),)):
            why = "lies outside the project"
        elif not os.path.lexists(target):
            why = "does not exist"
        elif not target.is_file():
            why = "is not a regular file"
        if why is not None:
            said = f"{shown}:{source.line or 1}: {what} come from {source.file}, which {why}"
            if wanted:
                shown_file = c.relative(target, root) if why != "lies outside the project" else source.file
                out.unread.append(Unread(file=shown_file,
                                         reason=f"{shown}:{source.line or 1} takes {what} from it, but it {why}",
                                         fix=f"add {source.file} to the project, or correct the name in {shown}"))
            else:
                out.notes.append(f"{said}; the extra is not asked for, so nothing is missing from this target")
            continue
        found = read_requirements([target], root, markers)
        out.files.extend(f for f in found.files if f not in out.files)
        out.unread.extend(found.unread)
        group = source.extra or "main"
        for declaration in found.declarations:
            provenance = declaration.provenance
            out.declarations.append(replace(declaration, provenance=replace(
                provenance, kind="manifest", group=group if provenance.group != "constraints" else "constraints",
                applies=provenance.applies and wanted)))
    return out


def roots(data: dict[str, Any], shown: str, groups: list[str] | None) -> dict[str, list[c.Edge]]:
    """The direct dependencies per group, as edges for a lock's graph walk.

    groups: the non-main groups to include; None for every group.
    """
    out: dict[str, list[c.Edge]] = {"main": []}
    project = _table(data.get("project"))
    for requirement in project.get("dependencies", []) or []:
        out["main"].append(c.requirement_edge(str(requirement), shown))
    for group, requirements in _groups(data, shown).items():
        if groups is None or group in groups:
            out.setdefault(group, []).extend(c.requirement_edge(r, shown) for r in requirements)
    poetry = _table(_table(data.get("tool")).get("poetry"))
    pdm = _table(_table(data.get("tool")).get("pdm"))
    tables: list[tuple[str, dict[str, Any]]] = [("main", _table(poetry.get("dependencies"))),
                                                ("dev", _table(poetry.get("dev-dependencies")))]
    optional = {group for group, body in _table(poetry.get("group")).items() if _table(body).get("optional")}
    tables += [(group, _table(_table(body).get("dependencies"))) for group, body in _table(poetry.get("group")).items()]
    for group, table in tables:
        if group != "main" and (group not in groups if groups is not None else group in optional):
            continue
        for name, value in table.items():
            if name.lower() == "python":
                continue
            for specifier, marker, source, extras in _poetry_entries(name, value):
                url = source.url if source is not None and source.kind == "url" else None
                out.setdefault(group, []).append(c.Edge(name=c.key(name), marker=marker, extras=extras, url=url,
                                                        specifier=specifier or None))
    for group, requirements in _table(pdm.get("dev-dependencies")).items():
        if groups is None or group in groups:
            out.setdefault(group, []).extend(
                c.requirement_edge(r, shown) for r in requirements if isinstance(r, str) and not r.startswith("-"))
    return out


def extra_roots(data: dict[str, Any], shown: str, extras: tuple[str, ...]) -> dict[str, list[c.Edge]]:
    """The direct dependencies each asked-for extra of the project adds (poetry -E, pdm -G, pip [extra]).

    [project.optional-dependencies] lists requirements; poetry's [tool.poetry.extras] lists names of
    `optional = true` dependencies, whose markers come with them.
    """
    out: dict[str, list[c.Edge]] = {}
    project = _table(data.get("project"))
    optional = _table(project.get("optional-dependencies"))
    poetry = _table(_table(data.get("tool")).get("poetry"))
    poetry_extras = _table(poetry.get("extras"))
    dependencies = _table(poetry.get("dependencies"))
    by_key = {c.key(name): value for name, value in dependencies.items()}
    for extra in extras:
        if extra not in optional and extra not in poetry_extras:
            known = sorted(set(optional) | set(poetry_extras))
            raise c.fail(f"--extra {extra}: the project has no such extra (it has: {', '.join(known) or 'none'})",
                         shown)
        edges = [c.requirement_edge(str(r), shown) for r in optional.get(extra, []) or []]
        for name in poetry_extras.get(extra, []) or []:
            value = by_key.get(c.key(str(name)))
            for item in value if isinstance(value, list) else [value]:
                marker = item_marker(item) if isinstance(item, dict) else None
                extras_of = tuple(sorted(c.key(str(e)) for e in item.get("extras", []) or [])) \
                    if isinstance(item, dict) else ()
                url = str(item["url"]) if isinstance(item, dict) and item.get("url") else None
                edges.append(c.Edge(name=c.key(str(name)), marker=marker, extras=extras_of, url=url))
        out[extra] = edges
    return out


def poetry_groups(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(groups `poetry install` installs by default, every group) besides main."""
    poetry = _table(_table(data.get("tool")).get("poetry"))
    every = list(_table(poetry.get("group")))
    default = [g for g in every if not _table(_table(poetry.get("group")).get(g)).get("optional")]
    if _table(poetry.get("dev-dependencies")) and "dev" not in every:
        every.append("dev")
        default.append("dev")
    return default, every


def load_beside(lock: Path, root: Path) -> dict[str, Any] | None:
    """The pyproject.toml next to a lockfile, parsed; None when there is none."""
    path = lock.parent / "pyproject.toml"
    if not path.is_file():
        return None
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    return check_shape(c.load_toml(text, shown), shown, text)
