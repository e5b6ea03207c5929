"""Shipped facts about the GPU stack, read from the data files beside this module.

cuda.toml: CUDA toolkit -> minimum driver, minor-version-compatibility floors.
pypi_builds.json: each framework release on PyPI -> the build of its wheel per platform, written by
  scripts/refresh_knowledge.py from the wheels' own metadata and build files.
frameworks.toml: PyTorch's own +cuXYZ builds (download.pytorch.org), which cannot be read from PyPI.
lifecycle.toml: end-of-life dates of driver branches, CUDA, Python and framework series.
docs/knowledge.md says how to update them; every entry names its source.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from governance import tomlparse
from governance.frozen import frozen

_HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def _load(name: str) -> dict[str, Any]:
    with (_HERE / name).open("rb") as handle:
        return tomlparse.load_bytes(handle.read())


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


@frozen
class DriverFloor:
    """The Linux driver a CUDA toolkit release needs."""
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
    if minimum and (floor is None or driver_tuple(minimum) < driver_tuple(floor)):
        # CUDA 11.0 GA (450.36.06) predates 11.x's compatibility floor (450.80.02), and
        # CUDA 10.x has no minor-version compatibility at all: the toolkit's own minimum is what it needs.
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


def base_version(version: str) -> str:
    """'2.5.1+cu124' -> '2.5.1'; the release a knowledge row is keyed by (normalised: '2.10' == '2.10.0')."""
    try:
        return Version(version.split("+", 1)[0]).base_version
    except InvalidVersion:
        return version.split("+", 1)[0]


@lru_cache(maxsize=None)
def _pypi() -> dict[str, Any]:
    with (_HERE / "pypi_builds.json").open("rb") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def pypi_read_on() -> str:
    """The day the wheels on PyPI were last read (scripts/refresh_knowledge.py)."""
    return str(_pypi()["read_on"])


@frozen
class Build:
    """The CUDA and cuDNN a framework release was built with, and where that fact comes from."""
    build: str = "cuda"  # cuda | cpu | rocm
    cuda: str | None = None
    cudnn: str | None = None  # a version, or just the major ("9")
    cudnn_major: str | None = None
    source: str = ""
    nvidia_wheels: bool = False  # the wheel requires nvidia-* wheels beside it (not bundled)


def pypi_releases(project: str) -> dict[str, dict[str, Any]]:
    """release -> platform -> row, as read from the wheels on PyPI."""
    table: dict[str, dict[str, Any]] = _pypi()["projects"].get(project, {})
    return table


def pypi_build(project: str, version: str, platform: str) -> Build | None:
    """The build of `project==version` PyPI serves for `platform` ("linux-x86_64", "linux-aarch64",
    "windows-amd64", "macos-arm64"); None when that release or platform was not read."""
    wanted = base_version(version)
    for release, platforms in pypi_releases(project).items():
        if base_version(release) == wanted:
            row = platforms.get(platform)
            if row is None:
                return None
            return Build(build=row["build"], cuda=row.get("cuda"), cudnn=row.get("cudnn"),
                         cudnn_major=row.get("cudnn_major"), source=row["source"],
                         nvidia_wheels=row.get("nvidia_wheels") == "required")
    return None


def release_span(project: str) -> tuple[str, str] | tuple[None, None]:
    """(oldest, newest) release of `project` whose wheels were read; (None, None) when none."""
    releases = []
    for release in pypi_releases(project):
        try:
            releases.append((Version(release), release))
        except InvalidVersion:
            continue
    if not releases:
        return None, None
    releases.sort()
    return releases[0][1], releases[-1][1]


def release_position(project: str, version: str) -> str | None:
    """'older' / 'newer' when `version` lies before / after every release read for `project`,
    'within' otherwise, None when it cannot be compared. Says whether "update mlgov" can help."""
    oldest, newest = release_span(project)
    if oldest is None or newest is None or not version:
        return None
    try:
        wanted = Version(base_version(version))
    except InvalidVersion:
        return None
    if wanted < Version(oldest):
        return "older"
    if wanted > Version(newest):
        return "newer"
    return "within"


def pypi_knows(project: str, version: str) -> bool:
    wanted = base_version(version)
    return any(base_version(r) == wanted for r in pypi_releases(project))


@frozen
class TorchSeries:
    """The +cuXYZ builds PyTorch published for one release series."""
    series: str
    variants: tuple[str, ...]
    cudnn: dict[str, str]  # variant -> cuDNN version of PyTorch's own +cuXYZ builds


def torch_series(version: str) -> TorchSeries | None:
    series = _series_of(version.split("+", 1)[0])
    if series is None:
        return None
    for row in _load("frameworks.toml")["torch"]:
        if row["series"] == series:
            return TorchSeries(series=series, variants=tuple(row["variants"]), cudnn=dict(row.get("cudnn", {})))
    return None


def torch_cudnn(version: str, cuda: str) -> str | None:
    """The cuDNN a torch build for `cuda` pins: PyPI's wheel when it is that build, else PyTorch's
    +cuXYZ build of that CUDA (from PyTorch's matrix); None when neither is known."""
    wanted = major_minor(cuda)
    for platform in ("linux-x86_64", "linux-aarch64"):
        found = pypi_build("torch", version, platform)
        if found is not None and found.cuda == wanted and found.cudnn:
            return found.cudnn
    series = torch_series(version)
    return series.cudnn.get(wanted) if series is not None else None


@frozen
class Removed:
    """A project whose later releases are only install-refusing placeholders."""
    project: str
    since: str  # the first release that is only a placeholder
    instead: str  # the package to install instead
    source: str


def removed_release(project: str, version: str) -> Removed | None:
    """Whether `project==version` is a placeholder release that refuses to install (tensorflow-gpu 2.12+)."""
    for row in _load("frameworks.toml").get("removed", []):
        if row["project"] == project:
            try:
                if Version(base_version(version)) >= Version(str(row["from"])):
                    return Removed(project, str(row["from"]), str(row["instead"]), str(row["source"]))
            except InvalidVersion:
                return None
    return None


def tensorflow_build(version: str) -> Build | None:
    """TensorFlow's tested build configuration of a series (what its official GPU images install)."""
    series = _series_of(version)
    for row in _load("frameworks.toml")["tensorflow"]:
        if series in row["series"]:
            return Build(cuda=row["cuda"], cudnn=row["cudnn"], source=str(row["source"]))
    return None


def sources() -> dict[str, str]:
    """Every cited source, for docs and for checking that each entry cites one."""
    found: dict[str, str] = {}
    for name in ("cuda.toml", "frameworks.toml", "lifecycle.toml"):
        found.update(_load(name).get("sources", {}))
    return found


def entries() -> list[tuple[str, dict[str, Any]]]:
    """(table, entry) for every fact, for the knowledge base's own tests."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for name in ("cuda.toml", "frameworks.toml", "lifecycle.toml"):
        for table, value in _load(name).items():
            if isinstance(value, list):
                rows.extend((table, row) for row in value)
    return rows


@frozen
class EndOfLife:
    """When a driver branch or a Python release ends its support."""
    what: str  # "NVIDIA driver branch R535", "Python 3.9"
    eol: str  # "2026-06", or "listed" (the source lists it as ended, without a date)
    source: str

    def ended(self, today: str) -> bool:
        """Whether it is past its end of life on `today` (YYYY-MM-DD)."""
        return self.eol == "listed" or self.eol <= today


def driver_branch_eol(driver: str) -> EndOfLife | None:
    """The lifecycle of the branch a driver belongs to ('535.183.01' -> R535); None when unknown."""
    parts = driver_tuple(driver)
    if not parts:
        return None
    table = _load("lifecycle.toml")
    for row in table["driver_branch"]:
        if int(row["branch"]) == parts[0]:
            return EndOfLife(f"NVIDIA driver branch R{parts[0]}", str(row["eol"]), str(row["source"]))
    previous = table.get("previous_driver_branches")
    if isinstance(previous, dict) and parts[0] < int(previous["below"]):
        return EndOfLife(f"NVIDIA driver branch R{parts[0]}", str(previous["eol"]), str(previous["source"]))
    return None


def python_eol(version: str) -> EndOfLife | None:
    wanted = major_minor(version)
    for row in _load("lifecycle.toml")["python"]:
        if row["version"] == wanted:
            return EndOfLife(f"Python {wanted}", str(row["eol"]), str(row["source"]))
    return None
