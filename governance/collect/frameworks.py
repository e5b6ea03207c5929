"""Which build of each ML framework the project gets: CUDA (which version), ROCm or CPU.

From files only, never an import: torch/version.py and TensorFlow's and ONNX
Runtime's build-info modules are read as text; otherwise the local version
(+cu124, +cpu), the nvidia-* wheels beside the framework, the package variant
(onnxruntime-gpu, tensorflow-cpu) and the knowledge base's record of what a
version's default build is. So it works for a lockfile alone as well as for an
installed environment.

The results are package properties, so they travel in the SBOM as they are:
  mlgov:gpu-build   cuda | rocm | cpu | unknown (nothing tells the build: GPU007 says so)
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
from governance.knowledge import wheels
from governance.model import Package

GPU_BUILD = "mlgov:gpu-build"
CUDA = "mlgov:cuda"
CUDNN = "mlgov:cudnn"
CUDNN_MAJOR = "mlgov:cudnn-major"
EVIDENCE = "mlgov:build-evidence"
KERAS_BACKEND = "mlgov:keras-backend"
# The local version (`cpu`, `cu118`) that a lock's files carry for the scan's platform when the lock's own
# version has none: pdm.lock records `torch 2.0.1` with files `torch-2.0.1+cpu-...-linux_x86_64.whl`, and
# an installer prefers 2.0.1+cpu over 2.0.1 (a local version sorts above its public one).
WHEEL_LOCAL = "mlgov:wheel-local"

FRAMEWORKS = ("torch", "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-rocm", "tensorflow-intel",
              "tensorflow-macos", "jax", "jaxlib", "onnxruntime", "onnxruntime-gpu", "onnxruntime-rocm",
              "onnxruntime-directml", "keras", "jax-cuda12-plugin", "jax-cuda13-plugin")
_MAX_TEXT = 256 * 1024


def _read(path: Path, within: Path) -> str | None:
    """A small optional file of the scanned environment or project; None when absent.

    Through the guarded reader: a link out of `within`, or a file that turns out
    not to be regular, is an input error rather than a leak or a hang.
    """
    from governance.inputs import read_optional

    try:
        if not path.is_file() or path.stat().st_size > _MAX_TEXT:
            return None
    except OSError:
        return None
    return read_optional(path, "file", _MAX_TEXT, within=(within,))


def _python_string(text: str, name: str) -> str | None | Literal[False]:
    """`name = '12.4'` (optionally annotated) -> '12.4'; `= None` -> None; absent -> False."""
    match = re.search(rf"^{re.escape(name)}\s*(?::[^=\n]+)?=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|(None))",
                      text, re.MULTILINE)
    if match is None:
        return False
    if match.group(3):
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _local(version: str | None) -> str:
    if not version or "+" not in version:
        return ""
    return version.split("+", 1)[1].lower()


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
        text = _read(site / relative, site)
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


def _platform(markers: Mapping[str, str]) -> str:
    """The PyPI wheel platform of the scan's target: linux-x86_64 unless the markers say otherwise."""
    system = markers.get("sys_platform", "linux")
    machine = markers.get("platform_machine", "x86_64").lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if system.startswith("linux"):
        return f"linux-{arch}"
    if system == "win32":
        return "windows-amd64"
    if system == "darwin":
        return "macos-arm64" if arch == "aarch64" else "macos-x86_64"
    return f"{system}-{arch}"


def _unknown(package: Package, platform: str, project: str) -> dict[str, str]:
    """Nothing says the build: said, never guessed (GPU007 reports it)."""
    where = knowledge.release_position(project, package.version or "")
    if where == "older":
        oldest, _ = knowledge.release_span(project)
        known = f"is older than the releases mlgov's knowledge base holds ({project} {oldest} and later)"
    elif where == "newer":
        _, newest = knowledge.release_span(project)
        known = (f"is newer than the newest release in mlgov's knowledge base ({project} {newest}, "
                 f"PyPI read {knowledge.pypi_read_on()})")
    else:
        known = f"for {platform} is not in mlgov's knowledge base (PyPI read {knowledge.pypi_read_on()})"
    said = "no local version, PyTorch index or nvidia-* package" if project == "torch" else \
        "no local version or nvidia-* package"
    return {GPU_BUILD: "unknown", EVIDENCE: f"{package.name} {package.version} {known} and {said} says its build"}


def _unpinned(package: Package, platform: str) -> dict[str, str]:
    """A framework without a version: what pip installs depends on the release it picks, so only an
    extra, an index or the platform can say the build; when none does, that is said (GPU007)."""
    if platform.startswith("macos"):
        return _props("cpu", evidence=f"{package.name} for {platform}: NVIDIA CUDA does not run on macOS")
    return {GPU_BUILD: "unknown",
            EVIDENCE: f"{package.name} has no version pinned and nothing (a local version, a PyTorch index, a "
                      f"CUDA extra, nvidia-* packages beside it) says its build, which depends on the release "
                      f"pip picks"}


def _from_range(project: str, package: Package, platform: str) -> dict[str, str] | None:
    """A range pin (`tensorflow[and-cuda]>=2.16,<2.19`): the build every release in it is.

    Only when the range ends before the newest release read (no unread, newer release can match)
    and every release in it that the knowledge base holds for the platform agrees: on the CUDA
    version, else on its major (then only the major's driver floor is judged). Otherwise None.
    """
    specifiers = {p.specifier for p in package.provenance if p.applies and p.specifier}
    if len(specifiers) != 1:
        return None  # unpinned, or alternative files with different ranges
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(specifiers.pop())
    except InvalidSpecifier:
        return None
    _, newest = knowledge.release_span(project)
    if newest is None or spec.contains(newest, prereleases=True):
        return None
    matching = sorted((Version(r) for r in knowledge.pypi_releases(project) if spec.contains(r)))
    rows = [knowledge.pypi_build(project, str(r), platform) for r in matching]
    if not rows or any(row is None for row in rows):
        return None
    found = [row for row in rows if row is not None]
    span = f"every {project} release in {spec} PyPI serves for {platform} ({matching[0]} to {matching[-1]}, " \
           f"knowledge base)"
    builds = {row.build for row in found}
    if builds == {"cpu"}:
        return _props("cpu", evidence=f"{span} is a CPU build")
    cudas = {row.cuda or "" for row in found}
    majors = {cuda.split(".")[0] for cuda in cudas}
    if builds != {"cuda"} or len(majors) != 1 or "" in majors:
        return None
    cuda = cudas.pop() if len(cudas) == 1 else majors.pop()
    cudnn_majors = {row.cudnn_major or (row.cudnn or "").split(".")[0] for row in found}
    return _props("cuda", cuda, evidence=f"{span} is a CUDA {cuda} build",
                  cudnn_major=cudnn_majors.pop() if len(cudnn_majors) == 1 and "" not in cudnn_majors else None)


_PYTORCH_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/|test/|lts/[\d.]+/)?(cu\d+|cpu|rocm[\d.]+)"
                            r"(?=[/?#]|$)", re.IGNORECASE)


def _pytorch_index(package: Package) -> tuple[str, str] | None:
    """(tag, where) of the PyTorch index a torch comes from ('cu130', 'index https://... (file:line)').

    pip prefers 2.5.1+cu118 from such an index over PyPI's 2.5.1 (a local version sorts above its
    public one), so the index says the build whatever release is picked. Several indexes (alternative
    requirements files merged): a CUDA one wins, the newest CUDA first, since that is the build the
    GPU rules must judge.
    """
    found: list[tuple[str, str]] = []
    # The declarations first, so that the evidence names the file and line (max keeps the first of equals).
    places = [(p.source, p.location) for p in package.provenance if p.applies] + [(package.source, "")]
    for source, where in places:
        match = _PYTORCH_INDEX.search(source.url) if source is not None else None
        if match:
            found.append((match.group(1).lower(), f"PyTorch's index {source.url}" +  # type: ignore[union-attr]
                          (f" ({where})" if where else "")))
    if not found:
        return None

    def rank(item: tuple[str, str]) -> tuple[int, tuple[int, ...]]:
        cuda = wheels.cu_tag(item[0]) if item[0].startswith("cu") else None
        return (2, knowledge.driver_tuple(cuda)) if cuda else (1 if item[0].startswith("rocm") else 0, ())

    return max(found, key=rank)


def _from_pypi(project: str, package: Package, platform: str, cudnn: str | None = None) -> dict[str, str] | None:
    found = knowledge.pypi_build(project, package.version or "", platform)
    if found is None:
        return None
    evidence = f"PyPI's {project} {knowledge.base_version(package.version or '')} wheel for {platform} " \
               f"(knowledge base, read from the wheel)"
    if found.build != "cuda":
        return _props(found.build, evidence=evidence)
    return _props("cuda", found.cuda, cudnn or found.cudnn, evidence, cudnn_major=found.cudnn_major)


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
    local, said = _local(version), "local version"
    if not local and package.property(WHEEL_LOCAL):
        local, said = package.property(WHEEL_LOCAL) or "", "the locked wheel files' local version"
    if not local:
        pytorch = _pytorch_index(package)
        if pytorch is not None:
            local, said = pytorch[0], pytorch[1] + ", whose builds are"
    if local:
        cuda = wheels.cu_tag(local)
        if cuda and local.startswith("cu"):
            return _props("cuda", cuda, cudnn or (knowledge.torch_cudnn(version, cuda) if version else None),
                          f"{said} +{local}")
        if local.startswith("rocm"):
            return _props("rocm", evidence=f"{said} +{local}")
        return _props("cpu", evidence=f"{said} +{local}")
    runtime = index.version_of(r"nvidia-cuda-runtime(-cu\d+)?|cuda-toolkit", prefer=package.requires)
    if runtime:
        cuda = knowledge.major_minor(runtime[1])
        return _props("cuda", cuda, cudnn or knowledge.torch_cudnn(version, cuda),
                      f"{runtime[0]} {runtime[1]} beside it")
    platform = _platform(markers)
    if not version:
        return _from_range("torch", package, platform) or _unpinned(package, platform)
    return _from_pypi("torch", package, platform, cudnn) or _unknown(package, platform, "torch")


def _tensorflow(package: Package, index: _Index, site: Sequence[Path], markers: Mapping[str, str]) -> dict[str, str]:
    name = package.key
    if name in ("tensorflow-cpu", "tensorflow-intel", "tensorflow-macos"):
        return _props("cpu", evidence=f"the {name} package")
    if name == "tensorflow-rocm":
        return _props("rocm", evidence="the tensorflow-rocm package")
    # tensorflow-gpu (2.0-2.11 on PyPI) has rows of its own; every other name reads tensorflow's.
    project = "tensorflow-gpu" if name == "tensorflow-gpu" else "tensorflow"
    cudnn_wheel = index.version_of(r"nvidia-cudnn(-cu\d+)?", prefer=package.requires)
    where, text = "", None
    if package.installed:
        # 2.0 and 2.1 install it under tensorflow_core/.
        for where in wheels.TENSORFLOW_BUILD_INFO:
            text = _site_file(site, where)
            if text is not None:
                break
    info = wheels.tensorflow_build_info(text) if text is not None else None
    if info is not None:
        if info.get("is_cuda_build") is True:
            top = where.split("/", 1)[0]
            config = _site_file(site, f"{top}/include/external/{wheels.TENSORFLOW_CUDA_CONFIG}")
            cuda, built = wheels.tensorflow_cuda(info, config)
            return _props("cuda", knowledge.major_minor(cuda) if cuda else None,
                          cudnn_wheel[1] if cudnn_wheel else built, where,
                          cudnn_major=None if cudnn_wheel else (built.split(".")[0] if built else None))
        if info.get("is_rocm_build") is True:
            return _props("rocm", evidence=where)
        return _props("cpu", evidence=where)
    platform = _platform(markers)
    if not package.version:
        # tensorflow[and-cuda] says CUDA, but not which major: 2.14's extra installs CUDA 11 libraries,
        # 2.15 and later CUDA 12 ones; the release pip picks decides.
        return _from_range(project, package, platform) or _unpinned(package, platform)
    removed = knowledge.removed_release(project, package.version)
    if removed is not None:
        return {GPU_BUILD: "unknown",
                EVIDENCE: f"{package.name} {package.version} is no build: PyPI serves {package.name} "
                          f"{removed.since} and later only as a source placeholder whose setup.py refuses to "
                          f"install (\"the {package.name} package has been removed\")"}
    found = _from_pypi(project, package, platform, cudnn_wheel[1] if cudnn_wheel else None)
    if found is None:
        return _unknown(package, platform, project)
    if any("and-cuda" in p.extras for p in package.provenance):
        found[EVIDENCE] = "the and-cuda extra; " + found[EVIDENCE]
    return found


_PLUGIN = re.compile(r"jax-cuda(\d+)-plugin")
_JAX_CUDA_EXTRA = re.compile(r"cuda(\d+)(?:[-_](?:local|pip))?")


def _jax_plugin(package: Package, index: _Index, markers: Mapping[str, str]) -> dict[str, str]:
    """A jax-cudaNN-plugin is judged on its own: a lock with both the CUDA 12 and the CUDA 13
    plugin needs a driver for each."""
    match = _PLUGIN.fullmatch(package.key)
    if match is None:
        return {}
    cudnn_wheel = index.version_of(rf"nvidia-cudnn-cu{match.group(1)}")
    platform = _platform(markers)
    found = _from_pypi(package.key, package, platform, cudnn_wheel[1] if cudnn_wheel else None) \
        if package.version else None
    if found is not None:
        return found
    # The CUDA major is in the name even for a release mlgov has not read.
    return _props("cuda", match.group(1), cudnn_wheel[1] if cudnn_wheel else None,
                  f"the {package.key} package (release not in the knowledge base; cuDNN not known)")


def _jax(package: Package, index: _Index, markers: Mapping[str, str]) -> dict[str, str]:
    plugins = sorted(k for k in index.by_key if _PLUGIN.fullmatch(k))
    if plugins:
        # The plugins carry the CUDA builds and are judged themselves.
        return {GPU_BUILD: "cuda", EVIDENCE: "the CUDA plugin(s) " + ", ".join(plugins)}
    extras = {extra.lower() for p in package.provenance if p.applies for extra in p.extras}
    # jax[cuda12], jax[cuda13], and the older jax[cuda12_pip] / jax[cuda11_local] (also spelled with "-"):
    # the CUDA major is in the extra whatever release pip picks. The newest major first: it needs the
    # highest driver, and alternative requirements files merged into one package may name several.
    wanted = sorted((e for e in extras if _JAX_CUDA_EXTRA.fullmatch(e)),
                    key=lambda e: int(_JAX_CUDA_EXTRA.fullmatch(e).group(1)), reverse=True)  # type: ignore[union-attr]
    if wanted and package.key == "jax":
        major = _JAX_CUDA_EXTRA.fullmatch(wanted[0]).group(1)  # type: ignore[union-attr]
        plugin = f"jax-cuda{major}-plugin"
        found = knowledge.pypi_build(plugin, package.version, _platform(markers)) if package.version else None
        if found is not None:
            return _props("cuda", found.cuda, found.cudnn, f"jax[{wanted[0]}] -> {plugin} {package.version}",
                          cudnn_major=found.cudnn_major)
        release = "no version pinned" if not package.version else f"{plugin} {package.version} not in the " \
                                                                     "knowledge base"
        return _props("cuda", major, evidence=f"jax[{wanted[0]}]; {release}: the CUDA major from the extra, "
                                              f"the cuDNN not known")
    if package.key == "jax" and extras & {"cuda", "gpu"}:
        return {GPU_BUILD: "unknown", EVIDENCE: f"jax[{sorted(extras & {'cuda', 'gpu'})[0]}] names no CUDA major"}
    jaxlib = index.version_of(r"jaxlib")
    local = _local(jaxlib[1]) if jaxlib else ""
    match = re.fullmatch(r"cuda(\d+)\.cudnn(\d)(\d+)", local)
    if match:
        return _props("cuda", match.group(1), f"{match.group(2)}.{match.group(3)}",
                      f"jaxlib local version +{local}")
    # The older tag form, jaxlib==0.1.72+cuda111: CUDA 11.1, the cuDNN not named.
    cuda = wheels.cu_tag(local) if re.fullmatch(r"cuda\d{3,}", local) else None
    if cuda:
        return _props("cuda", cuda, evidence=f"jaxlib local version +{local}")
    if local.startswith("rocm"):
        return _props("rocm", evidence=f"jaxlib local version +{local}")
    # PyPI's jax and jaxlib are CPU builds; CUDA comes from a plugin, a cudaNN extra or a +cuda jaxlib.
    return _props("cpu", evidence="no jax-cuda plugin, no CUDA extra and no CUDA jaxlib")


def _onnxruntime(package: Package, site: Sequence[Path], markers: Mapping[str, str]) -> dict[str, str]:
    if package.key in ("onnxruntime", "onnxruntime-directml"):
        return _props("cpu", evidence=f"the {package.key} package (the CUDA build is onnxruntime-gpu)")
    if package.key == "onnxruntime-rocm":
        return _props("rocm", evidence="the onnxruntime-rocm package")
    text = _site_file(site, "onnxruntime/capi/build_and_package_info.py") if package.installed else None
    if text is not None:
        info = wheels.python_assignments(text)
        cuda, cudnn = info.get("cuda_version"), info.get("cudnn_version")
        if isinstance(cuda, str) and cuda:
            from_pypi = knowledge.pypi_build("onnxruntime-gpu", package.version or "", _platform(markers))
            return _props("cuda", knowledge.major_minor(cuda), cudnn if isinstance(cudnn, str) and cudnn else None,
                          "onnxruntime/capi/build_and_package_info.py",
                          cudnn_major=from_pypi.cudnn_major if from_pypi is not None and from_pypi.cuda and
                          from_pypi.cuda.split(".")[0] == cuda.split(".")[0] else None)
    platform = _platform(markers)
    if not package.version:
        return _from_range("onnxruntime-gpu", package, platform) or _unpinned(package, platform)
    return _from_pypi("onnxruntime-gpu", package, platform) or _unknown(package, platform, "onnxruntime-gpu")


def keras_backend(project: Path, index: _Index, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(backend, where it was read)."""
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"], "KERAS_BACKEND"
    for relative in ("keras.json", ".keras/keras.json"):
        text = _read(project / relative, project)
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
    if _PLUGIN.fullmatch(key):
        return _jax_plugin(package, index, markers)
    if key.startswith("onnxruntime"):
        return _onnxruntime(package, site, markers)
    if key == "keras":
        return _keras(package, index, project, environ)
    return {}


CONDA_FRAMEWORKS = ("pytorch", "tensorflow", "tensorflow-base", "jaxlib", "onnxruntime")
_CONDA_CUDA = re.compile(r"(?:^|_)cuda(\d+)\.(\d+)(?:_|$)|(?:^|_)cuda(\d{2})(\d)(?=_|py|$)")
_CONDA_CUDNN = re.compile(r"(?:^|_)cudnn(\d+(?:\.\d+)*)(?:_|$)")


def _conda_pin(package: Package) -> str | None:
    """The version a conda package is, or is pinned to: an environment file's `cudatoolkit=11.3`
    (conda's fuzzy `==11.3.*`) says CUDA 11.3 although no single version is installed."""
    if package.version:
        return package.version
    for provenance in package.provenance:
        match = re.fullmatch(r"==?\s*(\d+\.\d+)(?:\.\*|\.\d+[\w.*]*)?", provenance.specifier.strip())
        if match and provenance.applies:
            return match.group(1)
    return None


def conda_build(package: Package, index: _Index) -> dict[str, str]:
    """A conda framework's build from its build string and the CUDA packages beside it.

    pytorch channel: `py3.10_cuda11.8_cudnn8.7.0_0` (CUDA and cuDNN in the string), `py3.11_cpu_0`;
    conda-forge: `cuda124_py311h3cc6e6a_303` / `cuda120py311h...` with a `cudnn` package beside it,
    `cpu_generic_py311h..._3`. An environment file without build strings says it with
    `pytorch-cuda=12.1`, `cudatoolkit=11.6` or `cuda-version=12.4`.
    """
    build = package.property("mlgov:conda:build") or ""
    cudnn_pkg = next((p.version for p in index.by_key.get("cudnn", []) if p.ecosystem == "conda" and p.version),
                     None)
    cuda_match = _CONDA_CUDA.search(build)
    if cuda_match:
        major = cuda_match.group(1) or cuda_match.group(3)
        minor = cuda_match.group(2) or cuda_match.group(4)
        cudnn_match = _CONDA_CUDNN.search(build)
        cudnn = cudnn_match.group(1) if cudnn_match else cudnn_pkg
        return _props("cuda", f"{major}.{minor}", cudnn, f"conda build string {build}")
    if re.search(r"(?:^|_)cpu(?:_|$)", build) or build.startswith("cpu"):
        return _props("cpu", evidence=f"conda build string {build}")
    if build:
        return {GPU_BUILD: "unknown", EVIDENCE: f"conda build string {build} names no CUDA and no CPU build"}
    # Only PyTorch's own channel says its CUDA through companions (pytorch-cuda=12.1,
    # or cudatoolkit=11.6 before 1.13); for the others that would be a guess.
    for companion in ("pytorch-cuda", "cudatoolkit", "cuda-version") if package.key == "pytorch" else ():
        for other in index.by_key.get(companion, []):
            version = _conda_pin(other) if other.ecosystem == "conda" else None
            if version and re.match(r"\d+\.\d+", version):
                return _props("cuda", knowledge.major_minor(version), cudnn_pkg, f"{companion}={version} beside it")
    if package.version:
        return {GPU_BUILD: "unknown",
                EVIDENCE: f"conda {package.name} {package.version} without a build string, pytorch-cuda, "
                          f"cudatoolkit or cuda-version beside it"}
    return {}


def annotate(packages: Sequence[Package], site_packages: Sequence[Path], project: Path,
             markers: Mapping[str, str], environ: Mapping[str, str] | None = None) -> tuple[Package, ...]:
    """The packages, with the build properties of every framework among them."""
    import os

    environ = os.environ if environ is None else environ
    index = _Index(packages)
    result = []
    for package in packages:
        props: dict[str, str] = {}
        if package.ecosystem == "pypi" and package.key in FRAMEWORKS:
            props = build_properties(package, index, site_packages, project, markers, environ)
        elif package.ecosystem == "conda" and package.key in CONDA_FRAMEWORKS:
            props = conda_build(package, index)
        if props:
            ours = set(props)
            kept = tuple(p for p in package.properties if p[0] not in ours)
            package = replace(package, properties=kept + tuple(props.items()))
        result.append(package)
    return tuple(result)


def gpu_build(package: Package) -> str | None:
    return package.property(GPU_BUILD)


def attribute_sbom(packages: Sequence[Package], target: str | None) -> tuple[Package, ...]:
    """The packages of an SBOM, with the build of each framework the SBOM does not say.

    An SBOM another tool wrote (cyclonedx-py, Syft) lists torch 2.5.1 and the nvidia-*-cu12 wheels
    but no mlgov:gpu-build: the same attribution a scan of a lockfile makes is run on what it holds
    (local versions, nvidia-* beside it, the knowledge base), so that the GPU rules judge it or GPU007
    says why not. Components that carry a build (an SBOM mlgov wrote) keep theirs. The platform is
    the SBOM's recorded target, else linux-x86_64 (the platform GPU builds are judged for).
    """
    from governance.platforms import PLATFORMS

    missing = {id(p) for p in packages if p.key != "keras" and p.property(GPU_BUILD) is None and (
        (p.ecosystem == "pypi" and p.key in FRAMEWORKS) or (p.ecosystem == "conda" and p.key in CONDA_FRAMEWORKS))}
    if not missing:
        return tuple(packages)
    platform = (target or "").split("/", 1)[0]
    markers = dict(PLATFORMS.get(platform, PLATFORMS["linux-x86_64"]))
    annotated = annotate(packages, (), Path("."), markers, environ={})
    return tuple(new if id(old) in missing else old for old, new in zip(packages, annotated))
