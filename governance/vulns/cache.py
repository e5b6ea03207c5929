"""The user cache: where a parsed advisory index is kept between scans.

`MLGOV_CACHE_DIR` wins, then `$XDG_CACHE_HOME/mlgov`, then `~/.cache/mlgov`.
A cache that cannot be read or written is not an error: the scan just parses
the database again. An index is JSON (never pickle: the cache folder is not
trusted to hold code), named after the database's sha256, and a damaged one
is ignored and rebuilt.
"""

from __future__ import annotations

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
    path = _index_path(key)
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("key") != key:
        return None
    records = document.get("records")
    if not isinstance(records, list) or not all(_well_formed(r) for r in records):
        return None
    return records


def _well_formed(record: Any) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("id"), str)
            and isinstance(record.get("aliases"), list) and isinstance(record.get("affected"), list)
            and all(isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("versions"), list)
                    and isinstance(e.get("ranges"), list)
                    and all(isinstance(r, list) and all(isinstance(ev, list) and len(ev) == 2
                                                        and all(isinstance(x, str) for x in ev) for ev in r)
                            for r in e["ranges"])
                    and all(isinstance(v, str) for v in e["versions"])
                    for e in record["affected"])
            and isinstance(record.get("refs"), list) and isinstance(record.get("level"), str))


def write_index(key: str, records: list[dict[str, Any]]) -> Path | None:
    """Write atomically; None when the cache folder cannot be written."""
    path = _index_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump({"key": key, "records": records}, stream, separators=(",", ":"))
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
