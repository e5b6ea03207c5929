"""Reading the files a user hands in: bounded, UTF-8, and every failure an InputError.

A scanner in pre-merge CI reads files from pull requests, so a lockfile, SBOM
or host profile may be huge, binary or missing; each case is one clear line
naming the file, never a traceback or an out-of-memory.
"""

from __future__ import annotations

from pathlib import Path

from governance.errors import InputError

MAX_INPUT_BYTES = 64 * 1024 * 1024


def read_input(path: Path, what: str = "file", limit: int = MAX_INPUT_BYTES, shown: str | None = None) -> str:
    """The text of one input file; `what` names it in messages ("SBOM", "host profile")."""
    name = shown or str(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{what} is {size} bytes, over the {limit}-byte limit", file=name)
        # Bytes decoded as they are (no newline translation), so that a digest
        # of the text is the digest of the file an auditor can check.
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=name) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read: not UTF-8 text ({exc.reason})", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None


def relative(path: Path, root: Path) -> str:
    """How a project file is named in findings: relative to the project when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
