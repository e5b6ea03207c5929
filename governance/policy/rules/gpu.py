"""GPU001-GPU008: will the frameworks' CUDA and cuDNN builds run on the hosts they are meant for?

The frameworks' builds come from collect.frameworks (package properties); the
hosts from `--host` profiles or a live probe (Inventory.hosts); the driver
floors from the knowledge base. Every host of a fleet is judged on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance import knowledge
from governance.collect.frameworks import CUDA, CUDNN, CUDNN_MAJOR, EVIDENCE, GPU_BUILD
from governance.model import Finding, GpuStack, LibraryCopy, Level, Package
from governance.policy.context import RuleContext
from governance.policy.rule import NOT_JUDGED, Rule

RULES = (
    Rule("GPU001", "gpu", "error",
         "The host's NVIDIA driver is below the floor of the CUDA major a framework was built for.",
         "Upgrade the host's driver to at least the toolkit's minimum, or install the framework's build for an "
         "older CUDA (e.g. torch==2.5.1+cu118 from https://download.pytorch.org/whl/cu118)."),
    Rule("GPU002", "gpu", "warning",
         "A framework runs on the host's driver only under CUDA minor-version compatibility.",
         "Upgrade the driver to the toolkit's own minimum for full support (PTX JIT, every API), or use the "
         "framework's build for a CUDA the driver fully supports."),
    Rule("GPU003", "gpu", "error",
         "A framework was built for a cuDNN major other than the one it will load.",
         "Install the framework's build for the cuDNN that is there (onnxruntime-gpu>=1.19.0 for cuDNN 9), "
         "or install the cuDNN major it needs (nvidia-cudnn-cu11/cu12)."),
    Rule("GPU004", "gpu", "warning",
         "Several CUDA runtime or cuDNN copies with different versions; frameworks may load different ones.",
         "Keep one copy, or check that each framework loads the one you expect (torch preloads its wheel's)."),
    Rule("GPU005", "gpu", "error",
         "The driver, CUDA, cuDNN or framework build breaks the policy's [gpu] pins.",
         "Bring the host or the framework build within `[gpu] driver`, `cuda`, `cudnn` and `require_gpu_build`."),
    Rule("GPU006", "gpu", NOT_JUDGED,
         "No host profile: the driver and cuDNN rules could not be judged.",
         "Pass --host PROFILE.json (from `mlgov probe -o`) for each host the project runs on, or scan on the GPU "
         "host. The stage's `[coverage] not_judged` sets the level (error at production); "
         "`[gpu] require_host_profile = true` makes it an error at any stage, also without a GPU framework."),
    Rule("GPU007", "gpu", NOT_JUDGED,
         "A framework's build could not be determined, or its CUDA is not in mlgov's driver table, so the GPU "
         "rules could not judge it.",
         "Pin the release and its build (torch==X+cuXYZ from https://download.pytorch.org/whl/cuXYZ, a CUDA "
         "PyTorch published X for), lock the nvidia-* libraries it needs beside it, or update mlgov when the "
         "release is newer than its knowledge base. "
         "The stage's `[coverage] not_judged` sets the level (error at production)."),
    Rule("GPU008", "gpu", "warning",
         "A locked CUDA build cannot be installed as locked: its nvidia-* libraries are missing from the lock, "
         "or a +cuXYZ pin has no index that serves it.",
         "Lock on (or for) the platform that runs it, so the nvidia-* wheels the framework requires are in the "
         "lock; for a +cuXYZ pin, add PyTorch's index (--extra-index-url https://download.pytorch.org/whl/cu126, "
         "or a uv/poetry source)."),
)

_PRELOADS_WHEELS = ("torch", "tensorflow", "jax", "jaxlib")  # they find site-packages/nvidia/*/lib first
_CUDNN_WHEEL = re.compile(r"^nvidia-cudnn(-cu\d+)?$")
_RUNTIME_WHEEL = re.compile(r"^nvidia-cuda-runtime(-cu\d+)?$")


def _applies(package: Package) -> bool:
    return not package.provenance or any(p.applies for p in package.provenance)


def _cuda_frameworks(ctx: RuleContext) -> list[Package]:
    return [p for p in ctx.inventory.packages
            if p.property(GPU_BUILD) == "cuda" and _applies(p) and p.key != "keras"]


def _dv(version: str) -> tuple[int, ...]:
    return knowledge.driver_tuple(version)


def _release(version: str, parts: int) -> tuple[int, ...]:
    return knowledge.driver_tuple(version)[:parts]


def _base(version: str | None) -> str:
    return (version or "").split("+", 1)[0]


def _describe(package: Package) -> str:
    evidence = package.property(EVIDENCE)
    named = f"{package.name} {package.version}" if package.version else f"{package.name} (no version pinned)"
    return named + (f" ({evidence})" if evidence else "")


def _copies(host: GpuStack | None, ctx: RuleContext, kind: str) -> list[LibraryCopy]:
    """The host's copies, with the project's own nvidia-* wheels in place of the host's wheel copies."""
    pattern = _CUDNN_WHEEL if kind == "cudnn" else _RUNTIME_WHEEL
    own = [LibraryCopy(version=p.version, origin="wheel", detected_by="the project's packages", package=p.name)
           for p in ctx.inventory.packages if pattern.match(p.key) and p.version and _applies(p)]
    listed = list(host.cudnn if kind == "cudnn" else host.cuda_runtimes) if host is not None else []
    if own:
        owned = {canonicalize_name(c.package or "") for c in own}
        # The project's environment is what runs there: its wheels replace the
        # profile's copies of the same distributions (matched by name).
        same = {(canonicalize_name(c.package or ""), c.version): c for c in listed if c.origin == "wheel"}
        hosted = [c for c in listed if not (c.origin == "wheel" and canonicalize_name(c.package or "") in owned)]
        listed = hosted + [same.get((canonicalize_name(c.package or ""), c.version), c) for c in own]
    return listed


def _label(copy: LibraryCopy) -> str:
    where = copy.package if copy.origin == "wheel" and copy.package else copy.path
    if copy.origin == "wheel" and copy.package and copy.path:
        where = f"{copy.package} at {copy.path}"
    return f"{copy.version} ({copy.origin}{', ' + where if where else ''})"


def loaded_copy(framework: Package, copies: Sequence[LibraryCopy], major: str | None) -> LibraryCopy | None:
    """The copy a framework's process loads: the dynamic loader asks for libcudnn.so.<major>;
    torch, TensorFlow and JAX look in site-packages/nvidia first (torch preloads it)."""
    candidates = [c for c in copies if major is None or c.version.split(".")[0] == major]
    if not candidates:
        return None
    wheels = [c for c in candidates if c.origin == "wheel"]
    others = [c for c in candidates if c.origin != "wheel"]
    order = wheels + others if framework.key in _PRELOADS_WHEELS else others + wheels
    return order[0]


def _loads_phrase(framework: Package, copy: LibraryCopy) -> str:
    why = ""
    if copy.origin == "wheel" and framework.key == "torch":
        why = ", the wheel's copy, which torch preloads"
    elif copy.origin == "wheel":
        why = ", the wheel's copy"
    return f"{framework.name} loads {copy.version}{why}"


def _alternative(package: Package, driver: str, full_only: bool) -> str | None:
    """A torch build for an older CUDA that this driver runs, e.g. "torch==2.5.1+cu118"."""
    if package.key != "torch" or not package.version:
        return None
    series = knowledge.torch_series(package.version)
    if series is None:
        return None
    current = package.property(CUDA) or ""
    for variant in sorted(series.variants, key=_dv, reverse=True):
        if variant == current:
            continue
        floor = knowledge.driver_floor(variant)
        if floor is None:
            continue
        bound = floor.minimum if full_only else floor.floor
        if bound and _dv(driver) >= _dv(bound):
            tag = "cu" + variant.replace(".", "")
            how = "fully supported" if floor.minimum and _dv(driver) >= _dv(floor.minimum) else \
                "runs under minor-version compatibility"
            return (f"pin torch=={_base(package.version)}+{tag} (CUDA {variant}, {how} on this driver; "
                    f"index https://download.pytorch.org/whl/{tag})")
    return None


def _driver_findings(ctx: RuleContext, host: GpuStack, package: Package) -> Iterator[Finding | None]:
    cuda = package.property(CUDA)
    if not cuda:
        return
    floor = knowledge.driver_floor(cuda)
    if floor is None:
        return
    need = floor.minimum or floor.floor
    if host.driver_version is None:
        reason = f" ({host.no_driver_reason})" if host.no_driver_reason else ""
        yield ctx.finding(
            "GPU001",
            f"{_describe(package)} is built for CUDA {cuda}, but host {host.name!r} has no NVIDIA driver{reason}: "
            f"it will not use the GPU there. Install NVIDIA driver ≥ {need} on {host.name!r}, "
            f"or use a CPU build if the host is not meant to run it on a GPU.",
            package=package, host=host.name, fix=f"install driver ≥ {need}")
        return
    driver = host.driver_version
    if floor.floor and _dv(driver) < _dv(floor.floor):
        alternative = _alternative(package, driver, full_only=True) or _alternative(package, driver, full_only=False)
        todo = f"upgrade the driver to ≥ {need}" + (f", or {alternative}" if alternative else "")
        yield ctx.finding(
            "GPU001",
            f"{_describe(package)} is built for CUDA {cuda}, which needs NVIDIA driver ≥ {floor.floor} "
            f"(≥ {need} for full support); host {host.name!r} has driver {driver}, so it cannot use the GPU "
            f"there. To fix: {todo}.",
            package=package, host=host.name, fix=todo)
    elif floor.minimum and _dv(driver) < _dv(floor.minimum):
        alternative = _alternative(package, driver, full_only=True)
        todo = f"upgrade the driver to ≥ {floor.minimum}" + (f", or {alternative}" if alternative else "")
        yield ctx.finding(
            "GPU002",
            f"{_describe(package)} is built for CUDA {cuda}, whose toolkit needs driver ≥ {floor.minimum}; "
            f"host {host.name!r} has driver {driver}, so it runs only under CUDA minor-version compatibility "
            f"(no JIT of newer PTX, some APIs fail). To fix: {todo}.",
            package=package, host=host.name, fix=todo)


def _cudnn_major(package: Package) -> str | None:
    return package.property(CUDNN_MAJOR) or (package.property(CUDNN) or "").split(".")[0] or None


def _cudnn_findings(ctx: RuleContext, host: GpuStack, package: Package,
                    copies: Sequence[LibraryCopy]) -> Iterator[Finding | None]:
    major = _cudnn_major(package)
    if major is None or not copies:
        return  # nothing known on either side: nothing to compare
    if loaded_copy(package, copies, major) is not None:
        return
    present = ", ".join(_label(c) for c in copies)
    cuda = package.property(CUDA)
    todo = f"install cuDNN {major} (e.g. nvidia-cudnn-cu{cuda.split('.')[0] if cuda else '12'})"
    if package.key == "onnxruntime-gpu" and major == "8" and any(c.version.startswith("9.") for c in copies):
        todo = "use onnxruntime-gpu>=1.19.0 (PyPI's first cuDNN 9 build), or " + todo
    yield ctx.finding(
        "GPU003",
        f"{_describe(package)} is built for cuDNN {major}, but host {host.name!r} has only cuDNN {present}: "
        f"its GPU code will fail to load libcudnn.so.{major}. To fix: {todo}.",
        package=package, host=host.name, fix=todo)


def _normalise(version: str, kind: str) -> tuple[int, ...]:
    # cuDNN 9.19.0 (header) and 9.19.0.56 (wheel) are one release; CUDA 13.0.88
    # (nvcc) and 13.0.96 (libcudart) are one toolkit.
    return _release(version, 3 if kind == "cudnn" else 2)


def _copies_findings(ctx: RuleContext, host: GpuStack | None, kind: str,
                     frameworks: Sequence[Package]) -> Iterator[Finding | None]:
    copies = _copies(host, ctx, kind)
    versions = {_normalise(c.version, kind) for c in copies}
    if len(versions) < 2:
        return
    label = "cuDNN" if kind == "cudnn" else "CUDA runtime"
    where = f"host {host.name!r}" if host is not None else "the environment"
    listed = "; ".join(_label(c) for c in copies)
    loads = []
    for framework in frameworks:
        major = _cudnn_major(framework) if kind == "cudnn" else (framework.property(CUDA) or "").split(".")[0] or None
        copy = loaded_copy(framework, copies, major)
        if copy is not None:
            loads.append(_loads_phrase(framework, copy))
    said = (" " + "; ".join(loads) + ".") if loads else ""
    yield ctx.finding(
        "GPU004",
        f"{where} has {len(copies)} {label} copies with different versions: {listed}.{said} "
        f"Tools that look only at the system libraries (PyTorch's collect_env) report the wrong one; "
        f"keep one copy, or pin the wheel to the version you test with.",
        host=host.name if host is not None else None,
        fix=f"keep one {label} copy")


def _in(spec: str, version: str) -> bool:
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _pins(ctx: RuleContext, frameworks: Sequence[Package]) -> Iterator[Finding | None]:
    driver_spec = ctx.policy.get("gpu", "driver")
    cuda_spec = ctx.policy.get("gpu", "cuda")
    cudnn_spec = ctx.policy.get("gpu", "cudnn")
    for host in ctx.inventory.hosts:
        if driver_spec and (host.driver_version is None or not _in(driver_spec, host.driver_version)):
            have = f"driver {host.driver_version}" if host.driver_version else "no NVIDIA driver"
            yield ctx.finding("GPU005", f"host {host.name!r} has {have}; the policy requires driver {driver_spec}: "
                              f"upgrade the host's driver to match {driver_spec}.",
                              host=host.name, fix=f"driver {driver_spec}")
    for package in frameworks:
        cuda = package.property(CUDA)
        if cuda_spec and cuda and not _in(cuda_spec, cuda):
            yield ctx.finding("GPU005", f"{_describe(package)} is built for CUDA {cuda}; the policy requires cuda "
                              f"{cuda_spec}: install the framework's build for a CUDA matching {cuda_spec}.",
                              package=package, fix=f"a {package.name} build for CUDA {cuda_spec}")
        if not cudnn_spec:
            continue
        judged: list[tuple[str, str | None]] = []
        for host in ctx.inventory.hosts:
            copy = loaded_copy(package, _copies(host, ctx, "cudnn"), _cudnn_major(package))
            if copy is not None:
                judged.append((copy.version, host.name))
        if not ctx.inventory.hosts and package.property(CUDNN):
            judged.append((package.property(CUDNN) or "", None))
        for version, host_name in judged:
            if not _in(cudnn_spec, version):
                where = f" on host {host_name!r}" if host_name else ""
                yield ctx.finding("GPU005", f"{package.name} {package.version} loads cuDNN {version}{where}; the policy "
                                  f"requires cudnn {cudnn_spec}: install a cuDNN matching {cudnn_spec}.",
                                  package=package, host=host_name, fix=f"cuDNN {cudnn_spec}")
    for name in ctx.policy.get("gpu", "require_gpu_build", []) or []:
        for package in ctx.inventory.by_key(canonicalize_name(name)):
            if not _applies(package):
                continue
            build = package.property(GPU_BUILD)
            if build in ("cuda", "rocm"):
                continue
            why = f"a {build} build ({package.property(EVIDENCE)})" if build and build != "unknown" \
                else "a build mlgov cannot identify"
            pin = _torch_cuda_pin(package.version) if package.key == "torch" else None
            todo = f"install a CUDA build, e.g. {pin}" if pin else f"install the GPU build of {package.name}"
            yield ctx.finding("GPU005", f"{package.name} {package.version} is {why}; the policy requires a GPU build "
                              f"of {package.name}: {todo}.", package=package, fix=todo)


def _unknown_builds(ctx: RuleContext) -> list[Package]:
    return [p for p in ctx.inventory.packages if p.property(GPU_BUILD) == "unknown" and _applies(p)]


def _torch_cuda_pin(version: str | None) -> str | None:
    """A +cuXYZ build PyTorch published for this release (the newest CUDA of its series in the
    knowledge base), e.g. "torch==2.0.1+cu118 from https://download.pytorch.org/whl/cu118"; None
    when the knowledge base does not list that series' builds: never a wheel that may not exist."""
    series = knowledge.torch_series(version) if version else None
    if series is None or not series.variants:
        return None
    tag = "cu" + max(series.variants, key=_dv).replace(".", "")
    return f"torch=={_base(version)}+{tag} from https://download.pytorch.org/whl/{tag}"


_KNOWLEDGE_PROJECT = {"torch": "torch", "onnxruntime-gpu": "onnxruntime-gpu", "tensorflow-gpu": "tensorflow-gpu"}


def _pin_advice(package: Package) -> str:
    """How to make the build of `package` known, naming only builds that exist."""
    if package.ecosystem == "conda":
        return (f"say the build: lock {package.name} with its build string (conda-lock, `conda env export`), "
                f"or pin pytorch-cuda / cudatoolkit beside it" if package.key == "pytorch" else
                f"say the build: lock {package.name} with its build string (conda-lock, `conda env export`)")
    if not package.version:
        return (f"pin {package.name} to a release (its build is then read from mlgov's knowledge base)"
                + (", or install it from one of PyTorch's per-CUDA indexes (https://download.pytorch.org/whl/"
                   "cuXYZ, or .../whl/cpu)" if package.key == "torch" else ""))
    removed = knowledge.removed_release(package.key, package.version)
    if removed is not None:
        return (f"install {removed.instead}=={_base(package.version)} instead ({package.name} "
                f"{removed.since} and later on PyPI refuse to install), or pin a {package.name} release "
                f"before {removed.since}")
    if package.key == "torch":
        pin = _torch_cuda_pin(package.version)
        if pin is not None:
            return f"pin the build ({pin}, or torch=={_base(package.version)}+cpu)"
        return (f"pin the build with the local version of the torch {_base(package.version)} build you install "
                f"(+cuXYZ from PyTorch's index for that CUDA, or +cpu); mlgov's knowledge base does not list "
                f"the builds of that release")
    return f"lock the nvidia-* libraries {package.name} needs beside it"


def _not_judged(ctx: RuleContext, frameworks: Sequence[Package]) -> Iterator[Finding | None]:
    """GPU007: a framework whose build nothing tells is said, at the stage's "not judged" level."""
    for package in _unknown_builds(ctx):
        why = package.property(EVIDENCE) or f"nothing says which build {package.name} {package.version} is"
        project = _KNOWLEDGE_PROJECT.get(package.key) or ("tensorflow" if package.key.startswith("tensorflow")
                                                          else None)
        # "Update mlgov" helps only for a release newer than the knowledge base (or one it cannot place),
        # never for a placeholder release that has no build (tensorflow-gpu 2.12+).
        newer = project is not None and package.version is not None and \
            knowledge.removed_release(package.key, package.version) is None and \
            knowledge.release_position(project, package.version) in ("newer", None)
        update = f", or update mlgov ({package.name} {package.version} is newer than its knowledge base)" \
            if newer else ""
        yield ctx.finding(
            "GPU007",
            f"{why}: the GPU rules (driver, CUDA, cuDNN) could not judge it. To fix: {_pin_advice(package)}{update}.",
            package=package, fix="pin the framework's build" + (" or update mlgov" if newer else ""))


def _no_driver_row(ctx: RuleContext, frameworks: Sequence[Package]) -> Iterator[Finding | None]:
    """GPU007 too: a build whose CUDA the driver table does not hold (CUDA 9.2, a CUDA 14) cannot be
    judged against any host; said once per framework rather than passed silently."""
    for package in frameworks:
        cuda = package.property(CUDA)
        if cuda and knowledge.driver_floor(cuda) is None:
            yield ctx.finding(
                "GPU007",
                f"{_describe(package)} is built for CUDA {cuda}, which mlgov's driver table (CUDA toolkit "
                f"minimums and minor-version floors) does not hold: whether the hosts' drivers run it could "
                f"not be judged. To fix: use a build for a CUDA in the table, or update mlgov.",
                package=package, fix="use a build for a known CUDA or update mlgov")


def _feasibility(ctx: RuleContext, frameworks: Sequence[Package]) -> Iterator[Finding | None]:
    """GPU008: a lock whose CUDA framework cannot be installed as locked."""
    locked = {p.key for p in ctx.inventory.packages if _applies(p)}
    for package in frameworks:
        if package.key != "torch" or not any(p.kind in ("lockfile", "requirements") and p.applies
                                             for p in package.provenance):
            continue
        evidence = package.property(EVIDENCE) or ""
        # The pin, not what happens to be installed: a `+cuXYZ` written in a lock or requirements file.
        pinned = [re.search(r"\+(cu\d+)", p.specifier) for p in package.provenance
                  if p.kind in ("lockfile", "requirements") and p.applies]
        local = next((m.group(1) for m in pinned if m), "")
        platform = re.search(r"wheel for (linux-\w+)", evidence)
        row = knowledge.pypi_build("torch", package.version or "", platform.group(1)) if platform else None
        # Only a wheel that requires nvidia-* wheels misses them: torch up to 1.12 bundles its CUDA libraries.
        if evidence.startswith("PyPI's torch") and row is not None and row.nvidia_wheels and \
                any(p.kind == "lockfile" and p.applies for p in package.provenance):
            wanted = [name for name in package.requires if name.startswith(("nvidia-", "cuda-toolkit"))]
            if not wanted and not any(k.startswith(("nvidia-cudnn", "nvidia-cuda-runtime", "cuda-toolkit"))
                                      for k in locked):
                yield ctx.finding(
                    "GPU008",
                    f"{_describe(package)} is a Linux CUDA build, but the lock holds none of the nvidia-* "
                    f"libraries it requires (nvidia-cudnn, the CUDA runtime): the lock was likely made on another "
                    f"platform (macOS, Windows) and installs a torch that cannot load CUDA here. To fix: lock for "
                    f"the Linux target too (uv lock resolves every platform; pip-compile on Linux).",
                    package=package, fix="lock for the Linux target")
        if local.startswith("cu") and not any(
                prov.source is not None and "download.pytorch.org" in prov.source.url
                for prov in package.provenance) and not (package.source and
                                                         "download.pytorch.org" in package.source.url):
            yield ctx.finding(
                "GPU008",
                f"{package.name}=={package.version} is pinned, but no index named beside the pin serves it: "
                f"+{local} builds are on https://download.pytorch.org/whl/{local}, not on PyPI, so an install "
                f"from the lock fails. To fix: add that index as a source of {package.name}.",
                package=package, fix=f"add https://download.pytorch.org/whl/{local} as an index")


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    frameworks = _cuda_frameworks(ctx)
    hosts = ctx.inventory.hosts
    yield from _not_judged(ctx, frameworks)
    yield from _feasibility(ctx, frameworks)
    if not hosts:
        required = bool(ctx.policy.get("gpu", "require_host_profile", False))
        # A framework whose build is unknown still needs a host judged: the note stays.
        frameworks_or_unknown = list(frameworks) + _unknown_builds(ctx)
        if frameworks_or_unknown or required:
            names = ", ".join(sorted({p.name for p in frameworks_or_unknown})) or "the project"
            yield ctx.finding(
                "GPU006",
                f"no host profile: whether the hosts' NVIDIA driver and cuDNN can run {names} was not judged; "
                "pass --host PROFILE.json (written by `mlgov probe -o`) for each host, or scan on the GPU host.",
                level=Level.ERROR if required else None, fix="pass --host PROFILE.json")
        yield from _copies_findings(ctx, None, "cudnn", frameworks)
        yield from _copies_findings(ctx, None, "cuda_runtime", frameworks)
    if hosts:
        yield from _no_driver_row(ctx, frameworks)
    for host in hosts:
        cudnn_copies = _copies(host, ctx, "cudnn")
        for package in frameworks:
            yield from _driver_findings(ctx, host, package)
            yield from _cudnn_findings(ctx, host, package, cudnn_copies)
        yield from _copies_findings(ctx, host, "cudnn", frameworks)
        yield from _copies_findings(ctx, host, "cuda_runtime", frameworks)
    yield from _pins(ctx, frameworks)
