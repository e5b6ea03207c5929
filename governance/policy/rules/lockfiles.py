"""LOCK001 and DRIFT001-004: lockfiles that disagree, an environment that left its lock, and a
lock that no longer satisfies its manifest.

A package is "locked" by an entry of a lockfile, or of a requirements file
whose every entry is an exact pin (pip-compile, `uv pip compile`, `uv export`
output), that applies to the scanned target. Drift is judged only when both a
lock and an installed environment were scanned, and only for PyPI packages:
conda packages are not installed as dist-info and are not read from an
environment.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Finding, Inventory, Package, Provenance
from governance.policy.context import RuleContext
from governance.policy.rule import Rule

RULES = (
    Rule("LOCK001", "lockfiles", "error", "Two lockfiles of the project lock different versions of a package.",
         "Regenerate the stale lockfile from the same manifest, or delete the one the project no longer uses."),
    Rule("DRIFT001", "lockfiles", "error", "The installed version of a package differs from the version locked.",
         "Re-sync the environment with the lock (`uv sync --locked`, `poetry sync`, `pdm sync --clean`, "
         "`pipenv sync --dev`, `pip-sync requirements.txt`), or update the lock if the new version is wanted."),
    Rule("DRIFT002", "lockfiles", "warning", "A package is installed that no lockfile locks.",
         "Add the package to the manifest and re-lock, or remove it from the environment (a sync with the "
         "lock's tool removes it)."),
    Rule("DRIFT003", "lockfiles", "error", "A package the lock installs on this target is not installed.",
         "Re-sync the environment with the lock, so that what runs is what was locked and audited."),
    Rule("DRIFT004", "lockfiles", "error",
         "The lock no longer satisfies the manifest: pyproject.toml (or the requirements file a compiled "
         "lock was made from, or the environment.yml of a conda-lock) asks for a version range the locked "
         "version is outside of, or for a package the lock does not record at all (a stale lock).",
         "Re-lock (`uv lock`, `poetry lock`, `pdm lock`, or re-run the pip-compile / `uv pip compile` command "
         "in the compiled file's header) so that the lock installs what the manifest asks for; "
         "`uv sync --locked` and `poetry check --lock` refuse such a lock."),
)

_RELOCK = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "pdm.lock": "pdm lock",
           "conda-lock.yml": "conda-lock --lockfile conda-lock.yml"}


def _comparable(version: str, specifier: str) -> bool:
    """Both are PEP 440: a conda version or spec that is not cannot be said to fall outside."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        SpecifierSet(specifier)
        Version(version)
    except (InvalidSpecifier, InvalidVersion):
        return False
    return True

# Installer tooling that a venv carries without any lock naming it.
_TOOLING = {"pip"}

_SYNC = {"uv.lock": "uv sync --locked", "poetry.lock": "poetry sync", "pdm.lock": "pdm sync --clean",
         "Pipfile.lock": "pipenv sync --dev"}


def _sync_hint(file: str) -> str:
    name = file.rsplit("/", 1)[-1]
    if name in _SYNC:
        return _SYNC[name]
    if name.startswith("pylock"):
        return f"pip install -r {file} (an installer that reads PEP 751)"
    return f"pip-sync {file}"


def locking_files(inventory: Inventory) -> set[str]:
    """Lockfiles, and requirements files in which every entry is an exact pin."""
    files: set[str] = set()
    loose: set[str] = set()
    for package in inventory.packages:
        for provenance in package.provenance:
            if provenance.kind == "lockfile":
                files.add(provenance.file)
            elif provenance.kind == "requirements" and provenance.group != "constraints":
                (files if provenance.is_exact_pin or _pinned_elsewhere(provenance) else loose).add(provenance.file)
    return files - loose


def _pinned_elsewhere(provenance: Provenance) -> bool:
    return provenance.source is not None and provenance.source.kind in ("url", "vcs", "path", "editable")


def _locks(package: Package, files: set[str]) -> list[Provenance]:
    return [p for p in package.provenance if p.applies and p.file in files and p.kind in ("lockfile", "requirements")]


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    inventory = ctx.inventory
    files = locking_files(inventory)
    if not files:
        return
    by_key: dict[tuple[str, str], list[Package]] = {}
    for package in inventory.packages:
        by_key.setdefault((package.ecosystem, package.key), []).append(package)
    yield from _disagreements(ctx, by_key, files)
    yield from _stale(ctx, inventory, files)
    if "<environment>" in inventory.sources:
        yield from _drift(ctx, by_key, files)


def _stale(ctx: RuleContext, inventory: Inventory, files: set[str]) -> Iterator[Finding | None]:
    """A locked package whose version is outside what the manifest of the lock asks for.

    The lock of pyproject.toml is the uv.lock/poetry.lock/pdm.lock beside it; the lock of a
    requirements manifest (requirements.txt or .in read as the input of pip-compile or `uv pip
    compile`, kind "manifest") is the fully pinned requirements file on the same package: a manifest
    line joins a package of another version only when the scan attached it to the lock compiled
    from it (a range otherwise joins a version it admits).
    """
    from governance.collect.declared import _matches

    for package in inventory.packages:
        if not package.version:
            continue
        locks = [p for p in package.provenance if p.kind == "lockfile" and p.applies
                 and p.file.rsplit("/", 1)[-1] in _RELOCK]
        compiled = [p for p in package.provenance if p.kind == "requirements" and p.applies and p.file in files
                    and p.group != "constraints"]
        if not locks and not compiled:
            continue
        for manifest in package.provenance:
            if manifest.kind != "manifest" or not manifest.applies or not manifest.specifier:
                continue
            if not _comparable(package.version, manifest.specifier) or _matches(package.version, manifest.specifier):
                continue
            folder = manifest.file.rsplit("/", 1)[0] if "/" in manifest.file else ""
            beside = [p for p in locks if (p.file.rsplit("/", 1)[0] if "/" in p.file else "") == folder]
            if beside:
                lock = beside[0]
                tool = _RELOCK[lock.file.rsplit("/", 1)[-1]]
                yield ctx.finding(
                    "DRIFT004", f"{package.name}: {manifest.location} asks for {manifest.specifier} but "
                    f"{lock.location} locks {package.version}; the lock is stale, run `{tool}`",
                    package=package, where=manifest, fix=tool,
                )
            elif compiled:
                lock = compiled[0]
                yield ctx.finding(
                    "DRIFT004", f"{package.name}: {manifest.location} asks for {manifest.specifier} but "
                    f"{lock.location} locks {package.version}; the lock is stale, re-compile {lock.file} from "
                    f"{manifest.file} (the pip-compile or `uv pip compile` command in its header)",
                    package=package, where=manifest, fix=f"re-compile {lock.file}",
                )


def _disagreements(ctx: RuleContext, by_key: dict[tuple[str, str], list[Package]],
                   files: set[str]) -> Iterator[Finding | None]:
    for packages in by_key.values():
        versions: dict[str, list[Provenance]] = {}
        for package in packages:
            for provenance in _locks(package, files):
                if package.version:
                    versions.setdefault(package.version, []).append(provenance)
        if len(versions) < 2:
            continue
        said = "; ".join(f"{', '.join(sorted({p.location for p in where}))} lock {version}"
                         for version, where in sorted(versions.items()))
        first = next(p for p in packages if _locks(p, files))
        yield ctx.finding(
            "LOCK001", f"{first.name}: the lockfiles disagree ({said}); regenerate the stale one from the "
            "same manifest, or delete the lockfile the project no longer uses",
            package=first, where=_locks(first, files)[0], fix=f"re-lock so that every lockfile has one {first.name}",
        )


def _drift(ctx: RuleContext, by_key: dict[tuple[str, str], list[Package]],
           files: set[str]) -> Iterator[Finding | None]:
    project = ctx.inventory.project.name
    for (ecosystem, key), packages in by_key.items():
        if ecosystem != "pypi":
            continue
        installed = [p for p in packages if p.installed]
        locked = [(p, prov) for p in packages for prov in _locks(p, files)]
        locked_versions = {p.version for p, _ in locked if p.version}
        for package in installed:
            if package.source is not None and package.source.kind in ("editable", "path") and \
                    package.key == _canonical(project):
                continue  # the project itself, installed for development
            if not locked:
                if key in _TOOLING or package.key == _canonical(project):
                    continue
                yield ctx.finding(
                    "DRIFT002", f"{package.name} {package.version} is installed but no lockfile locks it "
                    f"({', '.join(sorted(files))}); add it to the manifest and re-lock, or remove it "
                    "(a sync with the lock's tool does)", package=package,
                    fix=f"add {package.name} to the manifest and re-lock, or uninstall it",
                )
            elif package.version not in locked_versions and not _locks(package, files):
                lock_package, where = next((p, prov) for p, prov in locked if p.version)
                yield ctx.finding(
                    "DRIFT001", f"{package.name} {package.version} is installed but {where.location} locks "
                    f"{lock_package.version}; run `{_sync_hint(where.file)}` (or re-lock if {package.version} "
                    "is wanted)", package=package, where=where,
                    fix=f"{_sync_hint(where.file)}",
                )
        if locked and not installed:
            package, where = locked[0]
            yield ctx.finding(
                "DRIFT003", f"{package.name} {package.version or ''} is locked for this target in {where.location} "
                f"but not installed; run `{_sync_hint(where.file)}`".replace("  ", " "),
                package=package, where=where, fix=_sync_hint(where.file),
            )


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)
