"""The `mlgov:` properties: how facts that CycloneDX has no field for travel in an SBOM.

Each value is compact JSON with sorted keys, so that an SBOM is byte-stable
and reads back into exactly the Inventory it was written from.
"""

from __future__ import annotations

import json
from typing import Any

from governance.model import AdvisorySource, Hash, Provenance, Source, Unread

NS = "mlgov:"
PROVENANCE = NS + "provenance"
SOURCE = NS + "source"
INSTALLER = NS + "installer"
LICENSE_TEXT = NS + "license-text"
SOURCES = NS + "sources"
NOTES = NS + "notes"
TARGET = NS + "target"
UNREAD = NS + "unread"  # files that looked like inputs but were not read (COV002)
ADVISORY_SOURCES = NS + "advisory-sources"  # what the vulnerabilities[] were matched against (VULN002)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def source_to_dict(source: Source) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": source.kind, "url": source.url}
    if source.vcs:
        data["vcs"] = source.vcs
    if source.commit:
        data["commit"] = source.commit
    if source.editable:
        data["editable"] = True
    return data


def source_from_dict(data: dict[str, Any]) -> Source:
    return Source(kind=str(data["kind"]), url=str(data["url"]), vcs=data.get("vcs"),
                  commit=data.get("commit"), editable=bool(data.get("editable", False)))


def provenance_to_dict(p: Provenance) -> dict[str, Any]:
    data: dict[str, Any] = {"file": p.file, "kind": p.kind}
    if p.line is not None:
        data["line"] = p.line
    if p.specifier:
        data["specifier"] = p.specifier
    if p.markers:
        data["markers"] = p.markers
    if p.hashes:
        data["hashes"] = [str(h) for h in p.hashes]
    if p.extras:
        data["extras"] = list(p.extras)
    if p.group:
        data["group"] = p.group
    if p.source:
        data["source"] = source_to_dict(p.source)
    if not p.applies:
        data["applies"] = False
    return data


def hash_from_string(text: str) -> Hash:
    algorithm, _, value = text.partition(":")
    return Hash(algorithm, value)


def provenance_from_dict(data: dict[str, Any]) -> Provenance:
    return Provenance(
        file=str(data["file"]), kind=str(data["kind"]), line=data.get("line"),
        specifier=data.get("specifier", ""), markers=data.get("markers"),
        hashes=tuple(hash_from_string(h) for h in data.get("hashes", [])),
        extras=tuple(data.get("extras", [])), group=data.get("group"),
        source=source_from_dict(data["source"]) if data.get("source") else None,
        applies=bool(data.get("applies", True)),
    )


def _strings(value: Any, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """One entry of a list property, shape checked: a bad SBOM is an input error, not a crash."""
    if not isinstance(value, dict):
        raise ValueError(f"expected an object with {', '.join(keys)}, got {type(value).__name__}")
    for key in keys:
        if not isinstance(value.get(key), str):
            raise ValueError(f"expected a string {key!r}")
    return value


# The rules an unread entry may name; COV002 is the default and is not written (older SBOMs read the same).
UNREAD_RULES = ("COV002", "COV003", "COV010", "DRIFT004")


def unread_to_list(unread: tuple[Unread, ...]) -> list[dict[str, str | int]]:
    return [{"file": u.file, "reason": u.reason, "fix": u.fix, **({"line": u.line} if u.line else {}),
             **({"rule": u.rule} if u.rule != "COV002" else {})}
            for u in unread]


def unread_from_text(text: str) -> tuple[Unread, ...]:
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError(f"{UNREAD}: expected a list")
    return tuple(Unread(**{k: _strings(e, ("file", "reason", "fix"))[k] for k in ("file", "reason", "fix")},
                        line=_line(e), rule=_rule(e)) for e in entries)


def _rule(entry: dict[str, Any]) -> str:
    rule = entry.get("rule", "COV002")
    if rule not in UNREAD_RULES:
        from governance.escape import quote

        raise ValueError(f"{UNREAD}: rule {quote(rule, 40)} is not one this mlgov records there "
                         f"({', '.join(UNREAD_RULES)}); an SBOM written by a newer mlgov is checked with that version")
    return str(rule)


def _line(entry: object) -> int | None:
    line = entry.get("line") if isinstance(entry, dict) else None
    if line is None:
        return None
    if not isinstance(line, int) or isinstance(line, bool) or line < 1:
        raise ValueError(f"{UNREAD}: line must be a positive integer")
    return line


def advisory_sources_to_list(sources: tuple[AdvisorySource, ...]) -> list[dict[str, Any]]:
    return [{"source": s.source, "digest": s.digest, "advisories": s.advisories,
             "newest_modified": s.newest_modified} for s in sources]


def advisory_sources_from_text(text: str) -> tuple[AdvisorySource, ...]:
    entries = json.loads(text)
    if not isinstance(entries, list):
        raise ValueError(f"{ADVISORY_SOURCES}: expected a list")
    found = []
    for entry in entries:
        _strings(entry, ("source",))
        digest, count, newest = entry.get("digest"), entry.get("advisories"), entry.get("newest_modified")
        if not (digest is None or isinstance(digest, str)) or not (newest is None or isinstance(newest, str)) \
                or not (count is None or (isinstance(count, int) and not isinstance(count, bool) and count >= 0)):
            raise ValueError(f"{ADVISORY_SOURCES}: digest, advisories or newest_modified of the wrong type")
        found.append(AdvisorySource(source=entry["source"], digest=digest, advisories=count, newest_modified=newest))
    return tuple(found)
