"""The user cache: where a parsed advisory index is kept between scans.

`MLGOV_CACHE_DIR` wins, then `$XDG_CACHE_HOME/mlgov`, then `~/.cache/mlgov`.
A cache that cannot be read or written is not an error: the scan just parses
the database again. An index is JSON (never pickle: the cache folder is not
trusted to hold code), named after the database's sha256, and one whose
content does not match the digest in its first line is ignored and rebuilt.
Whoever can write the user's cache folder can already change what the user
runs, so the index is checked for damage, not defended against its owner.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ENV = "MLGOV_CACHE_DIR"
KEEP = 4  # index files kept; older ones are removed when a new one is written


def cache_dir() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlgov"


def _index_path(key: str) -> Path:
    return cache_dir() / "osv-index" / f"index-{key}.json"


def read_index(key: str) -> list[dict[str, Any]] | None:
    """The records cached under key, or None when there is no intact index.

    The first line holds the key and the sha256 of the rest, so a truncated
    or damaged file is detected without walking every record.
    """
    path = _index_path(key)
    try:
        with open(path, "rb") as stream:
            header = json.loads(stream.readline())
            body = stream.read()
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or header.get("key") != key \
            or header.get("sha256") != hashlib.sha256(body).hexdigest():
        return None
    try:
        records = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    return records


def write_index(key: str, records: list[dict[str, Any]]) -> Path | None:
    """Write atomically; None when the cache folder cannot be written."""
    path = _index_path(key)
    body = json.dumps(records, separators=(",", ":")).encode("utf-8")
    header = json.dumps({"key": key, "sha256": hashlib.sha256(body).hexdigest()}).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(header + b"\n" + body)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(path)
    except OSError:
        return None
    return path


def _prune(keep: Path) -> None:
    indexes = sorted(keep.parent.glob("index-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in indexes if p != keep][KEEP - 1:]:
        old.unlink(missing_ok=True)
