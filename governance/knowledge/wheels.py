"""What a framework wheel says about its own build, parsed from the wheel's files.

Pure functions over text and bytes: used by the maintainer script that reads the
wheels on PyPI (scripts/refresh_knowledge.py), by the knowledge test that proves
every row against the recorded wheel facts, and by collect.frameworks for the
same files in an installed environment. Nothing here imports or runs the files.
"""

from __future__ import annotations

import ast
import re
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from governance.frozen import frozen


def requires_dist(metadata: str) -> list[str]:
    """The Requires-Dist values of a core metadata file (METADATA or the PEP 658 .metadata)."""
    found: list[str] = []
    for line in metadata.splitlines():
        if not line.strip():
            break  # the headers end at the first empty line; the description follows
        if line.lower().startswith("requires-dist:"):
            found.append(line.split(":", 1)[1].strip())
    return found


def _is_gpu_requirement(name: str) -> bool:
    return name.startswith(("nvidia-", "cuda-", "jax-cuda", "jaxlib"))


def gpu_requirements(requirements: Iterable[str]) -> list[str]:
    """Only the lines that tell a build: nvidia-*, cuda-toolkit, the jax CUDA plugins."""
    kept = []
    for line in requirements:
        match = re.match(r"\s*([A-Za-z0-9._-]+)", line)
        if match and _is_gpu_requirement(canonicalize_name(match.group(1))):
            kept.append(line)
    return kept


@frozen
class Pin:
    """A requirement a wheel's metadata states on an NVIDIA library wheel."""
    name: str  # canonical
    specifier: str  # "==9.5.1.17", ">=9.1,<10"
    extra: str | None  # the extra that brings it ("and-cuda", "with-cuda"), None when unconditional
    marker: str | None


def pins(requirements: Iterable[str]) -> list[Pin]:
    found = []
    for line in requirements:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        marker = str(req.marker) if req.marker else None
        extra = None
        if marker:
            match = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            extra = canonicalize_name(match.group(1)) if match else None
        found.append(Pin(canonicalize_name(req.name), str(req.specifier), extra, marker))
    return found


def exact(specifier: str) -> str | None:
    """'==9.5.1.17' -> '9.5.1.17'; anything else (a range, '==12.6.*') -> None."""
    match = re.fullmatch(r"==\s*([0-9][0-9A-Za-z.]*)", specifier.strip())
    return match.group(1) if match and not match.group(1).endswith(".") else None


def lower_bound(specifier: str) -> str | None:
    """The version a specifier starts at: '>=9.1,<10' -> '9.1'; '==12.8.*' -> '12.8'; '==9.1.0.70' -> '9.1.0.70'."""
    for part in specifier.split(","):
        part = part.strip()
        match = re.fullmatch(r"(?:>=|==|~=)\s*([0-9][0-9.]*?)(?:\.\*)?", part)
        if match:
            return match.group(1)
    return None


def python_assignments(text: str) -> dict[str, Any]:
    """Top-level `name = <literal>` assignments of a Python file, read without running it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                literal = _literal(value)
                if literal is not _NOT_LITERAL:
                    found[target.id] = literal
    return found


_NOT_LITERAL = object()


def _literal(node: ast.expr) -> Any:
    """A literal, or the literal inside `OrderedDict([...])` / `dict(...)`: TensorFlow's
    build_info.py writes `build_info = collections.OrderedDict([('is_cuda_build', True), ...])`."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.Call) and len(node.args) <= 1 and not node.keywords:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("OrderedDict", "dict"):
            if not node.args:
                return {}
            try:
                inner = ast.literal_eval(node.args[0])
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return _NOT_LITERAL
            try:
                return dict(inner)
            except (TypeError, ValueError):
                return _NOT_LITERAL
    return _NOT_LITERAL


# TensorFlow 2.0 to 2.2 (and tensorflow-gpu of those releases) write module-level names instead of a
# build_info mapping: `is_cuda_build = True`, `cuda_version_number = '10.1'`, `cudnn_version_number = '7'`,
# on Windows also `cudart_dll_name = 'cudart64_101.dll'`. Read as the mapping's keys.
_OLD_BUILD_INFO_NAMES = {"is_cuda_build": "is_cuda_build", "is_rocm_build": "is_rocm_build",
                         "cuda_version_number": "cuda_version", "cudnn_version_number": "cudnn_version",
                         "cudart_dll_name": "cudart_dll_name", "cudnn_dll_name": "cudnn_dll_name"}
TENSORFLOW_BUILD_INFO = ("tensorflow/python/platform/build_info.py",
                         "tensorflow_core/python/platform/build_info.py")  # 2.0 and 2.1: tensorflow_core
TENSORFLOW_CUDA_CONFIG = "local_config_cuda/cuda/cuda/cuda_config.h"  # the end of its path inside the wheel


def tensorflow_build_info(text: str) -> dict[str, Any] | None:
    """TensorFlow's tensorflow/python/platform/build_info.py -> its build_info mapping (the module-level
    names of 2.0-2.2 mapped to the same keys)."""
    found = python_assignments(text)
    info = found.get("build_info")
    if isinstance(info, dict):
        return info
    if isinstance(found.get("is_cuda_build"), bool):
        return {key: found[name] for name, key in _OLD_BUILD_INFO_NAMES.items() if name in found}
    return None


def cuda_config_defines(text: str) -> dict[str, str]:
    """TensorFlow's bundled cuda_config.h (`#define TF_CUDA_VERSION "10.1"`) -> {'TF_CUDA_VERSION': '10.1'}."""
    return dict(re.findall(r'^#define\s+(TF_\w+)\s+"([^"]*)"', text, re.MULTILINE))


def tensorflow_cuda(info: Mapping[str, Any], cuda_config: str | None = None) -> tuple[str | None, str | None]:
    """(CUDA, cuDNN) of a CUDA build_info, as precisely as the wheel's files say.

    Linux 2.0 and 2.2 write `cuda_version_number = '10'` (the major only); the cuda_config.h shipped in
    the same wheel says `TF_CUDA_VERSION "10.1"`, used when its major agrees. Windows 2.3-2.10 write
    `'cuda_version': '64_110'` / `'cudnn_version': '64_8'` (the DLL suffixes): read as 11.0 / 8, the
    CUDA from `cudart_dll_name` ('cudart64_110.dll') where it is written.
    """
    cuda = str(info.get("cuda_version") or "") or None
    cudnn = str(info.get("cudnn_version") or "") or None
    if cudnn and (match := re.fullmatch(r"64_(\d+)", cudnn)):
        cudnn = match.group(1)
    if cuda and re.fullmatch(r"64_\d+", cuda):
        dll = dll_major([str(info.get("cudart_dll_name") or "")], "cudart64")
        digits = cuda[3:]
        cuda = f"{digits[:-1]}.{digits[-1]}" if len(digits) >= 3 else (dll or digits)
    if cuda and "." not in cuda and cuda_config:
        configured = cuda_config_defines(cuda_config).get("TF_CUDA_VERSION", "")
        if configured.split(".")[0] == cuda:
            cuda = configured
    return cuda, cudnn


def soname_major(names: Iterable[str], library: str) -> str | None:
    """('libcudart.so.12', ...) , 'libcudart' -> '12'."""
    for name in names:
        match = re.fullmatch(re.escape(library) + r"\.so\.(\d+)(?:\.\d+)*", name)
        if match:
            return match.group(1)
    return None


def cu_tag(tag: str) -> str | None:
    """'cu124' -> '12.4', 'cu118' -> '11.8', 'cu130' -> '13.0'; jaxlib's 'cuda111' -> '11.1'."""
    match = re.fullmatch(r"cu(?:da)?(\d+)(\d)", tag)
    return f"{match.group(1)}.{match.group(2)}" if match else None


# -- What one recorded wheel says (the test and the maintainer script share these) --

@frozen
class WheelBuild:
    """The build one wheel is: 'cuda' with its CUDA and cuDNN, or 'cpu'."""

    build: str
    cuda: str | None = None  # "12.6" (or "12" when only the major is known)
    cudnn: str | None = None  # the exact pinned cuDNN ("9.5.1.17"), or the lowest allowed
    cudnn_major: str | None = None


UNKNOWN = WheelBuild("unknown")


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _pin_version(found: list[Pin], pattern: str) -> tuple[Pin, str] | None:
    for pin in found:
        if re.fullmatch(pattern, pin.name):
            version = exact(pin.specifier) or lower_bound(pin.specifier)
            if version:
                return pin, version
    return None


def bundled_cudnn_major(members: Iterable[str]) -> str | None:
    """The cuDNN major of the libraries a wheel bundles, from their names in its zip directory:
    'torch/lib/libcudnn.so.8', 'torch/lib/libcudnn_ops_infer.so.8', 'torch/lib/cudnn64_8.dll' -> '8'."""
    for member in members:
        name = member.rsplit("/", 1)[-1]
        match = re.fullmatch(r"libcudnn(?:_[a-z_]+)?(?:-[0-9a-f]{8})?\.so\.(\d+)(?:\.\d+)*", name) or \
            re.fullmatch(r"cudnn(?:_[a-z_]+)?64_(\d+)\.dll", name, re.IGNORECASE)
        if match:
            return match.group(1)
    return None


def torch_wheel(record: Mapping[str, Any]) -> WheelBuild:
    """torch: torch/version.py's `cuda` says the build; the nvidia-cudnn pin says the cuDNN, else the
    cuDNN libraries the wheel bundles say its major (none bundled: cuDNN linked in, not said)."""
    text = record.get("files", {}).get("torch/version.py")
    if text is None:
        return UNKNOWN
    version_py = python_assignments(text)
    cuda = version_py.get("cuda")
    if not isinstance(cuda, str):
        return WheelBuild("rocm" if isinstance(version_py.get("hip"), str) else "cpu")
    found = pins(record.get("requires_dist", []))
    cudnn = _pin_version(found, r"nvidia-cudnn(-cu\d+)?")
    if cudnn is None:
        return WheelBuild("cuda", _major_minor(cuda), None, bundled_cudnn_major(record.get("libraries", [])))
    return WheelBuild("cuda", _major_minor(cuda), cudnn[1], cudnn[1].split(".")[0])


def tensorflow_wheel(record: Mapping[str, Any]) -> WheelBuild:
    """tensorflow / tensorflow-gpu: build_info.py (either form), with cuda_config.h for a major-only CUDA."""
    files = record.get("files", {})
    text = next((files[name] for name in TENSORFLOW_BUILD_INFO if name in files), None)
    info = tensorflow_build_info(text) if text is not None else None
    if info is None:
        return UNKNOWN
    if info.get("is_cuda_build") is not True:
        return WheelBuild("rocm" if info.get("is_rocm_build") is True else "cpu")
    config = next((value for name, value in files.items() if name.endswith(TENSORFLOW_CUDA_CONFIG)), None)
    cuda, cudnn = tensorflow_cuda(info, config)
    return WheelBuild("cuda", _major_minor(cuda) if cuda else None, cudnn, cudnn.split(".")[0] if cudnn else None)


def jax_plugin_wheel(record: Mapping[str, Any], jax: Mapping[str, Any] | None = None) -> WheelBuild:
    """jax-cudaNN-plugin / -pjrt: the CUDA major in the name; cuDNN from the plugin's with-cuda pins,
    else from the same jax release's cudaNN extra (where 0.4.x kept its nvidia-cudnn pin)."""
    match = re.search(r"cuda(\d+)", str(record["project"]))
    found = pins(record.get("requires_dist", []))
    cudnn = _pin_version(found, r"nvidia-cudnn(-cu\d+)?")
    if cudnn is None and jax is not None and match:
        extras = {f"cuda{match.group(1)}", f"cuda{match.group(1)}-pip"}
        cudnn = _pin_version([p for p in pins(jax.get("requires_dist", [])) if p.extra in extras],
                             r"nvidia-cudnn(-cu\d+)?")
    return WheelBuild("cuda", match.group(1) if match else None, cudnn[1] if cudnn else None,
                      cudnn[1].split(".")[0] if cudnn else None)


def onnxruntime_wheel(record: Mapping[str, Any]) -> WheelBuild:
    """onnxruntime-gpu: the provider libraries' sonames (Linux) or DLL imports (Windows) say the CUDA and
    cuDNN majors they load;
    capi/build_and_package_info.py says the exact CUDA (and cuDNN where it is written)."""
    info = python_assignments(record.get("files", {}).get("onnxruntime/capi/build_and_package_info.py", ""))
    needed: list[str] = []
    for names in record.get("needed", {}).values():
        needed.extend(names)
    cudart = soname_major(needed, "libcudart") or dll_major(needed, "cudart64")
    cudnn_major = soname_major(needed, "libcudnn") or dll_major(needed, "cudnn64")
    cuda = info.get("cuda_version") if isinstance(info.get("cuda_version"), str) else None
    cuda = _major_minor(cuda) if cuda else cudart
    cudnn = info.get("cudnn_version") if isinstance(info.get("cudnn_version"), str) and info.get("cudnn_version") \
        else None
    if cudnn_major is None and cudnn:
        cudnn_major = cudnn.split(".")[0]
    if cuda is None:
        # Nothing in the wheel says its build (1.15's Linux provider names no CUDA library): not guessed.
        return UNKNOWN
    return WheelBuild("cuda", cuda, cudnn, cudnn_major)


def wheel_build(record: Mapping[str, Any], jax: Mapping[str, Any] | None = None) -> WheelBuild:
    """The build a recorded wheel is; `jax` is the record of the jax release of the same
    version (for the plugins, whose 0.4.x wheels pin no cuDNN themselves)."""
    project = str(record["project"])
    if project == "torch":
        return torch_wheel(record)
    if project in ("tensorflow", "tensorflow-gpu"):
        return tensorflow_wheel(record)
    if project == "onnxruntime-gpu":
        return onnxruntime_wheel(record)
    if project.startswith("jax-cuda"):
        return jax_plugin_wheel(record, jax)
    raise ValueError(f"no reader for {project}")


# Marker environments of the platforms read (CPython 3.12, the wheel the script prefers).
_MARKER_ENV = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "windows-amd64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    "macos-x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64"},
}


def requires_nvidia(requirements: Iterable[str], platform: str) -> bool:
    """Whether a wheel's Requires-Dist installs nvidia-* wheels on `platform` without an extra: torch's
    METADATA lists them on every platform behind `platform_system == "Linux"` markers."""
    env = _MARKER_ENV.get(platform)
    if env is None:
        return False
    for line in requirements:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if not canonicalize_name(req.name).startswith("nvidia-"):
            continue
        if req.marker is None or req.marker.evaluate({**env, "python_version": "3.12",
                                                      "python_full_version": "3.12.0", "extra": ""}):
            return True
    return False


def recorded_rows(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """project -> release -> platform -> row, from recorded wheel facts. A wheel that does
    not say its build gives no row: the release stays unknown for that platform."""
    records = list(records)
    jax = {r["version"]: r for r in records if r["project"] == "jax" and "error" not in r}
    table: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for record in records:
        if "error" in record or record["project"] == "jax":
            continue
        build = wheel_build(record, jax.get(record["version"]))
        if build.build == "unknown":
            continue
        row = {"build": build.build}
        for field in ("cuda", "cudnn", "cudnn_major"):
            value = getattr(build, field)
            if value:
                row[field] = value
        if requires_nvidia(record.get("requires_dist", []), str(record["platform"])):
            # The wheel needs nvidia-* wheels beside it (torch 1.13+ on Linux); torch up to 1.12 bundles
            # its CUDA libraries, so a lock without nvidia-* packages is complete for it (GPU008).
            row["nvidia_wheels"] = "required"
        sources = [f"{record['filename']} sha256:{record['sha256']}"]
        if record["project"].startswith("jax-cuda") and "cudnn" in row and record["version"] in jax \
                and not any("cudnn" in line for line in record.get("requires_dist", [])):
            sources.append(f"{jax[record['version']]['filename']} sha256:{jax[record['version']]['sha256']}")
        row["source"] = "; ".join(sources)
        table.setdefault(record["project"], {}).setdefault(record["version"], {})[record["platform"]] = row
    return table


def elf_needed(data: bytes) -> list[str] | None:
    """The DT_NEEDED entries of a whole ELF file (64- or 32-bit, either byte order); None if it is not one.

    Read through the program headers alone (PT_DYNAMIC, and the PT_LOAD segments
    that map DT_STRTAB's address to a file offset), as the dynamic loader does.
    """
    if len(data) < 52 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    is64, endian = data[4] == 2, "<" if data[5] == 1 else ">"
    try:
        if is64:
            phoff, = struct.unpack_from(endian + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
        else:
            phoff, = struct.unpack_from(endian + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x2A)
        loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
        dynamic: tuple[int, int] | None = None
        for index in range(phnum):
            at = phoff + index * phentsize
            if is64:
                p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(endian + "IIQQQQ", data, at)
            else:
                p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(endian + "IIIII", data, at)
            if p_type == 1:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == 2:
                dynamic = (p_offset, p_filesz)
        if dynamic is None:
            return []
        entry = struct.Struct(endian + ("qQ" if is64 else "iI"))
        needed_at: list[int] = []
        strtab = None
        for at in range(dynamic[0], dynamic[0] + dynamic[1], entry.size):
            tag, value = entry.unpack_from(data, at)
            if tag == 0:
                break
            if tag == 1:
                needed_at.append(value)
            elif tag == 5:
                strtab = value
        if strtab is None:
            return None
        base = next((offset + strtab - vaddr for vaddr, offset, size in loads if vaddr <= strtab < vaddr + size), None)
        if base is None:
            return None
        names = []
        for offset in needed_at:
            end = data.index(b"\x00", base + offset)
            names.append(data[base + offset:end].decode("ascii", "replace"))
        return names
    except (struct.error, ValueError):
        return None


def pe_imports(data: bytes) -> list[str] | None:
    """The DLL names a whole PE (Windows) image imports, from its import directory; None if not a PE."""
    try:
        if data[:2] != b"MZ":
            return None
        pe, = struct.unpack_from("<I", data, 0x3C)
        if data[pe:pe + 4] != b"PE\x00\x00":
            return None
        sections, = struct.unpack_from("<H", data, pe + 6)
        optional_size, = struct.unpack_from("<H", data, pe + 20)
        optional = pe + 24
        magic, = struct.unpack_from("<H", data, optional)
        directories = optional + (112 if magic == 0x20B else 96)
        import_rva, _ = struct.unpack_from("<II", data, directories + 8)  # directory 1: imports
        table = optional + optional_size
        spans = []
        for index in range(sections):
            at = table + index * 40
            virtual_size, virtual_address, raw_size, raw_pointer = struct.unpack_from("<IIII", data, at + 8)
            spans.append((virtual_address, max(virtual_size, raw_size), raw_pointer))

        def offset(rva: int) -> int:
            for address, size, raw in spans:
                if address <= rva < address + size:
                    return int(raw + rva - address)
            raise ValueError("an address outside every section")

        names = []
        at = offset(import_rva)
        while True:
            name_rva, = struct.unpack_from("<I", data, at + 12)
            if name_rva == 0:
                break
            start = offset(name_rva)
            names.append(data[start:data.index(b"\x00", start)].decode("ascii", "replace"))
            at += 20
        return names
    except (struct.error, ValueError):
        return None


def dll_major(names: Iterable[str], library: str) -> str | None:
    """('cudart64_110.dll', 'cudnn64_8.dll'), 'cudart64' -> '11'; 'cudart64_12.dll' -> '12'."""
    for name in names:
        match = re.fullmatch(re.escape(library) + r"_(\d+)\.dll", name, re.IGNORECASE)
        if match:
            digits = match.group(1)
            return digits[:-1] if len(digits) >= 3 else digits
    return None
