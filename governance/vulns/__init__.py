"""Vulnerabilities: which advisories affect the inventory's packages.

Offline from an OSV database (a zip or a folder), online through pip-audit's
services when asked, or both (the database then supplies the severities the
services do not return). The result lands in Inventory.vulnerabilities, which
the SBOM carries and rule VULN001 judges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from governance.frozen import frozen
from governance.model import AdvisorySource, Inventory, Package

if TYPE_CHECKING:
    from governance.policy.load import Policy

Progress = Callable[[str], None]


@frozen
class VulnRequest:
    """Where advisories come from: an offline OSV database, an online service, or both."""
    db: Path | None = None  # an OSV all.zip or a folder of OSV JSON files
    service: str | None = None  # "osv" | "pypi": ask pip-audit's online service
    use_cache: bool = True

    @property
    def wanted(self) -> bool:
        return self.db is not None or self.service is not None


def default_database() -> Path:
    """Where `mlgov db update` keeps OSV's PyPI all.zip, and where scan and check look for it."""
    from governance.vulns.update import default_path

    return default_path()


def request_for(db: Path | None, service: str | None, no_db: bool = False,
                progress: Progress | None = None) -> VulnRequest:
    """The sources a command uses: --vuln-db, else the cached database when there is one.

    `--no-vuln-db` opts out of the cached database explicitly; a policy with
    `fail_on` then reports VULN002 (vulnerabilities not checked), never a silent pass.
    """
    from governance.errors import InputError

    if no_db and db is not None:
        raise InputError("--vuln-db and --no-vuln-db contradict each other: give one")
    if service is not None:
        from governance.vulns.service import require_pip_audit

        require_pip_audit()  # a missing extra is bad usage, said before any work is done
    if db is None and not no_db:
        cached = default_database()
        if cached.is_file():
            db = cached
            if progress is not None:
                progress(f"using the vulnerability database in the cache: {cached} (--no-vuln-db to skip it)")
    return VulnRequest(db=db, service=service)


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
    sources = list(inventory.advisory_sources)  # an SBOM's own, when `mlgov check` re-matches it
    if request.db is not None:
        from governance.vulns.database import load

        database = load(request.db, progress, use_cache=request.use_cache)
        found.extend(match(packages, database.lookup(p.key for p in packages), database.label))
        sources.append(AdvisorySource(source=database.label,
                                      digest=f"sha256:{database.digest}" if database.digest else None,
                                      advisories=database.advisories, newest_modified=database.newest_modified))
    if request.service is not None:
        from governance.vulns.cache import cache_dir
        from governance.vulns.service import query

        progress(f"asking the {request.service} vulnerability service about {len(packages)} package(s)")
        found.extend(query(request.service, packages, cache_dir() / "pip-audit"))
        sources.append(AdvisorySource(source=f"{request.service} (online service, through pip-audit)"))
    vulnerabilities = merge(found)
    progress(f"{len(vulnerabilities)} known vulnerabilit{'y' if len(vulnerabilities) == 1 else 'ies'} found")
    return replace(inventory, vulnerabilities=vulnerabilities, advisory_sources=tuple(dict.fromkeys(sources)))


def find_vulnerabilities(inventory: Inventory, request: VulnRequest, policy: "Policy", now: datetime,
                         progress: Progress = _quiet) -> Inventory:
    """attach(), then mark what the policy's live waivers cover, so the SBOM can say so."""
    from governance.policy.waivers import annotate

    found = attach(inventory, request, progress)
    return annotate(found, policy.waivers, now.date(), policy.name)
