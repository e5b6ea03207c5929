"""What a requirements file, manifest or lockfile says about one package.

Every reader (requirements.py, lockfiles/*) yields Declarations; merge() folds
them with the installed distributions into the Inventory's packages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.errors import InputError
from governance.model import Ecosystem, Hash, Package, Provenance


@dataclass(frozen=True)
class Declaration:
    name: str
    version: str | None  # the exact version, when the file fixes one
    provenance: Provenance
    ecosystem: Ecosystem = "pypi"
    requires: tuple[str, ...] = ()  # canonical names, when a lockfile records the graph
    properties: tuple[tuple[str, str], ...] = ()

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
        raise InputError(f"version of {len(version)} characters with a number of 40 or more digits, "
                         "or longer than 128 characters: not a release mlgov can compare", file=file, line=line)


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
    packages: list[Package] = list(installed)
    index: dict[str, list[int]] = {}
    for position, package in enumerate(packages):
        index.setdefault(package.key, []).append(position)

    def add(declaration: Declaration, position: int | None) -> None:
        if position is None:
            packages.append(Package(
                name=declaration.name, version=declaration.version,
                ecosystem=declaration.ecosystem, hashes=declaration.provenance.hashes,
                requires=declaration.requires, source=declaration.provenance.source,
                provenance=(declaration.provenance,), properties=declaration.properties,
            ))
            index.setdefault(declaration.key, []).append(len(packages) - 1)
            return
        current = packages[position]
        hashes = tuple(sorted(set(current.hashes) | set(declaration.provenance.hashes)))
        properties = current.properties + tuple(
            p for p in declaration.properties if p not in current.properties)
        packages[position] = replace(
            current, hashes=hashes, provenance=current.provenance + (declaration.provenance,),
            requires=current.requires or declaration.requires,
            source=current.source or declaration.provenance.source, properties=properties,
        )

    # Exact versions first, so that ranges then join a component that exists.
    ordered = sorted(declarations, key=lambda d: d.version is None)
    for declaration in ordered:
        candidates = [i for i in index.get(declaration.key, [])
                      if packages[i].ecosystem == declaration.ecosystem]
        if declaration.version is not None:
            same = [i for i in candidates if packages[i].version is not None
                    and _same_version(packages[i].version or "", declaration.version)]
            if not same and declaration.provenance.kind in ("requirements", "manifest"):
                # `torch==2.5.1` is satisfied by an installed 2.5.1+cu124 (PEP 440).
                same = [i for i in candidates if packages[i].version is not None
                        and _matches(packages[i].version or "", declaration.provenance.specifier)]
            add(declaration, same[0] if same else None)
            continue
        fitting = [i for i in candidates if packages[i].version is None
                   or _matches(packages[i].version or "", declaration.provenance.specifier)]
        if not fitting:
            fitting = [i for i in candidates if packages[i].version is None]
        add(declaration, fitting[0] if fitting else None)
    return tuple(sorted(packages, key=lambda p: (p.ecosystem, p.key, p.version or "")))


__all__ = ["Declaration", "merge", "exact_version", "Hash"]
