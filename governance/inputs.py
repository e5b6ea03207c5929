"""The one guarded way mlgov reads a file it was handed or found in a scanned tree.

mlgov runs on pull requests: every file in the scanned tree may have been
written by an attacker, and the CI job reading it often holds secrets. So an
input is read only through `read_input`/`read_input_bytes`, which:

- refuse a path that leads outside the allowed folders (the scanned project,
  the named venv, ...; set with `confined`), whether by `..`, an absolute
  include or a symbolic link, so `requirements.txt -> /proc/self/environ` or
  `-r ../token` reads nothing;
- open with O_NONBLOCK and check the opened handle (`fstat`), so a FIFO or a
  device is refused instead of blocking or streaming forever, and a file
  swapped after a check is still the file judged;
- read at most `limit + 1` bytes (sizes from `stat` lie for /proc files and
  devices), and charge every byte to one budget per command;
- raise InputError naming the file, never quoting its content.

`reading(name)` is the last-resort guard around a reader: anything a reader
raises that is not already an InputError becomes one naming the file (exit 2),
since the only thing it can mean is a file the reader did not expect.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from governance.errors import InputError, MlgovError

MAX_INPUT_BYTES = 64 * 1024 * 1024
# Everything one command reads through this module, all files together: far
# above any real project (a 300-package venv is about 30 MB of metadata).
SCAN_BUDGET_BYTES = 2 * 1024 * 1024 * 1024

_ROOTS: ContextVar[tuple[Path, ...] | None] = ContextVar("mlgov_input_roots", default=None)
_BUDGET: ContextVar[list[int] | None] = ContextVar("mlgov_input_budget", default=None)


# Within a `confined` block: folder -> its real path. A venv is a few thousand
# files in a few hundred folders; resolving each file's every component
# (realpath) was a sixth of a 300-package SBOM.
_FOLDERS: ContextVar[dict[str, str] | None] = ContextVar("mlgov_input_folders", default=None)


def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def _real_file(path: Path | str) -> str:
    """realpath(path), with the folder's resolution cached for the block when the file is not a link."""
    text = os.fspath(path)
    folders = _FOLDERS.get()
    head, name = os.path.split(text)
    if folders is None or name in ("", ".", "..") or os.path.islink(text):
        return os.path.realpath(text)
    return os.path.join(_real_folder(head, folders), name)


def _real_folder(head: str, folders: dict[str, str]) -> str:
    """realpath(head), cached for the block; a folder that is not itself a link is its parent's real
    path and its name (one lstat), so the 300 dist-info folders of a site-packages do not each walk
    every component of the path again."""
    real = folders.get(head)
    if real is None:
        parent, name = os.path.split(head)
        if name in ("", ".", "..") or parent == head or os.path.islink(head):
            real = os.path.realpath(head or ".")
        else:
            real = os.path.join(_real_folder(parent, folders), name)
        folders[head] = real
    return real


@contextmanager
def confined(*roots: Path) -> Iterator[None]:
    """Within this block, inputs read without an explicit `within` must lie inside `roots`."""
    token = _ROOTS.set(tuple(_real(root) for root in roots))
    folders = _FOLDERS.set({})
    try:
        yield
    finally:
        _FOLDERS.reset(folders)
        _ROOTS.reset(token)


def allowed_roots() -> tuple[Path, ...] | None:
    """The folders inputs must lie in now (None: no confinement is active)."""
    return _ROOTS.get()


def allow(*roots: Path) -> None:
    """Add folders to the confinement of the enclosing `confined` block (a named venv)."""
    current = _ROOTS.get()
    if current is not None:
        _ROOTS.set(current + tuple(_real(root) for root in roots))


@contextmanager
def budget(total: int = SCAN_BUDGET_BYTES) -> Iterator[None]:
    """One overall read budget (each scan opens one around everything it collects)."""
    token = _BUDGET.set([total])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def inside(path: Path, roots: tuple[Path, ...]) -> bool:
    """Whether the real location of `path` (links resolved) is within one of `roots`."""
    # Strings, not Path objects: this runs for every file a scan reads.
    real = _real_file(path)
    for root in roots:
        text = str(root)
        if real == text or real.startswith(text.rstrip(os.sep) + os.sep):
            return True
    return False


def head(path: Path, size: int) -> str | None:
    """The first `size` bytes of a file as text, for telling a file's kind by its content; None
    when it cannot be opened. O_NONBLOCK: a FIFO named like an input must not hang the scan."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        return os.read(fd, size).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def read_input_bytes(path: Path, what: str = "file", limit: int = MAX_INPUT_BYTES, shown: str | None = None,
                     within: tuple[Path, ...] | None = None) -> bytes:
    """The bytes of one input file, guarded as the module says."""
    name = shown or str(path)
    roots = tuple(_real(r) for r in within) if within is not None else _ROOTS.get()
    if roots is not None and not inside(path, roots):
        raise InputError(f"{what} lies outside the scanned folders (through a link or a path "
                         "that leaves them); it was not read", file=name)
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or type(exc).__name__}", file=name) from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            raise InputError(f"{what} is {kind}, not a regular file; it was not read", file=name)
        if info.st_size > limit:
            raise InputError(f"{what} is {info.st_size} bytes, over the {limit}-byte limit", file=name)
        # Read past the limit by one byte: st_size is 0 for /proc files and lies for
        # some file systems, so the read itself enforces the bound.
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            try:
                chunk = os.read(handle, min(1 << 20, limit + 1 - size))
            except BlockingIOError:
                raise InputError(f"{what} did not answer a read (not a regular file?)", file=name) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputError(f"{what} is over the {limit}-byte limit", file=name)
        _charge(size, name)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or type(exc).__name__}", file=name) from None
    finally:
        os.close(handle)


def _charge(size: int, name: str) -> None:
    left = _BUDGET.get()
    if left is None:
        return
    left[0] -= size
    if left[0] < 0:
        raise InputError(f"this command has read more than {SCAN_BUDGET_BYTES} bytes of input in all; "
                         "stopped here", file=name)


def read_input(path: Path, what: str = "file", limit: int = MAX_INPUT_BYTES, shown: str | None = None,
               within: tuple[Path, ...] | None = None) -> str:
    """The UTF-8 text of one input file; `what` names it in messages ("SBOM", "host profile")."""
    name = shown or str(path)
    data = read_input_bytes(path, what, limit, shown, within)
    try:
        # Bytes decoded as they are (no newline translation), so that a digest
        # of the text is the digest of the file an auditor can check.
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"cannot read: not UTF-8 text ({exc.reason})", file=name, line=line) from None


def read_optional(path: Path, what: str = "file", limit: int = MAX_INPUT_BYTES,
                  within: tuple[Path, ...] | None = None) -> str | None:
    """Like read_input with undecodable bytes replaced, None when the file does not exist.

    For files that may be absent (a dist-info's INSTALLER); a link out, a FIFO
    or an oversized file is still an error, never a silent skip.
    """
    if not os.path.lexists(path):
        return None
    return read_input_bytes(path, what, limit, within=within).decode("utf-8", errors="replace")


@contextmanager
def reading(name: str | Path, what: str = "file") -> Iterator[None]:
    """Last-resort guard: an unexpected exception while reading `name` is exit 2 naming it.

    Readers check the shapes they know; a shape they did not foresee (a list
    where a table was, 10,000 nested arrays, a 5,000-digit number) must still
    be "this file cannot be read", not an internal error. The exception's text
    is not shown: it may quote the file.
    """
    try:
        yield
    except MlgovError:
        raise
    except RecursionError:
        raise InputError(f"cannot read this {what}: nested too deeply", file=str(name)) from None
    except MemoryError:
        raise InputError(f"cannot read this {what}: too large to hold in memory", file=str(name)) from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):  # Python's own words for a too-long number
            raise _unexpected(exc, name, what) from None
        raise InputError(f"cannot read this {what}: a number of more than {_MAX_INT_DIGITS} digits; no real value "
                         "has one", file=str(name)) from None
    except Exception as exc:  # noqa: BLE001 - the point of the guard
        raise _unexpected(exc, name, what) from None


def _unexpected(exc: Exception, name: str | Path, what: str) -> InputError:
    if os.environ.get("MLGOV_DEBUG"):
        raise exc
    return InputError(f"cannot read this {what}: unexpected content ({type(exc).__name__}); "
                      "if the file is valid, please report this as an mlgov bug", file=str(name))


def parse_json(text: str, name: str | Path) -> Any:
    """JSON text as data; a syntax error is an InputError with the file and line."""
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=str(name), line=exc.lineno) from None
    except ValueError:
        raise_huge_number(text, name)
        raise
    except RecursionError:  # the decoder recurses once per nested array or object
        raise InputError("invalid JSON: arrays or objects nested too deeply", file=str(name)) from None


def parse_toml(text: str, name: str | Path) -> dict[str, Any]:
    """TOML text as data; a syntax error is an InputError with the file and line."""
    from governance import tomlparse

    try:
        return tomlparse.loads(text)
    except tomlparse.TOMLError as exc:
        raise InputError(f"invalid TOML: {exc}", file=str(name), line=exc.line) from None
    except ValueError:
        raise_huge_number(text, name)
        raise


# Python refuses to turn more digits than this into an int (CVE-2020-10735: the conversion is
# quadratic), so json and tomllib raise a bare ValueError, not their syntax error, on such a number.
_MAX_INT_DIGITS = 4300


def raise_huge_number(text: str, name: str | Path) -> None:
    """InputError at the line of the first number too long for Python to read, if there is one."""
    for match in re.finditer(r"\d+", text):  # linear: each run of digits is matched once
        if match.end() - match.start() > _MAX_INT_DIGITS:
            raise InputError(f"a number of more than {_MAX_INT_DIGITS} digits; no real value has one",
                             file=str(name), line=text.count("\n", 0, match.start()) + 1)


def refuse_lone_surrogates(text: str, name: str | Path) -> None:
    r"""JSON may spell half a UTF-16 pair (`"\ud800"`): no real name or version holds
    one, and no output can encode it. Checked on the raw text, in one linear pass."""
    if "\\u" not in text:
        return
    for match in _SURROGATE.finditer(text):
        first, second = match.group(1), match.group(2)
        if first is None:  # an escaped backslash: what follows it is text, not an escape
            continue
        if first[3].lower() in "cdef" or second is None:  # a low half first, or a high half alone
            raise InputError(r"a lone UTF-16 surrogate escape (\uD800-\uDFFF): not text",
                             file=str(name), line=text.count("\n", 0, match.start()) + 1)


# A surrogate escape, with the low half that may follow it: a high half then a
# low half is a pair; a match that starts with a low half, or a high half with
# none after it, is a lone surrogate. An escaped backslash (`\\`) is matched
# first, as a whole, so `"\\ud800"` (a backslash, then the text "ud800") is not one.
_SURROGATE = re.compile(r"\\\\|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?")


def relative(path: Path, root: Path) -> str:
    """How a project file is named in findings: relative to the project when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
