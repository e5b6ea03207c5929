"""The GPU stack of the host mlgov runs on: NVML, every CUDA runtime and cuDNN copy.

This is the one place that loads native code: NVML (through nvidia-ml-py,
imported lazily here and nowhere else) and, on the live host only, the CUDA
and cuDNN libraries found on it, to ask for their versions. Files of a scanned
project are never loaded. The filesystem root is a parameter so that a
host's layout can be read from a copy of it (tests build one in a temporary
folder).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from governance.frozen import frozen
from governance.model import Gpu, GpuStack, LibraryCopy

LIVE = "<live probe>"

_SYSTEM_LIB_DIRS = ("usr/lib/*-linux-gnu", "usr/lib64", "usr/lib", "usr/local/lib",
                    "usr/local/cuda*/lib64", "usr/local/cuda*/targets/*/lib")
_SYSTEM_INCLUDE_DIRS = ("usr/include", "usr/include/*-linux-gnu", "usr/local/cuda*/include",
                        "usr/local/cuda*/targets/*/include")
_CONDA_CUDNN = ("cudnn",)
_CONDA_CUDART = ("cuda-cudart", "cudatoolkit")
_MAX_SMALL_FILE = 1024 * 1024


# ---- NVML -----------------------------------------------------------------

@frozen
class NvidiaReading:
    """What NVML reported: the driver, the CUDA version it supports, and the GPUs."""
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    nvml_version: str | None = None
    gpus: tuple[Gpu, ...] = ()


@dataclass
class NvmlResult:
    """An NVML reading, or why there is none."""
    reading: NvidiaReading | None
    reason: str | None = None  # why reading is None
    skipped: list[str] = field(default_factory=list)  # fields NVML would not give


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def decode_cuda_version(value: int) -> str:
    """NVML's CUDA driver version: 13000 -> "13.0", 12040 -> "12.4"."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def read_nvml() -> NvmlResult:
    """Ask NVML for the driver and every GPU; never raises for a missing or odd driver."""
    from governance.collect.nvml_library import NO_LIBRARY, NOT_INSTALLED, missing

    reason = missing()  # before importing pynvml (~0.02 s): most machines have no driver
    if reason is not None:
        return NvmlResult(None, reason)
    try:
        import pynvml
    except ImportError:
        return NvmlResult(None, NOT_INSTALLED)
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        return NvmlResult(None, NO_LIBRARY)
    except pynvml.NVMLError_DriverNotLoaded:
        return NvmlResult(None, "the NVIDIA driver is installed but not loaded (no kernel module)")
    except pynvml.NVMLError_NoPermission:
        return NvmlResult(None, "no permission to talk to the NVIDIA driver (check access to /dev/nvidia*)")
    except pynvml.NVMLError as exc:
        return NvmlResult(None, f"NVML could not start: {exc}")
    result = NvmlResult(None)

    def ask(label: str, function: Callable[..., Any], *args: Any) -> Any:
        # A field NVML does not support (ECC, MIG on consumer boards), lacks
        # (an older driver) or may not show us is left out, not fatal.
        try:
            return function(*args)
        except pynvml.NVMLError as exc:
            result.skipped.append(f"{label}: {exc}")
            return None

    try:
        driver = ask("driver version", pynvml.nvmlSystemGetDriverVersion)
        nvml_version = ask("NVML version", pynvml.nvmlSystemGetNVMLVersion)
        # _v2 asks libcuda itself; v1 may answer a "known supported" number without it.
        getter = getattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2", None) or pynvml.nvmlSystemGetCudaDriverVersion
        cuda = ask("CUDA driver version", getter)
        count = ask("device count", pynvml.nvmlDeviceGetCount) or 0
        gpus = []
        for index in range(int(count)):
            handle = ask(f"GPU {index}", pynvml.nvmlDeviceGetHandleByIndex, index)
            if handle is None:
                continue
            name = ask(f"GPU {index} name", pynvml.nvmlDeviceGetName, handle)
            uuid = ask(f"GPU {index} UUID", pynvml.nvmlDeviceGetUUID, handle)
            capability = ask(f"GPU {index} compute capability", pynvml.nvmlDeviceGetCudaComputeCapability, handle)
            memory = ask(f"GPU {index} memory", pynvml.nvmlDeviceGetMemoryInfo, handle)
            mig = ask(f"GPU {index} MIG mode", pynvml.nvmlDeviceGetMigMode, handle)
            ecc = ask(f"GPU {index} ECC mode", pynvml.nvmlDeviceGetCurrentEccMode, handle)
            vbios = ask(f"GPU {index} VBIOS", pynvml.nvmlDeviceGetVbiosVersion, handle)
            gpus.append(Gpu(
                index=index, name=_text(name) if name is not None else f"GPU {index}",
                uuid=_text(uuid) if uuid is not None else None,
                compute_capability=f"{capability[0]}.{capability[1]}" if capability is not None else None,
                memory_total_bytes=int(memory.total) if memory is not None else None,
                mig_mode=("enabled" if int(mig[0]) else "disabled") if mig is not None else None,
                ecc_mode=("enabled" if int(ecc) else "disabled") if ecc is not None else None,
                vbios_version=_text(vbios) if vbios is not None else None,
            ))
        result.reading = NvidiaReading(
            driver_version=_text(driver) if driver is not None else None,
            cuda_driver_version=decode_cuda_version(int(cuda)) if cuda else None,
            nvml_version=_text(nvml_version) if nvml_version is not None else None,
            gpus=tuple(gpus),
        )
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
    return result


# ---- files and libraries ----------------------------------------------------

def _glob(root: Path, patterns: Sequence[str]) -> list[Path]:
    found: dict[Path, None] = {}
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            found.setdefault(path, None)
    return list(found)


def _read_small(path: Path, within: Path = Path("/")) -> str | None:
    """A small file of this host (or, with `within`, of a scanned environment); None when
    absent or too big. Opened without blocking and checked on the handle: a FIFO is
    not waited on, and a scanned environment's file may not link out of it."""
    from governance.errors import InputError
    from governance.inputs import read_input_bytes

    try:
        if not path.is_file() or path.stat().st_size > _MAX_SMALL_FILE:
            return None
    except OSError:
        return None
    try:
        return read_input_bytes(path, "file", _MAX_SMALL_FILE, within=(within,)).decode("utf-8", errors="replace")
    except InputError:
        if within == Path("/"):
            return None  # a host file that cannot be read is one the probe does without
        raise


def cudnn_header_version(text: str) -> str | None:
    values = {}
    for key in ("MAJOR", "MINOR", "PATCHLEVEL"):
        match = re.search(rf"^\s*#\s*define\s+CUDNN_{key}\s+(\d+)", text, re.MULTILINE)
        if match is None:
            return None
        values[key] = match.group(1)
    return f"{values['MAJOR']}.{values['MINOR']}.{values['PATCHLEVEL']}"


def decode_cudnn_version(value: int) -> str:
    """cudnnGetVersion(): 91400 -> 9.14.0 (cuDNN 9); 8907 -> 8.9.7 (cuDNN 7 and 8)."""
    if value >= 90000:
        return f"{value // 10000}.{(value % 10000) // 100}.{value % 100}"
    return f"{value // 1000}.{(value % 1000) // 100}.{value % 100}"


def decode_cudart_version(value: int) -> str:
    """cudaRuntimeGetVersion(): 12040 -> 12.4."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def _soname_version(path: Path, stem: str) -> str | None:
    """libcudnn.so.9.14.0 -> 9.14.0; libcudnn.so.9 -> 9."""
    name = path.name
    prefix = f"{stem}.so."
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix):]
    return rest if re.fullmatch(r"\d+(\.\d+)*", rest) else None


def _library_version(path: Path, symbol: str, decode: Callable[[int], str]) -> str | None:
    """Load one library of the live host and ask it its version."""
    import ctypes

    try:
        library = ctypes.CDLL(str(path))
        function = getattr(library, symbol)
        if symbol == "cudnnGetVersion":
            function.restype = ctypes.c_size_t
            return decode(int(function()))
        out = ctypes.c_int(0)
        if function(ctypes.byref(out)) != 0:
            return None
        return decode(out.value)
    except (OSError, AttributeError):
        return None


@dataclass
class _Found:
    """A CUDA or cuDNN library copy found on disk, before copies of one version are merged."""
    version: str
    path: str | None
    methods: list[str]
    package: str | None = None


def _merge_by_version(found: list[_Found], origin: str) -> list[LibraryCopy]:
    by_version: dict[str, _Found] = {}
    for item in found:
        current = by_version.get(item.version)
        if current is None:
            by_version[item.version] = _Found(item.version, item.path, list(item.methods), item.package)
        else:
            current.methods.extend(m for m in item.methods if m not in current.methods)
            if current.path is None:
                current.path = item.path
    return [LibraryCopy(version=f.version, origin=origin, path=f.path, detected_by=", ".join(f.methods),
                        package=f.package) for f in by_version.values()]


def _shown(root: Path, path: Path) -> str:
    """A path as it is on the probed host, whatever folder holds its copy."""
    try:
        return "/" + path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def system_cudnn(root: Path, load_libraries: bool) -> list[LibraryCopy]:
    found: list[_Found] = []
    for folder in _glob(root, _SYSTEM_LIB_DIRS):
        for library in sorted(folder.glob("libcudnn.so.*")):
            if library.is_symlink() or not library.is_file():
                continue  # libcudnn.so.9 -> libcudnn.so.9.14.0: one copy, named by its file
            version = _soname_version(library, "libcudnn")
            method = "libcudnn soname"
            if load_libraries and (version is None or "." not in version):
                loaded = _library_version(library, "cudnnGetVersion", decode_cudnn_version)
                if loaded is not None:
                    version, method = loaded, "cudnnGetVersion"
            if version:
                found.append(_Found(version, _shown(root, library), [method]))
    for folder in _glob(root, _SYSTEM_INCLUDE_DIRS):
        for header in ("cudnn_version.h", "cudnn.h"):
            text = _read_small(folder / header)
            version = cudnn_header_version(text) if text else None
            if version:
                found.append(_Found(version, _shown(root, folder / header), [header]))
                break  # cuDNN >= 8 keeps the version in cudnn_version.h; cudnn.h only for 7
    return _merge_by_version(found, "system")


def _nvcc_version(nvcc: Path, root: Path) -> str | None:
    try:
        result = subprocess.run([str(nvcc), "--version"], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"release \d+\.\d+, V(\d+(?:\.\d+)+)", result.stdout)
    return match.group(1) if match else None


def _toolkit_version(folder: Path, root: Path, load_libraries: bool, run_tools: bool) -> _Found | None:
    methods: list[str] = []
    versions: list[str] = []
    # The runtime a program loads is libcudart, so its version comes first;
    # nvcc (the compiler) and the version files describe the toolkit.
    for lib_dir in ("lib64", "lib", "targets/x86_64-linux/lib", "targets/sbsa-linux/lib"):
        for library in sorted((folder / lib_dir).glob("libcudart.so.*")):
            if library.is_symlink():
                continue
            version = _soname_version(library, "libcudart")
            method = "libcudart soname"
            if version and version.count(".") < 2 and load_libraries:
                loaded = _library_version(library, "cudaRuntimeGetVersion", decode_cudart_version)
                if loaded is not None:
                    version, method = loaded, "cudaRuntimeGetVersion"
            if version:
                versions.append(version)
                methods.append(method)
                break
        if versions:
            break
    text = _read_small(folder / "version.json")
    if text:
        try:
            data = json.loads(text)
            version = str(data["cuda"]["version"])
            versions.append(version)
            methods.append("version.json")
        except (ValueError, KeyError, TypeError):
            pass
    text = _read_small(folder / "version.txt")
    if text:
        match = re.search(r"CUDA Version (\d+(?:\.\d+)+)", text)
        if match:
            versions.append(match.group(1))
            methods.append("version.txt")
    nvcc = folder / "bin" / "nvcc"
    if run_tools and nvcc.is_file() and os.access(nvcc, os.X_OK):
        version = _nvcc_version(nvcc, root)
        if version:
            versions.append(version)
            methods.append("nvcc --version")
    if not versions:
        return None
    # The most precise answer wins (cudaRuntimeGetVersion says "13.0", nvcc "13.0.88");
    # on a tie, the runtime's own.
    best = max(range(len(versions)), key=lambda i: (versions[i].count("."), -i))
    return _Found(versions[best], _shown(root, folder), methods)


def system_cuda_runtimes(root: Path, load_libraries: bool, run_tools: bool) -> list[LibraryCopy]:
    found: list[_Found] = []
    seen: set[Path] = set()
    for folder in _glob(root, ("usr/local/cuda", "usr/local/cuda-*", "opt/cuda")):
        real = folder.resolve()
        if real in seen or not folder.is_dir():
            continue  # /usr/local/cuda is usually a link to /usr/local/cuda-X.Y
        seen.add(real)
        item = _toolkit_version(folder if not folder.is_symlink() else real, root, load_libraries, run_tools)
        if item is not None:
            found.append(item)
    # Distribution packages (Debian's nvidia-cuda-toolkit) put libcudart in the multiarch folder.
    for folder in _glob(root, ("usr/lib/*-linux-gnu", "usr/lib64")):
        for library in sorted(folder.glob("libcudart.so.*")):
            version = _soname_version(library, "libcudart")
            if version and not library.is_symlink():
                found.append(_Found(version, _shown(root, library), ["libcudart soname"]))
    # One copy per toolkit folder: nvcc (13.0.88) and libcudart (13.0.96) of one
    # toolkit carry different numbers, and are not two copies.
    return [LibraryCopy(version=f.version, origin="system", path=f.path, detected_by=", ".join(f.methods))
            for f in found]


_WHEELS = {
    "cudnn": (re.compile(r"^nvidia[-_.]cudnn(?:[-_.]cu\d+)?$"), ("nvidia/cudnn/lib",)),
    "cuda_runtime": (re.compile(r"^nvidia[-_.]cuda[-_.]runtime(?:[-_.]cu\d+)?$"),
                     ("nvidia/cuda_runtime/lib", "nvidia/cu13/lib")),
}


def wheel_copies(site_packages: Sequence[Path], kind: str) -> list[LibraryCopy]:
    """nvidia-cudnn-cu12 / nvidia-cuda-runtime-cu12 (and the cu13-era names) in site-packages."""
    from governance.collect.environment import parse_metadata

    pattern, lib_dirs = _WHEELS[kind]
    copies: list[LibraryCopy] = []
    for site in site_packages:
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info") or not entry.lower().startswith("nvidia"):
                continue
            text = _read_small(site / entry / "METADATA", site)
            if not text:
                continue
            headers, _ = parse_metadata(text)
            name = (headers.get("name") or [""])[0]
            version = (headers.get("version") or [""])[0]
            if not pattern.match(name.lower()) or not version:
                continue
            lib = next((site / d for d in lib_dirs if (site / d).is_dir()), None)
            copies.append(LibraryCopy(version=version, origin="wheel", path=str(lib) if lib else str(site / entry),
                                      detected_by="dist-info", package=name))
    return copies


def conda_copies(prefixes: Sequence[Path], names: Sequence[str]) -> list[LibraryCopy]:
    copies: list[LibraryCopy] = []
    for prefix in prefixes:
        meta = prefix / "conda-meta"
        if not meta.is_dir():
            continue
        for record in sorted(meta.glob("*.json")):
            if not any(record.name.startswith(f"{name}-") for name in names):
                continue
            text = _read_small(record, prefix)
            try:
                data = json.loads(text) if text else None
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("name") in names and isinstance(data.get("version"), str):
                copies.append(LibraryCopy(version=data["version"], origin="conda", path=str(prefix),
                                          detected_by="conda-meta", package=data["name"]))
    return copies


def _conda_prefixes(site_packages: Sequence[Path], environ: Mapping[str, str]) -> list[Path]:
    prefixes: dict[Path, None] = {}
    for site in site_packages:
        # prefix/lib/python3.X/site-packages (Linux) or prefix/Lib/site-packages (Windows)
        for candidate in (site.parent.parent.parent, site.parent.parent):
            if (candidate / "conda-meta").is_dir():
                prefixes.setdefault(candidate, None)
    if environ.get("CONDA_PREFIX"):
        prefixes.setdefault(Path(environ["CONDA_PREFIX"]), None)
    return list(prefixes)


def probe(root: Path = Path("/"), site_packages: Sequence[Path] = (), name: str | None = None,
          load_libraries: bool | None = None, run_tools: bool | None = None,
          environ: Mapping[str, str] | None = None, nvml: Callable[[], NvmlResult] = read_nvml) -> GpuStack:
    """The GPU stack of the host at `root`, with the copies in the given site-packages.

    Libraries are loaded and nvcc run only when `root` is the live system
    (the default), never for a layout copied into a folder.
    """
    live = root == Path("/")
    load_libraries = live if load_libraries is None else load_libraries
    run_tools = live if run_tools is None else run_tools
    environ = os.environ if environ is None else environ
    result = nvml()
    prefixes = _conda_prefixes(site_packages, environ)
    runtimes = (system_cuda_runtimes(root, load_libraries, run_tools) + wheel_copies(site_packages, "cuda_runtime")
                + conda_copies(prefixes, _CONDA_CUDART))
    cudnn = system_cudnn(root, load_libraries) + wheel_copies(site_packages, "cudnn") \
        + conda_copies(prefixes, _CONDA_CUDNN)
    host = name or (socket.gethostname() if live else LIVE) or LIVE
    reading = result.reading
    if reading is None or reading.driver_version is None:
        return GpuStack(name=host, no_driver_reason=result.reason or "NVML gave no driver version",
                        cuda_runtimes=tuple(runtimes), cudnn=tuple(cudnn))
    return GpuStack(name=host, driver_version=reading.driver_version,
                    cuda_driver_version=reading.cuda_driver_version, nvml_version=reading.nvml_version,
                    gpus=reading.gpus, cuda_runtimes=tuple(runtimes), cudnn=tuple(cudnn))


def scanned_site_packages(python: Path | None, project: Path | None = None) -> tuple[Path, ...]:
    """The site-packages a probe looks in: the given environment, else the running interpreter's.

    `project` is the folder whose files may be hostile (the current one for
    `mlgov probe`): an interpreter inside it is never run.
    """
    if python is not None:
        from governance.collect.environment import locate

        return locate(python, project).site_packages
    import sysconfig

    paths = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    return tuple(sorted(Path(p) for p in paths if p and Path(p).is_dir()))


def hosts_for_scan(profiles: Sequence[Path], site_packages: Sequence[Path] = ()) -> tuple[GpuStack, ...]:
    """The hosts a scan is judged against: the profiles given, else this machine when NVML works."""
    if profiles:
        from governance.hostprofile import read_profile

        return tuple(read_profile(path) for path in profiles)
    reading = read_nvml()
    if reading.reading is None or reading.reading.driver_version is None:
        return ()  # not a GPU machine: no file search, the scan stays fast
    return (probe(site_packages=site_packages, nvml=lambda: reading),)
