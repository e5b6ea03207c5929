"""Host profiles: the JSON file `mlgov probe -o` writes and a fleet's owners write by hand.

    {"format": "mlgov-host-profile", "version": 1, "host": "gpu-node-01",
     "nvidia": {"driver_version": "580.159.04", "cuda_driver_version": "13.0",
                "nvml_version": "13.580.159.04", "gpus": [...]},
     "cuda_runtimes": [{"version": "13.0.88", "origin": "system", "path": "..."}],
     "cudnn": [...]}

`nvidia` is null when the host has no driver (`no_driver_reason` says why). A
profile holding only `nvidia.driver_version` is valid. A profile is input from
outside (a pull request can change it): every field is type-checked and a bad
one is an InputError naming the file and the key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.escape import quote
from governance.inputs import parse_json, read_input, reading, refuse_lone_surrogates
from governance.model import Gpu, GpuStack, LibraryCopy

FORMAT = "mlgov-host-profile"
VERSION = 1
MAX_PROFILE_BYTES = 4 * 1024 * 1024
ORIGINS = ("system", "wheel", "conda", "toolkit")

_GPU_FIELDS: dict[str, type] = {
    "index": int, "name": str, "uuid": str, "compute_capability": str, "memory_total_bytes": int,
    "mig_mode": str, "ecc_mode": str, "vbios_version": str,
}
_COPY_FIELDS: dict[str, type] = {"version": str, "origin": str, "path": str, "detected_by": str, "package": str}


def _copy_to_dict(copy: LibraryCopy) -> dict[str, Any]:
    data: dict[str, Any] = {"version": copy.version, "origin": copy.origin}
    for key in ("path", "detected_by", "package"):
        if getattr(copy, key) is not None:
            data[key] = getattr(copy, key)
    return data


def to_dict(stack: GpuStack) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "host": stack.name}
    if stack.driver_version is None and not stack.gpus and stack.cuda_driver_version is None:
        data["nvidia"] = None
        if stack.no_driver_reason:
            data["no_driver_reason"] = stack.no_driver_reason
    else:
        nvidia: dict[str, Any] = {}
        for key in ("driver_version", "cuda_driver_version", "nvml_version"):
            if getattr(stack, key) is not None:
                nvidia[key] = getattr(stack, key)
        nvidia["gpus"] = [{k: getattr(g, k) for k in _GPU_FIELDS if getattr(g, k) is not None}
                          for g in stack.gpus]
        data["nvidia"] = nvidia
    data["cuda_runtimes"] = [_copy_to_dict(c) for c in stack.cuda_runtimes]
    data["cudnn"] = [_copy_to_dict(c) for c in stack.cudnn]
    return data


def dumps(stack: GpuStack) -> str:
    return json.dumps(to_dict(stack), indent=2, sort_keys=False) + "\n"


def _fail(message: str, file: str, key: str) -> InputError:
    return InputError(message, file=file, key=key)


def _typed(value: Any, kind: type, file: str, key: str) -> Any:
    # JSON's true is a Python int too; an integer field must not take it.
    if value is None or (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        label = {int: "an integer", str: "a string"}.get(kind, kind.__name__)
        raise _fail(f"expected {label}, got {json.dumps(value)[:40]}", file, key)
    if isinstance(value, str) and len(value) > 4096:
        raise _fail("value too long", file, key)
    return value


def _fields(data: Any, spec: dict[str, type], required: tuple[str, ...], file: str, key: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail("expected an object", file, key)
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise _fail(f"unknown key {unknown[0]!r} (known: {', '.join(spec)})", file, key)
    for name in required:
        if name not in data:
            raise _fail(f"missing {name!r}", file, key)
    values = {}
    for name, value in data.items():
        if value is None and name not in required:
            continue
        kind = spec[name]
        # The common case checked inline (a fleet is thousands of GPUs); _typed says what is wrong.
        if type(value) is kind and not (isinstance(value, str) and len(value) > 4096):
            values[name] = value
        else:
            values[name] = _typed(value, kind, file, f"{key}.{name}")
    return values


def _copies(data: Any, file: str, key: str) -> tuple[LibraryCopy, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise _fail("expected a list", file, key)
    copies = []
    for position, item in enumerate(data):
        where = f"{key}[{position}]"
        values = _fields(item, _COPY_FIELDS, ("version", "origin"), file, where)
        if values["origin"] not in ORIGINS:
            raise _fail(f"origin must be one of {', '.join(ORIGINS)}", file, where + ".origin")
        copies.append(LibraryCopy(**values))
    return tuple(copies)


def from_dict(data: Any, file: str, default_name: str) -> GpuStack:
    if not isinstance(data, dict):
        raise _fail("a host profile is a JSON object", file, "$")
    if data.get("format") != FORMAT:
        raise _fail(f"not a host profile (expected \"format\": \"{FORMAT}\")", file, "format")
    if data.get("version") != VERSION:
        raise _fail(f"unsupported version {data.get('version')!r} (this mlgov reads {VERSION})", file, "version")
    known = {"format", "version", "host", "nvidia", "no_driver_reason", "cuda_runtimes", "cudnn"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _fail(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})", file, unknown[0])
    name = _typed(data["host"], str, file, "host") if data.get("host") is not None else default_name
    reason = _typed(data["no_driver_reason"], str, file, "no_driver_reason") \
        if data.get("no_driver_reason") is not None else None
    if "nvidia" not in data:
        raise _fail("missing \"nvidia\" (null when the host has no driver)", file, "nvidia")
    nvidia = data["nvidia"]
    stack = GpuStack(name=name, no_driver_reason=reason,
                     cuda_runtimes=_copies(data.get("cuda_runtimes"), file, "cuda_runtimes"),
                     cudnn=_copies(data.get("cudnn"), file, "cudnn"))
    if nvidia is None:
        return stack
    spec: dict[str, type] = {"driver_version": str, "cuda_driver_version": str, "nvml_version": str, "gpus": list}
    values = _fields(nvidia, spec, ("driver_version",), file, "nvidia")
    gpus = []
    for position, item in enumerate(values.get("gpus", [])):
        gpus.append(Gpu(**_fields(item, _GPU_FIELDS, ("index", "name"), file, f"nvidia.gpus[{position}]")))
    from governance.knowledge import driver_tuple

    if not driver_tuple(values["driver_version"]):
        raise _fail(f"not a driver version: {values['driver_version']!r} (e.g. \"550.54.14\")", file,
                    "nvidia.driver_version")
    return GpuStack(name=name, driver_version=values["driver_version"],
                    cuda_driver_version=values.get("cuda_driver_version"),
                    nvml_version=values.get("nvml_version"), gpus=tuple(gpus),
                    cuda_runtimes=stack.cuda_runtimes, cudnn=stack.cudnn)


def read_profile(path: Path) -> GpuStack:
    text = read_input(path, "host profile", MAX_PROFILE_BYTES)
    refuse_lone_surrogates(text, path)
    data = parse_json(text, path)
    with reading(path, "host profile"):
        return from_dict(data, str(path), path.stem)


def write_profile(path: Path, stack: GpuStack) -> None:
    from governance.output import write_atomic

    write_atomic(path, dumps(stack))


MAX_PROFILES = 100_000
_GLOB = set("*?[")


def expand(arguments: tuple[Path, ...] | list[Path]) -> list[Path]:
    """--host values as profile files: a file as it is, a folder as its *.json files, a glob as its matches.

    A folder or a glob that gives no profile is an error, not an empty fleet:
    a typo in CI must not turn into "judged against no host".
    """
    import glob

    found: list[Path] = []
    for argument in arguments:
        text = str(argument)
        if argument.is_dir():
            matches = sorted(p for p in argument.glob("*.json") if p.is_file())
            if not matches:
                raise InputError("no host profile (*.json) in this folder", file=argument)
            found.extend(matches)
        elif not argument.exists() and _GLOB & set(text):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not matches:
                raise InputError("no host profile matches this pattern", file=argument)
            found.extend(matches)
        else:
            found.append(argument)
        if len(found) > MAX_PROFILES:
            raise InputError(f"more than {MAX_PROFILES} host profiles", file=argument)
    return list(dict.fromkeys(found))  # a profile named twice (a folder and a glob) is one host


def read_profiles(paths: tuple[Path, ...] | list[Path]) -> tuple[GpuStack, ...]:
    """A fleet: one GpuStack per profile (folders and globs expanded), in the order given."""
    files = expand(paths)
    stacks = tuple(read_profile(path) for path in files)
    seen: dict[str, Path] = {}
    for stack, path in zip(stacks, files):
        if stack.name in seen:
            raise InputError(f"two host profiles are named {quote(stack.name, 80)} (also {seen[stack.name]}); "
                             "give each host its own \"host\" name", file=path)
        seen[stack.name] = path
    return stacks


def summary(stack: GpuStack) -> str:
    """What `mlgov probe` prints without -o (every value inert: names and paths come from files)."""
    from governance.escape import terminal as t

    lines = [f"host: {t(stack.name)}"]
    if stack.driver_version is None:
        lines.append(f"NVIDIA driver: none ({t(stack.no_driver_reason or 'no reason given')})")
    else:
        lines.append(f"NVIDIA driver: {t(stack.driver_version)}"
                     + (f"  (CUDA driver API {t(stack.cuda_driver_version)})" if stack.cuda_driver_version else "")
                     + (f"  NVML {t(stack.nvml_version)}" if stack.nvml_version else ""))
        for gpu in stack.gpus:
            facts = [f"compute capability {t(gpu.compute_capability)}" if gpu.compute_capability else None,
                     f"{gpu.memory_total_bytes / 2**30:.1f} GiB" if gpu.memory_total_bytes else None,
                     f"MIG {t(gpu.mig_mode)}" if gpu.mig_mode else None,
                     f"ECC {t(gpu.ecc_mode)}" if gpu.ecc_mode else None,
                     f"VBIOS {t(gpu.vbios_version)}" if gpu.vbios_version else None]
            lines.append(f"  GPU {gpu.index}: {t(gpu.name)}" + "".join(f", {f}" for f in facts if f)
                         + (f"\n         {t(gpu.uuid)}" if gpu.uuid else ""))
    for label, copies in (("CUDA runtimes", stack.cuda_runtimes), ("cuDNN copies", stack.cudnn)):
        lines.append(f"{label}: {len(copies) or 'none found'}")
        for copy in copies:
            what = f" {t(copy.package)}" if copy.package else ""
            lines.append(f"  {t(copy.version):<12} {t(copy.origin)}{what}  {t(copy.path or '')}"
                         + (f"  [{t(copy.detected_by)}]" if copy.detected_by else ""))
    return "\n".join(lines) + "\n"
