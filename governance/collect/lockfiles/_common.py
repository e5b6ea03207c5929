"""What every lockfile reader needs: bounded reading, parse errors with lines,
entry lines found by scanning text, hashes, markers, and the walk of a
universal lock's dependency graph for one target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.markers import (InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName,
                               prepare_environment)
from packaging.utils import canonicalize_name

from governance.errors import InputError
from governance.frozen import frozen
from governance.inputs import read_input, relative
from governance.model import Hash

# A lockfile of a few thousand packages is a few MB; anything far larger is
# not a lockfile a scanner should load into memory.
MAX_BYTES = 64 * 1024 * 1024

_HASH = re.compile(r"^(sha256|sha384|sha512|md5)[:=]([0-9a-fA-F]{32,128})$")


def read_text(path: Path, shown: str) -> str:
    return read_input(path, "lockfile", MAX_BYTES, shown)


def load_toml(text: str, shown: str) -> dict[str, Any]:
    from governance.inputs import parse_toml

    return parse_toml(text, shown)


def load_json(text: str, shown: str) -> Any:
    from governance.inputs import parse_json

    return parse_json(text, shown)


_ALIASES_REFUSED = "YAML aliases (*name) are not accepted"


def load_yaml(text: str, shown: str) -> Any:
    """safe_load without anchors and aliases: a few lines of `*a` can expand to billions of nodes
    (the "billion laughs"), and no lockfile needs them.

    With libyaml (in PyYAML's wheels) the events are read once by the C parser, refusing any alias,
    and the document is then built by the C loader: the same data as the pure-Python loader, about
    five times faster (a conda-lock.yml of 880 packages: ~1.5 s -> ~0.3 s). Without libyaml the
    pure-Python loader refuses aliases as it composes.
    """
    import yaml

    try:
        if getattr(yaml, "__with_libyaml__", False):
            for event in yaml.parse(text, Loader=yaml.CSafeLoader):
                if isinstance(event, yaml.AliasEvent):
                    raise yaml.composer.ComposerError(None, None, _ALIASES_REFUSED, event.start_mark)
            # Plain data only: the safe constructor makes no objects, and no alias reached it.
            return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - CSafeLoader
        return yaml.load(text, Loader=_no_aliases_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem}", file=shown, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=shown) from None


@lru_cache(maxsize=1)
def _no_aliases_loader() -> Any:
    import yaml

    class NoAliases(yaml.SafeLoader):
        """The pure-Python safe loader, refusing an alias where it meets one."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, _ALIASES_REFUSED, event.start_mark)
            return super().compose_node(parent, index)

    return NoAliases


def fail(message: str, shown: str, line: int | None = None) -> InputError:
    return InputError(message, file=shown, line=line)


def expect(value: Any, kind: type | tuple[type, ...], what: str, shown: str, line: int | None = None) -> Any:
    if not isinstance(value, kind):
        raise InputError(f"{what} is not what the format allows (a truncated or hand-edited file?)",
                         file=shown, line=line)
    return value


def check_version(found: Any, known: tuple[int, ...], what: str, shown: str, line: int | None = None) -> None:
    """Refuse a format newer than this reader knows: reading it as the old one could miss packages."""
    text = str(found).strip()
    try:
        parts = tuple(int(x) for x in text.split("."))
    except ValueError:
        raise InputError(f"{what} {text!r} is not a version this reader understands", file=shown, line=line) from None
    width = max(len(parts), len(known))
    if parts + (0,) * (width - len(parts)) > known + (0,) * (width - len(known)):
        shown_known = ".".join(str(x) for x in known)
        raise InputError(f"{what} {text} is newer than this version of mlgov reads (up to {shown_known}); "
                         "upgrade mlgov", file=shown, line=line)


def require_version(data: dict[str, Any], key: str, known: tuple[int, ...], what: str, shown: str,
                    text: str, needle: str | None = None) -> None:
    """The format-version key a lockfile must carry: missing means truncated or not this
    format; newer than `known` is refused (check_version)."""
    if key not in data:
        raise fail(f"no `{key}`: not a {what}, or a truncated one", shown, 1)
    check_version(data[key], known, f"{what} {key}", shown, line_of(text, needle or key))


def line_of(text: str, needle: str) -> int | None:
    position = text.find(needle)
    return text.count("\n", 0, position) + 1 if position >= 0 else None


def table_lines(text: str, header: str = "[[package]]") -> list[int]:
    """Line numbers of each `[[package]]` header, in file order: the i-th one is the
    i-th entry tomllib returns (TOML parsers give no positions). One pass."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.startswith(header) and raw.strip() == header:
            lines.append(number)
    return lines


def hash_of(value: Any) -> Hash | None:
    if not isinstance(value, str):
        return None
    match = _HASH.match(value.strip())
    return Hash(match.group(1), match.group(2).lower()) if match else None


def hashes(values: Iterable[Any]) -> tuple[Hash, ...]:
    return tuple(sorted({h for h in (hash_of(v) for v in values) if h is not None}))


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker:
    return Marker(text)


def applies(marker: str | None, markers: dict[str, str], shown: str = "", line: int | None = None,
            extras: tuple[str, ...] | frozenset[str] = ()) -> bool:
    """Whether a marker holds on the target with these extras selected.

    `extra` is tested against the whole set (equality is membership, inequality
    non-membership), as installers do: uv's conflict markers say
    `extra != 'extra-8-proj-cpu' and extra == 'extra-8-proj-cuda'`, which no single
    extra value would make true when both are asked for.
    """
    if not marker or not marker.strip():
        return True
    try:
        parsed = _marker(marker)
    except InvalidMarker as exc:
        raise InputError(f"invalid marker {marker!r}: {str(exc).splitlines()[0]}", file=shown, line=line) from None
    return _holds(marker, tuple(sorted(markers.items())), frozenset(extras), parsed)


@lru_cache(maxsize=256)
def _prepared(items: tuple[tuple[str, str], ...], extras: frozenset[str]) -> dict[str, Any]:
    # Building the environment (default_environment() asks the platform module) costs far more
    # than evaluating one marker: once per target and set of extras.
    return prepare_environment({**dict(items), "extra": extras})


@lru_cache(maxsize=65536)
def _holds(text: str, items: tuple[tuple[str, str], ...], extras: frozenset[str], parsed: Marker) -> bool:
    # A lock repeats the same few markers thousands of times.
    try:
        return bool(parsed.evaluate_prepared(_prepared(items, extras)))
    except (UndefinedComparison, UndefinedEnvironmentName):
        return False


def key(name: str) -> str:
    return canonicalize_name(name)


@dataclass
class Edge:
    """One dependency as a lock records it."""

    name: str  # canonical
    marker: str | None = None
    extras: tuple[str, ...] = ()
    version: str | None = None  # uv names the version when a name has several
    url: str | None = None  # poetry: a direct URL (one wheel per Python) picks the entry with that source
    # poetry's constraint (`>=1.2`, `^2`, `<2.0 || >=2.5,<3`): which of several entries of one name it takes
    specifier: str | None = None


@dataclass
class Node:
    """A universal lock's entry in its dependency graph."""
    name: str  # canonical
    version: str | None
    index: int  # position of the entry in the lock
    edges: list[Edge] = field(default_factory=list)
    extras: dict[str, list[Edge]] = field(default_factory=dict)
    url: str | None = None  # the entry's direct URL source, when it has one
    python: str | None = None  # poetry's `python-versions` of the entry (`>=3.7`, `^3.8`, `*`)


def walk(nodes: list[Node], roots: dict[str, list[Edge]], markers: dict[str, str], shown: str) -> dict[int, str]:
    """Entries a target installs, each with the first group (in roots' order) that reaches it.

    roots maps a group ("main", "dev", ...) to its direct dependencies. An edge
    whose marker is false for the target is not followed; an edge that asks for
    extras also follows the package's optional dependencies of those extras.
    """
    by_name: dict[str, list[Node]] = {}
    for node in nodes:
        by_name.setdefault(node.name, []).append(node)
    reached: dict[int, str] = {}
    done: set[tuple[int, str]] = set()
    for group, edges in roots.items():
        # Each edge travels with the extra it belongs to: an optional dependency's marker says
        # `extra == "standard"` and holds only while that extra is being followed.
        stack: list[tuple[Edge, tuple[str, ...]]] = [(e, ()) for e in reversed(edges)]
        while stack:
            edge, context = stack.pop()
            if not applies(edge.marker, markers, shown, None, context):
                continue
            candidates = by_name.get(edge.name, [])
            if edge.version is not None:
                candidates = [n for n in candidates if n.version == edge.version] or candidates
            if edge.url is not None:
                candidates = [n for n in candidates if n.url == edge.url] or candidates
            for node in candidates[:1] if edge.version is not None else _one(candidates, edge, markers):
                reached.setdefault(node.index, group)
                for extra in ("",) + edge.extras:
                    if (node.index, extra) in done:
                        continue
                    done.add((node.index, extra))
                    if extra == "":
                        stack.extend((e, ()) for e in node.edges)
                    else:
                        stack.extend((e, (extra,)) for e in node.extras.get(extra, []))
    return reached


def _one(candidates: list[Node], edge: Edge, markers: dict[str, str]) -> Iterator[Node]:
    """A name with several entries and no version on the edge (poetry before lock 2.1: `pathlib2 2.3.5`
    for Python < 3.7, `2.3.7.post1` for >= 3.7): the newest entry the edge's constraint allows whose own
    `python-versions` admits the target, as poetry's dependency walk picks it (poetry-plugin-export's
    walker.get_locked_package, which `poetry install --dry-run` agrees with). Else the first, as the lock's
    order is stable."""
    if len(candidates) > 1:
        python = markers.get("python_full_version", "")
        fitting = [n for n in candidates
                   if n.version is not None and allows(edge.specifier, n.version) and allows(n.python, python)]
        if fitting:
            yield max(fitting, key=lambda n: _version_key(n.version or ""))
            return
    if candidates:
        yield candidates[0]


def _version_key(version: str) -> tuple[int, Any]:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def allows(constraint: str | None, version: str) -> bool:
    """Whether a poetry or PEP 440 constraint allows a version: `*`, `^1.2`, `~1.2`, `>=1,<2`,
    `<2.0.dev0 || >=2.5.dev0,<3` (one of the alternatives). A constraint that cannot be read allows it."""
    if not constraint or not version:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion

    from governance.collect.lockfiles.pyproject import poetry_constraint

    for alternative in constraint.split("||"):
        try:
            if SpecifierSet(poetry_constraint(alternative)).contains(version, prereleases=True):
                return True
        except (InvalidSpecifier, InvalidVersion):
            return True
    return False


def requirement_edge(text: str, shown: str, line: int | None = None) -> Edge:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise InputError(f"invalid requirement {text!r}: {str(exc).splitlines()[0]}", file=shown, line=line) from None
    version = None
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and not specs[0].version.endswith(".*"):
        version = specs[0].version
    return Edge(name=key(requirement.name), marker=str(requirement.marker) if requirement.marker else None,
                extras=tuple(sorted(requirement.extras)), version=version)


# -- field types ------------------------------------------------------------------------------------
#
# What each format puts in an entry's common fields, as data: a type (or a tuple of types), `[spec]`
# for a list whose items follow spec, `{"key": spec}` for a table whose named fields follow their spec
# (other keys are free), and TableOf(spec) for a table of any keys whose values follow spec. A value of
# another type is exit 2 naming the entry, the field and its line: `"version": 3` must not become a
# package at version "3", and a list where a table belongs must not end as "unexpected content".


@frozen
class TableOf:
    """A field-type schema: a table whose every value has the given shape."""
    values: Any


Spec = Any


def _what(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {str: "a string", int: "a number", float: "a number", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__)


def _wanted(spec: Spec) -> str:
    if isinstance(spec, list):
        return "a list"
    if isinstance(spec, (dict, TableOf)):
        return "a table"
    if isinstance(spec, tuple):
        return " or ".join(dict.fromkeys(_wanted(s) for s in spec))
    return {str: "a string", bool: "true/false", int: "a number", list: "a list", dict: "a table"}.get(spec, str(spec))


def _matches(value: Any, spec: Spec) -> bool:
    if isinstance(spec, tuple):
        return any(_matches(value, s) for s in spec)
    if isinstance(spec, list):
        return isinstance(value, list)
    if isinstance(spec, (dict, TableOf)):
        return isinstance(value, dict)
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, spec)


def _wrong(value: Any, spec: Spec, path: str) -> tuple[str, Any, Spec] | None:
    """The first value not of its spec: (its path, the value, the spec), or None."""
    if not _matches(value, spec):
        return path, value, spec
    if isinstance(spec, tuple):
        spec = next(s for s in spec if _matches(value, s))
    if isinstance(spec, list):
        for index, item in enumerate(value):
            found = _wrong(item, spec[0], f"{path}[{index}]")
            if found:
                return found
    elif isinstance(spec, dict):
        for key_, inner in spec.items():
            if value.get(key_) is not None:
                found = _wrong(value[key_], inner, f"{path}.{key_}")
                if found:
                    return found
    elif isinstance(spec, TableOf):
        for key_, item in value.items():
            found = _wrong(item, spec.values, f"{path}.{key_}")
            if found:
                return found
    return None


def _compile(spec: Spec) -> Any:
    """A fast yes/no check of a spec (a lock has thousands of entries, each with dozens of wheels);
    the slow walk that names the wrong value runs only when this says no."""
    if isinstance(spec, tuple):
        checks = [_compile(s) for s in spec]
        return lambda v: any(check(v) for check in checks)
    if isinstance(spec, list):
        item = _compile(spec[0])
        if spec[0] is dict:
            return lambda v: type(v) is list and all(type(i) is dict for i in v)
        return lambda v: type(v) is list and all(item(i) for i in v)
    if isinstance(spec, dict):
        fields = [(k, _compile(inner)) for k, inner in spec.items()]

        def table(v: Any) -> bool:
            if type(v) is not dict:
                return False
            for k, check in fields:
                inner = v.get(k)
                if inner is not None and not check(inner):
                    return False
            return True
        return table
    if isinstance(spec, TableOf):
        values = _compile(spec.values)
        return lambda v: type(v) is dict and all(values(i) for i in v.values())
    if spec is int:
        return lambda v: type(v) is int
    return lambda v: isinstance(v, spec)


_COMPILED: dict[int, tuple[Any, Any]] = {}


def _check(spec: Spec) -> Any:
    found = _COMPILED.get(id(spec))
    if found is None or found[0] is not spec:
        found = _COMPILED[id(spec)] = (spec, _compile(spec))
    return found[1]


def check_fields(entry: dict[str, Any], fields: dict[str, Spec], owner: str, shown: str, line: int | None,
                 text: str | None = None, field_line: Any = None) -> None:
    """Refuse an entry whose known fields have the wrong type, naming the field and its line.

    `field_line(name) -> int | None` finds a field's own line (only called for the message);
    without it the field is looked for in the TOML text below the entry's header.
    """
    for name, spec in fields.items():
        value = entry.get(name)
        if value is None or _check(spec)(value):
            continue
        found = _wrong(value, spec, name)
        if found is None:
            continue
        path, bad, want = found
        where = field_line(name) if field_line is not None else (toml_field_line(text, line, name) if text else None)
        raise InputError(f"{owner}: `{path}` is {_what(bad)}, where the format has {_wanted(want)} "
                         "(a truncated or hand-edited file?)", file=shown, line=where or line)


def toml_field_line(text: str, start: int | None, name: str) -> int | None:
    """The line of `name = ...` in the [[...]] entry whose header is on line `start` (None when not found)."""
    if not start:
        return None
    pattern = re.compile(rf'^\s*(?:{re.escape(name)}|"{re.escape(name)}")\s*=')
    lines = text.splitlines()
    for number in range(start, min(len(lines), start + 10_000)):
        raw = lines[number]
        if raw.startswith("[["):
            return None
        if pattern.match(raw):
            return number + 1
    return None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|\n')


def json_key_lines(text: str, depth: int = 3) -> dict[tuple[str, ...], int]:
    """The line of every object key down to `depth`, by key path (("default", "six", "version") -> 12).

    JSON parsers give no positions; one pass over the tokens, whatever the indentation (pipenv's four
    spaces, two, or all on one line).
    """
    import json

    found: dict[tuple[str, ...], int] = {}
    stack: list[str | None] = []  # per open container: the key it was opened under (None for a list)
    path: list[str] = []
    line = 1
    pending: str | None = None  # the last string, while it may still be a key
    for match in _JSON_TOKEN.finditer(text):
        token = match.group(0)
        if token == "\n":
            line += 1
            continue
        if token.startswith('"'):
            pending = token
            line += token.count("\n")
            continue
        if token == ":" and pending is not None and stack and stack[-1] is not None:
            try:
                key_ = json.loads(pending)
            except ValueError:
                key_ = pending.strip('"')
            if len(path) < depth:
                found.setdefault((*path, key_), line)
            stack[-1] = key_
        elif token in "{[":
            if stack and stack[-1] not in (None, "") and token in "{[":
                path.append(str(stack[-1]))
            elif stack:
                path.append("")  # an item of a list: no key of its own
            stack.append("" if token == "{" else None)
        elif token in "}]":
            if stack:
                stack.pop()
            if path:
                path.pop()
        elif token == "," and stack and stack[-1] is not None:
            stack[-1] = ""
        pending = None
    return found
