"""What a container image brings, read from its tag: CUDA, cuDNN, a framework.

The facts are in images.toml, each row with its source; this module holds the
tag grammars of the repositories it names. TensorFlow's -gpu images are judged
with the framework-build table of the knowledge base (knowledge.tensorflow_build),
and the driver a CUDA version needs with its CUDA -> driver table, so that the
image rules and the GPU rules read one set of facts.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from governance import knowledge
from governance import tomlparse
from governance.frozen import frozen

_FILE = Path(__file__).resolve().parent / "images.toml"


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    with _FILE.open("rb") as handle:
        return tomlparse.load_bytes(handle.read())


@frozen
class ImageFacts:
    """What a known base image ships: CUDA, cuDNN, framework, the driver it needs."""
    cuda: str | None = None
    cudnn: str | None = None  # a version, or only the major ("9")
    framework: str | None = None  # "torch" | "tensorflow"
    framework_version: str | None = None
    require_cuda: str | None = None  # the NVIDIA_REQUIRE_CUDA the image declares
    min_driver: str | None = None
    source: str | None = None  # source keys, comma-separated


def repository(registry: str, name: str) -> dict[str, Any] | None:
    for row in _data()["repository"]:
        if row["registry"] == registry and row["repository"] == name:
            return dict(row)
    return None


_CUDA_TAG = re.compile(r"^(?P<cuda>\d+\.\d+(?:\.\d+)?)-(?:(?P<cudnn>cudnn(?P<major>\d*))-)?"
                       r"(?P<flavor>base|runtime|devel)(?:-(?P<os>.+))?$")
_PYTORCH_TAG = re.compile(r"^(?P<torch>\d+\.\d+(?:\.\d+)?)-cuda(?P<cuda>\d+\.\d+)-cudnn(?P<cudnn>\d+)-"
                          r"(?P<flavor>runtime|devel)$")
_TENSORFLOW_TAG = re.compile(r"^(?P<tf>\d+\.\d+\.\d+)(?:rc\d+)?(?P<gpu>-gpu)?(?:-jupyter)?$")
_NGC_TAG = re.compile(r"^(?P<release>\d\d\.\d\d)-(?:tf\d-)?py3(?:-igpu)?$")


def _sources(keys: list[str]) -> str | None:
    return ", ".join(keys) if keys else None


def brings(registry: str, name: str, tag: str | None) -> ImageFacts | None:
    """The image's facts, or None when the repository or the tag is not known."""
    row = repository(registry, name)
    if row is None or not tag:
        return None
    scheme = row["scheme"]
    source = list(row.get("source", []))
    if scheme == "nvidia-cuda":
        match = _CUDA_TAG.match(tag)
        if match is None:
            return None
        cuda = match.group("cuda")
        cudnn = None
        if match.group("cudnn"):
            cudnn = match.group("major") or "9"
        return ImageFacts(cuda=cuda, cudnn=cudnn, require_cuda=f"cuda>={knowledge.major_minor(cuda)}",
                          source=_sources(source))
    if scheme == "pytorch":
        match = _PYTORCH_TAG.match(tag)
        if match is None:
            return None
        return ImageFacts(cuda=match.group("cuda"), cudnn=match.group("cudnn"), framework="torch",
                          framework_version=match.group("torch"), source=_sources(source))
    if scheme == "tensorflow":
        match = _TENSORFLOW_TAG.match(tag)
        if match is None:
            return None
        version = match.group("tf")
        if not match.group("gpu"):
            return ImageFacts(framework="tensorflow", framework_version=version, source=_sources(source))
        build = knowledge.tensorflow_build(version)
        if build is None:
            return None
        return ImageFacts(cuda=build.cuda, cudnn=build.cudnn, framework="tensorflow", framework_version=version,
                          source=_sources(source + ["tf_tested"]))
    if scheme == "ngc":
        match = _NGC_TAG.match(tag)
        if match is None:
            return None
        for release in _data()["ngc"]:
            if release["release"] == match.group("release"):
                framework = row.get("framework")
                version = release.get("torch") if framework == "torch" else None
                return ImageFacts(cuda=release.get("cuda"), cudnn=release.get("cudnn"), framework=framework,
                                  framework_version=version, min_driver=release.get("min_driver"),
                                  source=_sources(list(release["source"])))
        return None
    return None


@frozen
class EndOfLife:
    """When NVIDIA ends (and deletes) a CUDA release's images."""
    cuda: str
    eol_by: date
    deleted: bool
    source: str


def _matches(prefix: str, version: str) -> bool:
    want = prefix.split(".")
    have = version.split(".")
    return have[:len(want)] == want


def end_of_life(cuda: str) -> EndOfLife | None:
    """The end-of-life row that covers an image's CUDA version, the most specific first."""
    rows = [r for r in _data()["cuda_eol"] if _matches(str(r["cuda"]), cuda)]
    if not rows:
        return None
    row = max(rows, key=lambda r: len(str(r["cuda"]).split(".")))
    return EndOfLife(cuda=str(row["cuda"]), eol_by=date.fromisoformat(str(row["eol_by"])),
                     deleted=bool(row.get("deleted", False)), source=", ".join(row["source"]))


def driver_cuda(driver: str) -> str | None:
    """The newest CUDA (major.minor) a driver fully runs, from the knowledge base's toolkit table."""
    have = knowledge.driver_tuple(driver)
    if not have:
        return None
    best: tuple[int, ...] | None = None
    for table, row in knowledge.entries():
        if table != "toolkit" or not row.get("linux"):
            continue
        if knowledge.driver_tuple(str(row["linux"])) <= have:
            version = tuple(int(x) for x in str(row["version"]).split(".")[:2])
            best = version if best is None or version > best else best
    return ".".join(str(x) for x in best) if best else None


def sources() -> dict[str, str]:
    return dict(_data()["sources"])


def rows() -> list[tuple[str, dict[str, Any]]]:
    """(table, row) for every fact, for the knowledge data's own tests."""
    return [(table, row) for table, value in _data().items() if isinstance(value, list) for row in value]
