"""Inventory -> CycloneDX (JSON or XML), built directly as plain dicts.

The document is put together from the sections (governance/sbom/sections.py):
each turns its part of the Inventory into components, dependency entries,
metadata properties or vulnerabilities in the JSON form. The JSON text is
that dict; the XML is derived from the same dict (governance/sbom/xml.py).
cyclonedx-python-lib is not used to write: its per-component object model
(sorted sets ordered by comparison tuples, a generic serialiser) was three
quarters of a 300-package scan, and it has no `modelCard` to fill in. The
official schemas it ships still judge every document (validate.py).

Whatever a policy rule needs goes into the document, so that
`mlgov check sbom.cdx.json` reaches the same findings as the scan that wrote it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timezone

from governance import __version__
from governance.model import Inventory
from governance.sbom.packages import ROOT
from governance.sbom import sections as registry
from governance.sbom.sections import Json

SPEC_VERSIONS = ("1.5", "1.6", "1.7")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def fixed_time() -> datetime | None:
    """SOURCE_DATE_EPOCH, the reproducible-builds convention, when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return None


def document(inventory: Inventory, spec_version: str = "1.6", serial: str | None = None,
             timestamp: datetime | None = None) -> Json:
    """The SBOM in the JSON form (plain dicts and lists), ready for json.dumps or xml.dumps."""
    if spec_version not in SPEC_VERSIONS:
        raise ValueError(f"CycloneDX {spec_version} is not written (use {', '.join(SPEC_VERSIONS)})")
    components: list[Json] = []
    dependencies: list[Json] = []
    properties: list[Json] = []
    vulnerabilities: list[Json] = []
    for section in registry.sections():
        part = section.write(inventory)
        components.extend(part.components)
        dependencies.extend(part.dependencies)
        properties.extend(part.properties)
        vulnerabilities.extend(part.vulnerabilities)
    root: Json = {"type": "application", "bom-ref": ROOT, "name": inventory.project.name}
    if inventory.project.version:
        root["version"] = inventory.project.version
    metadata: Json = {
        "timestamp": (timestamp or datetime.now(timezone.utc).replace(microsecond=0)).isoformat(),
        "tools": {"components": [{"type": "application", "bom-ref": "tool:mlgov", "group": "mlgov",
                                  "name": "mlgov", "version": __version__}]},
        "component": root,
    }
    if properties:
        metadata["properties"] = sorted(properties, key=lambda p: p["name"])
    data: Json = {
        "$schema": f"http://cyclonedx.org/schema/bom-{spec_version}.schema.json",
        "bomFormat": "CycloneDX", "specVersion": spec_version,
        "serialNumber": serial or uuid.uuid4().urn, "version": 1, "metadata": metadata,
        "components": components, "dependencies": dependencies,
    }
    if vulnerabilities:
        data["vulnerabilities"] = vulnerabilities
    return data


def dumps(data: Json, fmt: str) -> str:
    from governance.escape import json_document

    if fmt == "xml":
        from governance.sbom import xml

        return _lines_are_markup(xml.dumps(data))
    # One line per component, dependency entry and vulnerability (escape.json_document).
    return json_document(data, expand_objects=True)


def _lines_are_markup(text: str) -> str:
    """XML whose every line starts with markup: a newline inside a value becomes `&#10;`.

    In serialised XML a line that does not start with `<` continues a value (a
    `<` in a value is always escaped), and printed to a CI log such a line could
    start with `::error` and forge an annotation. The value is unchanged.
    """
    lines = text.split("\n")
    joined = [lines[0]]
    for line in lines[1:]:
        joined.append(("\n" if line.lstrip().startswith("<") or not line.strip() else "&#10;") + line)
    return "".join(joined)


def serialise(inventory: Inventory, fmt: str = "json", spec_version: str = "1.6",
              reproducible: bool = False) -> str:
    """The SBOM as text; validate() it before writing."""
    return serialise_with_document(inventory, fmt, spec_version, reproducible)[0]


def serialise_with_document(inventory: Inventory, fmt: str = "json", spec_version: str = "1.6",
                            reproducible: bool = False) -> tuple[str, Json]:
    """The SBOM as text and as the dict it was made from (which JSON validation takes as it is)."""
    stamp = fixed_time()
    reproducible = reproducible or stamp is not None
    if not reproducible:
        data = document(inventory, spec_version)
        return dumps(data, fmt), data
    # A serial number derived from the content, so the same inventory gives the
    # same bytes (and a different one a different number): the document is
    # written once with a zero serial, digested, and the serial put in its place.
    placeholder = uuid.UUID(int=0).urn
    data = document(inventory, spec_version, serial=placeholder, timestamp=stamp or _EPOCH)
    draft = dumps(data, fmt)
    serial = uuid.UUID(bytes=hashlib.sha256(draft.encode("utf-8")).digest()[:16], version=5).urn
    data["serialNumber"] = serial
    return draft.replace(placeholder, serial, 1), data


__all__ = ["document", "serialise", "serialise_with_document", "fixed_time", "SPEC_VERSIONS"]
