"""The offline advisory database: OSV's PyPI `all.zip`, or a folder of OSV JSON files.

The zip is input from outside like any other: members are bounded in count and
size (header and actual bytes), and member names are only ever labels in
messages, never paths. A zip is turned into an index of compact records once;
the index is cached (see cache.py) under the zip's sha256, so a repeated scan
does not re-parse the zip and a changed zip is never served from a stale index.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from governance.errors import InputError
from governance.vulns import cache, osv
from governance.vulns.osv import Record

MAX_ZIP_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 500_000
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
INDEX_FORMAT = 2  # 2: summaries no longer cut at their first newline

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Database:
    label: str  # "osv-db:all.zip": the file's name, not its path, so reports do not depend on where it lies
    records: tuple[Record, ...]
    digest: str | None = None  # sha256 of the zip
    from_cache: bool = False
    by_package: dict[str, list[Record]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Record]] = {}
        for record in self.records:
            for name in dict.fromkeys(e["name"] for e in record["affected"]):
                index.setdefault(name, []).append(record)
        self.by_package.update(index)


def _label(name: str) -> str:
    return ascii(name)[1:-1] if not name.isprintable() else name


def _parse(data: bytes, where: str) -> Record | None:
    try:
        return osv.normalise(json.loads(data))
    except (ValueError, RecursionError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or "invalid JSON"
        raise InputError(f"advisory {where}: {message}") from None


def zip_records(data: bytes, name: str) -> Iterator[Record]:
    """Every usable record in a zip held in memory; InputError on a bad zip or member."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a zip file: {exc}", file=name) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise InputError(f"{len(members)} members, over the limit of {MAX_MEMBERS}", file=name)
        total = 0
        for member in members:
            label = f"{name}:{_label(member.filename)}"
            if not member.filename.lower().endswith(".json"):
                continue
            if member.file_size > MAX_MEMBER_BYTES:
                raise InputError(f"member is {member.file_size} bytes, over the {MAX_MEMBER_BYTES}-byte limit",
                                 file=label)
            try:
                with archive.open(member) as stream:
                    content = stream.read(MAX_MEMBER_BYTES + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError) as exc:
                raise InputError(f"unreadable member: {exc}", file=label) from None
            if len(content) > MAX_MEMBER_BYTES:  # the header lied about the size
                raise InputError(f"member is over the {MAX_MEMBER_BYTES}-byte limit", file=label)
            total += len(content)
            if total > MAX_TOTAL_BYTES:
                raise InputError(f"more than {MAX_TOTAL_BYTES} bytes uncompressed", file=name)
            record = _parse(content, label)
            if record is not None:
                yield record


def folder_records(folder: Path) -> Iterator[Record]:
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())
    if len(files) > MAX_MEMBERS:
        raise InputError(f"{len(files)} JSON files, over the limit of {MAX_MEMBERS}", file=folder)
    for path in files:
        try:
            if path.stat().st_size > MAX_MEMBER_BYTES:
                raise InputError(f"over the {MAX_MEMBER_BYTES}-byte limit for one advisory", file=path)
            content = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
        record = _parse(content, str(path))
        if record is not None:
            yield record


def _read_zip(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_ZIP_BYTES:
            raise InputError(f"{size} bytes, over the {MAX_ZIP_BYTES}-byte limit", file=path)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the vulnerability database: {exc.strerror or exc}", file=path) from None


def _ordered(records: Iterator[Record]) -> tuple[Record, ...]:
    # The zip's member order is the producer's business; ours is by id.
    return tuple(sorted(records, key=lambda r: r["id"]))


def load(path: Path, progress: Progress = _quiet, use_cache: bool = True) -> Database:
    """The advisories of a zip or a folder; a zip's index comes from the cache when it is current."""
    if path.is_dir():
        progress(f"reading the advisories in {path}")
        return Database(label=f"osv-db:{path.name}", records=_ordered(folder_records(path)))
    if not path.exists():
        raise InputError("no such vulnerability database (an OSV all.zip or a folder of OSV JSON files)", file=path)
    data = _read_zip(path)
    digest = hashlib.sha256(data).hexdigest()
    label = f"osv-db:{path.name}"
    key = f"{INDEX_FORMAT}-{digest}"
    if use_cache:
        cached = cache.read_index(key)
        if cached is not None:
            progress(f"using the cached index of {path.name} ({len(cached)} advisories)")
            return Database(label=label, records=tuple(cached), digest=digest, from_cache=True)
    progress(f"indexing {path.name}")
    records = _ordered(zip_records(data, str(path)))
    if use_cache:
        where = cache.write_index(key, list(records))
        progress(f"cached the index at {where}" if where else "the index cache is not writable; not cached")
    return Database(label=label, records=records, digest=digest)
