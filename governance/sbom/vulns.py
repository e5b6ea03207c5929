"""Inventory.vulnerabilities <-> CycloneDX `vulnerabilities[]`.

Each vulnerability of each package version is one entry: its id, the aliases
as `references` (with the database that publishes each), a rating (score,
severity, method and vector when there is a CVSS vector), the fix as
`recommendation`, and `affects` pointing at the component's bom-ref (its
purl). A vulnerability a live policy waiver covers carries an `analysis`
with state "in_triage" (accepted for now, not declared unaffected) and the
waiver's reason as detail. The whole record also travels as one
`mlgov:vulnerability` property, so that reading the SBOM back gives exactly
the Inventory it was written from; an SBOM from another tool is read from
the standard fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from governance.model import Inventory, Vulnerability
from governance.sbom import codec

PROPERTY = codec.NS + "vulnerability"
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'{}|\\^`]+$")
_SOURCES = (("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/"),
            ("GHSA-", "GitHub Advisories", "https://github.com/advisories/"))
_METHODS = {"CVSS:4": "CVSSv4", "CVSS:3.1": "CVSSv31", "CVSS:3.0": "CVSSv3"}


def _source(identifier: str) -> tuple[str, str]:
    for prefix, name, url in _SOURCES:
        if identifier.upper().startswith(prefix):
            return name, url + identifier
    return "OSV", "https://osv.dev/vulnerability/" + identifier


def _method(vector: str | None) -> str | None:
    if not vector:
        return None
    for prefix, method in _METHODS.items():
        if vector.startswith(prefix):
            return method
    return "CVSSv2" if "Au:" in vector else "other"


def _record(vulnerability: Vulnerability) -> str:
    return codec.dumps(asdict(vulnerability))


def add(bom: Any, inventory: Inventory) -> None:
    """Add the inventory's vulnerabilities to a cyclonedx-python-lib Bom."""
    if not inventory.vulnerabilities:
        return
    from cyclonedx.model import Property, XsUri
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus, ImpactAnalysisState
    from cyclonedx.model.vulnerability import (BomTarget, BomTargetVersionRange, Vulnerability as CdxVulnerability,
                                               VulnerabilityAdvisory, VulnerabilityAnalysis, VulnerabilityRating,
                                               VulnerabilityReference, VulnerabilityScoreSource,
                                               VulnerabilitySeverity, VulnerabilitySource)

    purls = {(p.key, p.version): p.purl for p in inventory.packages}
    for item in inventory.vulnerabilities:
        purl = purls.get((item.package, item.version))
        name, url = _source(item.id)
        references = [VulnerabilityReference(id=alias, source=VulnerabilitySource(
            name=_source(alias)[0], url=XsUri(_source(alias)[1]))) for alias in item.aliases]
        method = _method(item.vector)
        rating = VulnerabilityRating(
            score=Decimal(str(item.score)) if item.score is not None else None,
            severity=VulnerabilitySeverity(item.severity),
            method=VulnerabilityScoreSource(method) if method else None, vector=item.vector)
        advisories = [VulnerabilityAdvisory(url=XsUri(u)) for u in item.references if _SAFE_URL.match(u)]
        analysis = None
        if item.analysis_state:
            analysis = VulnerabilityAnalysis(state=ImpactAnalysisState(item.analysis_state),
                                             detail=item.analysis_detail)
        affects = []
        if purl is not None:
            affects.append(BomTarget(ref=purl, versions=[BomTargetVersionRange(
                version=item.version, status=ImpactAnalysisAffectedStatus.AFFECTED)]))
        recommendation = f"upgrade {item.package} to {item.fixed_versions[0]}" if item.fixed_versions else None
        bom.vulnerabilities.add(CdxVulnerability(
            bom_ref=f"vulnerability:{item.id}:{purl or item.package + '@' + item.version}",
            id=item.id, source=VulnerabilitySource(name=name, url=XsUri(url)), references=references,
            ratings=[rating], description=item.summary, recommendation=recommendation, advisories=advisories,
            analysis=analysis, affects=affects, properties=[Property(name=PROPERTY, value=_record(item))]))


_FIELDS = {f.name: f for f in fields(Vulnerability)}


def _from_record(value: str) -> Vulnerability:
    data = json.loads(value)
    if not isinstance(data, dict) or set(data) - set(_FIELDS) or not {"id", "package", "version"} <= set(data):
        raise ValueError(f"{PROPERTY} is not a vulnerability record")
    for key in ("aliases", "fixed_versions", "references"):
        if key in data:
            if not isinstance(data[key], list) or not all(isinstance(v, str) for v in data[key]):
                raise ValueError(f"{PROPERTY}: {key} is not a list of strings")
            data[key] = tuple(data[key])
    if data.get("score") is not None and not isinstance(data["score"], (int, float)):
        raise ValueError(f"{PROPERTY}: score is not a number")
    for key, value in data.items():
        if key not in ("aliases", "fixed_versions", "references", "score") and value is not None \
                and not isinstance(value, str):
            raise ValueError(f"{PROPERTY}: {key} is not a string")
    return Vulnerability(**data)


def _foreign(entry: dict[str, Any], components: dict[str, tuple[str, str]]) -> list[Vulnerability]:
    """An entry another tool wrote: standard fields only."""
    from packaging.utils import canonicalize_name

    ratings = [r for r in entry.get("ratings") or [] if isinstance(r, dict)]
    order = ("unknown", "none", "info", "low", "medium", "high", "critical")
    best = max(ratings, key=lambda r: (order.index(r.get("severity")) if r.get("severity") in order else 0,
                                       float(r.get("score") or 0)), default={})
    severity = best.get("severity") if best.get("severity") in ("low", "medium", "high", "critical") else "unknown"
    aliases = tuple(sorted({str(r["id"]) for r in entry.get("references") or []
                            if isinstance(r, dict) and r.get("id")} - {str(entry["id"])}))
    found = []
    for target in entry.get("affects") or []:
        component = components.get(str(target.get("ref")))
        if component is None:
            continue
        name, version = component
        found.append(Vulnerability(
            id=str(entry["id"]), package=canonicalize_name(name), version=version, aliases=aliases,
            summary=entry.get("description") or None, severity=str(severity),
            score=float(best["score"]) if best.get("score") is not None else None,
            vector=best.get("vector") or None, source="sbom",
            analysis_state=(entry.get("analysis") or {}).get("state"),
            analysis_detail=(entry.get("analysis") or {}).get("detail")))
    return found


def read(document: dict[str, Any]) -> tuple[Vulnerability, ...]:
    """The vulnerabilities of a CycloneDX document (JSON's shape; XML is converted first)."""
    entries = _xml_entries(document["_xml"]) if "_xml" in document else document.get("vulnerabilities") or []
    components = {}
    for c in document.get("components", []) or []:
        ref = c.get("bom-ref") or c.get("purl")
        if ref and c.get("version"):
            components[ref] = (c["name"], c["version"])
    found: list[Vulnerability] = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        record = next((p.get("value") for p in entry.get("properties") or []
                       if isinstance(p, dict) and p.get("name") == PROPERTY), None)
        if record is not None:
            found.append(_from_record(record))
        else:
            found.extend(_foreign(entry, components))
    unique = {(v.package, v.version, v.id): v for v in found}
    return tuple(unique[k] for k in sorted(unique))


def _xml_entries(root: Any) -> list[dict[str, Any]]:
    def local(tag: Any) -> str:
        return str(tag).rsplit("}", 1)[-1]

    def child(element: Any, name: str) -> Any:
        return next((c for c in element if local(c.tag) == name), None)

    def text(element: Any, name: str) -> str | None:
        found = child(element, name)
        return found.text.strip() if found is not None and found.text else None

    entries = []
    container = child(root, "vulnerabilities")
    for element in container if container is not None else []:
        if local(element.tag) != "vulnerability":
            continue
        entry: dict[str, Any] = {"id": text(element, "id"), "description": text(element, "description")}
        references = child(element, "references")
        entry["references"] = [{"id": text(r, "id")} for r in references] if references is not None else []
        ratings = child(element, "ratings")
        entry["ratings"] = [{k: text(r, k) for k in ("score", "severity", "method", "vector")}
                            for r in ratings] if ratings is not None else []
        analysis = child(element, "analysis")
        if analysis is not None:
            entry["analysis"] = {"state": text(analysis, "state"), "detail": text(analysis, "detail")}
        affects = child(element, "affects")
        entry["affects"] = [{"ref": text(t, "ref")} for t in affects] if affects is not None else []
        properties = child(element, "properties")
        entry["properties"] = [{"name": p.get("name"), "value": p.text or ""}
                               for p in properties] if properties is not None else []
        entries.append(entry)
    return entries
