"""Online advisories through pip-audit's services (OSV's API or PyPI's JSON API).

Only used when asked for (`--vuln-service`); pip-audit is imported lazily and
is an optional dependency (`pip install mlgov[online]`). The services return
ids, aliases and fix versions but no CVSS vectors, so severity is "unknown"
unless a local database (`--vuln-db`) is given too, which then supplies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from governance.errors import InputError, NetworkError
from governance.model import Package, Vulnerability

SERVICES = ("osv", "pypi")
TIMEOUT_S = 10  # per request: an air-gapped runner fails in seconds, not minutes


INSTALL = "pip install 'mlgov[online]'"


def require_pip_audit() -> None:
    """Exit 2 with the install command when the `online` extra is missing (checked before a scan starts)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("pip_audit") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InputError(f"--vuln-service needs the `online` extra (pip-audit), which is not installed: {INSTALL}")


def _service(name: str, cache_dir: Path | None) -> Any:
    try:
        from pip_audit._service import OsvService, PyPIService
    except ImportError:
        raise InputError(f"--vuln-service needs the `online` extra (pip-audit), which is not installed: {INSTALL}") \
            from None
    if name == "osv":
        return OsvService(cache_dir=cache_dir, timeout=TIMEOUT_S)
    if name == "pypi":
        return PyPIService(cache_dir=cache_dir, timeout=TIMEOUT_S)
    raise InputError(f"unknown vulnerability service {name!r} (known: {', '.join(SERVICES)})")


def query(name: str, packages: Iterable[Package], cache_dir: Path | None = None) -> tuple[Vulnerability, ...]:
    from packaging.version import InvalidVersion, Version

    from governance.vulns.match import _preference, merge

    service = _service(name, cache_dir)  # first: without pip-audit, exit 2 with the install command
    from pip_audit._service.interface import ResolvedDependency, ServiceError

    found: list[Vulnerability] = []
    for package in packages:
        if package.ecosystem != "pypi" or not package.version:
            continue
        try:
            version = Version(Version(package.version).public)
        except InvalidVersion:
            continue
        try:
            _, results = service.query(ResolvedDependency(name=package.key, version=version))
        except ServiceError as exc:
            detail = str(exc.__cause__ or exc) or type(exc).__name__
            raise NetworkError(f"the {name} vulnerability service could not be queried ({detail}); "
                               "offline, use --vuln-db with a downloaded OSV all.zip (mlgov db update)") from None
        except OSError as exc:  # requests' errors derive from OSError
            raise NetworkError(f"the {name} vulnerability service is unreachable ({type(exc).__name__}); "
                               "offline, use --vuln-db with a downloaded OSV all.zip (mlgov db update)") from None
        for result in results:
            ids = sorted({str(result.id), *map(str, result.aliases)}, key=_preference)
            fixes = tuple(str(v) for v in sorted(result.fix_versions) if v > version)
            summary = " ".join((result.description or "").split())[:300] or None
            found.append(Vulnerability(id=ids[0], package=package.key, version=package.version,
                                       aliases=tuple(sorted(ids[1:])), summary=summary, fixed_versions=fixes,
                                       source=name))
    return merge(found)
