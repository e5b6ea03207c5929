"""PIN001 / PIN002: exact pins, and hashes where the policy wants them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from governance.model import Finding, Package, Provenance
from governance.policy.context import RuleContext
from governance.policy.rule import Rule

RULES = (
    Rule("PIN001", "pins", "error", "A requirement is not pinned to one exact version (== or ===).",
         "Pin the requirement with `==X.Y.Z` (pip-compile, uv lock or poetry lock produce exact pins)."),
    Rule("PIN002", "pins", "error", "A pinned requirement has no hashes while the policy requires them.",
         "Regenerate the requirements with `pip-compile --generate-hashes` "
         "(or use a lockfile that records hashes)."),
)

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _pinned(provenance: Provenance) -> bool:
    source = provenance.source
    if source is not None:
        if source.kind == "vcs":
            return bool(source.commit and _COMMIT.match(source.commit))
        if source.kind == "url":
            return True  # one file at one address (its hash is PIN002's business)
    return provenance.is_exact_pin


def _judged(package: Package, provenance: Provenance) -> bool:
    if not provenance.applies or provenance.group == "constraints":
        return False
    if provenance.source is not None and provenance.source.kind in ("path", "editable"):
        return False  # the project's own code, or a local checkout: nothing to pin
    if provenance.kind == "requirements":
        return True
    if provenance.kind == "manifest":
        # A manifest's ranges are fine when a lockfile pins the package.
        return not any(p.kind == "lockfile" or (p.kind == "requirements" and p.applies and p.is_exact_pin)
                       for p in package.provenance)
    return False


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    require_exact = ctx.policy.get("pins", "require_exact", True)
    require_hashes = ctx.policy.get("pins", "require_hashes", False)
    for package in ctx.inventory.packages:
        for provenance in package.provenance:
            if require_exact and _judged(package, provenance) and not _pinned(provenance):
                asked = provenance.specifier or "no version at all"
                yield ctx.finding(
                    "PIN001",
                    f"{package.name} is not pinned to one version ({asked}) in {provenance.location}; "
                    f"pin it with =={package.version}" if package.version else
                    f"{package.name} is not pinned to one version ({asked}) in {provenance.location}; "
                    "pin it with ==<version> (pip-compile or a lockfile does this for you)",
                    package=package, where=provenance,
                    fix=f"pin {package.name}=={package.version}" if package.version else f"pin {package.name}",
                )
            elif require_hashes and provenance.applies and provenance.kind in ("requirements", "lockfile") \
                    and provenance.group != "constraints" and not provenance.hashes \
                    and _pinned(provenance) and not (provenance.source and provenance.source.kind in ("path", "editable", "vcs")):
                yield ctx.finding(
                    "PIN002",
                    f"{package.name}{provenance.specifier or ''} in {provenance.location} has no hashes; "
                    "the policy requires them: regenerate with `pip-compile --generate-hashes` "
                    "or a lockfile that records hashes",
                    package=package, where=provenance, fix="add --hash entries",
                )
