"""Vulnerabilities: which advisories affect the inventory's packages.

Offline from an OSV database (a zip or a folder), online through pip-audit's
services when asked, or both (the database then supplies the severities the
services do not return). The result lands in Inventory.vulnerabilities, which
the SBOM carries and rule VULN001 judges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from governance.model import Inventory, Package

if TYPE_CHECKING:
    from governance.policy.load import Policy

Progress = Callable[[str], None]


@dataclass(frozen=True)
class VulnRequest:
    db: Path | None = None  # an OSV all.zip or a folder of OSV JSON files
    service: str | None = None  # "osv" | "pypi": ask pip-audit's online service
    use_cache: bool = True

    @property
    def wanted(self) -> bool:
        return self.db is not None or self.service is not None


def _quiet(_: str) -> None:
    return None


def in_scope(package: Package) -> bool:
    """Packages the project would install: not those listed only for another platform or Python."""
    return package.ecosystem == "pypi" and bool(package.version) and (
        not package.provenance or any(p.applies for p in package.provenance))


def attach(inventory: Inventory, request: VulnRequest, progress: Progress = _quiet) -> Inventory:
    """The inventory with its vulnerabilities filled in from the requested sources."""
    from governance.vulns.match import match, merge

    packages = [p for p in inventory.packages if in_scope(p)]
    found = list(inventory.vulnerabilities)
    if request.db is not None:
        from governance.vulns.database import load

        database = load(request.db, progress, use_cache=request.use_cache)
        found.extend(match(packages, database.lookup(p.key for p in packages), database.label))
    if request.service is not None:
        from governance.vulns.cache import cache_dir
        from governance.vulns.service import query

        progress(f"asking the {request.service} vulnerability service about {len(packages)} package(s)")
        found.extend(query(request.service, packages, cache_dir() / "pip-audit"))
    vulnerabilities = merge(found)
    progress(f"{len(vulnerabilities)} known vulnerabilit{'y' if len(vulnerabilities) == 1 else 'ies'} found")
    return replace(inventory, vulnerabilities=vulnerabilities)


def find_vulnerabilities(inventory: Inventory, request: VulnRequest, policy: "Policy", now: datetime,
                         progress: Progress = _quiet) -> Inventory:
    """attach(), then mark what the policy's live waivers cover, so the SBOM can say so."""
    from governance.policy.waivers import annotate

    found = attach(inventory, request, progress)
    return annotate(found, policy.waivers, now.date(), policy.name)
