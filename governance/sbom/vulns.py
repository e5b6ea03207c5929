"""Inventory.vulnerabilities <-> CycloneDX `vulnerabilities[]` (a section: governance/sbom/sections.py).

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
from typing import Any

from governance.model import Inventory, Vulnerability
from governance.sbom import codec
from governance.sbom.sections import Contribution, Json, prop, uri

PROPERTY = codec.NS + "vulnerability"
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'{}|\\^`]+$")
_SOURCES = (("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/"),
            ("GHSA-", "GitHub Advisories", "https://github.com/advisories/"))
_SCHEME = re.compile(r"^CVSS:[234]\.\d/?")
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
    record = asdict(vulnerability)
    if record.get("analysis_justification") is None:
        # Absent rather than null: SBOMs written before waivers had a justification stay byte-identical.
        record.pop("analysis_justification", None)
    return codec.dumps(record)


def _vector(vector: str | None, method: str | None) -> str | None:
    # CycloneDX's vector is the metrics alone, the method names the scheme
    # (as cyclonedx-python-lib writes it): CVSS:3.1/AV:N/... -> AV:N/...
    if vector and method in ("CVSSv31", "CVSSv3", "CVSSv4", "CVSSv2"):
        return _SCHEME.sub("", vector, count=1)
    return vector


def entry(item: Vulnerability, purl: str | None) -> Json:
    """One CycloneDX vulnerabilities[] entry (JSON form)."""
    name, url = _source(item.id)
    data: Json = {"bom-ref": f"vulnerability:{item.id}:{purl or item.package + '@' + item.version}",
                  "id": item.id, "source": {"name": name, "url": uri(url)}}
    if item.aliases:
        data["references"] = [{"id": alias, "source": {"name": _source(alias)[0], "url": uri(_source(alias)[1])}}
                              for alias in item.aliases]
    method = _method(item.vector)
    rating: Json = {}
    if item.score is not None:
        rating["score"] = item.score
    rating["severity"] = item.severity
    if method:
        rating["method"] = method
    if item.vector:
        rating["vector"] = _vector(item.vector, method)
    data["ratings"] = [rating]
    if item.summary:
        data["description"] = item.summary
    if item.fixed_versions:
        data["recommendation"] = f"upgrade {item.package} to {item.fixed_versions[0]}"
    advisories = [{"url": u} for u in item.references if _SAFE_URL.match(u)]
    if advisories:
        data["advisories"] = advisories
    if item.analysis_state:
        analysis: Json = {"state": item.analysis_state}
        if item.analysis_justification:
            analysis["justification"] = item.analysis_justification
        if item.analysis_detail:
            analysis["detail"] = item.analysis_detail
        data["analysis"] = analysis
    if purl is not None:
        data["affects"] = [{"ref": purl, "versions": [{"version": item.version, "status": "affected"}]}]
    data["properties"] = [prop(PROPERTY, _record(item))]
    return data


class _Vulnerabilities:
    def write(self, inventory: Inventory) -> Contribution:
        if not inventory.vulnerabilities:
            return Contribution()
        purls: dict[tuple[str, str | None], str] = {}
        for package in inventory.packages:
            purls.setdefault((package.key, package.version), package.purl)
        return Contribution(vulnerabilities=tuple(
            entry(item, purls.get((item.package, item.version))) for item in inventory.vulnerabilities))

    def owns(self, component: Json) -> bool:
        return False  # vulnerabilities are not components

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        return {"vulnerabilities": read(document)}


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
    """The vulnerabilities of a CycloneDX document (the JSON form; XML is converted first)."""
    entries = document.get("vulnerabilities") or []
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


SECTION = _Vulnerabilities()
