"""Inventory -> CycloneDX (JSON or XML), built with cyclonedx-python-lib.

Whatever a policy rule needs goes into the document (components, hashes,
`mlgov:` properties), so that `mlgov check sbom.cdx.json` reaches the same
findings as the scan that wrote it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timezone
from typing import Any

from governance import __version__
from governance.model import Hash, Inventory, Package
from governance.sbom import codec
from governance.sbom import vulns as sbom_vulns

_HASH_ALGORITHMS = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "md5": "MD5",
                    "sha1": "SHA-1"}
_URL_TYPES = {
    "homepage": "website", "home": "website", "source": "vcs", "source code": "vcs",
    "repository": "vcs", "code": "vcs", "github": "vcs", "documentation": "documentation",
    "docs": "documentation", "issues": "issue-tracker", "bug tracker": "issue-tracker",
    "tracker": "issue-tracker", "bug reports": "issue-tracker", "changelog": "release-notes",
    "release notes": "release-notes", "download": "distribution",
}


def fixed_time() -> datetime | None:
    """SOURCE_DATE_EPOCH, the reproducible-builds convention, when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return None


def _component(package: Package) -> Any:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
    from packageurl import PackageURL

    purl = package.purl
    licenses: list[Any] = []
    if package.license_expression:
        licenses.append(LicenseExpression(value=package.license_expression))
    elif package.license_text:
        licenses.append(DisjunctiveLicense(name=package.license_text))
    hashes = [HashType(alg=HashAlgorithm(_HASH_ALGORITHMS[h.algorithm]), content=h.value)
              for h in package.hashes if h.algorithm in _HASH_ALGORITHMS]
    references = []
    for label, url in package.urls:
        kind = _URL_TYPES.get(label.lower(), "other")
        references.append(ExternalReference(type=ExternalReferenceType(kind), url=XsUri(url), comment=label))
    properties = [Property(name=codec.PROVENANCE, value=codec.dumps(codec.provenance_to_dict(p)))
                  for p in package.provenance]
    if package.installer:
        properties.append(Property(name=codec.INSTALLER, value=package.installer))
    if package.source:
        properties.append(Property(name=codec.SOURCE, value=codec.dumps(codec.source_to_dict(package.source))))
    properties.extend(Property(name=k, value=v) for k, v in package.properties)
    return Component(
        type=ComponentType.LIBRARY, name=package.name, version=package.version,
        purl=PackageURL.from_string(purl), bom_ref=purl, description=package.summary,
        licenses=licenses, hashes=hashes, external_references=references, properties=properties,
    )


def build_bom(inventory: Inventory, reproducible: bool = False) -> Any:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.dependency import Dependency

    root = Component(type=ComponentType.APPLICATION, name=inventory.project.name,
                     version=inventory.project.version, bom_ref="project")
    tool = Component(type=ComponentType.APPLICATION, name="mlgov", version=__version__,
                     group="mlgov", bom_ref="tool:mlgov")
    metadata = BomMetaData(component=root)
    metadata.tools.components.add(tool)
    if inventory.sources:
        metadata.properties.add(Property(name=codec.SOURCES, value=codec.dumps(list(inventory.sources))))
    if inventory.notes:
        metadata.properties.add(Property(name=codec.NOTES, value=codec.dumps(list(inventory.notes))))
    if inventory.target:
        metadata.properties.add(Property(name=codec.TARGET, value=inventory.target))

    components = [_component(p) for p in inventory.packages]
    by_key: dict[str, list[Any]] = {}
    for package, component in zip(inventory.packages, components):
        by_key.setdefault(package.key, []).append(component)
    bom = Bom(components=components, metadata=metadata)

    # The graph: root -> what the project asks for directly (or, with only an
    # environment, what nothing else requires); package -> its requirements.
    required = {name for p in inventory.packages for name in p.requires}
    declared = [any(pr.kind in ("requirements", "manifest") and pr.group != "constraints"
                    for pr in p.provenance) for p in inventory.packages]
    if any(declared):
        direct = [c for c, d in zip(components, declared) if d]
    else:
        direct = [c for p, c in zip(inventory.packages, components) if p.key not in required]
    if not direct:
        direct = components  # a dependency cycle covers everything: the root still needs edges
    dependencies = [Dependency(ref=root.bom_ref, dependencies=[Dependency(ref=c.bom_ref) for c in direct])]
    for package, component in zip(inventory.packages, components):
        targets = [t for name in package.requires for t in by_key.get(name, [])[:1]]
        dependencies.append(Dependency(ref=component.bom_ref,
                                       dependencies=[Dependency(ref=t.bom_ref) for t in targets]))
    bom.dependencies.update(dependencies)
    from governance.sbom import gpu

    gpu.add(bom, inventory)  # the hosts' GPU stacks the verdict is made against
    sbom_vulns.add(bom, inventory)

    stamp = fixed_time()
    if reproducible and stamp is None:
        stamp = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if stamp is not None:
        bom.metadata.timestamp = stamp
    return bom


def serialise(inventory: Inventory, fmt: str = "json", spec_version: str = "1.6",
              reproducible: bool = False) -> str:
    """The SBOM as text; validate() it before writing."""
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    reproducible = reproducible or fixed_time() is not None
    if fmt == "xml":
        inventory = _xml_strings(inventory)
    bom = build_bom(inventory, reproducible=reproducible)
    version = SchemaVersion.from_version(spec_version)
    output_format = OutputFormat.XML if fmt == "xml" else OutputFormat.JSON
    if not reproducible:
        return _safe(make_outputter(bom, output_format, version).output_as_string(indent=2), fmt)
    # A serial number derived from the content, so the same inventory gives the
    # same bytes (and a different one a different number). The document is
    # serialised once with a zero serial, which is then replaced in the text:
    # serialising is the slow part of the build.
    placeholder = uuid.UUID(int=0)
    bom.serial_number = placeholder
    draft = _safe(make_outputter(bom, output_format, version).output_as_string(indent=2), fmt)
    digest = hashlib.sha256(draft.encode("utf-8")).digest()
    serial = uuid.UUID(bytes=digest[:16], version=5)
    return draft.replace(placeholder.urn, serial.urn, 1)


def _xml_strings(value: Any) -> Any:
    """The inventory with every string one XML 1.0 can carry (escape.xml_text)."""
    import dataclasses
    from enum import Enum

    from governance.escape import xml_text

    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return xml_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _xml_strings(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init})
    if isinstance(value, tuple):
        return tuple(_xml_strings(v) for v in value)
    if isinstance(value, list):
        return [_xml_strings(v) for v in value]
    if isinstance(value, dict):
        return {_xml_strings(k): _xml_strings(v) for k, v in value.items()}
    return value


def _safe(text: str, fmt: str) -> str:
    """XML that is well-formed whatever the metadata held, and whose every line is markup.

    Controls that XML 1.0 cannot carry are shown as text (escape.xml_text). A
    newline inside a value is written as `&#10;`: in serialised XML a line that
    does not start with `<` continues a value (a `<` in a value is always
    escaped), and such a line could otherwise start a CI log line of its own.
    """
    from governance.escape import json_text, xml_text

    if fmt != "xml":
        return json_text(text)

    lines = xml_text(text).split("\n")
    joined = [lines[0]]
    for line in lines[1:]:
        if line.lstrip().startswith("<") or not line.strip():
            joined.append("\n" + line)
        else:
            joined.append("&#10;" + line)
    return "".join(joined)


__all__ = ["build_bom", "serialise", "fixed_time", "Hash"]
