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

Ecosystem = Literal["pypi", "conda", "generic"]


@dataclass(frozen=True, order=True)
class Hash:
    """A digest as lockfiles and requirements files give it, e.g. sha256:abc..."""

    algorithm: str  # "sha256", "sha384", "sha512", "md5"
    value: str  # lower-case hex

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


@dataclass(frozen=True)
class Source:
    """Where a distribution comes from, when that is not simply the default index.

    kind is one of "index", "url", "vcs", "path", "editable".
    """

    kind: str
    url: str
    vcs: str | None = None  # "git", "hg", ...
    commit: str | None = None  # the resolved revision, when the tool recorded it
    editable: bool = False


@dataclass(frozen=True)
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
        return (self.kind != "environment", self.file, self.line or 0, self.specifier,
                self.markers or "", self.group or "")

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str | None = None
    compute_capability: str | None = None  # "9.0"
    memory_total_bytes: int | None = None
    mig_mode: str | None = None  # "enabled" | "disabled"
    ecc_mode: str | None = None
    vbios_version: str | None = None


@dataclass(frozen=True)
class LibraryCopy:
    """One copy of the CUDA runtime or cuDNN that a process could load."""

    version: str
    origin: str  # "system" | "wheel" | "conda" | "toolkit"
    path: str | None = None
    detected_by: str | None = None  # "cudnn_version.h", "cudnnGetVersion", "dist-info", ...
    package: str | None = None  # the distribution that ships it (nvidia-cudnn-cu13), for wheel/conda copies


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Project:
    name: str
    version: str | None = None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Inventory:
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

    def by_key(self, key: str) -> tuple[Package, ...]:
        return tuple(p for p in self.packages if p.key == key)


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


@dataclass(frozen=True)
class Finding:
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
    host: str | None = None  # the host profile a GPU finding was judged against
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class BaselineComparison:
    """PR mode: the target branch's report this evaluation was compared with."""

    file: str
    fixed: tuple[FixedFinding, ...] = ()


@dataclass(frozen=True)
class Evaluation:
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
