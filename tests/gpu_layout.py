"""Builders for GPU test layouts: a fake NVML, a site-packages, a system root.

Only NVML is faked (it cannot exist on a machine without a GPU); everything
else is real files in a temporary folder, laid out as on the real H100 host
of ../shared/real-hosts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pynvml

NVML_FUNCTIONS = (
    "nvmlInit", "nvmlShutdown", "nvmlSystemGetDriverVersion", "nvmlSystemGetNVMLVersion",
    "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion", "nvmlDeviceGetCount",
    "nvmlDeviceGetHandleByIndex", "nvmlDeviceGetName", "nvmlDeviceGetUUID", "nvmlDeviceGetMemoryInfo",
    "nvmlDeviceGetCudaComputeCapability", "nvmlDeviceGetMigMode", "nvmlDeviceGetCurrentEccMode",
    "nvmlDeviceGetVbiosVersion",
)


class FakeNvml:
    """pynvml's functions answered from a reading (nvml.json); `fail` maps a function to an NVML error code."""

    def __init__(self, reading: dict[str, Any], fail: dict[str, int] | None = None) -> None:
        self.reading = reading
        self.fail = fail or {}
        self.shutdowns = 0

    def install(self, monkeypatch: Any) -> None:
        for name in NVML_FUNCTIONS:
            monkeypatch.setattr(pynvml, name, self._answer(name))

    def _answer(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            if name in self.fail:
                raise pynvml.NVMLError(self.fail[name])
            return getattr(self, "_" + name)(*args)
        return call

    def _nvmlInit(self) -> None:
        return None

    def _nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def _nvmlSystemGetDriverVersion(self) -> str:
        return self.reading["driver"]

    def _nvmlSystemGetNVMLVersion(self) -> str:
        return self.reading["nvml"]

    def _nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return self.reading["cuda_driver_v2"]

    def _nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.reading["cuda_driver"]

    def _nvmlDeviceGetCount(self) -> int:
        return len(self.reading["gpus"])

    def _nvmlDeviceGetHandleByIndex(self, index: int) -> dict[str, Any]:
        return self.reading["gpus"][index]

    def _nvmlDeviceGetName(self, handle: dict[str, Any]) -> str:
        return handle["name"]

    def _nvmlDeviceGetUUID(self, handle: dict[str, Any]) -> str:
        return handle["uuid"]

    def _nvmlDeviceGetMemoryInfo(self, handle: dict[str, Any]) -> Any:
        class Memory:
            total = handle["mem"]
        return Memory()

    def _nvmlDeviceGetCudaComputeCapability(self, handle: dict[str, Any]) -> tuple[int, int]:
        return tuple(handle["cc"])  # type: ignore[return-value]

    def _nvmlDeviceGetMigMode(self, handle: dict[str, Any]) -> list[int]:
        return list(handle["mig"])

    def _nvmlDeviceGetCurrentEccMode(self, handle: dict[str, Any]) -> int:
        return handle["ecc"]

    def _nvmlDeviceGetVbiosVersion(self, handle: dict[str, Any]) -> str:
        return handle["vbios"]


def h100_reading(shared_dir: Path) -> dict[str, Any]:
    return json.loads((shared_dir / "real-hosts" / "h100-driver580-cuda13" / "nvml.json").read_text())


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def dist(site: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    write(folder / "METADATA", "\n".join(lines) + "\n\n")
    write(folder / "RECORD", "")


def venv(root: Path, python: str = "3.12") -> Path:
    """An empty virtual environment folder; returns its site-packages."""
    write(root / "pyvenv.cfg", f"home = /usr/bin\nversion_info = {python}.3\n")
    site = root / "lib" / f"python{python}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    return site


def cudnn_header(path: Path, major: int, minor: int, patch: int) -> Path:
    return write(path, f"#ifndef CUDNN_VERSION_H_\n#define CUDNN_MAJOR {major}\n#define CUDNN_MINOR {minor}\n"
                       f"#define CUDNN_PATCHLEVEL {patch}\n#define CUDNN_VERSION (CUDNN_MAJOR * 10000)\n#endif\n")


def torch_version_py(site: Path, version: str, cuda: str | None, hip: str | None = None) -> None:
    def literal(value: str | None) -> str:
        return "None" if value is None else repr(value)
    write(site / "torch" / "version.py",
          "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
          f"__version__ = '{version}'\ndebug = False\ncuda: Optional[str] = {literal(cuda)}\n"
          f"git_version = 'abc'\nhip: Optional[str] = {literal(hip)}\nxpu: Optional[str] = None\n")


def h100_site(site: Path) -> None:
    """The Python side of the real H100 host: torch 2.11.0 (+cu130 in version.py) and its nvidia wheels."""
    dist(site, "torch", "2.11.0", ("nvidia-cudnn-cu13==9.19.0.56; platform_system == 'Linux'",
                                   "nvidia-cuda-runtime==13.0.96; platform_system == 'Linux'"))
    torch_version_py(site, "2.11.0+cu130", "13.0")
    dist(site, "nvidia-cudnn-cu13", "9.19.0.56")
    cudnn_header(site / "nvidia" / "cudnn" / "include" / "cudnn_version.h", 9, 19, 0)
    write(site / "nvidia" / "cudnn" / "lib" / "libcudnn.so.9")
    dist(site, "nvidia-cuda-runtime", "13.0.96")
    write(site / "nvidia" / "cu13" / "lib" / "libcudart.so.13")


def h100_root(root: Path, nvcc: bool = False) -> Path:
    """The system side of the real H100 host: cuDNN 9.14.0 from the distribution, CUDA 13.0 toolkit."""
    lib = root / "usr" / "lib" / "x86_64-linux-gnu"
    write(lib / "libcudnn.so.9.14.0")
    os.symlink("libcudnn.so.9.14.0", lib / "libcudnn.so.9")
    cudnn_header(root / "usr" / "include" / "x86_64-linux-gnu" / "cudnn_version.h", 9, 14, 0)
    toolkit = root / "usr" / "local" / "cuda-13.0"
    write(toolkit / "lib64" / "libcudart.so.13.0.96")
    os.symlink("libcudart.so.13.0.96", toolkit / "lib64" / "libcudart.so.13")
    os.symlink("cuda-13.0", root / "usr" / "local" / "cuda")
    if nvcc:
        script = write(toolkit / "bin" / "nvcc", "#!/bin/sh\necho 'nvcc: NVIDIA (R) Cuda compiler driver'\n"
                                                 "echo 'Cuda compilation tools, release 13.0, V13.0.88'\n")
        script.chmod(0o755)
    return root


def profile(path: Path, driver: str | None, **extra: Any) -> Path:
    data: dict[str, Any] = {"format": "mlgov-host-profile", "version": 1,
                            "nvidia": {"driver_version": driver} if driver else None}
    data.update(extra)
    return write(path, json.dumps(data))
