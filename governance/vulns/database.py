"""The offline advisory database: OSV's PyPI `all.zip`, or a folder of OSV JSON files.

The zip is input from outside like any other: members are bounded in count and
size (header and actual bytes), and member names are only ever labels in
messages, never paths.

A zip is not loaded whole. The first scan with a zip reads every member once
(each must parse: a bad one is exit 2, as always) and writes an index
(index.py, an sqlite file in the user cache named after the zip's sha256):
for each package, where in the zip its advisories lie. A scan then reads and
parses only the advisories of the packages it has, straight from the zip's
bytes; a changed zip has another digest, hence another index.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.inputs import read_input_bytes, reading
from governance.vulns import osv
from governance.vulns.osv import Record

MAX_ZIP_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 500_000
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024

Progress = Callable[[str], None]
Member = tuple[int, int, int, int, int]  # header offset, compressed size, method, crc32, size


def _quiet(_: str) -> None:
    return None


class Database:
    """Advisories by package; `lookup` gives the records of the packages asked for."""

    def __init__(self, label: str, digest: str | None = None, from_cache: bool = False,
                 advisories: int | None = None, newest_modified: str | None = None) -> None:
        self.label = label  # "osv-db:all.zip": the file's name, not its path, so reports do not depend on where it lies
        self.digest = digest  # sha256 of the zip
        self.from_cache = from_cache
        # What a report says the verdict rests on: how many usable advisories, and how current they are.
        self.advisories = advisories
        self.newest_modified = newest_modified

    def lookup(self, names: Iterable[str]) -> dict[str, list[Record]]:
        """Canonical package name -> its records (by id); names the database does not know are left out."""
        raise NotImplementedError

    def all_records(self) -> tuple[Record, ...]:
        """Every record, by id (reads the whole database: for checks and tests, not for scans)."""
        raise NotImplementedError


class MemoryDatabase(Database):
    """A folder of OSV files, read whole (a folder has no digest to key an index on)."""

    def __init__(self, label: str, records: Iterable[Record]) -> None:
        super().__init__(label)
        self.records = tuple(sorted(records, key=lambda r: r["id"]))
        self.advisories = len(self.records)
        self.newest_modified = max((r["modified"] for r in self.records if isinstance(r.get("modified"), str)),
                                   default=None)
        self.by_package: dict[str, list[Record]] = {}
        for record in self.records:
            for name in dict.fromkeys(e["name"] for e in record["affected"]):
                self.by_package.setdefault(name, []).append(record)

    def lookup(self, names: Iterable[str]) -> dict[str, list[Record]]:
        return {name: self.by_package[name] for name in dict.fromkeys(names) if name in self.by_package}

    def all_records(self) -> tuple[Record, ...]:
        return self.records


class ZipDatabase(Database):
    """A zip held in memory and its index: members are parsed when a package asks for them."""

    def __init__(self, label: str, data: bytes, digest: str, index: Any, from_cache: bool, name: str) -> None:
        super().__init__(label, digest, from_cache, index.advisories, index.newest_modified)
        self._data = data
        self._index = index
        self._name = name

    def lookup(self, names: Iterable[str]) -> dict[str, list[Record]]:
        import sqlite3

        wanted = list(dict.fromkeys(names))
        try:
            return self._lookup(wanted)
        except (sqlite3.Error, InputError):
            if not self.from_cache:
                raise
        # A cached index that fails while being read (damaged after it was
        # checked, or pointing at the wrong bytes) is not the zip's fault:
        # index the zip again, and let that say whether the zip is sound.
        self._index = _build_index(self._data, self.digest or "", self._name, persist=True)[0]
        self.from_cache = False
        return self._lookup(wanted)

    def _lookup(self, names: list[str]) -> dict[str, list[Record]]:
        found: dict[str, list[Record]] = {}
        parsed: dict[int, Record | None] = {}
        for name, members in self._index.members(names).items():
            records = []
            for member in members:
                if member[0] not in parsed:
                    parsed[member[0]] = _parse(_member_bytes(self._data, member, self._name), self._name)
                record = parsed[member[0]]
                if record is not None and any(e["name"] == name for e in record["affected"]):
                    records.append(record)
            if records:
                found[name] = sorted(records, key=lambda r: r["id"])
        return found

    def all_records(self) -> tuple[Record, ...]:
        return tuple(sorted(zip_records(self._data, self._name), key=lambda r: r["id"]))


def _label(name: str) -> str:
    return ascii(name)[1:-1] if not name.isprintable() else name


def _parse(data: bytes, where: str) -> Record | None:
    # The guard is the last resort: the errors foreseen (bad JSON, not an advisory) are raised
    # inside it as input errors, so they keep their own words and line instead of its
    # "unexpected content" (which they got when they were caught outside it).
    with reading(where, "advisory"):
        try:
            advisory = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON in an advisory: {exc.msg}", file=where, line=exc.lineno) from None
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(f"an advisory that is not UTF-8 text ({exc.reason})", file=where, line=line) from None
        try:
            return osv.normalise(advisory)
        except osv.InvalidAdvisory as exc:
            raise InputError(f"advisory: {exc}", file=where) from None


def _member_bytes(data: bytes, member: Member, where: str) -> bytes:
    """One member's content, read from the zip's bytes at its local header, bounded and CRC-checked.

    zipfile.ZipFile.open() costs more per member than the decompression
    itself; with 25,000 members that was a second of a cold scan.
    """
    offset, compressed, method, crc, size = member
    if size > MAX_MEMBER_BYTES:
        raise InputError(f"member is {size} bytes, over the {MAX_MEMBER_BYTES}-byte limit", file=where)
    if data[offset:offset + 4] != b"PK\x03\x04":
        raise InputError("damaged zip: no local header where the directory says", file=where)
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    raw = data[start:start + compressed]
    if method == zipfile.ZIP_STORED:
        content = raw[:MAX_MEMBER_BYTES + 1]
    elif method == zipfile.ZIP_DEFLATED:
        try:
            content = zlib.decompressobj(-15).decompress(raw, MAX_MEMBER_BYTES + 1)
        except zlib.error as exc:
            raise InputError(f"unreadable member: {exc}", file=where) from None
    else:
        raise InputError(f"unreadable member: compression method {method} is not supported", file=where)
    if len(content) > MAX_MEMBER_BYTES:  # the header lied about the size
        raise InputError(f"member is over the {MAX_MEMBER_BYTES}-byte limit", file=where)
    if zlib.crc32(content) != crc:
        raise InputError("unreadable member: CRC check failed", file=where)
    return content


_EOCD = struct.Struct("<4s4H2LH")
_ENTRY = struct.Struct("<4s6H3L5H2L")


def _directory(data: bytes) -> list[tuple[str, int, Member]] | None:
    """The central directory read with struct: (name, flags, member) per entry.

    zipfile.ZipFile builds a ZipInfo object per entry, a second for 25,000
    members on these machines. None for what this reader does not handle
    (zip64, a prefix before the archive, a damaged directory): zipfile then
    reads it, and says what is wrong.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65536 - _EOCD.size))
    if end < 0 or end + _EOCD.size > len(data):
        return None
    _, disk, cd_disk, _, count, size, start, _ = _EOCD.unpack_from(data, end)
    if disk or cd_disk or count == 0xFFFF or 0xFFFFFFFF in (size, start) or start + size > end:
        return None
    entries = []
    position = start
    for _ in range(count):
        if data[position:position + 4] != b"PK\x01\x02":
            return None
        (_, _, _, flags, method, _, _, crc, compressed, length, name_length, extra_length, comment_length,
         _, _, _, offset) = _ENTRY.unpack_from(data, position)
        if 0xFFFFFFFF in (compressed, length, offset):
            return None
        raw = data[position + 46:position + 46 + name_length]
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        entries.append((name, flags, (offset, compressed, method, crc, length)))
        position += 46 + name_length + extra_length + comment_length
    return entries if position == start + size else None


def zip_members(data: bytes, name: str) -> Iterator[tuple[Member, str, bytes]]:
    """Every JSON member of a zip held in memory: (where it lies, its label, its bytes)."""
    directory = _directory(data)
    if directory is None:
        try:
            infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"not a zip file: {exc}", file=name) from None
        directory = [(i.filename, i.flag_bits, (i.header_offset, i.compress_size, i.compress_type, i.CRC,
                                                i.file_size)) for i in infos]
    members = [entry for entry in directory if not entry[0].endswith("/")]
    if len(members) > MAX_MEMBERS:
        raise InputError(f"{len(members)} members, over the limit of {MAX_MEMBERS}", file=name)
    total = 0
    for filename, flags, member in members:
        if not filename.lower().endswith(".json"):
            continue
        label = f"{name}:{_label(filename)}"
        if flags & 0x1:
            raise InputError("unreadable member: encrypted", file=label)
        content = _member_bytes(data, member, label)
        total += len(content)
        if total > MAX_TOTAL_BYTES:
            raise InputError(f"more than {MAX_TOTAL_BYTES} bytes uncompressed", file=name)
        yield member, label, content


def zip_records(data: bytes, name: str) -> Iterator[Record]:
    """Every usable record in a zip held in memory; InputError on a bad zip or member."""
    for _, label, content in zip_members(data, name):
        record = _parse(content, label)
        if record is not None:
            yield record


def _packages(content: bytes, where: str) -> tuple[list[str], str | None]:
    """The PyPI packages an advisory names (canonical) and its `modified` time, checking it is an OSV
    object; no packages when withdrawn."""
    from packaging.utils import canonicalize_name

    try:
        advisory = json.loads(content)
    except (ValueError, RecursionError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "invalid JSON"
        raise InputError(f"advisory {where}: {message}") from None
    if not isinstance(advisory, dict) or not isinstance(advisory.get("id"), str) or not advisory["id"]:
        raise InputError(f"advisory {where}: not an OSV advisory (a JSON object with an id)")
    if advisory.get("withdrawn"):
        return [], None
    names = []
    try:
        affected = osv._list(advisory.get("affected"), "affected")
    except osv.InvalidAdvisory as exc:
        raise InputError(f"advisory: {exc}", file=where) from None
    for entry in affected:
        package = entry.get("package") if isinstance(entry, dict) else None
        if isinstance(package, dict) and package.get("ecosystem") == osv.ECOSYSTEM \
                and isinstance(package.get("name"), str) and package["name"].strip():
            names.append(canonicalize_name(package["name"]))
    modified = advisory.get("modified") if names and isinstance(advisory.get("modified"), str) else None
    return list(dict.fromkeys(names)), modified


def folder_records(folder: Path) -> Iterator[Record]:
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())
    if len(files) > MAX_MEMBERS:
        raise InputError(f"{len(files)} JSON files, over the limit of {MAX_MEMBERS}", file=folder)
    for path in files:
        # Links must stay inside the folder; a FIFO or device is refused, not waited on.
        content = read_input_bytes(path, "advisory", MAX_MEMBER_BYTES, within=(folder,))
        record = _parse(content, str(path))
        if record is not None:
            yield record


def _read_zip(path: Path) -> bytes:
    return read_input_bytes(path, "vulnerability database", MAX_ZIP_BYTES, within=(path,))


def load(path: Path, progress: Progress = _quiet, use_cache: bool = True) -> Database:
    """The advisories of a zip or a folder; a zip's index comes from the cache when it is current."""
    from governance.vulns import index

    if path.is_dir():
        progress(f"reading the advisories in {path}")
        return MemoryDatabase(f"osv-db:{path.name}", folder_records(path))
    if not path.exists():
        raise InputError("no such vulnerability database (an OSV all.zip or a folder of OSV JSON files)", file=path)
    data = _read_zip(path)
    digest = hashlib.sha256(data).hexdigest()
    label = f"osv-db:{path.name}"
    if use_cache:
        cached = index.open_index(digest)
        if cached is not None:
            progress(f"using the cached index of {path.name} ({cached.advisories} advisories)")
            return ZipDatabase(label, data, digest, cached, True, str(path))
    progress(f"indexing {path.name}")
    built, where = _build_index(data, digest, str(path), persist=use_cache)
    if use_cache:
        progress(f"cached the index at {where}" if where else "the index cache is not writable; not cached")
    return ZipDatabase(label, data, digest, built, False, str(path))


def _build_index(data: bytes, digest: str, name: str, persist: bool) -> tuple[Any, Path | None]:
    from governance.vulns import index

    entries: list[tuple[str, Member]] = []
    count = 0
    newest: str | None = None
    for member, where, content in zip_members(data, name):
        with reading(where, "advisory"):
            names, modified = _packages(content, where)
        count += bool(names)
        if modified is not None and (newest is None or modified > newest):
            newest = modified
        entries.extend((package, member) for package in names)
    return index.build(digest, entries, count, persist=persist, newest_modified=newest)
