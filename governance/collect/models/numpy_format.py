"""NumPy `.npy` and `.npz`.

An array of Python objects (dtype `O`, also inside a structured dtype) is a
pickle after the header: `np.load(allow_pickle=True)` runs it. That pickle is
walked; a plain array's header is checked against the file's size.
"""

from __future__ import annotations

import ast
import io
import struct
from typing import Any, BinaryIO

from governance.collect.models import pickle_format
from governance.collect.models.judgement import MAX_PICKLE_BYTES, Judgement
from governance.collect.models.zips import Archive

MAGIC = b"\x93NUMPY"


def _header(f: BinaryIO, label: str, j: Judgement) -> dict[str, Any] | None:
    head = f.read(8)
    if len(head) < 8 or not head.startswith(MAGIC):
        j.cannot(f"{label}: not a .npy array")
        return None
    major = head[6]
    if major == 1:
        length = struct.unpack("<H", f.read(2))[0]
    elif major in (2, 3):
        raw = f.read(4)
        length = struct.unpack("<I", raw)[0] if len(raw) == 4 else 0
    else:
        j.cannot(f"{label}: unknown .npy version {major}")
        return None
    if length > 1 << 20:
        j.cannot(f"{label}: .npy header of {length} bytes")
        return None
    text = f.read(length)
    try:
        header = ast.literal_eval(text.decode("latin-1" if major < 3 else "utf-8"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        j.cannot(f"{label}: .npy header is not a Python literal")
        return None
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        j.cannot(f"{label}: .npy header lacks descr, fortran_order or shape")
        return None
    return header


def _has_objects(descr: Any) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>=|").startswith("O")
    if isinstance(descr, list):
        return any(_has_objects(field[1]) for field in descr if isinstance(field, tuple) and len(field) >= 2)
    return False


def _itemsize(descr: Any) -> int | None:
    if isinstance(descr, str):
        kind = descr.lstrip("<>=|")[:1]
        digits = "".join(c for c in descr if c.isdigit())
        if kind in ("?", "b", "B") and not digits:
            return 1
        if not digits:
            return None
        size = int(digits)
        if kind in ("M", "m"):  # datetime64[ns]: 8 bytes, the unit is not a size
            return 8
        return size * 4 if kind == "U" else size
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) < 2:
                return None
            width = _itemsize(field[1])
            if width is None:
                return None
            count = 1
            for n in (field[2] if len(field) > 2 and isinstance(field[2], tuple) else ()):
                count *= n if isinstance(n, int) else 1
            total += width * count
        return total
    return None


def judge_array(f: BinaryIO, label: str, j: Judgement, size: int | None) -> int:
    """Judge one array; returns its element count (0 when unknown)."""
    header = _header(f, label, j)
    if header is None:
        return 0
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        j.cannot(f"{label}: bad shape {shape!r}")
        return 0
    count = 1
    for n in shape:
        count *= n
    if _has_objects(header["descr"]):
        pickle_format.judge_stream(f, j, label, legacy_torch_ok=False, first_only=True)
        return count
    itemsize = _itemsize(header["descr"])
    if itemsize is None:
        j.cannot(f"{label}: unknown dtype {header['descr']!r}")
        return count
    if size is not None and f.tell() + count * itemsize > size:
        j.cannot(f"{label}: the header promises {count * itemsize} bytes of data, the file has "
                 f"{size - f.tell()}")
    return count


def judge_npy(f: BinaryIO, j: Judgement, size: int) -> None:
    j.format, j.framework = "numpy", "numpy"
    count = judge_array(f, "array", j, size)
    j.card["mlgov:parameter-count"] = str(count)
    j.card["mlgov:tensor-count"] = "1"


def is_npz(names: list[str]) -> bool:
    return bool(names) and all(n.endswith(".npy") for n in names)


def judge_npz(archive: Archive, j: Judgement) -> None:
    j.format, j.framework = "numpy-zip", "numpy"
    total = 0
    for member in archive.members:
        head = archive.open_head(member, 1 << 16) or b""
        probe = Judgement("numpy")
        header = _header(io.BytesIO(head), member.name, probe) if head.startswith(MAGIC) else None
        if header is not None and _has_objects(header["descr"]):
            data = archive.read(member, MAX_PICKLE_BYTES)  # the pickle is after the header: read it all
            if data is not None:
                total += judge_array(io.BytesIO(data), member.name, j, len(data))
        elif header is None:
            data = archive.read(member, MAX_PICKLE_BYTES)
            if data is not None:
                total += judge_array(io.BytesIO(data), member.name, j, len(data))
        else:
            shape = header["shape"]
            count = 1
            for n in shape if isinstance(shape, tuple) else ():
                count *= n if isinstance(n, int) else 0
            total += count
    j.card["mlgov:tensor-count"] = str(len(archive.members))
    j.card["mlgov:parameter-count"] = str(total)
