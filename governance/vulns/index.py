"""The advisory index: for each package, where its advisories lie in the zip.

One sqlite file (the standard library's sqlite3) per database digest, in the
user cache (cache.py): `osv-index/index-<FORMAT>-<sha256 of the zip>.sqlite`.
It holds no advisory text, only each member's place (offset, sizes, method,
CRC) under each package name it affects, so it is small (about 2 MB for the
25,000-advisory PyPI export), and a scan asks it for its own packages rather
than loading anything whole. A new format number or a new zip is a new
file; an index that cannot be opened, is not ours, or fails sqlite's own
check is ignored and rebuilt. The file is written under a temporary name
and renamed, so a scan never sees a half-written index.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from governance.vulns.cache import cache_dir

FORMAT = 3  # 1 was a JSON file of every parsed record; 3 adds the newest advisory's `modified`
KEEP = 4  # indexes kept; older ones are removed when a new one is written
Member = tuple[int, int, int, int, int]  # offset, compressed size, method, crc32, size
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE member (package TEXT NOT NULL, offset INTEGER NOT NULL, compressed INTEGER NOT NULL,
                     method INTEGER NOT NULL, crc INTEGER NOT NULL, size INTEGER NOT NULL,
                     PRIMARY KEY (package, offset)) WITHOUT ROWID;
"""


class Index:
    def __init__(self, connection: sqlite3.Connection, advisories: int, newest_modified: str | None = None) -> None:
        self._connection = connection
        self.advisories = advisories
        self.newest_modified = newest_modified  # how current the database is, for the report

    def members(self, names: list[str]) -> dict[str, list[Member]]:
        found: dict[str, list[Member]] = {}
        for start in range(0, len(names), 500):  # sqlite's limit on bound parameters
            chunk = names[start:start + 500]
            rows = self._connection.execute(
                "SELECT package, offset, compressed, method, crc, size FROM member WHERE package IN "
                f"({','.join('?' * len(chunk))}) ORDER BY package, offset", chunk)
            for package, *member in rows:
                found.setdefault(package, []).append(tuple(member))  # type: ignore[arg-type]
        return found


def path_for(digest: str) -> Path:
    return cache_dir() / "osv-index" / f"index-{FORMAT}-{digest}.sqlite"


def open_index(digest: str) -> Index | None:
    """The cached index of the zip with this digest, or None when there is no usable one."""
    path = path_for(digest)
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        meta = dict(connection.execute("SELECT key, value FROM meta"))
        if meta.get("format") != str(FORMAT) or meta.get("digest") != digest \
                or connection.execute("PRAGMA quick_check").fetchone() != ("ok",):
            connection.close()
            return None
        return Index(connection, int(meta["advisories"]), meta.get("newest_modified") or None)
    except (sqlite3.Error, KeyError, ValueError):
        return None


def build(digest: str, entries: Iterable[tuple[str, Member]], advisories: int,
          persist: bool = True, newest_modified: str | None = None) -> tuple[Index, Path | None]:
    """The index of these (package, member) entries; written to the cache when persist and writable."""
    rows = [(name, *member) for name, member in entries]
    if persist:
        path = path_for(digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=path.parent)
            os.close(handle)
            try:
                _write(sqlite3.connect(temporary), digest, rows, advisories, newest_modified).close()
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            _prune(path)
            found = open_index(digest)
            if found is not None:
                return found, path
        except (OSError, sqlite3.Error):
            pass
    return Index(_write(sqlite3.connect(":memory:"), digest, rows, advisories, newest_modified), advisories,
                 newest_modified), None


def _write(connection: sqlite3.Connection, digest: str, rows: Sequence[tuple[object, ...]],
           advisories: int, newest_modified: str | None = None) -> sqlite3.Connection:
    connection.execute("PRAGMA journal_mode = OFF")  # a temporary file, renamed only when complete
    connection.execute("PRAGMA synchronous = OFF")
    with connection:
        connection.executescript(_SCHEMA)
        connection.executemany("INSERT OR IGNORE INTO member VALUES (?, ?, ?, ?, ?, ?)", rows)
        connection.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", str(FORMAT)), ("digest", digest), ("advisories", str(advisories)),
            ("newest_modified", newest_modified or "")])
    return connection


def _prune(keep: Path) -> None:
    indexes = sorted(keep.parent.glob("index-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in indexes if p != keep][KEEP - 1:]:
        old.unlink(missing_ok=True)
