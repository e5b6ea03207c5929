"""Pipfile.lock (pipfile-spec 6).

`default` is the main group and `develop` the dev group; both are read, as
`pipenv install --dev` installs them. Each entry's markers say where it applies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import index_source, locked
from governance.collect.target import label
from governance.model import Source

KNOWN_VERSION = (6,)
_SECTIONS = {"default": "main", "develop": "dev"}
_SECTION_LINE = re.compile(r'^\s{0,8}"(default|develop)"\s*:\s*\{')
_ENTRY_LINE = re.compile(r'^\s+"([^"]+)"\s*:\s*\{')


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("Pipfile.lock",)


def matches(path: Path) -> bool:
    return path.name == "Pipfile.lock"


def _lines(text: str) -> dict[tuple[str, str], int]:
    """(section, name) -> line, by one pass over pipenv's indented JSON."""
    found: dict[tuple[str, str], int] = {}
    section: str | None = None
    depth_of_section = -1
    for number, raw in enumerate(text.splitlines(), 1):
        match = _SECTION_LINE.match(raw)
        if match:
            section = match.group(1)
            depth_of_section = len(raw) - len(raw.lstrip())
            continue
        if section is not None:
            entry = _ENTRY_LINE.match(raw)
            if entry and len(raw) - len(raw.lstrip()) == depth_of_section + 4:
                found.setdefault((section, entry.group(1)), number)
    return found


def _source(entry: dict[str, Any], sources: dict[str, str]) -> Source | None:
    for vcs in ("git", "hg", "svn", "bzr"):
        if vcs in entry:
            return Source(kind="vcs", url=str(entry[vcs]), vcs=vcs, commit=entry.get("ref"),
                          editable=bool(entry.get("editable")))
    if "path" in entry:
        editable = bool(entry.get("editable"))
        return Source(kind="editable" if editable else "path", url=str(entry["path"]), editable=editable)
    if "file" in entry:
        return Source(kind="url", url=str(entry["file"]))
    if "index" in entry:
        return index_source(sources.get(str(entry["index"])))
    return None


def read(path: Path, root: Path, markers: dict[str, str]) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.expect(c.load_json(text, shown), dict, "the document", shown, 1)
    meta = c.expect(data.get("_meta"), dict, "`_meta` (missing: not a Pipfile.lock?)", shown)
    c.check_version(meta.get("pipfile-spec", 0), KNOWN_VERSION, "Pipfile.lock pipfile-spec", shown,
                    c.line_of(text, '"pipfile-spec"'))
    sources = {str(s.get("name")): str(s.get("url")) for s in meta.get("sources", []) if isinstance(s, dict)}
    lines = _lines(text)
    result = LockResult(file=shown)
    left_out = 0
    seen: set[str] = set()
    for section, group in _SECTIONS.items():
        for name, entry in (c.expect(data.get(section, {}), dict, f"`{section}`", shown) or {}).items():
            line = lines.get((section, name))
            c.expect(entry, dict, f"the entry of {name}", shown, line)
            marker = entry.get("markers")
            if not c.applies(marker, markers, shown, line):
                left_out += 1
                continue
            if c.key(name) in seen:
                continue  # in both sections: pipenv installs it once, the default one wins
            seen.add(c.key(name))
            version = str(entry.get("version", "")).lstrip("=").strip() or None
            result.declarations.append(locked(
                name, version, shown, line, hashes=c.hashes(entry.get("hashes", [])), markers=marker,
                group=group, source=_source(entry, sources), extras=tuple(sorted(entry.get("extras", []))),
            ))
    if left_out:
        result.notes.append(f"{shown}: {left_out} entries not installed on {label(markers)} left out")
    return result
