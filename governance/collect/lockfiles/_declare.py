"""Turning a lock entry into a Declaration, the same way for every format."""

from __future__ import annotations

import re

from governance.collect.declared import Declaration
from governance.model import Ecosystem, Hash, Provenance, Source

# conda packages (and the NVIDIA wheels) that make up the GPU stack: tagged so
# that the GPU rules find them without knowing every lockfile format.
_GPU_STACK_CONDA = {"cudatoolkit": "cudatoolkit", "cuda-version": "cuda-version",
                    "cuda-runtime": "cuda-runtime", "cuda-cudart": "cuda-runtime",
                    "cudnn": "cudnn", "pytorch-cuda": "pytorch-cuda"}
_GPU_STACK_WHEEL = re.compile(r"^nvidia-(cudnn|cuda-runtime)-cu\d+$")

GPU_STACK = "mlgov:gpu-stack"
DEFAULT_INDEXES = ("https://pypi.org/simple", "https://pypi.org/simple/", "https://pypi.python.org/simple")


def gpu_stack(name: str, ecosystem: Ecosystem) -> tuple[tuple[str, str], ...]:
    lowered = name.lower()
    if ecosystem == "conda" and lowered in _GPU_STACK_CONDA:
        return ((GPU_STACK, _GPU_STACK_CONDA[lowered]),)
    match = _GPU_STACK_WHEEL.match(lowered.replace("_", "-"))
    if ecosystem == "pypi" and match:
        return ((GPU_STACK, match.group(1)),)
    return ()


def wheel_local(files: list[str], markers: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The local version ("cpu", "cu118") every locked wheel for the scan's platform carries, as the
    WHEEL_LOCAL property; nothing when those wheels carry none or disagree.

    An installer offered both torch-2.0.1+cpu-...-linux_x86_64.whl and PyPI's
    torch-2.0.1-...-manylinux1_x86_64.whl takes 2.0.1+cpu: a local version sorts above its public one.
    """
    from governance.collect.frameworks import WHEEL_LOCAL

    system = markers.get("sys_platform", "linux")
    machine = markers.get("platform_machine", "x86_64").lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    locals_: set[str] = set()
    for name in files:
        parts = name[:-4].split("-") if name.endswith(".whl") else []
        if len(parts) < 5 or "+" not in parts[1]:
            continue
        platform = parts[-1].lower()
        fits = (system.startswith("linux") and "linux" in platform and arch in platform) or \
            (system == "win32" and platform.startswith("win") and ("amd64" in platform) == (arch == "x86_64")) or \
            (system == "darwin" and platform.startswith("macosx"))
        if fits:
            locals_.add(parts[1].split("+", 1)[1].lower())
    return ((WHEEL_LOCAL, locals_.pop()),) if len(locals_) == 1 else ()


def index_source(url: str | None) -> Source | None:
    """An index Source for anything but the default index (None means PyPI)."""
    if not url or url.rstrip("/") in {u.rstrip("/") for u in DEFAULT_INDEXES}:
        return None
    return Source(kind="index", url=url)


def locked(name: str, version: str | None, shown: str, line: int | None, *, hashes: tuple[Hash, ...] = (),
           markers: str | None = None, group: str | None = None, source: Source | None = None,
           requires: tuple[str, ...] = (), ecosystem: Ecosystem = "pypi",
           properties: tuple[tuple[str, str], ...] = (), kind: str = "lockfile",
           specifier: str | None = None, extras: tuple[str, ...] = (), applies: bool = True) -> Declaration:
    provenance = Provenance(
        file=shown, kind=kind, line=line,
        specifier=specifier if specifier is not None else (f"=={version}" if version else ""),
        markers=markers or None, hashes=hashes, extras=extras, group=group, source=source, applies=applies,
    )
    return Declaration(name=name, version=version, provenance=provenance, ecosystem=ecosystem,
                       requires=requires, properties=properties + gpu_stack(name, ecosystem))
