"""OSV advisories: read one into a compact record, and decide whether it affects a version.

The semantics are OSV's (https://ossf.github.io/osv-schema/): an entry of
`affected[]` hits a version listed in `versions`, or inside one of its
ECOSYSTEM (or SEMVER) ranges, whose events are walked in version order:
`introduced` opens an interval ("0" is before every version), `fixed` closes
it before the fixed version, `last_affected` closes it after that version,
and `limit` bounds the whole range from above. GIT ranges name commits, not
releases, and are ignored. Withdrawn advisories are skipped. Versions compare
as PEP 440, and a local version is its public version (torch 2.5.1+cu124 is
torch 2.5.1 for matching).

A record keeps only what matching and reporting need, so that the cached
index is small and a warm scan loads it quickly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.vulns.severity import rate

Record = dict[str, Any]
ECOSYSTEM = "PyPI"
_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
_EVENTS = ("introduced", "last_affected", "fixed", "limit")
# Equal versions: open before close, so `introduced: 1.0, fixed: 1.0` affects nothing.
_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2}
MAX_SUMMARY = 300
MAX_REFERENCES = 20


class InvalidAdvisory(ValueError):
    """An advisory that is not an OSV object (no id, not a JSON object)."""


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _summary(advisory: dict[str, Any]) -> str | None:
    for key in ("summary", "details"):
        text = advisory.get(key)
        if isinstance(text, str) and text.strip():
            line = " ".join(text.strip().split("\n", 1)[0].split())
            return line if len(line) <= MAX_SUMMARY else line[: MAX_SUMMARY - 1] + "…"
    return None


def _affected(entry: Any) -> Record | None:
    if not isinstance(entry, dict):
        return None
    package = entry.get("package")
    if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEM:
        return None
    name = package.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    ranges = []
    for r in entry.get("ranges") or []:
        if not isinstance(r, dict) or r.get("type") not in _RANGE_TYPES:
            continue
        events = []
        for event in r.get("events") or []:
            if isinstance(event, dict):
                events.extend([kind, value] for kind, value in event.items()
                              if kind in _EVENTS and isinstance(value, str))
        if events:
            ranges.append(events)
    versions = _strings(entry.get("versions"))
    if not ranges and not versions:
        return None
    return {"name": canonicalize_name(name), "versions": versions, "ranges": ranges}


def normalise(advisory: Any) -> Record | None:
    """The compact record of one advisory; None when it is withdrawn or names no PyPI package."""
    if not isinstance(advisory, dict) or not isinstance(advisory.get("id"), str) or not advisory["id"]:
        raise InvalidAdvisory("not an OSV advisory (a JSON object with an id)")
    if advisory.get("withdrawn"):
        return None
    affected = [a for a in (_affected(e) for e in advisory.get("affected") or []) if a is not None]
    if not affected:
        return None
    level, score, vector = rate(advisory)
    references = [r["url"] for r in advisory.get("references") or []
                  if isinstance(r, dict) and isinstance(r.get("url"), str)][:MAX_REFERENCES]
    return {
        "id": advisory["id"],
        "aliases": sorted(set(_strings(advisory.get("aliases"))) - {advisory["id"]}),
        "summary": _summary(advisory), "level": level, "score": score, "vector": vector,
        "refs": references, "affected": affected,
    }


@lru_cache(maxsize=65536)
def parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def public(version: str) -> Version | None:
    """The version matching uses: PEP 440, local label dropped."""
    parsed = parse(version)
    if parsed is None:
        return None
    return parse(parsed.public) if parsed.local is not None else parsed


def _in_range(version: Version, events: list[list[str]]) -> bool:
    limits = [value for kind, value in events if kind == "limit"]
    if limits:
        bounds = [parse(v) for v in limits if v != "*"]
        if "*" not in limits and not any(b is not None and version < b for b in bounds):
            return False
    ordered = []
    for kind, value in events:
        if kind == "limit":
            continue
        if kind == "introduced" and value == "0":
            ordered.append((0, None, 0, kind))
            continue
        parsed = parse(value)
        if parsed is not None:  # an event that is not a PEP 440 version cannot be placed
            ordered.append((1, parsed, _ORDER[kind], kind))
    ordered.sort(key=lambda e: (e[0], e[1] or Version("0"), e[2]))
    affected = False
    for _, bound, _, kind in ordered:
        if kind == "introduced":
            if bound is None or version >= bound:
                affected = True
        elif kind == "fixed":
            if version >= bound:  # type: ignore[operator]
                affected = False
        elif version > bound:  # last_affected
            affected = False
    return affected


def entry_affects(entry: Record, version: str) -> bool:
    target = public(version)
    if target is None:
        return version in entry["versions"]
    for listed in entry["versions"]:
        if listed == version or public(listed) == target:
            return True
    return any(_in_range(target, events) for events in entry["ranges"])


def affects(record: Record, name: str, version: str) -> bool:
    return any(e["name"] == name and entry_affects(e, version) for e in record["affected"])


def fixed_events(record: Record, name: str) -> list[str]:
    return [value for e in record["affected"] if e["name"] == name
            for events in e["ranges"] for kind, value in events if kind == "fixed"]
