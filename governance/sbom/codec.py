"""The `mlgov:` properties: how facts that CycloneDX has no field for travel in an SBOM.

Each value is compact JSON with sorted keys, so that an SBOM is byte-stable
and reads back into exactly the Inventory it was written from.
"""

from __future__ import annotations

import json
from typing import Any

from governance.model import Hash, Provenance, Source

NS = "mlgov:"
PROVENANCE = NS + "provenance"
SOURCE = NS + "source"
INSTALLER = NS + "installer"
LICENSE_TEXT = NS + "license-text"
SOURCES = NS + "sources"
NOTES = NS + "notes"
TARGET = NS + "target"


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
