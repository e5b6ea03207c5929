"""Pickle-based files: plain pickles, joblib dumps (also compressed) and legacy torch checkpoints.

Every pickle a loader would read from the file is walked (pickles.walk), never
loaded. A file may hold several: torch's legacy format is five pickles and then
raw tensor data; joblib interleaves array bytes with its pickle and nests a
second pickle for arrays of Python objects. A trailing pickle is walked too,
since a custom loader that calls load() twice runs it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import Any, BinaryIO

from governance.collect.models import pickles
from governance.collect.models.judgement import Judgement

TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"

# Compressed joblib dumps, by their leading bytes.
COMPRESSED = (
    (b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"]\x00\x00", "lzma"),
    (b"\x78\x01", "zlib"), (b"\x78\x5e", "zlib"), (b"\x78\x9c", "zlib"), (b"\x78\xda", "zlib"),
)


def looks_like_pickle(head: bytes) -> bool:
    """Protocol 2-5 pickles start with PROTO; older ones are checked by walking them."""
    return len(head) >= 2 and head[0] == pickles.PROTO and 2 <= head[1] <= 5


def compression(head: bytes) -> str | None:
    for magic, name in COMPRESSED:
        if head.startswith(magic):
            return name
    return None


class _ZlibReader(io.RawIOBase):
    """A forward-only reader of a zlib stream (what joblib's compress='zlib' writes)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.d = zlib.decompressobj()
        self.buffer = b""
        self.pos = 0

    def readable(self) -> bool:
        return True

    def _fill(self, n: int) -> None:
        while len(self.buffer) < n and not self.d.eof:
            chunk = self.raw.read(1 << 16)
            if not chunk:
                break
            self.buffer += self.d.decompress(chunk)

    def read(self, n: int = -1) -> bytes:
        self._fill(n if n >= 0 else 1 << 62)
        out, self.buffer = (self.buffer[:n], self.buffer[n:]) if n >= 0 else (self.buffer, b"")
        self.pos += len(out)
        return out

    def readline(self, size: int | None = -1) -> bytes:
        limit = size if size is not None and size >= 0 else 1 << 20
        while b"\n" not in self.buffer[:limit] and len(self.buffer) < limit and not self.d.eof:
            before = len(self.buffer)
            self._fill(len(self.buffer) + 4096)
            if len(self.buffer) == before:
                break
        end = self.buffer.find(b"\n", 0, limit)
        return self.read(end + 1 if end >= 0 else min(limit, len(self.buffer)))

    def tell(self) -> int:
        return self.pos

    def seekable(self) -> bool:
        return False


def open_decompressed(raw: BinaryIO, kind: str) -> Any:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if kind == "bz2":
        return bz2.BZ2File(raw)
    if kind in ("xz", "lzma"):
        return lzma.LZMAFile(raw, format=lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE)
    return _ZlibReader(raw)


class _Stream:
    """A stream with forward skipping that never seeks when the stream cannot, and a pushback."""

    def __init__(self, f: Any, seekable: bool) -> None:
        self.f = f
        self.seekable = seekable
        self.pending = b""
        self.size: int | None = None
        if seekable:
            here = f.tell()
            self.size = f.seek(0, io.SEEK_END)
            f.seek(here)

    def read(self, n: int = -1) -> bytes:
        if self.pending:
            head, self.pending = self.pending[:n], self.pending[n:]
            return head + (self.f.read(n - len(head)) if n > len(head) else b"")
        return bytes(self.f.read(n))

    def readline(self, limit: int = -1) -> bytes:
        if self.pending:
            end = self.pending.find(b"\n")
            if end >= 0:
                line, self.pending = self.pending[:end + 1], self.pending[end + 1:]
                return line
            head, self.pending = self.pending, b""
            return head + bytes(self.f.readline(limit - len(head) if limit > 0 else limit))
        return bytes(self.f.readline(limit))

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending

    def tell(self) -> int:
        return int(self.f.tell()) - len(self.pending)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self.seekable or self.pending:
            raise OSError("forward-only stream")
        return int(self.f.seek(offset, whence))


def _dtype_info(dtype: Any, states: dict[int, Any]) -> tuple[int, bool] | None:
    """(itemsize, has Python objects) of a walked numpy.dtype(...) call, or None."""
    if not isinstance(dtype, pickles.Call) or not isinstance(dtype.func, pickles.Global) \
            or dtype.func.dotted not in ("numpy.dtype",) or not dtype.args or not isinstance(dtype.args[0], str):
        return None
    descr = dtype.args[0]
    state = states.get(id(dtype))
    flags = state[7] if isinstance(state, tuple) and len(state) >= 8 and isinstance(state[7], int) else 0
    elsize = state[5] if isinstance(state, tuple) and len(state) >= 6 and isinstance(state[5], int) else -1
    kind = descr.lstrip("<>=|")[:1]
    digits = "".join(c for c in descr if c.isdigit())
    if elsize > 0:
        size = elsize
    elif digits:
        size = int(digits) * (4 if kind == "U" else 1)
    elif kind == "?" or kind in "bB":
        size = 1
    else:
        return None
    return size, kind == "O" or bool(flags & 1)


def _joblib_hook(j: Judgement, label: str, seekable: bool) -> Any:
    states: dict[int, Any] = {}

    def on_build(walker: pickles.Walker, target: Any, state: Any) -> None:
        if isinstance(target, pickles.Call) and isinstance(target.func, pickles.Global):
            if target.func.dotted == "numpy.dtype":
                states[id(target)] = state
                return
            if target.func.dotted != _WRAPPER:
                return
        else:
            return
        # joblib's loader now reads the array from the file, right after BUILD.
        fields = pickles.dict_items(state)
        walker.stack.pop()
        walker.stack.append(pickles.Call(pickles.Global("<array>", "data"), ()))
        info = _dtype_info(fields.get("dtype"), states)
        shape = fields.get("shape")
        if info is None or not isinstance(shape, tuple) or not all(isinstance(n, int) for n in shape):
            raise pickles.PickleError("a joblib array whose dtype or shape cannot be read statically",
                                      walker.f.tell())
        itemsize, has_objects = info
        if has_objects:
            # A nested pickle with its own stack, read from the same file.
            nested = pickles.walk(walker.f, on_build)
            walker.result.globals.extend(nested.globals)
            walker.result.problems.extend(nested.problems)
            return
        count = 1
        for n in shape:
            count *= n
        if "numpy_array_alignment_bytes" in fields:
            padding = walker.f.read(1)
            if len(padding) != 1:
                raise pickles.PickleError("truncated joblib array", walker.f.tell())
            walker._payload(padding[0])
        walker._payload(count * itemsize) if count * itemsize > 4096 else walker._read(count * itemsize)

    return on_build


def judge_stream(raw: BinaryIO, j: Judgement, label: str, seekable: bool = True, legacy_torch_ok: bool = True,
                 first_only: bool = False) -> None:
    """Walk the pickle(s) at raw's position; record globals and problems in j."""
    f = _Stream(raw, seekable)
    hook = _joblib_hook(j, label, seekable)
    index = 0
    expected = 1
    while True:
        try:
            result = pickles.walk(f, hook)  # type: ignore[arg-type]
        except pickles.PickleError as exc:
            partial = getattr(exc, "partial", None)
            if partial is not None:
                _record(j, partial)
            j.cannot(f"{label}: not a complete pickle: {exc}")
            return
        _record(j, result)
        if _WRAPPER in result.globals and j.format == "pickle":
            j.format, j.framework = "joblib", j.framework or "scikit-learn"
        if index == 0 and legacy_torch_ok and result.stack_top == TORCH_MAGIC:
            j.format, j.framework = "pytorch-legacy", "pytorch"
            expected = 5  # magic, protocol, sys_info, the data, the storage keys; then raw storages
        index += 1
        if first_only:
            return
        if index < expected:
            continue
        if index >= expected and j.format == "pytorch-legacy":
            return
        head = f.read(2)
        if len(head) < 2 or not looks_like_pickle(head):
            return  # what follows is not a pickle any loader reads
        f.unread(head)


def _record(j: Judgement, walk: pickles.Walk) -> None:
    j.globals.update(walk.globals)
    for problem in walk.problems:
        j.runs(problem)
