"""The hosts' GPU stacks in the SBOM, and back (a section: governance/sbom/sections.py).

Each host becomes components that CycloneDX consumers understand:
  the NVIDIA driver -> device-driver, pkg:generic/nvidia-driver@580.159.04
  each GPU          -> device
  a CUDA runtime    -> platform (pkg:pypi for a wheel, pkg:conda, else pkg:generic/cuda)
  a cuDNN copy      -> library  (pkg:pypi for a wheel, pkg:conda, else pkg:generic/cudnn)
with `mlgov:` properties for what CycloneDX has no field for (host, origin,
path, compute capability...). The metadata property `mlgov:hosts` keeps the
hosts' order and the reason a host has no driver, so that reading the SBOM
back gives the Inventory's hosts exactly and `mlgov check` judges the same
stack the scan did. Device-driver and platform exist from CycloneDX 1.5 on,
the oldest version mlgov writes.
"""

from __future__ import annotations

import json
from typing import Any

from governance.model import Gpu, GpuStack, Inventory, LibraryCopy
from governance.sbom import codec
from governance.sbom.sections import Contribution, Json, prop

HOSTS = codec.NS + "hosts"
HOST = codec.NS + "host"
KIND = codec.NS + "gpu-component"  # driver | gpu | cuda-runtime | cudnn
POSITION = codec.NS + "position"
_GPU_PROPS = {  # Gpu field -> property
    "uuid": "gpu-uuid", "compute_capability": "compute-capability", "memory_total_bytes": "memory-total-bytes",
    "mig_mode": "mig-mode", "ecc_mode": "ecc-mode", "vbios_version": "vbios-version",
}
_COPY_PROPS = {"origin": "origin", "path": "path", "detected_by": "detected-by", "package": "package"}


def _purl(copy: LibraryCopy, generic: str) -> str:
    from packageurl import PackageURL

    if copy.origin == "wheel" and copy.package:
        purl = PackageURL(type="pypi", name=copy.package.lower().replace("_", "-"), version=copy.version)
    elif copy.origin == "conda" and copy.package:
        purl = PackageURL(type="conda", name=copy.package.lower(), version=copy.version)
    else:
        purl = PackageURL(type="generic", name=generic, version=copy.version)
    return str(purl.to_string())


def _component(kind: str, ref: str, name: str, host: GpuStack, pairs: list[tuple[str, Any]],
               **fields: Any) -> Json:
    data: Json = {"type": fields.pop("type"), "bom-ref": ref}
    data.update((k, v) for k, v in fields.items() if v is not None)
    data["name"] = name
    found = [prop(HOST, host.name), prop(KIND, kind)]
    found.extend(prop(codec.NS + k, v) for k, v in pairs if v is not None)
    data["properties"] = found
    return data


class _Gpu:
    def write(self, inventory: Inventory) -> Contribution:
        """Every host's GPU stack as components, and the hosts' list as a metadata property."""
        if not inventory.hosts:
            return Contribution()
        listing = []
        components = []
        for number, host in enumerate(inventory.hosts):
            entry: dict[str, Any] = {"name": host.name}
            if host.no_driver_reason:
                entry["no_driver_reason"] = host.no_driver_reason
            listing.append(entry)
            ref = f"host:{number}"
            if host.driver_version is not None:
                components.append(_component(
                    "driver", f"{ref}:driver", "nvidia-driver", host,
                    [("cuda-driver-version", host.cuda_driver_version), ("nvml-version", host.nvml_version)],
                    type="device-driver", group="nvidia", version=host.driver_version,
                    purl=_generic("nvidia-driver", host.driver_version)))
            for position, gpu in enumerate(host.gpus):
                components.append(_component(
                    "gpu", f"{ref}:gpu:{position}", gpu.name, host,
                    [("position", position), ("gpu-index", gpu.index),
                     *((prop_name, getattr(gpu, field)) for field, prop_name in _GPU_PROPS.items())],
                    type="device", group="nvidia"))
            for kind, copies, component_type, generic in (
                    ("cuda-runtime", host.cuda_runtimes, "platform", "cuda"),
                    ("cudnn", host.cudnn, "library", "cudnn")):
                for position, copy in enumerate(copies):
                    components.append(_component(
                        kind, f"{ref}:{kind}:{position}", generic if not copy.package else copy.package, host,
                        [("position", position),
                         *((prop_name, getattr(copy, field)) for field, prop_name in _COPY_PROPS.items())],
                        type=component_type, version=copy.version, purl=_purl(copy, generic)))
        return Contribution(components=tuple(components), properties=(prop(HOSTS, codec.dumps(listing)),))

    def owns(self, component: Json) -> bool:
        return is_gpu_component(component)

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        return {"hosts": read(document, components)}


def _generic(name: str, version: str) -> str:
    from packageurl import PackageURL

    return str(PackageURL(type="generic", name=name, version=version).to_string())


def is_gpu_component(component: dict[str, Any]) -> bool:
    """True for the components add() writes, which are not the project's packages."""
    return any(p.get("name") == KIND for p in component.get("properties", []) or [])


def _props(component: dict[str, Any]) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("value", "")) for p in component.get("properties", []) or []}


def read(document: dict[str, Any], components: list[Json] | None = None) -> tuple[GpuStack, ...]:
    """The hosts an mlgov SBOM was judged against (none for another tool's SBOM)."""
    metadata = document.get("metadata") or {}
    meta = _props(metadata)
    if HOSTS not in meta:
        return ()
    listing = json.loads(meta[HOSTS])
    found: dict[str, dict[str, Any]] = {
        str(e["name"]): {"name": str(e["name"]), "no_driver_reason": e.get("no_driver_reason"),
                         "gpus": [], "cuda-runtime": [], "cudnn": []} for e in listing}
    for component in document.get("components", []) or [] if components is None else components:
        if not is_gpu_component(component):
            continue
        props = _props(component)
        host = found.get(props.get(HOST, ""))
        if host is None:
            continue
        kind = props[KIND]
        value = {k[len(codec.NS):]: v for k, v in props.items() if k.startswith(codec.NS)}
        if kind == "driver":
            host["driver_version"] = component.get("version")
            host["cuda_driver_version"] = value.get("cuda-driver-version")
            host["nvml_version"] = value.get("nvml-version")
        elif kind == "gpu":
            fields: dict[str, Any] = {f: value.get(p) for f, p in _GPU_PROPS.items()}
            if fields["memory_total_bytes"] is not None:
                fields["memory_total_bytes"] = int(fields["memory_total_bytes"])
            host["gpus"].append((int(value.get("position", 0)),
                                 Gpu(index=int(value["gpu-index"]), name=component["name"], **fields)))
        elif kind in ("cuda-runtime", "cudnn"):
            copy = LibraryCopy(version=component.get("version") or "", origin=value.get("origin", "system"),
                               path=value.get("path"), detected_by=value.get("detected-by"),
                               package=value.get("package"))
            host[kind].append((int(value.get("position", 0)), copy))
    stacks = []
    for host in found.values():
        stacks.append(GpuStack(
            name=host["name"], driver_version=host.get("driver_version"),
            cuda_driver_version=host.get("cuda_driver_version"), nvml_version=host.get("nvml_version"),
            gpus=tuple(g for _, g in sorted(host["gpus"], key=lambda pg: pg[0])),
            cuda_runtimes=tuple(c for _, c in sorted(host["cuda-runtime"], key=lambda pc: pc[0])),
            cudnn=tuple(c for _, c in sorted(host["cudnn"], key=lambda pc: pc[0])),
            no_driver_reason=host["no_driver_reason"]))
    return tuple(stacks)


SECTION = _Gpu()
