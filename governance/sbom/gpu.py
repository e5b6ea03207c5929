"""The hosts' GPU stacks in the SBOM, and back.

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

HOSTS = codec.NS + "hosts"
HOST = codec.NS + "host"
KIND = codec.NS + "gpu-component"  # driver | gpu | cuda-runtime | cudnn
POSITION = codec.NS + "position"
_GPU_PROPS = {  # Gpu field -> property
    "uuid": "gpu-uuid", "compute_capability": "compute-capability", "memory_total_bytes": "memory-total-bytes",
    "mig_mode": "mig-mode", "ecc_mode": "ecc-mode", "vbios_version": "vbios-version",
}
_COPY_PROPS = {"origin": "origin", "path": "path", "detected_by": "detected-by", "package": "package"}


def _purl(copy: LibraryCopy, generic: str) -> Any:
    from packageurl import PackageURL

    if copy.origin == "wheel" and copy.package:
        return PackageURL(type="pypi", name=copy.package.lower().replace("_", "-"), version=copy.version)
    if copy.origin == "conda" and copy.package:
        return PackageURL(type="conda", name=copy.package.lower(), version=copy.version)
    return PackageURL(type="generic", name=generic, version=copy.version)


def add(bom: Any, inventory: Inventory) -> None:
    """Add every host's GPU stack to a cyclonedx Bom."""
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    if not inventory.hosts:
        return
    listing = []
    for number, host in enumerate(inventory.hosts):
        entry: dict[str, Any] = {"name": host.name}
        if host.no_driver_reason:
            entry["no_driver_reason"] = host.no_driver_reason
        listing.append(entry)

        def props(kind: str, *pairs: tuple[str, Any]) -> list[Any]:
            found = [Property(name=HOST, value=host.name), Property(name=KIND, value=kind)]
            found.extend(Property(name=codec.NS + k, value=str(v)) for k, v in pairs if v is not None)
            return found

        ref = f"host:{number}"
        if host.driver_version is not None:
            bom.components.add(Component(
                type=ComponentType.DEVICE_DRIVER, name="nvidia-driver", version=host.driver_version,
                group="nvidia", purl=PackageURL(type="generic", name="nvidia-driver", version=host.driver_version),
                bom_ref=f"{ref}:driver",
                properties=props("driver", ("cuda-driver-version", host.cuda_driver_version),
                                 ("nvml-version", host.nvml_version))))
        for position, gpu in enumerate(host.gpus):
            bom.components.add(Component(
                type=ComponentType.DEVICE, name=gpu.name, group="nvidia", bom_ref=f"{ref}:gpu:{position}",
                properties=props("gpu", ("position", position), ("gpu-index", gpu.index),
                                 *((prop, getattr(gpu, field)) for field, prop in _GPU_PROPS.items()))))
        for kind, copies, component_type, generic in (
                ("cuda-runtime", host.cuda_runtimes, ComponentType.PLATFORM, "cuda"),
                ("cudnn", host.cudnn, ComponentType.LIBRARY, "cudnn")):
            for position, copy in enumerate(copies):
                bom.components.add(Component(
                    type=component_type, name=generic if not copy.package else copy.package,
                    version=copy.version, purl=_purl(copy, generic), bom_ref=f"{ref}:{kind}:{position}",
                    properties=props(kind, ("position", position),
                                     *((prop, getattr(copy, field)) for field, prop in _COPY_PROPS.items()))))
    bom.metadata.properties.add(Property(name=HOSTS, value=codec.dumps(listing)))


def is_gpu_component(component: dict[str, Any]) -> bool:
    """True for the components add() writes, which are not the project's packages."""
    return any(p.get("name") == KIND for p in component.get("properties", []) or [])


def _props(component: dict[str, Any]) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("value", "")) for p in component.get("properties", []) or []}


def read(document: dict[str, Any]) -> tuple[GpuStack, ...]:
    """The hosts an mlgov SBOM was judged against (none for another tool's SBOM)."""
    metadata = document.get("metadata") or {}
    meta = _props(metadata)
    if HOSTS not in meta:
        return ()
    listing = json.loads(meta[HOSTS])
    found: dict[str, dict[str, Any]] = {
        str(e["name"]): {"name": str(e["name"]), "no_driver_reason": e.get("no_driver_reason"),
                         "gpus": [], "cuda-runtime": [], "cudnn": []} for e in listing}
    for component in document.get("components", []) or []:
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
