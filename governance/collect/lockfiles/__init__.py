"""Lockfile readers, one module per format.

Each reader module exposes `matches(path) -> bool` and
`read(path, root, markers) -> LockResult`; READERS lists them in the order
they are tried, and `NAMES`, the file names it takes (for messages). A file
that looks like a lockfile but that no reader takes is listed by
governance.collect.discover (COV002), never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from governance.collect.declared import Declaration
from governance.model import Package


@dataclass(frozen=True)
class LockResult:
    file: str  # relative to the project
    declarations: list[Declaration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _readers() -> list[ModuleType]:
    # Imported here so that a scan without lockfiles pays nothing for them.
    from governance.collect.lockfiles import conda, pdm, pipfile, poetry, pylock, pyproject, uv

    return [uv, poetry, pdm, pipfile, pylock, conda, pyproject]


def find(root: Path) -> list[Path]:
    found = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        if any(reader.matches(path) for reader in _readers()):
            found.append(path)
    return found


def read(path: Path, root: Path, markers: dict[str, str]) -> LockResult:
    for reader in _readers():
        if reader.matches(path):
            from governance.inputs import reading

            with reading(path.name, "lockfile"):
                result: LockResult = reader.read(path, root, markers)
            return result
    raise LookupError(path)


def installable(packages: tuple[Package, ...]) -> tuple[tuple[Package, ...], list[str]]:
    """Packages the target installs; those that only files for other targets name are left out.

    A requirement whose marker is false for the target, or an extra nobody asked
    for, must not become an SBOM component: the SBOM lists what is installed.
    """
    kept = tuple(p for p in packages if not p.provenance or any(pr.applies for pr in p.provenance))
    dropped = sorted({p.name for p in packages if p.provenance and not any(pr.applies for pr in p.provenance)},
                     key=str.lower)
    if not dropped:
        return kept, []
    shown = ", ".join(dropped[:10]) + (f" and {len(dropped) - 10} more" if len(dropped) > 10 else "")
    return kept, [f"not installed on this target, left out of the inventory: {shown}"]
