"""What the scan could not read and what it matched advisories against, as metadata properties.

`mlgov check` must reach the scan's verdict: a COV002 for an unread file and
a VULN002 for vulnerabilities never checked are as much part of it as any
component, so both travel in the SBOM (`mlgov:unread`, `mlgov:advisory-sources`).
"""

from __future__ import annotations

from typing import Any

from governance.model import Inventory
from governance.sbom import codec
from governance.sbom.sections import Contribution, Json, prop, properties


class _Coverage:
    def write(self, inventory: Inventory) -> Contribution:
        metadata = []
        if inventory.unread:
            metadata.append(prop(codec.UNREAD, codec.dumps(codec.unread_to_list(inventory.unread))))
        if inventory.advisory_sources:
            metadata.append(prop(codec.ADVISORY_SOURCES,
                                 codec.dumps(codec.advisory_sources_to_list(inventory.advisory_sources))))
        return Contribution(properties=tuple(metadata))

    def owns(self, component: Json) -> bool:
        return False  # metadata only

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        meta = properties(document.get("metadata") or {})
        found: dict[str, Any] = {}
        if codec.UNREAD in meta:
            found["unread"] = codec.unread_from_text(meta[codec.UNREAD])
        if codec.ADVISORY_SOURCES in meta:
            found["advisory_sources"] = codec.advisory_sources_from_text(meta[codec.ADVISORY_SOURCES])
        return found


SECTION = _Coverage()
