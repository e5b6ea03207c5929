"""Zip archives as model loaders read them, not as Python's zipfile would refuse them.

torch's reader (miniz) and numpy read members without checking their CRC, and
take a member's data from where the central directory points. A scanner that
lets zipfile raise on a bad CRC and skips the member has skipped what the loader
will run, so members are read here from their local headers, the CRC compared
by hand, and every trick (bad CRC, duplicate names, names leaving the archive,
unsupported compression) reported rather than skipped.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from governance.collect.models.judgement import Judgement
from governance.frozen import frozen

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header


@frozen
class Member:
    """A zip archive member, from the central directory."""
    name: str
    offset: int  # of the local header
    compress_type: int
    compress_size: int
    file_size: int
    crc: int


class Archive:
    def __init__(self, path: Path, judgement: Judgement) -> None:
        self.path = path
        self.j = judgement
        self.members: list[Member] = []
        with zipfile.ZipFile(path) as archive:  # the central directory only
            infos = archive.infolist()
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if name in seen:
                judgement.cannot(f"zip member {name!r} appears more than once (loaders disagree on which one counts)")
            seen.add(name)
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
                judgement.cannot(f"zip member {name!r} points outside the archive")
            self.members.append(Member(name, info.header_offset, info.compress_type,
                                       info.compress_size, info.file_size, info.CRC))

    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def find(self, name: str) -> list[Member]:
        return [m for m in self.members if m.name == name]

    def read(self, member: Member, limit: int) -> bytes | None:
        """The member's bytes (None when it cannot be read; the reason is recorded)."""
        if member.file_size > limit:
            self.j.cannot(f"zip member {member.name!r} is {member.file_size} bytes, over the {limit}-byte limit "
                          "for what is judged")
            return None
        with open(self.path, "rb") as f:
            f.seek(member.offset)
            header = f.read(_LOCAL.size)
            if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
                self.j.cannot(f"zip member {member.name!r}: no local header where the directory points")
                return None
            fields = _LOCAL.unpack(header)
            name_len, extra_len = fields[-2], fields[-1]
            f.seek(name_len + extra_len, io.SEEK_CUR)
            data = _decompress(f, member, limit)
        if data is None:
            self.j.cannot(f"zip member {member.name!r}: compression method {member.compress_type} "
                          "cannot be read")
            return None
        if len(data) != member.file_size:
            self.j.cannot(f"zip member {member.name!r}: {len(data)} bytes, the directory says {member.file_size}")
        if zlib.crc32(data) != member.crc:
            self.j.cannot(f"zip member {member.name!r} has a bad CRC (Python's zipfile refuses it, "
                          "torch and numpy load it anyway)")
        return data

    def open_head(self, member: Member, size: int) -> bytes | None:
        """The first bytes of a member, for sniffing (stored or deflated only)."""
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        with open(self.path, "rb") as f:
            f.seek(member.offset)
            header = f.read(_LOCAL.size)
            if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
                return None
            fields = _LOCAL.unpack(header)
            f.seek(fields[-2] + fields[-1], io.SEEK_CUR)
            raw = f.read(min(member.compress_size, max(size * 4, 65536)))
        if member.compress_type == zipfile.ZIP_STORED:
            return raw[:size]
        try:
            return zlib.decompressobj(-15).decompress(raw, size)
        except zlib.error:
            return None


def _decompress(f: BinaryIO, member: Member, limit: int) -> bytes | None:
    raw = f.read(member.compress_size)
    if member.compress_type == zipfile.ZIP_STORED:
        return raw
    try:
        if member.compress_type == zipfile.ZIP_DEFLATED:
            d = zlib.decompressobj(-15)
            out = d.decompress(raw, limit + 1)
            return out[: limit + 1]
        if member.compress_type == zipfile.ZIP_BZIP2:
            import bz2

            return bz2.BZ2Decompressor().decompress(raw, limit + 1)
    except (zlib.error, OSError, ValueError):
        return b""
    return None


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")
