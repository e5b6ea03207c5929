"""CycloneDX (JSON or XML) -> Inventory.

An SBOM written by mlgov reads back into the Inventory it was made from; one
written by another tool (cyclonedx-py, Syft) gives what it holds, with no
provenance, so that rules which need provenance say they cannot judge.
XML is parsed with defusedxml: an SBOM handed in for `mlgov check` is input
from outside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.inputs import read_input
from governance.model import Hash, Inventory, Package, Project
from governance.sbom import codec, gpu
from governance.sbom import vulns as sbom_vulns

_ALGORITHMS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", "MD5": "md5", "SHA-1": "sha1"}
MAX_SBOM_BYTES = 256 * 1024 * 1024


def read_sbom(path: Path) -> Inventory:
    return parse_sbom(read_input(path, "SBOM", MAX_SBOM_BYTES), str(path))


def parse_sbom(text: str, name: str = "<sbom>") -> Inventory:
    document = parse_document(text, name)
    try:
        return from_dict(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"unexpected CycloneDX content: {exc}", file=name) from None


def parse_document(text: str, name: str = "<sbom>") -> dict[str, Any]:
    """The CycloneDX document (JSON or XML) as the JSON form's dict."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        document = _xml_to_dict(text, name)
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", file=name, line=exc.lineno) from None
    if not isinstance(document, dict) or document.get("bomFormat", "CycloneDX") != "CycloneDX" \
            or "specVersion" not in document:
        raise InputError("not a CycloneDX document (no bomFormat/specVersion)", file=name)
    return document


def _properties(item: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(p.get("name")), str(p.get("value", ""))) for p in item.get("properties", []) or []]


def _ecosystem(purl: str | None) -> str:
    if not purl or not purl.startswith("pkg:"):
        return "generic"
    kind = purl[4:].split("/", 1)[0].lower()
    return kind if kind in ("pypi", "conda") else "generic"


def _package(component: dict[str, Any], requires: tuple[str, ...]) -> Package:
    expression = None
    license_text = None
    for entry in component.get("licenses", []) or []:
        if "expression" in entry:
            expression = entry["expression"]
        elif isinstance(entry.get("license"), dict):
            lic = entry["license"]
            if lic.get("id"):
                expression = lic["id"] if expression is None else f"{expression} AND {lic['id']}"
            elif lic.get("name"):
                license_text = lic["name"]
    hashes = tuple(Hash(_ALGORITHMS[h["alg"]], h["content"]) for h in component.get("hashes", []) or []
                   if h.get("alg") in _ALGORITHMS)
    urls = tuple((ref.get("comment") or ref.get("type", "other"), ref["url"])
                 for ref in component.get("externalReferences", []) or [] if ref.get("url"))
    provenance = []
    installer = None
    source = None
    extra: list[tuple[str, str]] = []
    for key, value in _properties(component):
        if key == codec.PROVENANCE:
            provenance.append(codec.provenance_from_dict(json.loads(value)))
        elif key == codec.INSTALLER:
            installer = value
        elif key == codec.SOURCE:
            source = codec.source_from_dict(json.loads(value))
        else:
            extra.append((key, value))
    return Package(
        name=component["name"], version=component.get("version") or None,
        ecosystem=_ecosystem(component.get("purl")),  # type: ignore[arg-type]
        summary=component.get("description") or None, license_expression=expression,
        license_text=license_text, hashes=hashes, requires=requires, urls=urls,
        installer=installer, source=source, provenance=tuple(provenance), properties=tuple(extra),
    )


def from_dict(document: dict[str, Any]) -> Inventory:
    metadata = document.get("metadata") or {}
    root = metadata.get("component") or {}
    project = Project(name=root.get("name") or "unnamed", version=root.get("version") or None)
    meta_properties = dict(_properties(metadata))

    components = [c for c in document.get("components", []) or []
                  if c.get("type", "library") in ("library", "framework", "application")
                  and _ecosystem(c.get("purl")) in ("pypi", "conda") and not gpu.is_gpu_component(c)]
    from packaging.utils import canonicalize_name

    key_of: dict[str, str] = {}
    for c in components:
        ref = c.get("bom-ref") or c.get("purl") or c["name"]
        eco = _ecosystem(c.get("purl"))
        key_of[ref] = canonicalize_name(c["name"]) if eco == "pypi" else c["name"].lower()
    edges: dict[str, tuple[str, ...]] = {}
    for dependency in document.get("dependencies", []) or []:
        targets = [key_of[d] for d in (dependency.get("dependsOn") or []) if d in key_of]
        edges[dependency["ref"]] = tuple(sorted(set(targets)))
    packages = tuple(sorted(
        (_package(c, edges.get(c.get("bom-ref") or c.get("purl") or c["name"], ())) for c in components),
        key=lambda p: (p.ecosystem, p.key, p.version or "")))

    return Inventory(
        project=project, packages=packages,
        sources=tuple(json.loads(meta_properties[codec.SOURCES])) if codec.SOURCES in meta_properties else (),
        notes=tuple(json.loads(meta_properties[codec.NOTES])) if codec.NOTES in meta_properties else (),
        target=meta_properties.get(codec.TARGET), hosts=gpu.read(document),
        vulnerabilities=sbom_vulns.read(document),
    )


# XML: turned into the JSON document's shape so that one reader serves both.

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Any, name: str) -> Any:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: Any, name: str) -> str | None:
    child = _child(element, name)
    return child.text.strip() if child is not None and child.text else None


def _component_dict(element: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": element.get("type", "library"), "name": _text(element, "name") or ""}
    if element.get("bom-ref"):
        data["bom-ref"] = element.get("bom-ref")
    for key in ("version", "description", "purl", "group"):
        value = _text(element, key)
        if value is not None:
            data[key] = value
    licenses = _child(element, "licenses")
    if licenses is not None:
        data["licenses"] = []
        for entry in licenses:
            if _local(entry.tag) == "expression":
                data["licenses"].append({"expression": (entry.text or "").strip()})
            elif _local(entry.tag) == "license":
                data["licenses"].append({"license": {k: v for k in ("id", "name")
                                                     if (v := _text(entry, k)) is not None}})
    hashes = _child(element, "hashes")
    if hashes is not None:
        data["hashes"] = [{"alg": h.get("alg"), "content": (h.text or "").strip()} for h in hashes]
    references = _child(element, "externalReferences")
    if references is not None:
        data["externalReferences"] = [
            {k: v for k, v in (("type", r.get("type")), ("url", _text(r, "url")),
                               ("comment", _text(r, "comment"))) if v is not None}
            for r in _children(references, "reference")]
    properties = _child(element, "properties")
    if properties is not None:
        data["properties"] = [{"name": p.get("name"), "value": p.text or ""}
                              for p in _children(properties, "property")]
    return data


def _xml_to_dict(text: str, name: str) -> dict[str, Any]:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    try:
        root = ElementTree.fromstring(text)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputError(f"invalid XML: {exc}", file=name, line=line) from None
    except DefusedXmlException as exc:
        raise InputError(f"refused XML: {exc}", file=name) from None
    if _local(root.tag) != "bom":
        raise InputError("not a CycloneDX document (root element is not <bom>)", file=name)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    document: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": namespace.rsplit("/", 1)[-1] or "1.6",
                                "_xml": root}
    metadata = _child(root, "metadata")
    if metadata is not None:
        meta: dict[str, Any] = {}
        component = _child(metadata, "component")
        if component is not None:
            meta["component"] = _component_dict(component)
        properties = _child(metadata, "properties")
        if properties is not None:
            meta["properties"] = [{"name": p.get("name"), "value": p.text or ""}
                                  for p in _children(properties, "property")]
        document["metadata"] = meta
    components = _child(root, "components")
    document["components"] = [_component_dict(c) for c in _children(components, "component")] \
        if components is not None else []
    dependencies = _child(root, "dependencies")
    document["dependencies"] = [
        {"ref": d.get("ref"), "dependsOn": [x.get("ref") for x in _children(d, "dependency")]}
        for d in _children(dependencies, "dependency")] if dependencies is not None else []
    return document
