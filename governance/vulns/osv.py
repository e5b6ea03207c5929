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

import re

from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.frozen import frozen
from governance.vulns.severity import rate

Record = dict[str, Any]
ECOSYSTEM = "PyPI"
_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
_EVENTS = ("introduced", "last_affected", "fixed", "limit")
# Equal versions: open before close, so `introduced: 1.0, fixed: 1.0` affects nothing.
_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2}
_ZERO = Version("0")
MAX_SUMMARY = 300
MAX_REFERENCES = 20


class InvalidAdvisory(ValueError):
    """An advisory that is not an OSV object (no id, not a JSON object)."""


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _list(value: Any, what: str) -> list[Any]:
    """An OSV array; another type is an advisory that cannot be read (a number there was iterated,
    an internal error), never one taken as affecting nothing."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidAdvisory(f"`{what}` is a {type(value).__name__}, not an array")
    return value


def _summary(advisory: dict[str, Any]) -> str | None:
    for key in ("summary", "details"):
        text = advisory.get(key)
        if isinstance(text, str) and text.strip():
            # The whole text, whitespace folded: many summaries wrap over lines,
            # and cutting at the first newline left half a sentence.
            line = " ".join(text.split())
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
    for r in _list(entry.get("ranges"), "affected[].ranges"):
        if not isinstance(r, dict) or r.get("type") not in _RANGE_TYPES:
            continue
        events: list[list[str]] = []
        for event in _list(r.get("events"), "affected[].ranges[].events"):
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
    affected = [a for a in (_affected(e) for e in _list(advisory.get("affected"), "affected")) if a is not None]
    if not affected:
        return None
    level, score, vector = rate(advisory)
    references = [r["url"] for r in _list(advisory.get("references"), "references")
                  if isinstance(r, dict) and isinstance(r.get("url"), str)][:MAX_REFERENCES]
    return {
        "id": advisory["id"],
        "aliases": sorted(set(_strings(advisory.get("aliases"))) - {advisory["id"]}),
        "summary": _summary(advisory), "level": level, "score": score, "vector": vector,
        "refs": references, "affected": affected,
        # When the advisory last changed: the report says how current the database is.
        "modified": advisory["modified"] if isinstance(advisory.get("modified"), str) else None,
    }


@lru_cache(maxsize=65536)
def parse(text: str) -> Version | None:
    # A version of an advisory is input: one no release has (a 5,000-digit number)
    # is unparsable, like any other invalid version, never an internal error.
    if not isinstance(text, str) or len(text) > 128 or _HUGE_NUMBER.search(text):
        return None
    try:
        return Version(text)
    except (InvalidVersion, ValueError):
        return None


_HUGE_NUMBER = re.compile(r"\d{40}")


@lru_cache(maxsize=65536)
def public(version: str) -> Version | None:
    """The version matching uses: PEP 440, local label dropped.

    Cached: an advisory lists every affected release, and a scan's candidate
    advisories list tens of thousands of (mostly repeated) version strings.
    """
    parsed = parse(version)
    if parsed is None:
        return None
    return parse(parsed.public) if parsed.local is not None else parsed


@frozen
class Range:
    """One range's events, parsed and in the order OSV walks them."""

    events: tuple[tuple[str, Version | None], ...]  # (kind, version); None is introduced "0"
    limits: tuple[Version, ...] | None  # None: no limit

    @classmethod
    def of(cls, events: list[list[str]]) -> Range:
        limits = [value for kind, value in events if kind == "limit"]
        bounds = None
        if limits and "*" not in limits:
            bounds = tuple(b for b in (parse(v) for v in limits) if b is not None)
        ordered: list[tuple[int, Version, int, str, Version | None]] = []
        for kind, value in events:
            if kind == "limit":
                continue
            if kind == "introduced" and value == "0":
                ordered.append((0, _ZERO, 0, kind, None))
                continue
            parsed = parse(value)
            if parsed is not None:  # an event that is not a PEP 440 version cannot be placed
                ordered.append((1, parsed, _ORDER[kind], kind, parsed))
        ordered.sort(key=lambda e: e[:3])
        return cls(events=tuple((e[3], e[4]) for e in ordered), limits=bounds)

    def contains(self, version: Version) -> bool:
        if self.limits is not None and not any(version < b for b in self.limits):
            return False
        affected = False
        for kind, bound in self.events:
            if kind == "introduced":
                if bound is None or version >= bound:
                    affected = True
            elif kind == "fixed":
                if version >= bound:  # type: ignore[operator]
                    affected = False
            elif version > bound:  # type: ignore[operator]  # last_affected
                affected = False
        return affected


@frozen
class Entry:
    """One `affected[]` entry made ready for matching many versions."""

    versions: frozenset[Version]  # PEP 440 equality: 1.0 is 1.0.0
    raw: frozenset[str]  # listed strings that are not PEP 440, matched as they are
    ranges: tuple[Range, ...]

    @classmethod
    def of(cls, entry: Record) -> Entry:
        parsed = [(v, public(v)) for v in entry["versions"]]
        return cls(versions=frozenset(p for _, p in parsed if p is not None),
                   raw=frozenset(v for v, p in parsed if p is None),
                   ranges=tuple(Range.of(events) for events in entry["ranges"]))

    def affects(self, version: str) -> bool:
        target = public(version)
        if target is None:
            return version in self.raw
        return target in self.versions or any(r.contains(target) for r in self.ranges)


class Matcher:
    """Decides whether records affect versions; each entry is prepared once, on first use."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Record, Entry]] = {}  # keyed by id(), the record kept alive with it

    def entry(self, entry: Record) -> Entry:
        known = self._entries.get(id(entry))
        if known is None:
            known = self._entries[id(entry)] = (entry, Entry.of(entry))
        return known[1]

    def affects(self, record: Record, name: str, version: str) -> bool:
        return any(e["name"] == name and self.entry(e).affects(version) for e in record["affected"])


def entry_affects(entry: Record, version: str) -> bool:
    return Entry.of(entry).affects(version)


def affects(record: Record, name: str, version: str) -> bool:
    return Matcher().affects(record, name, version)


def fixed_events(record: Record, name: str) -> list[str]:
    return [value for e in record["affected"] if e["name"] == name
            for events in e["ranges"] for kind, value in events if kind == "fixed"]
