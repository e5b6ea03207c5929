"""GGUF (llama.cpp): header, key/value metadata and tensor infos, every count checked against the file size.

A chat template is Jinja run by the serving code; one that reaches Python
internals (the llama-cpp-python template injection, CVE-2024-34359) is code.
"""

from __future__ import annotations

import re
import struct
from typing import Any, BinaryIO

from governance.collect.models.judgement import Judgement

MAGIC = b"GGUF"
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_TEMPLATE_ESCAPES = re.compile(r"__(class|mro|subclasses|globals|builtins|init|import)__|\bos\.|popen|\beval\b")


def looks_like(head: bytes, claimed: bool = False) -> bool:
    """GGUF's magic; unless the file's name says model, also a version GGUF has had (1-3).

    Notes that start with the word ("GGUF conversion notes") carry the magic too.
    """
    if not head.startswith(MAGIC):
        return False
    return claimed or (len(head) >= 8 and struct.unpack("<I", head[4:8])[0] in (1, 2, 3))


class _Bad(Exception):
    pass


class _Reader:
    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.size = f, size

    def take(self, n: int) -> bytes:
        if n < 0 or self.f.tell() + n > self.size:
            raise _Bad(f"a field of {n} bytes runs past the end of the file")
        return self.f.read(n)

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.scalar("<Q")).decode("utf-8", "replace")

    def value(self, kind: int, depth: int = 0) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY and depth < 4:
            inner = self.scalar("<I")
            count = self.scalar("<Q")
            if count > self.size:  # every element takes at least a byte
                raise _Bad(f"an array claims {count} elements in a {self.size}-byte file")
            if inner in _SCALARS:
                width = struct.calcsize(_SCALARS[inner])
                self.take(width * count)
                return f"<{count} values>"
            return [self.value(inner, depth + 1) for _ in range(count)]
        raise _Bad(f"unknown value type {kind}")


def judge(f: BinaryIO, j: Judgement, size: int) -> None:
    j.format, j.framework = "gguf", "llama.cpp"
    r = _Reader(f, size)
    try:
        r.take(4)
        version = r.scalar("<I")
        if version not in (2, 3):
            raise _Bad(f"unsupported GGUF version {version}")
        tensors = r.scalar("<Q")
        kvs = r.scalar("<Q")
        # A tensor info takes at least 8+4+8+4+8 bytes, a key/value at least 8+4+1.
        if tensors * 32 > size or kvs * 13 > size:
            raise _Bad(f"impossible counts: {tensors} tensors and {kvs} metadata entries in {size} bytes")
        meta: dict[str, Any] = {}
        for _ in range(kvs):
            key = r.string()
            meta[key] = r.value(r.scalar("<I"))
        parameters = 0
        for _ in range(tensors):
            r.string()
            dims = r.scalar("<I")
            if dims > 8:
                raise _Bad(f"a tensor with {dims} dimensions")
            count = 1
            for _ in range(dims):
                count *= r.scalar("<Q")
            r.scalar("<I")
            offset = r.scalar("<Q")
            if offset > size:
                raise _Bad(f"a tensor's data offset {offset} is past the end of the file")
            parameters += count
    except _Bad as exc:
        j.cannot(f"GGUF: {exc}")
        return
    except struct.error as exc:
        j.cannot(f"GGUF: {exc}")
        return
    j.card["mlgov:tensor-count"] = str(tensors)
    j.card["mlgov:parameter-count"] = str(parameters)
    for key, name in (("general.architecture", "architecture"), ("general.name", "mlgov:name")):
        if isinstance(meta.get(key), str):
            j.card[name] = meta[key]
    template = meta.get("tokenizer.chat_template")
    if isinstance(template, str) and _TEMPLATE_ESCAPES.search(template):
        j.runs("chat template reaches Python internals: "
               f"{_TEMPLATE_ESCAPES.search(template).group(0)!r} (Jinja template injection)")  # type: ignore[union-attr]
