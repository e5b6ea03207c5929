"""The project's container images in the SBOM, and back, as plain CycloneDX dicts.

Each image is a `container` component: name = repository, version = tag (or
the digest when there is no tag), group = registry, purl = pkg:oci with a
digest and pkg:docker without one (governance.purl), the digest also as a
SHA-256 hash. `mlgov:` properties say where it was found and the stage it
feeds, in words a reader sees; one `mlgov:image` property holds the whole
record so that `mlgov check` reads back exactly the image the scan judged.
A section of the SBOM (governance/sbom/sections.py): components() and read()
work on the JSON shape, from which the XML is derived and into which it is read.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from governance.model import ContainerImage, Inventory
from governance.sbom import codec
from governance.sbom.sections import Contribution, Json

IMAGE = codec.NS + "image"
_SHOWN = (("file", "image-file"), ("line", "image-line"), ("kind", "image-kind"), ("stage", "stage"),
          ("service", "service"), ("platform", "platform"), ("runtime", "runtime-image"),
          ("unresolved", "unresolved"), ("cuda", "image-cuda"), ("cudnn", "image-cudnn"),
          ("framework", "image-framework"), ("framework_version", "image-framework-version"),
          ("require_cuda", "nvidia-require-cuda"), ("min_driver", "image-min-driver"),
          ("facts_source", "image-facts-source"))
_FIELDS = {f.name for f in dataclasses.fields(ContainerImage)}


def _record(image: ContainerImage) -> dict[str, Any]:
    """The image's fields that differ from the defaults (compact and stable)."""
    record: dict[str, Any] = {}
    for field in dataclasses.fields(ContainerImage):
        value = getattr(image, field.name)
        if field.default is dataclasses.MISSING or value != field.default:
            record[field.name] = value
    return record


def components(inventory: Inventory) -> list[dict[str, Any]]:
    """One CycloneDX component (JSON shape) per image, in the inventory's order."""
    found = []
    for position, image in enumerate(inventory.images):
        properties = [{"name": IMAGE, "value": codec.dumps({**_record(image), "position": position})}]
        for field, name in _SHOWN:
            value = getattr(image, field)
            if value is not None and value is not False:
                properties.append({"name": codec.NS + name, "value": str(value).lower() if value is True
                                   else str(value)})
        component: dict[str, Any] = {
            "type": "container",
            "bom-ref": f"image:{position}",
            "name": image.repository or image.written,
            "properties": properties,
        }
        version = image.tag or image.digest
        if version:
            component["version"] = version
        if image.registry:
            component["group"] = image.registry
        if image.purl:
            component["purl"] = image.purl
        if image.digest and image.digest.startswith("sha256:"):
            component["hashes"] = [{"alg": "SHA-256", "content": image.digest.split(":", 1)[1]}]
        found.append(component)
    return found


def runtime_refs(inventory: Inventory) -> list[str]:
    """bom-refs of the images the project's containers run on: the root component depends on them."""
    return [f"image:{position}" for position, image in enumerate(inventory.images) if image.runtime]


def is_image_component(component: dict[str, Any]) -> bool:
    return any(p.get("name") == IMAGE for p in component.get("properties", []) or [])


def read(document: dict[str, Any]) -> tuple[ContainerImage, ...]:
    """The images of an mlgov SBOM (none for another tool's SBOM, whose containers carry no record)."""
    found: list[tuple[int, ContainerImage]] = []
    for component in document.get("components", []) or []:
        for prop in component.get("properties", []) or []:
            if prop.get("name") != IMAGE:
                continue
            record = json.loads(prop.get("value") or "{}")
            position = int(record.pop("position", len(found)))
            unknown = set(record) - _FIELDS
            if unknown:
                raise ValueError(f"image record with unknown fields {sorted(unknown)}")
            found.append((position, ContainerImage(**record)))
    return tuple(image for _, image in sorted(found, key=lambda pair: pair[0]))


class _Containers:
    def write(self, inventory: Inventory) -> Contribution:
        return Contribution(components=tuple(components(inventory)))

    def owns(self, component: Json) -> bool:
        return is_image_component(component)

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        return {"images": read({"components": components})}


SECTION = _Containers()
