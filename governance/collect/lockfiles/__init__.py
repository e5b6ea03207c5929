"""Lockfile readers, one module per format.

Each reader module exposes `matches(path) -> bool` and
`read(path, root, markers) -> LockResult`; READERS lists them in the order
they are tried, and `NAMES`, the file names it takes (for messages). A file
that looks like a lockfile but that no reader takes is listed by
governance.collect.discover (COV002), never guessed at.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from types import ModuleType

from governance.collect.declared import Declaration
from governance.collect.selection import DEFAULT, Selection
from governance.frozen import frozen
from governance.model import Package, Unread


@frozen
class LockResult:
    """What one lockfile or manifest installs for the target, with what it noted and left unread."""
    file: str  # relative to the project
    declarations: list[Declaration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Every name the lock records, for any target or group: a manifest requirement missing from it
    # means the lock is stale; one present but not installed here is simply not installed.
    names: frozenset[str] = frozenset()
    decides: bool = False  # the lock resolves the pyproject.toml beside it (uv, poetry, pdm)
    # Files read besides this one (a pyproject.toml's dynamic dependencies: `{file = [...]}`), and what
    # in them could not be judged (COV002).
    also_read: list[str] = field(default_factory=list)
    # The manifests this lock was made from, relative to the project (conda-lock's `metadata.sources`):
    # their requirements join what the lock installs.
    manifests: tuple[str, ...] = ()
    unread: list[Unread] = field(default_factory=list)
    # Entries for other targets that made no declaration (conda: the subdirs they are for), so that a
    # lock with nothing for the scanned target is said (COV010) rather than judged as empty.
    other_targets: tuple[str, ...] = ()


# Files that state what the project asks for, in ranges, rather than what is installed.
MANIFESTS = ("pyproject.toml", "setup.cfg")


def _readers() -> list[ModuleType]:
    # Imported here so that a scan without lockfiles pays nothing for them.
    from governance.collect.lockfiles import conda, pdm, pipfile, poetry, pylock, pyproject, setupcfg, uv

    return [uv, poetry, pdm, pipfile, pylock, conda, pyproject, setupcfg]


def find(root: Path) -> list[Path]:
    found = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        if any(reader.matches(path) for reader in _readers()):
            found.append(path)
    return found


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    for reader in _readers():
        if reader.matches(path):
            from governance.inputs import reading

            with reading(path.name, "lockfile"):
                result: LockResult = reader.read(path, root, markers, selection)
            return result
    raise LookupError(path)


def _installs(result: LockResult) -> bool:
    return any(d.provenance.kind == "lockfile" and d.provenance.applies and d.provenance.file == result.file
               for d in result.declarations)


def _other_targets(result: LockResult) -> bool:
    return bool(result.other_targets) or any(
        d.provenance.kind == "lockfile" and not d.provenance.applies and d.provenance.file == result.file
        for d in result.declarations)


def not_for_target(results: list[LockResult], markers: dict[str, str]) -> list[Unread]:
    """COV010: the locks read record packages, but not one for the scanned target.

    Such a lock was made for other platforms (conda-lock -p linux-64, uv's `environments`), or for
    another Python: judging "nothing installed" would PASS an environment nobody looked at. When some
    lock of the scan installs packages on the target, the others are variants for other targets
    (conda-lock's per-platform explicit files), left out with a note as before.
    """
    if any(_installs(r) for r in results):
        return []
    from governance.collect.target import conda_subdir, label

    target, subdir = label(markers), conda_subdir(markers)
    found = []
    for result in results:
        if not _other_targets(result):
            continue
        platforms = ", ".join(result.other_targets)
        locked_for = f" (it locks for {platforms})" if platforms else ""
        found.append(Unread(
            file=result.file, rule="COV010",
            reason=f"it installs nothing on the scanned target {target}{locked_for}",
            fix="scan for a target it was locked for (--target-platform, --target-python), or lock it for "
                f"{target} too" + (f" (conda-lock -p {subdir})" if platforms and subdir else "")))
    return found


def installable(packages: tuple[Package, ...]) -> tuple[tuple[Package, ...], list[str]]:
    """Packages the target installs; those that only files for other targets name are left out.

    A requirement whose marker is false for the target, or an extra nobody asked
    for, must not become an SBOM component: the SBOM lists what is installed.
    A pin for another target of a package this target installs under another
    line (`torch==2.8.0+cu128; sys_platform == 'darwin'` beside an unpinned
    `torch`) is said as such, not as "not installed".
    """
    kept = tuple(p for p in packages if not p.provenance or any(pr.applies for pr in p.provenance))
    dropped = [p for p in packages if p.provenance and not any(pr.applies for pr in p.provenance)]
    if not dropped:
        return kept, []
    installed = {(p.ecosystem, p.key) for p in kept}
    absent = sorted({p.name for p in dropped if (p.ecosystem, p.key) not in installed}, key=str.lower)
    other = sorted({" ".join(filter(None, (p.name, p.version, f"({p.provenance[0].location})")))
                    for p in dropped if (p.ecosystem, p.key) in installed}, key=str.lower)
    notes = []
    if absent:
        shown = ", ".join(absent[:10]) + (f" and {len(absent) - 10} more" if len(absent) > 10 else "")
        notes.append(f"not installed on this target, left out of the inventory: {shown}")
    if other:
        shown = ", ".join(other[:10]) + (f" and {len(other) - 10} more" if len(other) > 10 else "")
        notes.append(f"versions for other targets, left out (this target installs another line): {shown}")
    return kept, notes


def under_lock(result: LockResult, results: list[LockResult], notes: list[str],
               compiled: dict[str, tuple[tuple[str, ...], frozenset[str]]] | None = None,
               stale: list[Unread] | None = None) -> list[Declaration]:
    """A pyproject.toml's requirements when a lock beside it (uv.lock, poetry.lock, pdm.lock) decides
    what is installed: the version of every component comes from the lock.

    A requirement for another target, an extra or a group not asked for is left out; one the lock
    installs joins that package (a locked version outside the requirement's range is lock drift,
    DRIFT004); one the lock does not record at all means the lock is stale, and is said in the notes.
    Without such a lock, the requirements of a file that a compiled requirements lock was compiled
    from (`compiled`: the file -> (the locks, every name they record); pyproject.toml itself, or a
    file its dynamic dependencies come from) join that lock's packages the same way.
    A conda environment file that a conda-lock.yml names in its `metadata.sources` joins that lock the
    same way. Declarations of any other file pass through unchanged.
    """
    from governance.collect.declared import attach_to_lock

    made = [r for r in results if result.file in r.manifests]
    if made:
        # A conda environment file that a conda-lock.yml was made from: the lock decides.
        names = frozenset().union(*(lock.names for lock in made))
        files = tuple(lock.file for lock in made)
        return attach_to_lock(result.declarations, files, names, notes,
                              f"re-lock with conda-lock ({', '.join(files)})", stale=stale)
    if not result.file.endswith(MANIFESTS):
        return result.declarations
    folder = result.file.rsplit("/", 1)[0] if "/" in result.file else ""
    beside = [r for r in results if (r.file.rsplit("/", 1)[0] if "/" in r.file else "") == folder]
    locks = [r for r in beside if r.decides]
    if locks:
        # Recorded by any lock read beside it (a supplement such as a pylock of the git dependencies the
        # main lock leaves out) is installed: not stale.
        names = frozenset().union(*(lock.names for lock in beside))
        return attach_to_lock(result.declarations, tuple(lock.file for lock in locks), names, notes, "re-lock",
                              any_lockfile=True, stale=stale)
    if not compiled:
        return result.declarations
    by_file: dict[str, list[Declaration]] = {}
    for declaration in result.declarations:
        by_file.setdefault(declaration.provenance.file, []).append(declaration)
    kept: list[Declaration] = []
    for file, declarations in by_file.items():
        if file in compiled:
            files, names = compiled[file]
            kept.extend(attach_to_lock(declarations, files, names, notes, "re-compile the lock", stale=stale))
        else:
            kept.extend(declarations)
    return kept
