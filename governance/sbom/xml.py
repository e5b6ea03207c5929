"""CycloneDX XML <-> the JSON document's dict form.

mlgov builds one form of the SBOM, the JSON document as plain dicts, and
derives the XML from it, so that the two never say different things. The
XML schema fixes an order for the children of each element (an xs:sequence)
where JSON has none: ORDER holds that order, taken from the official XSDs
cyclonedx-python-lib ships (bom-1.5/1.6/1.7: each version's sequence is a
subsequence of the list here, so one list serves all three). JSON arrays
become a wrapper element holding one element per item (ITEM names it);
a few keys are XML attributes (ATTRIBUTES) or the element's text (TEXT).

A key that has no place in ORDER is an error, not a guess: an element in
the wrong place would only fail later, in schema validation.

The reverse, to_dict(), turns any CycloneDX XML (mlgov's or another tool's)
into the JSON form with the same tables, so one reader serves both formats.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

NAMESPACE = "http://cyclonedx.org/schema/bom/{}"

# Element order per element name (the XSD's xs:sequence), the elements mlgov
# writes and the ones other tools commonly do.
ORDER: dict[str, tuple[str, ...]] = {
    "bom": ("metadata", "components", "services", "externalReferences", "dependencies", "compositions",
            "properties", "vulnerabilities", "annotations", "formulation", "declarations", "definitions",
            "citations"),
    "metadata": ("timestamp", "lifecycles", "tools", "authors", "component", "manufacturer", "manufacture",
                 "supplier", "licenses", "properties", "distributionConstraints"),
    "tools": ("components", "services"),
    "component": ("supplier", "manufacturer", "authors", "author", "publisher", "group", "name", "version",
                  "versionRange", "description", "scope", "hashes", "licenses", "copyright", "patentAssertions",
                  "cpe", "purl", "omniborId", "swhid", "swid", "modified", "pedigree", "externalReferences",
                  "properties", "components", "evidence", "releaseNotes", "modelCard", "data",
                  "cryptoProperties", "tags"),
    "license": ("id", "name", "text", "url", "licensing", "properties"),
    # externalReferences/reference and vulnerability/references/reference share the
    # element name; their keys do not overlap.
    "reference": ("id", "source", "url", "comment", "hashes"),
    "source": ("name", "url"),
    "vulnerability": ("id", "source", "references", "ratings", "cwes", "description", "detail",
                      "recommendation", "workaround", "proofOfConcept", "advisories", "created", "published",
                      "updated", "rejected", "credits", "tools", "analysis", "affects", "properties"),
    "rating": ("source", "score", "severity", "method", "vector", "justification"),
    "advisory": ("title", "url"),
    "analysis": ("state", "justification", "responses", "detail", "firstIssued", "lastUpdated"),
    "target": ("ref", "versions"),
    "version": ("version", "range", "status"),
    # modelCard (CycloneDX 1.5+): machine-learning-model components.
    "modelCard": ("modelParameters", "quantitativeAnalysis", "considerations", "properties"),
    "modelParameters": ("approach", "task", "architectureFamily", "modelArchitecture", "datasets", "inputs",
                        "outputs"),
    "approach": ("type",),
    "input": ("format",),
    "output": ("format",),
    "quantitativeAnalysis": ("performanceMetrics", "graphics"),
    "performanceMetric": ("type", "value", "slice", "confidenceInterval"),
    "confidenceInterval": ("lowerBound", "upperBound"),
    "graphics": ("description", "collection"),
    "graphic": ("name", "image"),
    "considerations": ("users", "useCases", "technicalLimitations", "performanceTradeoffs",
                       "ethicalConsiderations", "environmentalConsiderations", "fairnessAssessments"),
    "ethicalConsideration": ("name", "mitigationStrategy"),
    "fairnessAssessment": ("groupAtRisk", "benefits", "harms", "mitigationStrategy"),
    "dataset": ("type", "name", "contents", "classification", "sensitiveData", "graphics", "description",
                "governance"),
    "supplier": ("name", "address", "url", "contact"),
    "manufacturer": ("name", "address", "url", "contact"),
}
# A JSON array -> wrapper element, one child per item, named so.
ITEM: dict[str, str] = {
    "components": "component", "services": "service", "hashes": "hash", "externalReferences": "reference",
    "properties": "property", "references": "reference", "ratings": "rating", "advisories": "advisory",
    "affects": "target", "versions": "version", "cwes": "cwe", "lifecycles": "lifecycle", "authors": "author",
    "inputs": "input", "outputs": "output", "performanceMetrics": "performanceMetric", "collection": "graphic",
    "users": "user", "useCases": "useCase", "technicalLimitations": "technicalLimitation",
    "performanceTradeoffs": "performanceTradeoff", "ethicalConsiderations": "ethicalConsideration",
    "fairnessAssessments": "fairnessAssessment", "tags": "tag", "responses": "response",
    "vulnerabilities": "vulnerability", "dependencies": "dependency",
}
# Keys written as attributes of the element named.
ATTRIBUTES: dict[str, frozenset[str]] = {
    "component": frozenset({"type", "mime-type", "bom-ref", "isExternal"}),
    "service": frozenset({"bom-ref"}),
    "reference": frozenset({"type"}),
    "hash": frozenset({"alg"}),
    "property": frozenset({"name"}),
    "license": frozenset({"bom-ref", "acknowledgement"}),
    "expression": frozenset({"bom-ref", "acknowledgement"}),
    "vulnerability": frozenset({"bom-ref"}),
    "modelCard": frozenset({"bom-ref"}),
    "dataset": frozenset({"bom-ref"}),
    "dependency": frozenset({"ref"}),
}
# The key that holds an element's text when it also has attributes.
TEXT: dict[str, str] = {"hash": "content", "property": "value", "expression": "expression"}

_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if _INVALID.search(text):
        # XML 1.0 cannot carry these characters at all; JSON keeps them exactly.
        text = _INVALID.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: Any) -> str:
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def _ordered(tag: str, data: dict[str, Any], skip: frozenset[str]) -> list[str]:
    order = ORDER.get(tag)
    keys = [k for k in data if k not in skip and data[k] is not None]
    if order is None:
        if len(keys) > 1:
            raise ValueError(f"no XML element order known for <{tag}> (keys {sorted(keys)})")
        return keys
    unknown = [k for k in keys if k not in order]
    if unknown:
        raise ValueError(f"no place in <{tag}> for {unknown}")
    return sorted(keys, key=order.index)


def _element(tag: str, value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, list):
        _wrapper(tag, value, indent, out)
        return
    if not isinstance(value, dict):
        out.append(f"{indent}<{tag}>{_text(value)}</{tag}>")
        return
    attributes = ATTRIBUTES.get(tag, frozenset())
    head = tag + "".join(f' {k}="{_attribute(value[k])}"' for k in value if k in attributes
                         and value[k] is not None)
    text_key = TEXT.get(tag)
    if text_key is not None and text_key in value:
        out.append(f"{indent}<{head}>{_text(value[text_key])}</{tag}>")
        return
    children = _ordered(tag, value, attributes)
    if not children:
        out.append(f"{indent}<{head}/>")
        return
    out.append(f"{indent}<{head}>")
    inner = indent + "  "
    for key in children:
        _element(key, value[key], inner, out)
    out.append(f"{indent}</{tag}>")


def _wrapper(tag: str, items: list[Any], indent: str, out: list[str]) -> None:
    inner = indent + "  "
    if not items:
        out.append(f"{indent}<{tag}/>")
        return
    out.append(f"{indent}<{tag}>")
    if tag == "licenses":  # each item is {"license": {...}} or {"expression": "..."}
        for item in items:
            if "expression" in item:
                _element("expression", item, inner, out)
            else:
                _element("license", item["license"], inner, out)
    elif tag == "dependencies":  # dependsOn becomes nested <dependency ref=.../>
        for item in items:
            ref = _attribute(item["ref"])
            targets = item.get("dependsOn") or []
            if not targets:
                out.append(f'{inner}<dependency ref="{ref}"/>')
                continue
            out.append(f'{inner}<dependency ref="{ref}">')
            out.extend(f'{inner}  <dependency ref="{_attribute(t)}"/>' for t in targets)
            out.append(f"{inner}</dependency>")
    elif tag == "datasets":  # modelCard: a reference ({"ref": ...}) or an inline dataset
        for item in items:
            if set(item) == {"ref"}:
                _element("ref", item["ref"], inner, out)
            else:
                _element("dataset", item, inner, out)
    else:
        child = ITEM.get(tag)
        if child is None:
            raise ValueError(f"no XML item element known for the array {tag!r}")
        for item in items:
            _element(child, item, inner, out)
    out.append(f"{indent}</{tag}>")


def dumps(document: dict[str, Any]) -> str:
    """The XML text of a CycloneDX document given in its JSON form."""
    spec = document["specVersion"]
    head = f'<bom xmlns="{NAMESPACE.format(spec)}"'
    if document.get("serialNumber"):
        head += f' serialNumber="{_attribute(document["serialNumber"])}"'
    head += f' version="{int(document.get("version", 1))}">'
    out = ['<?xml version="1.0" encoding="UTF-8"?>', head]
    body = {k: v for k, v in document.items() if k not in ("$schema", "bomFormat", "specVersion", "serialNumber",
                                                             "version")}
    for key in _ordered("bom", body, frozenset()):
        _element(key, body[key], "  ", out)
    out.append("</bom>")
    return "\n".join(out) + "\n"


# XML -> the JSON form.

def local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _value(element: Any) -> Any:
    tag = local(element.tag)
    children = list(element)
    if tag in ITEM or tag in ("licenses", "datasets"):
        return _items(tag, children)
    if not children and not element.attrib:
        return (element.text or "").strip()
    data: dict[str, Any] = {local(k): v for k, v in element.attrib.items()}
    if not children:
        text = (element.text or "").strip()
        if text or tag in TEXT:
            data[TEXT.get(tag, "value")] = text if tag != "property" else (element.text or "")
        return data
    for child in children:
        name = local(child.tag)
        value = _value(child)
        if name in data:  # a repeated element outside the known arrays
            if not isinstance(data[name], list) or name in ITEM:
                data[name] = [data[name]]
            data[name].append(value)
        else:
            data[name] = value
    return data


def _items(tag: str, children: Iterable[Any]) -> list[Any]:
    found: list[Any] = []
    for child in children:
        name = local(child.tag)
        if tag == "licenses":
            found.append({"expression": (child.text or "").strip()} if name == "expression"
                         else {name: _value(child)})
        elif tag == "dependencies":
            found.append({"ref": child.get("ref"),
                          "dependsOn": [d.get("ref") for d in child if local(d.tag) == "dependency"]})
        elif tag == "datasets" and name == "ref":
            found.append({"ref": (child.text or "").strip()})
        else:
            found.append(_value(child))
    return found


def to_dict(root: Any) -> dict[str, Any]:
    """A parsed <bom> element (ElementTree or lxml) in the JSON document's form."""
    namespace = root.tag[1:].split("}", 1)[0] if str(root.tag).startswith("{") else ""
    document: dict[str, Any] = {"bomFormat": "CycloneDX",
                                "specVersion": namespace.rsplit("/", 1)[-1] or "1.6"}
    for key in ("serialNumber", "version"):
        if root.get(key) is not None:
            document[key] = root.get(key)
    for child in root:
        document[local(child.tag)] = _value(child)
    return document
