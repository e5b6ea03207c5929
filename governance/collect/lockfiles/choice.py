"""Which of a project's lockfiles describe the environment being judged (`--lock`).

PEP 751 names alternatives: `pylock.cpu.toml`, `pylock.cu130.toml`, `pylock.rocm72.toml` each
record one installable environment, and an installer is pointed at one of them ("services ...
will search for the lock file with the service's name"). Read together they are not one
environment: five torch builds in one inventory, and their differences called lock drift (LOCK001).
So a scan judges one environment:

- without --lock the unnamed lockfiles are read (uv.lock, poetry.lock, pdm.lock, Pipfile.lock,
  pylock.toml, conda-lock.yml, ...), and each named alternative left unread is said (COV003, not
  judged): the stage decides whether an unjudged variant fails the gate;
- with --lock exactly the chosen lockfiles are read, as one environment; the others were left out on
  purpose, which is an inventory note, not a finding. Two named locks may be chosen together: some
  projects install a variant and then a supplement (mlcg: `pylock.cu128.toml`, then
  `pylock.no_hashes.toml` holding the git dependency the others leave out); where they disagree,
  that is lock drift (LOCK001) within the environment the user described;
- a folder whose only lockfiles are several named alternatives cannot be judged without the user
  saying which one is installed: exit 2 naming them. A single named lock is read (nothing to choose).

Manifests (pyproject.toml, setup.cfg, conda environment files) are read whatever --lock says: they declare,
the lock decides (lockfiles.under_lock).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from governance.errors import InputError
from governance.frozen import frozen
from governance.model import Unread

# PEP 751's file name rule for a named lock.
_NAMED_PYLOCK = re.compile(r"^pylock\.([^.]+)\.toml$")


@frozen
class Chosen:
    """Which lockfiles are read, and which alternatives were not chosen."""
    read: tuple[Path, ...]  # the files to read, manifests included, in the order found
    unread: tuple[Unread, ...] = ()  # named alternatives nobody chose (COV003)
    notes: tuple[str, ...] = ()  # lockfiles --lock left out on purpose


def alternative(path: Path) -> bool:
    """A named PEP 751 lock: one of several environments, installed on its own."""
    return bool(_NAMED_PYLOCK.match(path.name))


def _manifest(path: Path) -> bool:
    """A file that declares rather than locks: its reader says so (`MANIFEST = True`, or
    `is_manifest(path)` when one reader takes both kinds, as conda's does)."""
    from governance.collect.lockfiles import _readers

    for reader in _readers():
        if reader.matches(path):
            says = getattr(reader, "is_manifest", None)
            return bool(says(path)) if callable(says) else bool(getattr(reader, "MANIFEST", False))
    return False


def _name(value: str, root: Path, locks: Sequence[Path]) -> str:
    """The lockfile name a --lock value stands for: a name at the top of the project, or a path to it."""
    given = Path(value)
    if len(given.parts) > 1 or given.is_absolute():
        try:
            inside = given.resolve().parent == root.resolve()
        except OSError:
            inside = False
        if not inside:
            raise InputError(f"--lock {value}: not a file at the top of the project folder {root}; name one of "
                             f"its lockfiles: {_listed(locks)}")
        given = Path(given.name)
    return given.name


def _listed(paths: Sequence[Path]) -> str:
    return ", ".join(p.name for p in paths) or "(none)"


def choose(found: Sequence[Path], root: Path, asked: Sequence[str] = ()) -> Chosen:
    """The files a scan reads, given every file a reader takes (lockfiles.find) and --lock."""
    manifests = [p for p in found if _manifest(p)]
    locks = [p for p in found if not _manifest(p)]
    named = [p for p in locks if alternative(p)]
    unnamed = [p for p in locks if not alternative(p)]
    if asked:
        return _asked(found, root, asked, manifests, locks)
    if not named:
        return Chosen(read=tuple(found))
    if not unnamed and len(named) > 1:
        raise InputError(f"{len(named)} named PEP 751 locks, alternative environments of which one is installed, "
                         f"and no unnamed lockfile: choose one with --lock ({_listed(named)}), "
                         f"e.g. mlgov scan {root} --lock {named[0].name}; or set `lock` in [tool.mlgov]",
                         file=root)
    if not unnamed:
        return Chosen(read=tuple(found))  # the one lock there is: nothing to choose between
    read = [p for p in found if p not in named]
    shown = _listed(unnamed)
    unread = tuple(Unread(
        file=p.name,
        reason=f"a named PEP 751 lock: an alternative to {shown}, and one scan judges one of them",
        fix=f"judge it in a scan of its own (--lock {p.name}), or name the lock the project installs "
            f"with --lock (or `lock` in [tool.mlgov]) to leave the others out on purpose",
        rule="COV003") for p in named)
    return Chosen(read=tuple(read), unread=unread)


def _asked(found: Sequence[Path], root: Path, asked: Sequence[str], manifests: list[Path],
           locks: list[Path]) -> Chosen:
    by_name = {p.name: p for p in locks}
    chosen: list[str] = []
    for value in asked:
        name = _name(value, root, locks)
        if name not in by_name:
            what = ("a manifest, always read; --lock names a lockfile" if any(p.name == name for p in manifests)
                    else "not a lockfile at the top of the project folder")
            raise InputError(f"--lock {value}: {what}; its lockfiles: {_listed(locks)}", file=root)
        if name not in chosen:
            chosen.append(name)
    read = tuple(p for p in found if p in manifests or p.name in chosen)
    left = [p.name for p in locks if p.name not in chosen]
    notes = (f"not read, on purpose (--lock {', '.join(chosen)}): {', '.join(left)}",) if left else ()
    return Chosen(read=read, notes=notes)
