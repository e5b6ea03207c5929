"""CycloneDX (JSON or XML) -> Inventory.

An SBOM written by mlgov reads back into the Inventory it was made from; one
written by another tool (cyclonedx-py, Syft) gives what it holds, with no
provenance, so that rules which need provenance say they cannot judge.
XML is parsed with defusedxml: an SBOM handed in for `mlgov check` is input
from outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.inputs import parse_json, read_input, reading, refuse_lone_surrogates
from governance.model import Inventory
from governance.sbom import sections as registry

MAX_SBOM_BYTES = 256 * 1024 * 1024


def read_sbom(path: Path) -> Inventory:
    return parse_sbom(read_input(path, "SBOM", MAX_SBOM_BYTES), str(path))


def parse_sbom(text: str, name: str = "<sbom>") -> Inventory:
    # Any shape the sections did not foresee is "this SBOM cannot be read" (exit 2).
    with reading(name, "SBOM"):
        document = parse_document(text, name)
        try:
            inventory = from_dict(document)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a field of another JSON type
            raise InputError(f"unexpected CycloneDX content ({_what(exc)}); "
                             "not an SBOM mlgov can judge", file=name) from None
        from governance.collect.declared import check_version_text

        for package in inventory.packages:  # a 5,000-digit version is input, not a release
            check_version_text(package.version, name)
        return inventory


def _what(exc: Exception) -> str:
    """What was wrong, in words where mlgov's own records say it (`mlgov:unread: rule ...`), so that
    an SBOM naming a rule or record this mlgov does not know is told apart from a broken one."""
    from governance.escape import clip, quote, terminal
    from governance.sbom.codec import NS

    if isinstance(exc, KeyError) and exc.args:
        return f"KeyError: no {quote(exc.args[0], 60)}"
    text = str(exc)
    if isinstance(exc, ValueError) and text.startswith(NS):
        return clip(terminal(text), 300)
    return type(exc).__name__


def parse_document(text: str, name: str = "<sbom>") -> dict[str, Any]:
    """The CycloneDX document (JSON or XML) as the JSON form's dict."""
    refuse_lone_surrogates(text, name)
    stripped = text.lstrip()
    if stripped.startswith("<"):
        document = _xml_to_dict(text, name)
    else:
        document = parse_json(text, name)
    if not isinstance(document, dict) or document.get("bomFormat", "CycloneDX") != "CycloneDX" \
            or "specVersion" not in document:
        raise InputError("not a CycloneDX document (no bomFormat/specVersion)", file=name)
    return document


def from_dict(document: dict[str, Any]) -> Inventory:
    """The Inventory of a CycloneDX document in the JSON form, section by section."""
    found = registry.sections()
    fallback, others = found[0], found[1:]
    mine: dict[int, list[dict[str, Any]]] = {id(s): [] for s in found}
    for component in document.get("components") or []:
        if not isinstance(component, dict):
            raise ValueError("a component is not an object")
        owner = next((s for s in others if s.owns(component)), fallback)
        mine[id(owner)].append(component)
    fields: dict[str, Any] = {}
    for section in found:
        fields.update(section.read(document, mine[id(section)]))
    return Inventory(**fields)


def _xml_to_dict(text: str, name: str) -> dict[str, Any]:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    from governance.sbom import xml

    try:
        root = ElementTree.fromstring(text)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputError(f"invalid XML: {exc}", file=name, line=line) from None
    except DefusedXmlException as exc:
        raise InputError(f"refused XML: {exc}", file=name) from None
    if xml.local(root.tag) != "bom":
        raise InputError("not a CycloneDX document (root element is not <bom>)", file=name)
    return xml.to_dict(root)
