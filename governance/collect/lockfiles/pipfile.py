"""Pipfile.lock (pipfile-spec 6).

`default` is the main group and `develop` the dev group. `pipenv install` and
`pipenv sync` install `default` alone; `develop` joins with --group dev (or
--all-groups), as `pipenv install --dev` does. Each entry's markers say where
it applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import index_source, locked
from governance.collect.selection import DEFAULT, Selection
from governance.collect.target import label
from governance.model import Source

KNOWN_VERSION = (6,)
_SECTIONS = {"default": "main", "develop": "dev"}
# The fields of an entry (pipenv's and pipfile's own), as mlgov reads them.
FIELDS: dict[str, c.Spec] = {
    "version": str, "hashes": [str], "markers": str, "extras": [str], "index": str, "ref": str,
    "git": str, "hg": str, "svn": str, "bzr": str, "path": str, "file": str, "editable": bool,
}


# The names this reader takes, for the message when a project has nothing to read.
NAMES = ("Pipfile.lock",)


def matches(path: Path) -> bool:
    return path.name == "Pipfile.lock"


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


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    data = c.expect(c.load_json(text, shown), dict, "the document", shown, 1)
    meta = c.expect(data.get("_meta"), dict, "`_meta` (missing: not a Pipfile.lock?)", shown)
    c.check_version(meta.get("pipfile-spec", 0), KNOWN_VERSION, "Pipfile.lock pipfile-spec", shown,
                    c.line_of(text, '"pipfile-spec"'))
    sources = {str(s.get("name")): str(s.get("url")) for s in meta.get("sources", []) if isinstance(s, dict)}
    lines = c.json_key_lines(text)
    result = LockResult(file=shown)
    left_out = 0
    seen: set[str] = set()
    sections = ["default"]
    if not selection.no_dev and (selection.all_groups or "dev" in selection.groups or "develop" in selection.groups):
        sections.append("develop")
    for section in sections:
        group = _SECTIONS[section]
        for name, entry in (c.expect(data.get(section, {}), dict, f"`{section}`", shown) or {}).items():
            line = lines.get((section, name))
            c.expect(entry, dict, f"the entry of {name}", shown, line)
            c.check_fields(entry, FIELDS, f"{section}.{name}", shown, line,
                           field_line=lambda field, s=section, n=name: lines.get((s, n, field)))
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
