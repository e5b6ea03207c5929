"""The one typed model every stage works on.

collect builds an Inventory, sbom writes and reads it, evaluate judges it and
report renders the Evaluation. Everything here is a frozen dataclass so that a
stage cannot quietly change what an earlier one saw, and tuples rather than
lists so that equality (and the SBOM round-trip tests) mean what they say.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from governance.frozen import frozen

Ecosystem = Literal["pypi", "conda", "generic"]


@dataclass(frozen=True, order=True)
class Hash:
    """A digest as lockfiles and requirements files give it, e.g. sha256:abc..."""

    algorithm: str  # "sha256", "sha384", "sha512", "md5"
    value: str  # lower-case hex

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


@frozen
class Source:
    """Where a distribution comes from, when that is not simply the default index.

    kind is one of "index", "url", "vcs", "path", "editable".
    """

    kind: str
    url: str
    vcs: str | None = None  # "git", "hg", ...
    commit: str | None = None  # the resolved revision, when the tool recorded it
    editable: bool = False


@frozen
class Provenance:
    """One place that declared, pinned or installed a package.

    file is relative to the scanned project ("requirements.txt", "uv.lock"),
    or "<environment>" for an installed distribution. specifier is exactly what
    the file asked for ("==2.5.1", ">=2.15,<2.19", "" when unpinned).
    """

    file: str
    kind: str  # "requirements" | "lockfile" | "manifest" | "environment" | "sbom"
    line: int | None = None
    specifier: str = ""
    markers: str | None = None
    hashes: tuple[Hash, ...] = ()
    extras: tuple[str, ...] = ()
    group: str | None = None  # "main", "dev", an extra's or a dependency group's name
    source: Source | None = None
    # False when the file lists the package for another target (platform or
    # Python) than the one scanned: kept for the record, never counted as installed.
    applies: bool = True

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def sort_key(self) -> tuple[object, ...]:
        # Total over every field: two places that differ only in hashes or extras must still
        # sort one way, or a package read back from an SBOM would not equal the one written.
        return (self.kind != "environment", self.file, self.line or 0, self.specifier,
                self.markers or "", self.group or "", tuple(str(h) for h in self.hashes), self.extras,
                self.applies, repr(self.source))

    @property
    def is_exact_pin(self) -> bool:
        """True for `==X` (without a wildcard) and `===X`, or a lockfile entry."""
        if self.kind in ("lockfile", "environment"):
            return True
        spec = self.specifier.strip()
        if "," in spec:
            return False
        if spec.startswith("==="):
            return True
        return spec.startswith("==") and not spec.endswith(".*")


@frozen
class Package:
    """A distribution as one component of the project.

    version is None for a requirement that pins nothing and was not installed.
    """

    name: str  # as the project spells it
    version: str | None
    ecosystem: Ecosystem = "pypi"
    summary: str | None = None
    license_expression: str | None = None  # SPDX expression when one could be made
    license_text: str | None = None  # what the metadata said, when not SPDX
    hashes: tuple[Hash, ...] = ()
    requires: tuple[str, ...] = ()  # canonical names of the packages it depends on
    urls: tuple[tuple[str, str], ...] = ()  # (label, url)
    installer: str | None = None
    source: Source | None = None
    provenance: tuple[Provenance, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()  # extra facts, e.g. ("mlgov:cuda", "12.4")

    def __post_init__(self) -> None:
        # One canonical order for every collection, so that a package read
        # back from an SBOM (whose serialiser sorts) equals the one written.
        object.__setattr__(self, "hashes", tuple(sorted(set(self.hashes))))
        object.__setattr__(self, "requires", tuple(sorted(set(self.requires))))
        object.__setattr__(self, "urls", tuple(sorted(set(self.urls))))
        object.__setattr__(self, "properties", tuple(sorted(set(self.properties))))
        object.__setattr__(self, "provenance", tuple(sorted(set(self.provenance), key=Provenance.sort_key)))

    @property
    def key(self) -> str:
        """The PEP 503 name, the identity used for matching and sorting."""
        from packaging.utils import canonicalize_name

        if self.ecosystem == "pypi":
            return canonicalize_name(self.name)
        return self.name.lower()

    @property
    def purl(self) -> str:
        from governance.purl import package_purl

        return package_purl(self)

    @property
    def installed(self) -> bool:
        return any(p.kind == "environment" for p in self.provenance)

    def property(self, name: str) -> str | None:
        for key, value in self.properties:
            if key == name:
                return value
        return None


@frozen
class Gpu:
    """One GPU of a host, as NVML reports it."""

    index: int
    name: str
    uuid: str | None = None
    compute_capability: str | None = None  # "9.0"
    memory_total_bytes: int | None = None
    mig_mode: str | None = None  # "enabled" | "disabled"
    ecc_mode: str | None = None
    vbios_version: str | None = None


@frozen
class LibraryCopy:
    """One copy of the CUDA runtime or cuDNN that a process could load."""

    version: str
    origin: str  # "system" | "wheel" | "conda" | "toolkit"
    path: str | None = None
    detected_by: str | None = None  # "cudnn_version.h", "cudnnGetVersion", "dist-info", ...
    package: str | None = None  # the distribution that ships it (nvidia-cudnn-cu13), for wheel/conda copies


@frozen
class GpuStack:
    """The GPU side of one host, as `mlgov probe` reads it or a profile states it."""

    name: str = "host"  # the profile's file name or "<live probe>"
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # newest CUDA the driver runs, "13.0"
    nvml_version: str | None = None
    gpus: tuple[Gpu, ...] = ()
    cuda_runtimes: tuple[LibraryCopy, ...] = ()
    cudnn: tuple[LibraryCopy, ...] = ()
    no_driver_reason: str | None = None  # set when nvidia is null in the profile


@frozen
class Project:
    """The scanned project: its name and version, as its manifest states them."""

    name: str
    version: str | None = None


@frozen
class Vulnerability:
    """One advisory that affects one package version, aliases merged."""

    id: str  # the preferred id (CVE > GHSA > PYSEC > other)
    package: str  # canonical package name
    version: str
    aliases: tuple[str, ...] = ()
    summary: str | None = None
    severity: str = "unknown"  # critical | high | medium | low | unknown
    score: float | None = None
    vector: str | None = None
    fixed_versions: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    source: str | None = None  # "osv-db:<file>", "osv", "pypi"
    # Set when a live policy waiver covers it, for the SBOM's CycloneDX `analysis`.
    analysis_state: str | None = None  # "in_triage"
    analysis_detail: str | None = None  # the waiver's reason, owner, ticket and expiry
    analysis_justification: str | None = None  # CycloneDX justification, when the waiver gives one


@frozen
class ModelFile:
    """A model file as the scan read it, without loading it.

    path is relative to the project (or as given with --models for a folder
    outside it). globals are every global its pickles import (judged against
    the format's allow-list at evaluation, so that `mlgov check` judges an
    SBOM the same way); code are the other ways loading it runs code or
    reaches out (a Lambda layer, an external-data path); unparsed what could
    not be read or judged.
    """

    path: str
    format: str  # "pickle", "joblib", "pytorch-zip", "safetensors", "onnx", "gguf", ...
    sha256: str
    size: int
    framework: str | None = None
    globals: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    unparsed: tuple[str, ...] = ()
    card: tuple[tuple[str, str], ...] = ()  # what the file says: tensor and parameter counts, architecture
    purl: str | None = None  # pkg:huggingface/org/name@rev for a hub cache snapshot

    def __post_init__(self) -> None:
        object.__setattr__(self, "globals", tuple(sorted(set(self.globals))))
        object.__setattr__(self, "card", tuple(sorted(set(self.card))))


@frozen
class ModelManifest:
    """The model hashes a team recorded (`mlgov models lock`), as the policy names it."""

    file: str
    hashes: tuple[tuple[str, str], ...] = ()  # (model path, sha256)
    error: str | None = None  # why it could not be read


@frozen
class Unread:
    """A file that looks like a dependency input but that mlgov did not read.

    Kept so that the gate can say what it did not judge (COV002) instead of
    passing a project it only partly saw.
    """

    file: str  # relative to the project ("requirements-gpu.in", "requirements/")
    reason: str  # why it was not read, in the user's words
    fix: str  # what makes it judgeable
    line: int | None = None  # one line of a file that was otherwise read
    # The rule that reports it: COV002 (not read: mlgov cannot), COV003 (a named PEP 751 lock, an
    # alternative environment to the one read, left unjudged because no --lock chose it).
    rule: str = "COV002"


@frozen
class AdvisorySource:
    """The vulnerability source a verdict rests on (the JSON report's `vulnerability_database`)."""

    source: str  # "osv-db:PyPI-all.zip", "osv (online service)", ...
    digest: str | None = None  # "sha256:..." of the database file, when one was read
    advisories: int | None = None  # how many advisories it holds
    newest_modified: str | None = None  # the newest `modified` among them (ISO 8601)


@frozen
class ContainerImage:
    """One image a container file builds on (FROM, COPY --from) or runs (compose `image:`).

    registry/repository/tag/digest are the normalised reference (docker.io,
    library/NAME); they are None when the reference could not be resolved
    (an ARG without a default), and `unresolved` says why. The CUDA, cuDNN and
    framework the image brings come from the shipped image-tag knowledge (or the
    file's own `ENV NVIDIA_REQUIRE_CUDA`), with `facts_source` naming the source.
    """

    written: str  # the reference as the file spells it: "nvidia/cuda:${CUDA}-base-ubuntu22.04"
    file: str  # relative to the scanned project
    line: int  # the line of the FROM / COPY --from / image:
    kind: str  # "from" | "copy-from" | "compose"
    reference: str | None = None  # after ARG substitution
    registry: str | None = None  # "docker.io", "nvcr.io", "registry.local:5000"
    repository: str | None = None  # "library/python", "nvidia/cuda"
    tag: str | None = None
    digest: str | None = None  # "sha256:<hex>"
    stage: str | None = None  # the stage it feeds: its name, else its index ("0")
    runtime: bool = False  # the image the built container runs on (final stage), or a compose service's image
    platform: str | None = None  # --platform= as written
    service: str | None = None  # the compose service
    unresolved: str | None = None  # why the reference could not be read
    cuda: str | None = None  # what the image brings
    cudnn: str | None = None  # a version or a major ("9")
    framework: str | None = None  # canonical package name: "torch", "tensorflow"
    framework_version: str | None = None
    require_cuda: str | None = None  # NVIDIA_REQUIRE_CUDA: the container runtime's driver check
    require_source: str | None = None  # where require_cuda comes from: the knowledge, or "ENV ... in <file>"
    min_driver: str | None = None  # the driver the image's release notes ask for (NGC)
    facts_source: str | None = None  # the knowledge source key, or "ENV in <file>"

    @property
    def name(self) -> str:
        """registry/repository, the string `[containers] trusted` globs match."""
        return f"{self.registry}/{self.repository}" if self.registry and self.repository else self.written

    @property
    def purl(self) -> str | None:
        from governance.purl import image_purl

        return image_purl(self)


@frozen
class Inventory:
    """Everything one scan read: packages, hosts, models, images, and what it could not read."""

    project: Project
    packages: tuple[Package, ...] = ()
    hosts: tuple[GpuStack, ...] = ()  # the hosts the verdict is made against
    vulnerabilities: tuple[Vulnerability, ...] = ()
    # What the scan looked at, e.g. ("requirements.txt", "<environment>"); rules
    # use it to tell "no lockfile" from "nothing in it".
    sources: tuple[str, ...] = ()
    # What the collector noticed but did not guess at (an unknown lockfile...).
    notes: tuple[str, ...] = ()
    target: str | None = None  # "linux-x86_64/py3.11" when a target was chosen
    models: tuple[ModelFile, ...] = ()
    # Read by the pipeline when the policy names one; not part of the SBOM.
    model_manifest: ModelManifest | None = None
    images: tuple[ContainerImage, ...] = ()  # base and service images of the project's container files
    # Files that look like inputs but were not read (COV002 reports each).
    unread: tuple[Unread, ...] = ()
    # The advisory sources that were asked (a database, an online service); empty:
    # vulnerabilities were not checked, which VULN002 reports when the policy asks.
    advisory_sources: tuple[AdvisorySource, ...] = ()

    def by_key(self, key: str) -> tuple[Package, ...]:
        return tuple(p for p in self.packages if p.key == key)


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


@frozen
class Finding:
    """One rule's verdict on one thing, at a level, with where it was found and how to fix it."""

    rule_id: str
    level: Level
    message: str
    component: str | None = None  # a purl, or None for project- or host-wide findings
    package: str | None = None  # the canonical name, for grouping and waivers
    version: str | None = None
    file: str | None = None  # where the fix goes, for SARIF and the PR comment
    line: int | None = None
    waived: bool = False
    waiver_reason: str | None = None
    waiver_owner: str | None = None
    waiver_expires: str | None = None
    waiver_ticket: str | None = None
    host: str | None = None  # the host profile a GPU finding was judged against (a group's label: fleet.py)
    hosts: tuple[str, ...] = ()  # every host of that group, when identical stacks were judged once
    vulnerability: str | None = None  # id of the advisory, for VULN findings
    aliases: tuple[str, ...] = ()
    severity: str | None = None
    fix: str | None = None  # one line that says what to do
    # Set in PR mode (--baseline): "new" when the change introduces it, "existing" when the
    # target branch's report already had it. Only new errors fail the gate.
    baseline: Literal["new", "existing"] | None = None

    @property
    def fingerprint(self) -> str:
        """A finding's identity across runs: SARIF's partialFingerprints and --baseline matching.

        sha256 over the rule id, the package's canonical name, the file that
        declares it, the host and the advisory id, NUL-separated. The version,
        line number and message are left out on purpose: upgrading a package that
        is still unpinned, or adding a line above it, is the same problem, not a new one.
        """
        return finding_fingerprint(self.rule_id, self.package, self.file, self.host, self.vulnerability)

    def sort_key(self) -> tuple[object, ...]:
        return (-self.level.rank, self.rule_id, self.package or "", self.version or "",
                self.host or "", self.vulnerability or "", self.file or "", self.line or 0,
                self.message)


def finding_fingerprint(rule_id: str, package: str | None, file: str | None, host: str | None,
                        vulnerability: str | None) -> str:
    """Finding.fingerprint from its parts, for findings read back from a JSON report."""
    parts = (rule_id, package or "", file or "", host or "", vulnerability or "")
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


@frozen
class FixedFinding:
    """A finding of the baseline report that this scan no longer has."""

    rule_id: str
    level: str
    message: str
    fingerprint: str
    package: str | None = None
    file: str | None = None
    line: int | None = None
    waived: bool = False


@frozen
class BaselineComparison:
    """PR mode: the target branch's report this evaluation was compared with."""

    file: str
    fixed: tuple[FixedFinding, ...] = ()


@frozen
class Evaluation:
    """A policy's verdict on an inventory: every finding and the policy that made them."""

    findings: tuple[Finding, ...]
    policy_name: str
    policy_digest: str
    stage: str
    inventory: Inventory
    generated_at: str  # ISO 8601, UTC
    sbom_digest: str | None = None
    baseline: BaselineComparison | None = None
    # The policy's [vulnerabilities] fail_on: an unrated advisory is scored at it (SARIF security-severity).
    vulnerability_threshold: str = "high"
    # Where the scanned folder sits, for locations a code host can place: the source root
    # (absolute; the git top level unless --source-root) and the folder relative to it ("" at the root).
    source_root: str | None = None
    project_path: str | None = None

    @property
    def failed(self) -> bool:
        # In PR mode an error the target branch already had does not block this change.
        return any(f.level is Level.ERROR and not f.waived and f.baseline != "existing" for f in self.findings)

    @property
    def verdict(self) -> str:
        return "fail" if self.failed else "pass"
