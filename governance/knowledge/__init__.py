"""Shipped facts about the GPU stack, read from the data files beside this module.

cuda.toml: CUDA toolkit -> minimum driver, minor-version-compatibility floors.
frameworks.toml: framework version -> the CUDA and cuDNN it was built for.
docs/knowledge.md says how to update them; every entry names its source.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

_HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def _load(name: str) -> dict[str, Any]:
    with (_HERE / name).open("rb") as handle:
        return tomllib.load(handle)


def driver_tuple(version: str) -> tuple[int, ...]:
    """'550.54.14' -> (550, 54, 14); what NVIDIA driver versions compare as."""
    parts: list[int] = []
    for piece in version.strip().split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def major_minor(version: str) -> str:
    """'12.4.127' -> '12.4'; '12' stays '12'."""
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True)
class DriverFloor:
    cuda: str  # "12.4" or "12" (a major alone: only the compatibility floor is known)
    minimum: str | None  # the toolkit's own minimum Linux driver: full support from here
    floor: str | None  # the major's minor-version-compatibility floor: below it nothing runs


def toolkit_minimum(cuda: str) -> str | None:
    """The minimum Linux driver of a toolkit release ("12.4" -> its GA row)."""
    wanted = major_minor(cuda)
    for row in _load("cuda.toml")["toolkit"]:
        if row["version"] == wanted:
            return str(row["linux"])
    return None


def compat_floor(major: int) -> str | None:
    for row in _load("cuda.toml")["minor_compat"]:
        if int(row["major"]) == major:
            return str(row["linux"])
    return None


def driver_floor(cuda: str) -> DriverFloor | None:
    try:
        major = int(cuda.split(".")[0])
    except ValueError:
        return None
    minimum = toolkit_minimum(cuda) if "." in cuda else None
    floor = compat_floor(major)
    if minimum and floor and driver_tuple(minimum) < driver_tuple(floor):
        # CUDA 11.0 GA (450.36.06) predates 11.x's compatibility floor (450.80.02):
        # its own minimum is what it needs.
        floor = minimum
    if minimum is None and floor is None:
        return None
    return DriverFloor(cuda=cuda, minimum=minimum, floor=floor)


def _series_of(version: str) -> str | None:
    try:
        release = Version(version).release
    except InvalidVersion:
        return None
    return f"{release[0]}.{release[1] if len(release) > 1 else 0}"


@dataclass(frozen=True)
class TorchSeries:
    series: str
    variants: tuple[str, ...]
    pypi_default: str | None
    cudnn: dict[str, str]  # variant -> cuDNN version; "*" when one for all


def torch_series(version: str) -> TorchSeries | None:
    series = _series_of(version)
    if series is None:
        return None
    for row in _load("frameworks.toml")["torch"]:
        if row["series"] == series:
            cudnn = row.get("cudnn")
            table = dict(cudnn) if isinstance(cudnn, dict) else ({"*": cudnn} if cudnn else {})
            return TorchSeries(series=series, variants=tuple(row["variants"]),
                               pypi_default=row.get("pypi_default"), cudnn=table)
    return None


def torch_cudnn(version: str, cuda: str) -> str | None:
    found = torch_series(version)
    if found is None:
        return None
    return found.cudnn.get(major_minor(cuda)) or found.cudnn.get("*")


@dataclass(frozen=True)
class Build:
    cuda: str | None
    cudnn: str | None  # a version or just the major ("9")


def tensorflow_build(version: str) -> Build | None:
    series = _series_of(version)
    for row in _load("frameworks.toml")["tensorflow"]:
        if series in row["series"]:
            return Build(cuda=row["cuda"], cudnn=row["cudnn"])
    return None


def _in(spec: str, version: str) -> bool:
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def jax_plugin_build(plugin: str, version: str) -> Build | None:
    for row in _load("frameworks.toml")["jax"]:
        if row["plugin"] == plugin and _in(row["versions"], version):
            return Build(cuda=row["cuda"], cudnn=str(row["cudnn_major"]))
    return None


def onnxruntime_build(version: str) -> Build | None:
    for row in _load("frameworks.toml")["onnxruntime"]:
        if _in(row["versions"], version):
            return Build(cuda=row["cuda"], cudnn=str(row["cudnn_major"]))
    return None


def sources() -> dict[str, str]:
    """Every cited source, for docs and for checking that each entry cites one."""
    found: dict[str, str] = {}
    for name in ("cuda.toml", "frameworks.toml"):
        found.update(_load(name).get("sources", {}))
    return found


def entries() -> list[tuple[str, dict[str, Any]]]:
    """(table, entry) for every fact, for the knowledge base's own tests."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for name in ("cuda.toml", "frameworks.toml"):
        for table, value in _load(name).items():
            if isinstance(value, list):
                rows.extend((table, row) for row in value)
    return rows
