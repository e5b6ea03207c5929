"""Writing outputs: checked first, then all or nothing.

Every output path (and the format its extension names) is checked before any
work is done, so bad usage (`--report r.pdf`, a missing folder, the same file
twice) writes nothing and exits 2. Files are then written to temporaries beside
their destinations and renamed into place only when all of them are written,
so a failure (an invalid SBOM, a full disk, Ctrl-C) never leaves half a file,
and a reader never sees one. A new file gets the mode the user's umask gives
(as `open()` would); a file that is replaced keeps its mode.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from governance.errors import InputError

SBOM_EXTENSIONS = {".json": "json", ".xml": "xml"}


def _umask() -> int:
    # os.umask can only be read by setting it; the CLI is single-threaded here.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def check_destination(path: Path, what: str = "output") -> None:
    """Raise InputError unless path can be written: its folder exists and is writable, it is not a folder."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write the {what}: the folder {folder} does not exist", file=path)
    if path.is_dir():
        raise InputError(f"cannot write the {what}: it is a folder", file=path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write the {what}: the folder {folder} is not writable", file=path)


def sbom_format(path: Path, fmt: str | None = None) -> str:
    """The SBOM's format: given, else from the extension (.json, .xml); anything else is bad usage."""
    if fmt is not None:
        return fmt
    found = SBOM_EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise InputError("cannot tell the SBOM format from the extension (use .json or .xml)", file=path)
    return found


def check_all(paths: Iterable[tuple[Path, str]]) -> None:
    """Check every (path, what) up front; the same file named twice is bad usage too."""
    seen: dict[str, str] = {}
    for path, what in paths:
        check_destination(path, what)
        key = os.path.normcase(os.path.abspath(path))
        if key in seen:
            raise InputError(f"named twice (as the {seen[key]} and as the {what}): give each output its own file",
                             file=path)
        seen[key] = what


def _stage(path: Path, text: str) -> str:
    folder = path.parent if str(path.parent) else Path(".")
    check_destination(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, mode_for(path))  # mkstemp makes 0600; the user's umask decides
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def write_all(outputs: list[tuple[Path, str]]) -> None:
    """Write several files: all are staged first, then renamed; on failure no new one is left."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in outputs:
            staged.append((_stage(path, text), path))
        for temporary, path in staged:
            os.replace(temporary, path)
    except BaseException:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    write_all([(path, text)])
