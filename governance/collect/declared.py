"""What a requirements file, manifest or lockfile says about one package.

Every reader (requirements.py, lockfiles/*) yields Declarations; merge() folds
them with the installed distributions into the Inventory's packages.
"""

from __future__ import annotations

import re
from dataclasses import replace

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.errors import InputError
from governance.frozen import frozen
from governance.model import Ecosystem, Hash, Package, Provenance, Unread


@frozen
class Declaration:
    """One package as one file states it (a lock entry or a requirement), before the files are merged."""
    name: str
    version: str | None  # the exact version, when the file fixes one
    provenance: Provenance
    ecosystem: Ecosystem = "pypi"
    requires: tuple[str, ...] = ()  # canonical names, when a lockfile records the graph
    properties: tuple[tuple[str, str], ...] = ()
    # A manifest's requirement when a lock beside it decides what is installed: it joins the package
    # the lock installs (whatever its version: a mismatch is lock drift, DRIFT004) and never makes a
    # component of its own, so a stale lock never shows as a versionless or a second package.
    attach: bool = False
    # The lock files an `attach` declaration joins (a compiled requirements lock: requirements_lock.txt);
    # empty: whichever lockfile installs the package (uv.lock, poetry.lock, pdm.lock beside pyproject.toml).
    locks: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return canonicalize_name(self.name) if self.ecosystem == "pypi" else self.name.lower()


def exact_version(specifier: str) -> str | None:
    """The version a `==X` or `===X` specifier fixes, else None."""
    spec = specifier.strip()
    if "," in spec or not spec.startswith("=="):
        return None
    value = spec.lstrip("=").strip()
    if not value or value.endswith(".*"):
        return None
    return value


def _matches(version: str, specifier: str) -> bool:
    if not specifier:
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _spec_version(specifier: str) -> str | None:
    # The longest version a specifier names is what a rule will compare.
    return max((part.strip().lstrip("=<>!~ ") for part in specifier.split(",")), key=len, default=None) \
        if specifier else None


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


# PEP 440 puts no bound on a release number; mlgov does: a version is compared
# as integers, and a 5,000-digit one is a hostile file, not a release.
MAX_VERSION_CHARS = 128
_LONG_NUMBER = re.compile(r"\d{40}")


def check_version_text(version: str | None, file: str | None, line: int | None = None) -> None:
    """InputError (file:line) for a version no real release has: too long, or a huge number."""
    if version is None:
        return
    if not isinstance(version, str):
        raise InputError(f"version is a {type(version).__name__}, not a string", file=file, line=line)
    if len(version) > MAX_VERSION_CHARS or _LONG_NUMBER.search(version):
        from governance.escape import quote

        raise InputError(f"version {quote(version, 40)} is not a release mlgov can compare (over "
                         f"{MAX_VERSION_CHARS} characters, or a number of 40 or more digits)", file=file, line=line)


def _locked(package: Package, added: list[Declaration], locks: tuple[str, ...] = ()) -> bool:
    places = package.provenance + tuple(d.provenance for d in added)
    if locks:
        return any(p.applies and p.file in locks and p.kind in ("lockfile", "requirements") for p in places)
    return any(p.kind == "lockfile" and p.applies for p in places)


def attach_to_lock(declarations: list[Declaration], locks: tuple[str, ...], names: frozenset[str],
                   notes: list[str], relock: str, any_lockfile: bool = False,
                   stale: list[Unread] | None = None) -> list[Declaration]:
    """A manifest's requirements when a lock compiled from it decides what is installed: each joins
    the package the lock installs (the version always comes from the lock; a locked version outside
    the requirement's range is lock drift, DRIFT004) and never makes a component of its own.

    A requirement for another target, an extra or a group not asked for is left out; one the lock does
    not record at all (`names`: every name it records, for any target) means the lock is stale, said in
    the notes with `relock`, the command that brings it up to date, and in `stale` (DRIFT004: the lock
    does not satisfy the manifest, and the package the manifest asks for was never judged). any_lockfile: join the package
    whichever lockfile installs (a uv.lock, poetry.lock or pdm.lock decides), not only `locks`.
    """
    kept: list[Declaration] = []
    for declaration in declarations:
        if not declaration.provenance.applies:
            continue
        if declaration.ecosystem in ("pypi", "conda") and declaration.key not in names:
            if declaration.provenance.group == "constraints":
                continue  # a constraint (`-c requirements.txt` in the .in) asks for nothing to be installed
            notes.append(f"{declaration.provenance.location}: {declaration.name}{declaration.provenance.specifier} "
                         f"is not in {', '.join(locks)}: the lock is stale (lock drift); {relock} so that what "
                         "is installed is what the manifest asks for")
            # A lock made from this manifest (uv.lock, poetry.lock, pdm.lock, conda-lock, a pip-compile
            # output) that lacks a requirement is stale: `uv sync --locked` refuses it. A PEP 751 export
            # may leave packages out on purpose (`uv export --no-emit-package`, a supplement lock for a
            # git dependency), so it keeps the note alone.
            if stale is not None and not all(lock.rsplit("/", 1)[-1].startswith("pylock") for lock in locks):
                stale.append(Unread(
                    file=declaration.provenance.file, line=declaration.provenance.line, rule="DRIFT004",
                    reason=f"{declaration.name}: {declaration.provenance.location} asks for {declaration.name}"
                           f"{declaration.provenance.specifier}, which {', '.join(locks)} does not record",
                    fix=f"{relock}, so that what is installed is what the manifest asks for"))
            continue
        kept.append(replace(declaration, attach=True, locks=() if any_lockfile else locks))
    return kept


def merge(installed: list[Package], declarations: list[Declaration]) -> tuple[Package, ...]:
    """Fold declarations into packages.

    A declaration that fixes a version joins the package of that name and
    version (a new component when none exists: a lock that differs from the
    environment shows as two components, which is what drift rules look at).
    A range or an unpinned requirement joins the package it admits, else
    stands alone with no version. Declarations that do not apply to the
    target join as well but never create a component that looks installed.
    """
    for declaration in declarations:
        check_version_text(declaration.version or _spec_version(declaration.provenance.specifier),
                           declaration.provenance.file, declaration.provenance.line)
    # Linear in the number of declarations: packages are found through indexes
    # (name -> versions -> position), and what declarations add to a package is
    # gathered in lists and applied once (4,000 pins of one name took 144 s
    # when each declaration rescanned and rebuilt every candidate).
    packages: list[Package] = list(installed)
    added: dict[int, list[Declaration]] = {}
    by_version: dict[tuple[str, str], dict[object, int]] = {}
    by_public: dict[tuple[str, str], dict[object, int]] = {}
    versioned: dict[tuple[str, str], list[int]] = {}
    versionless: dict[tuple[str, str], int] = {}

    def register(position: int) -> None:
        package = packages[position]
        group = (package.ecosystem, package.key)
        if package.version is None:
            versionless.setdefault(group, position)
            return
        versioned.setdefault(group, []).append(position)
        exact, public = _version_keys(package.version)
        by_version.setdefault(group, {}).setdefault(exact, position)
        if public is not None:
            by_public.setdefault(group, {}).setdefault(public, position)

    for position in range(len(packages)):
        register(position)

    def add(declaration: Declaration, position: int | None) -> None:
        if position is None:
            packages.append(Package(
                name=declaration.name, version=declaration.version,
                ecosystem=declaration.ecosystem, hashes=declaration.provenance.hashes,
                requires=declaration.requires, source=declaration.provenance.source,
                provenance=(declaration.provenance,), properties=declaration.properties,
            ))
            register(len(packages) - 1)
            return
        added.setdefault(position, []).append(declaration)

    fits: dict[tuple[str, str, str], int | None] = {}

    def first_fit(group: tuple[str, str], specifier: str) -> int | None:
        # Versioned packages no longer change once ranges are placed (those only
        # add versionless ones), so the first match per specifier is computed once.
        if (group + (specifier,)) not in fits:
            fits[group + (specifier,)] = next(
                (i for i in versioned.get(group, []) if _matches(packages[i].version or "", specifier)), None)
        found = [i for i in (fits[group + (specifier,)], versionless.get(group)) if i is not None]
        return min(found) if found else None

    # What applies to the target first, exact versions before ranges, so that ranges then join a
    # component that exists; declarations for other targets after them, so that a pin for another
    # platform (`torch==2.8.0+cu128; sys_platform == 'darwin'`) never creates the component an
    # unpinned line for this target joins, nor lends it its version: it joins a package of exactly
    # its version or stands alone, and a package that nothing applying names is left out later
    # (lockfiles.installable). A manifest's requirements under a lock last, once every locked
    # package is there.
    ordered = sorted(declarations, key=lambda d: (d.attach, not d.provenance.applies, d.version is None))
    for declaration in ordered:
        group = (declaration.ecosystem, declaration.key)
        if declaration.attach:
            locked = [i for i in versioned.get(group, [])
                      if _locked(packages[i], added.get(i, []), declaration.locks)]
            fitting = [i for i in locked if _matches(packages[i].version or "", declaration.provenance.specifier)]
            if fitting or locked:
                add(declaration, (fitting or locked)[0])
            continue  # the lock does not install it here: not a component
        if declaration.version is not None:
            exact, public = _version_keys(declaration.version)
            found_at = by_version.get(group, {}).get(exact)
            if found_at is None and declaration.provenance.kind in ("requirements", "manifest") \
                    and public is not None and public == exact \
                    and declaration.provenance.specifier.strip().startswith("==") \
                    and not declaration.provenance.specifier.strip().startswith("==="):
                # `torch==2.5.1` is satisfied by an installed 2.5.1+cu124 (PEP 440).
                found_at = by_public.get(group, {}).get(public)
            add(declaration, found_at)
            continue
        add(declaration, first_fit(group, declaration.provenance.specifier))

    for position, extra in added.items():
        current = packages[position]
        hashes = set(current.hashes)
        provenance = list(current.provenance)
        properties = list(current.properties)
        seen_properties = set(properties)
        requires, source = current.requires, current.source
        for declaration in extra:
            hashes.update(declaration.provenance.hashes)
            provenance.append(declaration.provenance)
            keys = {key for key, _ in properties}
            for item in declaration.properties:
                # What a manifest says under a lock (conda's `=cuda12*` build selector) never overrides
                # what the lock installs (the exact build).
                if declaration.attach and item[0] in keys:
                    continue
                if item not in seen_properties:
                    seen_properties.add(item)
                    properties.append(item)
            requires = requires or declaration.requires
            source = source or declaration.provenance.source
        packages[position] = replace(current, hashes=tuple(sorted(hashes)), provenance=tuple(provenance),
                                     requires=requires, source=source, properties=tuple(properties))
    return tuple(sorted(packages, key=lambda p: (p.ecosystem, p.key, p.version or "")))


def _version_keys(version: str) -> tuple[object, object | None]:
    """(key of the version, key of its public part) with PEP 440 equality: 1.0 == 1.0.0.

    An unparsable version is its own string and has no public part.
    """
    try:
        parsed = Version(version)
    except InvalidVersion:
        return ("raw", version), None
    release = list(parsed.release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    public = (parsed.epoch, tuple(release), parsed.pre, parsed.post, parsed.dev)
    local = tuple(int(x) if x.isdigit() else x for x in parsed.local.split(".")) if parsed.local else None
    return public + (local,), public + (None,)


__all__ = ["Declaration", "merge", "exact_version", "attach_to_lock", "Hash"]
