"""ONNX: the protobuf read field by field (no onnx package, nothing loaded).

An initializer stored as external data names a file that `onnx.load` opens
relative to the model's folder; a name that is absolute or leaves that folder
(`../../`, a symlink out) reads whatever file it names. Tensor bytes are never
copied: the file is memory-mapped and skipped over.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from governance.collect.models.judgement import Judgement


class _Bad(Exception):
    pass


def _varint(buf: Any, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise _Bad("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _fields(buf: Any, start: int, end: int) -> Iterator[tuple[int, int, int | tuple[int, int]]]:
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _Bad("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield field, wire, value
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise _Bad("a field runs past its message")
            yield field, wire, (pos, pos + length)
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise _Bad(f"wire type {wire}")
        if pos > end:
            raise _Bad("truncated field")


def _text(buf: Any, span: int | tuple[int, int]) -> str:
    if not isinstance(span, tuple):
        raise _Bad("expected a string")
    return bytes(buf[span[0]:span[1]]).decode("utf-8", "replace")


class _Model:
    def __init__(self, buf: Any) -> None:
        self.buf = buf
        self.tensors = 0
        self.parameters = 0
        self.external: list[str] = []
        self.ops: set[str] = set()
        self.domains: set[str] = set()

    def tensor(self, start: int, end: int) -> None:
        self.tensors += 1
        count, location, data_location = 1, None, 0
        for field, wire, value in _fields(self.buf, start, end):
            if field == 1 and wire == 0:
                count *= int(value)  # type: ignore[arg-type]
            elif field == 1 and wire == 2:
                s, e = value  # type: ignore[misc]
                pos = s
                while pos < e:
                    dim, pos = _varint(self.buf, pos, e)
                    count *= dim
            elif field == 13 and wire == 2:
                key = val = ""
                for f2, _, v2 in _fields(self.buf, *value):  # type: ignore[misc]
                    if f2 == 1:
                        key = _text(self.buf, v2)
                    elif f2 == 2:
                        val = _text(self.buf, v2)
                if key == "location":
                    location = val
            elif field == 14 and wire == 0:
                data_location = int(value)  # type: ignore[arg-type]
        self.parameters += count
        if data_location == 1 or location is not None:
            self.external.append(location if location is not None else "")

    def graph(self, start: int, end: int, depth: int = 0) -> None:
        if depth > 32:
            raise _Bad("subgraphs nested too deep")
        for field, wire, value in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if field == 5:
                self.tensor(*value)  # type: ignore[misc]
            elif field == 15:
                for f2, w2, v2 in _fields(self.buf, *value):  # type: ignore[misc]
                    if f2 in (1, 2) and w2 == 2:
                        self.tensor(*v2)  # type: ignore[misc]
            elif field == 1:
                self.node(*value, depth=depth)  # type: ignore[misc]

    def node(self, start: int, end: int, depth: int) -> None:
        for field, wire, value in _fields(self.buf, start, end):
            if wire != 2:
                continue
            if field == 4:
                self.ops.add(_text(self.buf, value))
            elif field == 7:
                self.domains.add(_text(self.buf, value))
            elif field == 5:
                for f2, w2, v2 in _fields(self.buf, *value):  # type: ignore[misc]
                    if w2 != 2:
                        continue
                    if f2 in (6, 11):
                        self.graph(*v2, depth=depth + 1)  # type: ignore[misc]
                    elif f2 in (5, 10):
                        self.tensor(*v2)  # type: ignore[misc]


def looks_like(head: bytes) -> bool:
    """ir_version first (field 1, varint) and a plausible value; a full parse confirms."""
    return len(head) >= 2 and head[0] == 0x08 and 1 <= head[1] <= 32


def judge(path: Path, j: Judgement, size: int) -> bool:
    """Returns False when the file is not an ONNX model after all (nothing recorded)."""
    if size == 0:
        return False
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        buf = mapped  # indexing and slicing an mmap copies only what is asked
        try:
            model = _Model(buf)
            graph = None
            producer = None
            opsets = []
            for field, wire, value in _fields(buf, 0, size):
                if field == 7 and wire == 2:
                    graph = value
                elif field == 2 and wire == 2:
                    producer = _text(buf, value)
                elif field == 8 and wire == 2:
                    for f2, _, v2 in _fields(buf, *value):  # type: ignore[misc]
                        if f2 == 1 and isinstance(v2, tuple):
                            opsets.append(_text(buf, v2))
                elif field == 25 and wire == 2:
                    for f2, w2, v2 in _fields(buf, *value):  # type: ignore[misc]
                        if f2 == 7 and w2 == 2:
                            model.node(*v2, depth=1)  # type: ignore[misc]
                elif field == 20 and wire == 2:
                    for f2, w2, v2 in _fields(buf, *value):  # type: ignore[misc]
                        if f2 in (1, 2) and w2 == 2:
                            model.graph(*v2, depth=1)  # type: ignore[misc]
            if graph is None:
                raise _Bad("no graph")
            model.graph(*graph)  # type: ignore[misc]
        except _Bad as exc:
            if path.suffix.lower() == ".onnx":
                j.format, j.framework = "onnx", "onnx"
                j.cannot(f"ONNX: not a readable ModelProto: {exc}")
                return True
            return False
    j.format, j.framework = "onnx", "onnx"
    j.card["mlgov:tensor-count"] = str(model.tensors)
    j.card["mlgov:parameter-count"] = str(model.parameters)
    if producer:
        j.card["mlgov:producer"] = producer
    custom = sorted(d for d in model.domains if d not in ("", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training"))
    if custom:
        j.card["mlgov:custom-op-domains"] = ",".join(custom)
    _external(path, model.external, j)
    return True


def _external(path: Path, locations: list[str], j: Judgement) -> None:
    folder = path.parent.resolve()
    for location in dict.fromkeys(locations):
        if not location:
            j.cannot("ONNX: a tensor stored as external data names no file")
            continue
        if os.path.isabs(location) or location.startswith(("\\", "/")) or (len(location) > 1 and location[1] == ":"):
            j.runs(f"external data path {location!r} is absolute (reads any file on the loading machine)")
            continue
        target = (path.parent / location)
        resolved = target.resolve()
        if not resolved.is_relative_to(folder):
            j.runs(f"external data path {location!r} leaves the model's folder")
            continue
        if not target.is_file():
            j.cannot(f"ONNX: external data file {location!r} is missing")
            continue
        j.extra_files.append(str(target))
