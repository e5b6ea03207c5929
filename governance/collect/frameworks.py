"""Which build of each ML framework the project gets: CUDA (which version), ROCm or CPU.

From files only, never an import: torch/version.py and TensorFlow's and ONNX
Runtime's build-info modules are read as text; otherwise the local version
(+cu124, +cpu), the nvidia-* wheels beside the framework, the package variant
(onnxruntime-gpu, tensorflow-cpu) and the knowledge base's record of what a
version's default build is. So it works for a lockfile alone as well as for an
installed environment.

The results are package properties, so they travel in the SBOM as they are:
  mlgov:gpu-build   cuda | rocm | cpu
  mlgov:cuda        the CUDA the framework was built for ("12.4", or "12" when only the major is known)
  mlgov:cudnn       the cuDNN version it pins or was built with, when known
  mlgov:cudnn-major the cuDNN major it needs ("9")
  mlgov:build-evidence  where that was read
  mlgov:keras-backend   for keras
"""

from __future__ import annotations

from typing import Literal

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance import knowledge
from governance.model import Package

GPU_BUILD = "mlgov:gpu-build"
CUDA = "mlgov:cuda"
CUDNN = "mlgov:cudnn"
CUDNN_MAJOR = "mlgov:cudnn-major"
EVIDENCE = "mlgov:build-evidence"
KERAS_BACKEND = "mlgov:keras-backend"

FRAMEWORKS = ("torch", "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-rocm", "tensorflow-intel",
              "tensorflow-macos", "jax", "jaxlib", "onnxruntime", "onnxruntime-gpu", "onnxruntime-rocm",
              "onnxruntime-directml", "keras")
_MAX_TEXT = 256 * 1024


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_TEXT:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _python_string(text: str, name: str) -> str | None | Literal[False]:
    """`name = '12.4'` (optionally annotated) -> '12.4'; `= None` -> None; absent -> False."""
    match = re.search(rf"^{re.escape(name)}\s*(?::[^=\n]+)?=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|(None))",
                      text, re.MULTILINE)
    if match is None:
        return False
    if match.group(3):
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _dict_entry(text: str, key: str) -> str | None:
    match = re.search(rf"['\"]{re.escape(key)}['\"]\s*:\s*['\"]([^'\"\n]*)['\"]", text)
    return match.group(1) if match else None


def _local(version: str | None) -> str:
    if not version or "+" not in version:
        return ""
    return version.split("+", 1)[1].lower()


def _cu_tag(tag: str) -> str | None:
    """'cu124' -> '12.4', 'cu118' -> '11.8', 'cu130' -> '13.0'."""
    match = re.fullmatch(r"cu(\d+)(\d)", tag)
    return f"{match.group(1)}.{match.group(2)}" if match else None


class _Index:
    """The inventory by canonical name, for looking up a framework's companions."""

    def __init__(self, packages: Sequence[Package]) -> None:
        self.by_key: dict[str, list[Package]] = {}
        for package in packages:
            self.by_key.setdefault(package.key, []).append(package)

    def version_of(self, pattern: str, prefer: Sequence[str] = ()) -> tuple[str, str] | None:
        """(name, version) of the first package whose name matches, those in `prefer` first."""
        regex = re.compile(pattern)
        keys = [k for k in prefer if regex.fullmatch(k)] + sorted(k for k in self.by_key if regex.fullmatch(k))
        for key in keys:
            for package in self.by_key.get(key, []):
                if package.version:
                    return package.name, package.version
        return None

    def has(self, key: str) -> bool:
        return key in self.by_key


def _site_file(site_packages: Sequence[Path], relative: str) -> str | None:
    for site in site_packages:
        text = _read(site / relative)
        if text is not None:
            return text
    return None


def _props(build: str, cuda: str | None = None, cudnn: str | None = None, evidence: str = "",
           cudnn_major: str | None = None) -> dict[str, str]:
    props = {GPU_BUILD: build}
    if cuda:
        props[CUDA] = cuda
    if cudnn:
        props[CUDNN] = cudnn
    major = cudnn_major or (cudnn.split(".")[0] if cudnn else None)
    if major:
        props[CUDNN_MAJOR] = major
    if evidence:
        props[EVIDENCE] = evidence
    return props


def _on_linux_x86(markers: Mapping[str, str]) -> bool:
    return markers.get("sys_platform", "linux").startswith("linux") and \
        markers.get("platform_machine", "x86_64").lower() in ("x86_64", "amd64")


def _torch(package: Package, index: _Index, site: Sequence[Path], markers: Mapping[str, str]) -> dict[str, str]:
    version = package.version or ""
    cudnn_wheel = index.version_of(r"nvidia-cudnn(-cu\d+)?", prefer=package.requires)
    cudnn = cudnn_wheel[1] if cudnn_wheel else None
    text = _site_file(site, "torch/version.py") if package.installed else None
    if text is not None and (_python_string(text, "__version__") or "").split("+")[0] == version.split("+")[0]:
        cuda, hip = _python_string(text, "cuda"), _python_string(text, "hip")
        if isinstance(cuda, str):
            return _props("cuda", knowledge.major_minor(cuda), cudnn or knowledge.torch_cudnn(version, cuda),
                          "torch/version.py")
        if isinstance(hip, str):
            return _props("rocm", evidence="torch/version.py")
        return _props("cpu", evidence="torch/version.py")
    local = _local(version)
    if local:
        cuda = _cu_tag(local)
        if cuda:
            return _props("cuda", cuda, cudnn or knowledge.torch_cudnn(version, cuda), f"local version +{local}")
        if local.startswith("rocm"):
            return _props("rocm", evidence=f"local version +{local}")
        return _props("cpu", evidence=f"local version +{local}")
    runtime = index.version_of(r"nvidia-cuda-runtime(-cu\d+)?", prefer=package.requires)
    if runtime:
        cuda = knowledge.major_minor(runtime[1])
        return _props("cuda", cuda, cudnn or knowledge.torch_cudnn(version, cuda),
                      f"{runtime[0]} {runtime[1]} beside it")
    series = knowledge.torch_series(version) if version else None
    if not _on_linux_x86(markers):
        # PyPI's torch for macOS and Windows is a CPU build.
        return _props("cpu", evidence=f"PyPI's torch for {markers.get('sys_platform')}") if version else {}
    if series is not None and series.pypi_default:
        cuda = series.pypi_default
        return _props("cuda", cuda, cudnn or knowledge.torch_cudnn(version, cuda),
                      f"PyPI's default build of torch {series.series} (knowledge base)")
    return {}


def _tensorflow(package: Package, index: _Index, site: Sequence[Path], markers: Mapping[str, str]) -> dict[str, str]:
    name = package.key
    if name in ("tensorflow-cpu", "tensorflow-intel", "tensorflow-macos"):
        return _props("cpu", evidence=f"the {name} package")
    if name == "tensorflow-rocm":
        return _props("rocm", evidence="the tensorflow-rocm package")
    cudnn_wheel = index.version_of(r"nvidia-cudnn(-cu\d+)?", prefer=package.requires)
    text = _site_file(site, "tensorflow/python/platform/build_info.py") if package.installed else None
    if text is not None:
        if "'is_cuda_build': True" in text or '"is_cuda_build": True' in text:
            cudnn = cudnn_wheel[1] if cudnn_wheel else _dict_entry(text, "cudnn_version")
            return _props("cuda", _dict_entry(text, "cuda_version"), cudnn,
                          "tensorflow/python/platform/build_info.py")
        if "is_rocm_build': True" in text:
            return _props("rocm", evidence="tensorflow/python/platform/build_info.py")
        return _props("cpu", evidence="tensorflow/python/platform/build_info.py")
    if not _on_linux_x86(markers):
        return _props("cpu", evidence=f"{name} on {markers.get('sys_platform')} has no CUDA build")
    build = knowledge.tensorflow_build(package.version) if package.version else None
    if build is None:
        return {}
    and_cuda = any("and-cuda" in p.extras for p in package.provenance)
    evidence = ("the and-cuda extra; " if and_cuda else "") + "tested build of this version (knowledge base)"
    cudnn = cudnn_wheel[1] if cudnn_wheel else build.cudnn
    return _props("cuda", build.cuda, cudnn, evidence)


def _jax(package: Package, index: _Index, markers: Mapping[str, str]) -> dict[str, str]:
    plugin = index.version_of(r"jax-cuda\d+-plugin")
    if plugin is None:
        extras = {extra for p in package.provenance for extra in p.extras}
        wanted = sorted(e for e in extras if re.fullmatch(r"cuda\d+(-local)?", e))
        if wanted and package.version:
            plugin = (f"jax-{wanted[0].split('-')[0]}-plugin", package.version.split("+")[0])
    if plugin is not None:
        name = canonicalize_name(plugin[0])
        build = knowledge.jax_plugin_build(name, plugin[1])
        major = re.search(r"cuda(\d+)", name)
        cuda = build.cuda if build else (major.group(1) if major else None)
        return _props("cuda", cuda, evidence=f"{plugin[0]} {plugin[1]}", cudnn_major=build.cudnn if build else None)
    jaxlib = index.version_of(r"jaxlib")
    local = _local(jaxlib[1]) if jaxlib else ""
    match = re.fullmatch(r"cuda(\d+)\.cudnn(\d)(\d+)", local)
    if match:
        return _props("cuda", match.group(1), f"{match.group(2)}.{match.group(3)}",
                      f"jaxlib local version +{local}")
    if local.startswith("rocm"):
        return _props("rocm", evidence=f"jaxlib local version +{local}")
    return _props("cpu", evidence="no jax-cuda plugin and no CUDA jaxlib") if package.version else {}


def _onnxruntime(package: Package, site: Sequence[Path]) -> dict[str, str]:
    if package.key in ("onnxruntime", "onnxruntime-directml"):
        return _props("cpu", evidence=f"the {package.key} package (the CUDA build is onnxruntime-gpu)")
    if package.key == "onnxruntime-rocm":
        return _props("rocm", evidence="the onnxruntime-rocm package")
    text = _site_file(site, "onnxruntime/capi/build_and_package_info.py") if package.installed else None
    if text is not None:
        cuda, cudnn = _python_string(text, "cuda_version"), _python_string(text, "cudnn_version")
        if isinstance(cuda, str) and cuda:
            return _props("cuda", knowledge.major_minor(cuda), cudnn if isinstance(cudnn, str) and cudnn else None,
                          "onnxruntime/capi/build_and_package_info.py")
    build = knowledge.onnxruntime_build(package.version.split("+")[0]) if package.version else None
    if build is None:
        return _props("cuda", evidence="the onnxruntime-gpu package")
    return _props("cuda", build.cuda, evidence="default build of this version (knowledge base)",
                  cudnn_major=build.cudnn)


def keras_backend(project: Path, index: _Index, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(backend, where it was read)."""
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"], "KERAS_BACKEND"
    for relative in ("keras.json", ".keras/keras.json"):
        text = _read(project / relative)
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("backend"), str):
                return data["backend"], relative
    # Keras 3 defaults to TensorFlow; otherwise whichever backend is there.
    for backend, keys in (("tensorflow", ("tensorflow", "tensorflow-cpu", "tensorflow-gpu")), ("jax", ("jax",)),
                          ("torch", ("torch",))):
        if any(index.has(k) for k in keys):
            return backend, "the installed backends"
    return None


def _keras(package: Package, index: _Index, project: Path, environ: Mapping[str, str]) -> dict[str, str]:
    try:
        major = Version(package.version).major if package.version else 3
    except InvalidVersion:
        major = 3
    if major < 3:
        return {KERAS_BACKEND: "tensorflow", EVIDENCE: "keras 2 runs on TensorFlow only"}
    found = keras_backend(project, index, environ)
    if found is None:
        return {}
    return {KERAS_BACKEND: found[0], EVIDENCE: f"backend from {found[1]}"}


def build_properties(package: Package, index: _Index, site: Sequence[Path], project: Path,
                     markers: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    key = package.key
    if key == "torch":
        return _torch(package, index, site, markers)
    if key.startswith("tensorflow"):
        return _tensorflow(package, index, site, markers)
    if key in ("jax", "jaxlib"):
        return _jax(package, index, markers)
    if key.startswith("onnxruntime"):
        return _onnxruntime(package, site)
    if key == "keras":
        return _keras(package, index, project, environ)
    return {}


def annotate(packages: Sequence[Package], site_packages: Sequence[Path], project: Path,
             markers: Mapping[str, str], environ: Mapping[str, str] | None = None) -> tuple[Package, ...]:
    """The packages, with the build properties of every framework among them."""
    import os

    environ = os.environ if environ is None else environ
    index = _Index(packages)
    result = []
    for package in packages:
        if package.ecosystem == "pypi" and package.key in FRAMEWORKS:
            props = build_properties(package, index, site_packages, project, markers, environ)
            if props:
                ours = set(props)
                kept = tuple(p for p in package.properties if p[0] not in ours)
                package = replace(package, properties=kept + tuple(props.items()))
        result.append(package)
    return tuple(result)


def gpu_build(package: Package) -> str | None:
    return package.property(GPU_BUILD)
