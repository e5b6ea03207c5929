"""Writing outputs: all or nothing.

Each file is written to a temporary file beside it and renamed into place, so
a failure (an invalid SBOM, a full disk, Ctrl-C) never leaves half a file, and
a reader never sees one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from governance.errors import InputError


def write_atomic(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("cannot write: the folder does not exist", file=path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def write_all(outputs: list[tuple[Path, str]]) -> None:
    """Write several files; if one fails, none of the new ones stays half-written."""
    for path, text in outputs:
        write_atomic(path, text)
