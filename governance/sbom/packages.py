"""The project's packages in the SBOM, and back: library components and the dependency graph.

Whatever a policy rule needs travels with the component: purl, licence,
hashes, links, and `mlgov:` properties for what CycloneDX has no field for
(where each package was pinned, its installer and source). The Inventory's
own facts (what was read, what was noticed, the target) are metadata
properties. This section also reads the components no other section owns,
so an SBOM from another tool (cyclonedx-py, Syft) gives what it holds, with
no provenance, and the rules that need provenance say they cannot judge.
"""

from __future__ import annotations

import json
from typing import Any

from governance.model import Hash, Inventory, Package, Project
from governance.sbom import codec
from governance.sbom.sections import Contribution, Json, prop, uri

ROOT = "project"  # bom-ref of metadata.component
_HASH_ALGORITHMS = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "md5": "MD5",
                    "sha1": "SHA-1"}
_ALGORITHMS = {v: k for k, v in _HASH_ALGORITHMS.items()}
_URL_TYPES = {
    "homepage": "website", "home": "website", "source": "vcs", "source code": "vcs",
    "repository": "vcs", "code": "vcs", "github": "vcs", "documentation": "documentation",
    "docs": "documentation", "issues": "issue-tracker", "bug tracker": "issue-tracker",
    "tracker": "issue-tracker", "bug reports": "issue-tracker", "changelog": "release-notes",
    "release notes": "release-notes", "download": "distribution",
}


def component(package: Package, ref: str) -> Json:
    data: Json = {"type": "library", "bom-ref": ref, "name": package.name}
    if package.version:
        data["version"] = package.version
    if package.summary:
        data["description"] = package.summary
    hashes = [{"alg": _HASH_ALGORITHMS[h.algorithm], "content": h.value}
              for h in package.hashes if h.algorithm in _HASH_ALGORITHMS]
    if hashes:
        data["hashes"] = hashes
    if package.license_expression:
        data["licenses"] = [{"expression": package.license_expression}]
    elif package.license_text:
        data["licenses"] = [{"license": {"name": package.license_text}}]
    data["purl"] = ref
    if package.urls:
        data["externalReferences"] = [{"type": _URL_TYPES.get(label.lower(), "other"), "url": uri(url),
                                       "comment": label} for label, url in package.urls]
    properties = [prop(codec.PROVENANCE, codec.dumps(codec.provenance_to_dict(p))) for p in package.provenance]
    if package.installer:
        properties.append(prop(codec.INSTALLER, package.installer))
    if package.source:
        properties.append(prop(codec.SOURCE, codec.dumps(codec.source_to_dict(package.source))))
    properties.extend(prop(k, v) for k, v in package.properties)
    if properties:
        data["properties"] = properties
    return data


class _Packages:
    def write(self, inventory: Inventory) -> Contribution:
        packages = inventory.packages
        refs = _unique_refs(packages)
        components = tuple(component(p, r) for p, r in zip(packages, refs))
        first: dict[str, str] = {}
        for package, ref in zip(packages, refs):
            first.setdefault(package.key, ref)
        # The graph: root -> what the project asks for directly (or, with only an
        # environment, what nothing else requires); package -> its requirements.
        required = {name for p in packages for name in p.requires}
        declared = [any(pr.kind in ("requirements", "manifest") and pr.group != "constraints"
                        for pr in p.provenance) for p in packages]
        if any(declared):
            direct = [r for r, d in zip(refs, declared) if d]
        else:
            direct = [r for p, r in zip(packages, refs) if p.key not in required]
        if not direct:
            direct = list(refs)  # a dependency cycle covers everything: the root still needs edges
        from governance.sbom.containers import runtime_refs

        # The project also depends on the images its containers run on.
        dependencies: list[Json] = [_edge(ROOT, direct + runtime_refs(inventory))]
        for package, ref in zip(packages, refs):
            dependencies.append(_edge(ref, [first[name] for name in package.requires if name in first]))
        metadata = []
        if inventory.notes:
            metadata.append(prop(codec.NOTES, codec.dumps(list(inventory.notes))))
        if inventory.sources:
            metadata.append(prop(codec.SOURCES, codec.dumps(list(inventory.sources))))
        if inventory.target:
            metadata.append(prop(codec.TARGET, inventory.target))
        return Contribution(components=components, dependencies=tuple(dependencies), properties=tuple(metadata))

    def owns(self, component: Json) -> bool:
        return component.get("type", "library") in ("library", "framework", "application") \
            and _ecosystem(component.get("purl")) in ("pypi", "conda")

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        from packaging.utils import canonicalize_name

        metadata = document.get("metadata") or {}
        root = metadata.get("component") or {}
        meta = {str(p.get("name")): str(p.get("value", "")) for p in metadata.get("properties") or []}
        mine = [c for c in components if self.owns(c)]
        key_of: dict[str, str] = {}
        for c in mine:
            ref = c.get("bom-ref") or c.get("purl") or c["name"]
            key_of[ref] = canonicalize_name(c["name"]) if _ecosystem(c.get("purl")) == "pypi" else c["name"].lower()
        edges: dict[str, tuple[str, ...]] = {}
        for dependency in document.get("dependencies") or []:
            targets = [key_of[d] for d in (dependency.get("dependsOn") or []) if d in key_of]
            edges[dependency["ref"]] = tuple(sorted(set(targets)))
        packages = tuple(sorted(
            (_package(c, edges.get(c.get("bom-ref") or c.get("purl") or c["name"], ())) for c in mine),
            key=lambda p: (p.ecosystem, p.key, p.version or "")))
        return {
            "project": Project(name=root.get("name") or "unnamed", version=root.get("version") or None),
            "packages": packages,
            "sources": tuple(json.loads(meta[codec.SOURCES])) if codec.SOURCES in meta else (),
            "notes": tuple(json.loads(meta[codec.NOTES])) if codec.NOTES in meta else (),
            "target": meta.get(codec.TARGET),
        }


def _edge(ref: str, targets: list[str]) -> Json:
    return {"ref": ref, "dependsOn": targets} if targets else {"ref": ref}


def _unique_refs(packages: tuple[Package, ...]) -> list[str]:
    """Each package's purl as its bom-ref; a purl seen twice gets a suffix, as bom-refs must be unique."""
    seen: dict[str, int] = {}
    refs = []
    for package in packages:
        purl = package.purl
        count = seen.get(purl, 0)
        seen[purl] = count + 1
        refs.append(purl if count == 0 else f"{purl}#{count + 1}")
    return refs


def _ecosystem(purl: str | None) -> str:
    if not purl or not purl.startswith("pkg:"):
        return "generic"
    kind = purl[4:].split("/", 1)[0].lower()
    return kind if kind in ("pypi", "conda") else "generic"


def _package(component: Json, requires: tuple[str, ...]) -> Package:
    expression = None
    license_text = None
    for entry in component.get("licenses") or []:
        if "expression" in entry:
            expression = entry["expression"]
        elif isinstance(entry.get("license"), dict):
            lic = entry["license"]
            if lic.get("id"):
                expression = lic["id"] if expression is None else f"{expression} AND {lic['id']}"
            elif lic.get("name"):
                license_text = lic["name"]
    hashes = tuple(Hash(_ALGORITHMS[h["alg"]], h["content"]) for h in component.get("hashes") or []
                   if h.get("alg") in _ALGORITHMS)
    urls = tuple((ref.get("comment") or ref.get("type", "other"), ref["url"])
                 for ref in component.get("externalReferences") or [] if ref.get("url"))
    provenance = []
    installer = None
    source = None
    extra: list[tuple[str, str]] = []
    for p in component.get("properties") or []:
        key, value = str(p.get("name")), str(p.get("value", ""))
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


SECTION = _Packages()
