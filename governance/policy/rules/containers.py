"""IMG001-IMG006: the container images a project builds on and runs.

The images come from the project's Dockerfiles and compose files
(collect.containers), with what each brings from the image-tag knowledge; the
framework builds from collect.frameworks; the hosts from `--host` profiles.
IMG003 and IMG004 judge only the images the built containers run on (the
final stage's base, a compose service's image): a builder stage's CUDA is gone
once its artefacts are copied out.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Iterator
from types import ModuleType

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance import knowledge
from governance.collect.frameworks import CUDA, CUDNN, CUDNN_MAJOR, GPU_BUILD
from governance.model import ContainerImage, Finding, GpuStack, Level, Package, Provenance
from governance.policy.context import RuleContext
from governance.policy.rule import NOT_JUDGED, Rule

RULES = (
    Rule("IMG001", "containers", "error",
         "A container image comes from a registry/repository the policy's `[containers] trusted` list does not name.",
         "Use an image from a trusted registry (mirror it there), or add its registry/repository to "
         "`[containers] trusted` after review (globs such as \"nvcr.io/nvidia/*\")."),
    Rule("IMG002", "containers", "warning",
         "A container image is not pinned by digest (`latest` or no tag is always reported).",
         "Pin the image by digest, e.g. `FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:...` "
         "(`docker buildx imagetools inspect IMAGE` prints it); `[containers] require_digest = true` makes "
         "every unpinned image an error."),
    Rule("IMG003", "containers", "error",
         "The runtime image's CUDA/cuDNN is older than the project's framework builds need, or its framework "
         "differs from the one the lock pins.",
         "Move the base image to the CUDA the framework build needs (e.g. nvidia/cuda:12.8.1-runtime for "
         "torch+cu128), or pin the framework build the image ships."),
    Rule("IMG004", "containers", "error",
         "The runtime image's CUDA cannot run on a host profile's NVIDIA driver.",
         "Upgrade the host's driver to one the image's CUDA needs, or use an image for an older CUDA."),
    Rule("IMG005", "containers", "warning",
         "A CUDA image tag is past its end of life: NVIDIA deletes such tags six months after, so a rebuild or "
         "rollback fails at pull time.",
         "Move to a supported tag (the newest patch of a supported CUDA minor) and pin it by digest, or mirror "
         "the image into your own registry."),
    Rule("IMG006", "containers", NOT_JUDGED,
         "A container image could not be judged: its reference depends on a build argument, or its tag is not "
         "in the image knowledge.",
         "Give the ARG a default in the file, or pin a tag the image knowledge lists (docs/containers.md says "
         "how to add one). Its level is the stage's `[coverage] not_judged`."),
    Rule("COV014", "containers", NOT_JUDGED,
         "IMG004 could not judge a runtime image on a host: the host's CUDA is unknown (a hand-written profile "
         "without `cuda_driver_version`, a driver mlgov's table does not place), or the image's CUDA is not in "
         "mlgov's driver table.",
         "Add `cuda_driver_version` to the host profile (`mlgov probe -o` records it), or use an image whose "
         "CUDA mlgov knows; update mlgov when the driver or CUDA is newer than its tables."),
)


def _where(image: ContainerImage) -> Provenance:
    return Provenance(file=image.file, kind="container", line=image.line)


def _finding(ctx: RuleContext, rule_id: str, image: ContainerImage, message: str,
             level: Level | None = None, version: str | None = None, host: str | None = None,
             fix: str | None = None) -> Finding | None:
    found = ctx.finding(rule_id, message, where=_where(image), level=level, host=host, fix=fix)
    if found is None:
        return None
    # The image is the component; `version` is the framework build an IMG003 finding is about.
    return dataclasses.replace(found, component=image.purl, package=image.name, version=version)


def _shown(image: ContainerImage) -> str:
    where = f"{image.file}:{image.line}"
    if image.service:
        return f"{image.reference or image.written} (service {image.service!r}, {where})"
    return f"{image.reference or image.written} ({where})"


def _normalise_pattern(pattern: str) -> str:
    pattern = pattern.strip().lower()
    first, slash, rest = pattern.partition("/")
    if not slash:
        # A bare registry ("nvcr.io") trusts all of it; a bare name is an official image.
        return f"{pattern}/*" if ("." in pattern or ":" in pattern or pattern == "localhost") \
            else f"docker.io/library/{pattern}"
    if "." in first or ":" in first or first == "localhost" or first == "*":
        if first in ("index.docker.io", "registry-1.docker.io"):
            return "docker.io/" + rest
        return pattern
    return "docker.io/" + pattern


def _trusted(ctx: RuleContext) -> Iterator[Finding | None]:
    patterns = ctx.policy.get("containers", "trusted")
    if patterns is None:
        return
    normalised = [_normalise_pattern(p) for p in patterns]
    for image in ctx.inventory.images:
        if image.registry is None:
            continue
        if any(fnmatch.fnmatchcase(image.name, p) for p in normalised):
            continue
        yield _finding(
            ctx, "IMG001", image,
            f"{_shown(image)} comes from {image.name}, which `[containers] trusted` does not name "
            f"({', '.join(patterns) or 'an empty list'}): what runs would not be what was reviewed. Use an image "
            f"from a trusted registry, or add {image.name} to the list after review.",
            fix=f"use a trusted registry, or trust {image.name}")


def _digests(ctx: RuleContext) -> Iterator[Finding | None]:
    required = bool(ctx.policy.get("containers", "require_digest", False))
    for image in ctx.inventory.images:
        if image.registry is None or image.digest:
            continue
        floating = image.tag in (None, "latest")
        if not floating and not required:
            continue
        what = "no tag (so `latest`)" if image.tag is None else ("the tag `latest`" if floating
                                                                  else f"the tag {image.tag!r}")
        moves = "moves with every push" if floating else "can be moved to other content"
        level = Level.ERROR if required else None
        yield _finding(
            ctx, "IMG002", image,
            f"{_shown(image)} is pulled by {what}, which {moves}: the image that runs may not be the one "
            f"tested. Pin it by digest ({image.reference or image.written}@sha256:..., "
            f"`docker buildx imagetools inspect` prints it)"
            + (", as `[containers] require_digest = true` asks." if required else "."),
            level=level, fix="pin the image by @sha256 digest")


def _release(version: str, parts: int) -> tuple[int, ...]:
    return knowledge.driver_tuple(version)[:parts]


def _applies(package: Package) -> bool:
    return not package.provenance or any(p.applies for p in package.provenance)


def _base(version: str) -> tuple[int, ...]:
    try:
        release = Version(version).release
    except InvalidVersion:
        return ()
    return tuple(release) + (0,) * (3 - len(release))


def _cudnn_major(package: Package) -> str | None:
    return package.property(CUDNN_MAJOR) or (package.property(CUDNN) or "").split(".")[0] or None


_CUDNN_WHEEL = re.compile(r"^nvidia-cudnn(-cu\d+)?$")


def _cudnn_wheel(ctx: RuleContext, major: str) -> bool:
    """The project installs cuDNN `major` as a wheel, which the framework loads before the image's copy."""
    return any(_CUDNN_WHEEL.match(p.key) and (p.version or "").split(".")[0] == major and _applies(p)
               for p in ctx.inventory.packages)


def _builds(ctx: RuleContext, image: ContainerImage) -> Iterator[Finding | None]:
    frameworks = [p for p in ctx.inventory.packages
                  if p.property(GPU_BUILD) == "cuda" and p.property(CUDA) and _applies(p) and p.key != "keras"]
    if image.cuda:
        for package in frameworks:
            need = package.property(CUDA) or ""
            if _release(image.cuda, 2) < _release(need, 2):
                yield _finding(
                    ctx, "IMG003", image,
                    f"{_shown(image)} brings CUDA {image.cuda}, but {package.name} {package.version} is built for "
                    f"CUDA {need}: the image's runtime check (NVIDIA_REQUIRE_CUDA) and its libraries are for an "
                    f"older CUDA, so the container starts on drivers the framework cannot use. Move the base image "
                    f"to CUDA {knowledge.major_minor(need)} or newer, or pin a {package.name} build for "
                    f"CUDA {knowledge.major_minor(image.cuda)}.",
                    version=package.version, fix=f"base image with CUDA ≥ {knowledge.major_minor(need)}")
            need_cudnn = _cudnn_major(package)
            have_cudnn = (image.cudnn or "").split(".")[0]
            if need_cudnn and have_cudnn and have_cudnn.isdigit() and need_cudnn.isdigit() \
                    and int(have_cudnn) < int(need_cudnn) and not _cudnn_wheel(ctx, need_cudnn):
                yield _finding(
                    ctx, "IMG003", image,
                    f"{_shown(image)} brings cuDNN {image.cudnn}, but {package.name} {package.version} is built "
                    f"for cuDNN {need_cudnn}: libcudnn.so.{need_cudnn} is not in the image. Use a base image "
                    f"with cuDNN {need_cudnn}, or install it (nvidia-cudnn-cu{need.split('.')[0]}).",
                    version=package.version, fix=f"base image with cuDNN {need_cudnn}")
    if image.framework and image.framework_version:
        key = canonicalize_name(image.framework)
        for package in ctx.inventory.by_key(key):
            if not package.version or not _applies(package):
                continue
            if _base(package.version) != _base(image.framework_version):
                yield _finding(
                    ctx, "IMG003", image,
                    f"{_shown(image)} ships {image.framework} {image.framework_version}, but the project pins "
                    f"{package.name} {package.version}: installing it replaces the image's tested build (NGC "
                    f"images from 25.03 on refuse it through /etc/pip/constraint.txt). Use the image whose {image.framework} "
                    f"matches the lock, or pin the image's version.",
                    version=package.version, fix=f"align the image's {image.framework} with the lock")


# NVIDIA_REQUIRE_CUDA: space-separated alternatives are ORed, comma-separated conditions ANDed.
_CONDITION = re.compile(r"^(cuda|driver|arch|brand)\s*(>=|<=|==|=|>|<)\s*(.+)$")


def _compare(have: tuple[int, ...], op: str, want: tuple[int, ...]) -> bool:
    width = max(len(have), len(want))
    a = have + (0,) * (width - len(have))
    b = want + (0,) * (width - len(want))
    return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "==": a == b, "=": a == b}[op]


def requirement_holds(expression: str, driver: str, cuda: str | None,
                      arch: str | None = None) -> tuple[bool | None, list[str]]:
    """Whether NVIDIA_REQUIRE_CUDA accepts a host: True, False, or None when only a condition the
    profile cannot answer (a GPU brand) stands in the way; with the alternatives that could hold."""
    undecided: list[str] = []
    for alternative in expression.split():
        verdict: bool | None = True
        for condition in alternative.split(","):
            match = _CONDITION.match(condition.strip())
            if match is None:
                verdict = None if verdict else verdict
                continue
            key, op, value = match.groups()
            if key == "cuda":
                holds = _compare(_release(cuda, 2), op, _release(value, 2)) if cuda else None
            elif key == "driver":
                holds = _compare(knowledge.driver_tuple(driver), op, knowledge.driver_tuple(value))
            elif key == "arch":
                holds = _compare(_release(arch, 2), op, _release(value, 2)) if arch else None
            else:  # brand: the profile does not record it
                holds = None
            if holds is False:
                verdict = False
                break
            if holds is None:
                verdict = None
        if verdict is True:
            return True, []
        if verdict is None:
            undecided.append(alternative)
    return (None, undecided) if undecided else (False, [])


def _image_knowledge() -> ModuleType:
    # Imported when a scan has a container image or a host to judge, not by every scan.
    from governance.knowledge import images

    return images


def _host_cuda(host: GpuStack) -> str | None:
    if host.cuda_driver_version:
        return host.cuda_driver_version
    return _image_knowledge().driver_cuda(host.driver_version) if host.driver_version else None


def _hosts(ctx: RuleContext, image: ContainerImage) -> Iterator[Finding | None]:
    if not image.cuda and not image.require_cuda:
        return
    for host in ctx.inventory.hosts:
        if host.driver_version is None:
            reason = f" ({host.no_driver_reason})" if host.no_driver_reason else ""
            yield _finding(ctx, "IMG004", image,
                           f"{_shown(image)} brings CUDA {image.cuda or '(per NVIDIA_REQUIRE_CUDA)'}, but host "
                           f"{host.name!r} has no NVIDIA driver{reason}: the container will not use a GPU there.",
                           host=host.name, fix="install an NVIDIA driver on the host")
            continue
        driver = host.driver_version
        if image.require_cuda:
            cuda = _host_cuda(host)
            holds, undecided = requirement_holds(image.require_cuda, driver, cuda,
                                                 host.gpus[0].compute_capability if host.gpus else None)
            if holds is True:
                continue
            said = f" ({image.require_source})" if (image.require_source or "").startswith("ENV") \
                else " (as the image's tag declares it)"
            if holds is None and cuda is None and any("cuda" in a for a in undecided):
                # Not a brand the profile lacks: the host's CUDA itself is unknown. The image's CUDA
                # against the driver table's floors still judges it, when the table holds that CUDA.
                if image.cuda and knowledge.driver_floor(knowledge.major_minor(image.cuda)) is not None:
                    yield from _floors(ctx, image, host, driver)
                    continue
                yield _finding(
                    ctx, "COV014", image,
                    f"{_shown(image)} declares NVIDIA_REQUIRE_CUDA={image.require_cuda!r}{said}; host "
                    f"{host.name!r} has driver {driver}, whose CUDA mlgov cannot tell (the profile has no "
                    f"cuda_driver_version, and mlgov's toolkit table does not place this driver): whether the "
                    f"container can start there was not judged (IMG004). To fix: add cuda_driver_version to the "
                    f"profile (`mlgov probe -o` records it).",
                    host=host.name, fix="add cuda_driver_version to the host profile")
                continue
            if holds is None:
                yield _finding(
                    ctx, "IMG004", image,
                    f"{_shown(image)} declares NVIDIA_REQUIRE_CUDA={image.require_cuda!r}{said}; host "
                    f"{host.name!r} (driver {driver}, CUDA {cuda or 'unknown'}) meets it only through "
                    f"{' or '.join(undecided)}, a GPU brand the profile does not record (data-center forward "
                    f"compatibility). Check the GPUs, or upgrade the driver.",
                    level=Level.WARNING, host=host.name, fix="upgrade the host's driver")
                continue
            yield _finding(
                ctx, "IMG004", image,
                f"{_shown(image)} declares NVIDIA_REQUIRE_CUDA={image.require_cuda!r}{said}; host {host.name!r} "
                f"has driver {driver} (CUDA {cuda or 'unknown'}), so the NVIDIA container runtime refuses to "
                f"start it (\"unsatisfied condition\"). Upgrade the driver, or use an image for CUDA "
                f"{cuda or 'the driver supports'}.",
                host=host.name, fix="upgrade the host's driver, or use an older CUDA image")
            continue
        yield from _floors(ctx, image, host, driver)


def _floors(ctx: RuleContext, image: ContainerImage, host: GpuStack, driver: str) -> Iterator[Finding | None]:
    """IMG004 from the image's CUDA and the driver table's floors."""
    floor = knowledge.driver_floor(knowledge.major_minor(image.cuda or ""))
    if floor is None:
        yield _finding(
            ctx, "COV014", image,
            f"{_shown(image)} brings CUDA {image.cuda}, which mlgov's driver table does not hold: whether "
            f"host {host.name!r} (driver {driver}) runs it was not judged (IMG004). To fix: use an image for "
            f"a CUDA in the table, or update mlgov.", host=host.name, fix="use an image for a known CUDA")
        return
    need = floor.minimum or floor.floor
    if floor.floor and knowledge.driver_tuple(driver) < knowledge.driver_tuple(floor.floor):
        yield _finding(
            ctx, "IMG004", image,
            f"{_shown(image)} brings CUDA {image.cuda}, which needs NVIDIA driver ≥ {floor.floor} "
            f"(≥ {need} for full support); host {host.name!r} has driver {driver}, so its CUDA code cannot "
            f"run there. Upgrade the driver to ≥ {need}, or use an image for an older CUDA.",
            host=host.name, fix=f"driver ≥ {need}")
    elif floor.minimum and knowledge.driver_tuple(driver) < knowledge.driver_tuple(floor.minimum):
        yield _finding(
            ctx, "IMG004", image,
            f"{_shown(image)} brings CUDA {image.cuda}, whose toolkit needs driver ≥ {floor.minimum}; host "
            f"{host.name!r} has driver {driver}, so it runs only under CUDA minor-version compatibility "
            f"(no JIT of newer PTX). Upgrade the driver to ≥ {floor.minimum}.",
            level=Level.WARNING, host=host.name, fix=f"driver ≥ {floor.minimum}")


def _end_of_life(ctx: RuleContext, image: ContainerImage) -> Iterator[Finding | None]:
    if not image.cuda or image.registry is None or image.repository is None:
        return
    row = _image_knowledge().repository(image.registry, image.repository)
    if row is None or row["scheme"] != "nvidia-cuda":
        return
    eol = _image_knowledge().end_of_life(image.cuda)
    if eol is None or ctx.now.date() < eol.eol_by:
        return
    gone = "the source reports them already deleted" if eol.deleted else \
        "NVIDIA deletes end-of-life tags six months after"
    yield _finding(
        ctx, "IMG005", image,
        f"{_shown(image)} is a CUDA {image.cuda} tag past its end of life (by {eol.eol_by.isoformat()}; "
        f"{eol.source}): {gone}, so a rebuild or a rollback fails at pull time. Move to a supported tag and pin "
        f"it by digest, or mirror it into your own registry.",
        fix="move to a supported CUDA image tag")


def _unjudged(ctx: RuleContext, image: ContainerImage) -> Iterator[Finding | None]:
    if image.unresolved:
        yield _finding(ctx, "IMG006", image,
                       f"{image.written} ({image.file}:{image.line}) could not be judged: {image.unresolved}. "
                       f"Give the ARG a default in the file so that reviewers and mlgov see the image.",
                       fix="give the ARG a default")
        return
    if image.registry is None or image.repository is None:
        return
    if _image_knowledge().repository(image.registry, image.repository) is not None and not image.facts_source:
        yield _finding(ctx, "IMG006", image,
                       f"{_shown(image)}: mlgov knows the tags of {image.name} but not {image.tag or '(no tag)'}, "
                       f"so the CUDA, cuDNN and framework it brings were not judged. Pin a listed tag, or add it "
                       f"to the image knowledge (docs/containers.md).",
                       fix="pin a tag the image knowledge lists")


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    if not ctx.inventory.images:
        return
    yield from _trusted(ctx)
    yield from _digests(ctx)
    for image in ctx.inventory.images:
        yield from _unjudged(ctx, image)
        yield from _end_of_life(ctx, image)
        if image.runtime:
            yield from _builds(ctx, image)
            yield from _hosts(ctx, image)
