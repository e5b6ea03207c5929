"""safetensors: an 8-byte header length, a JSON header, then raw tensor bytes. No code can run;
what can go wrong is a header that lies (not JSON, or offsets past the end of the file)."""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

from governance.collect.models.judgement import MAX_JSON_BYTES, Judgement

_DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "I16": 2, "U16": 2,
                "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8, "C64": 8,
                "F4": 0.5, "F6_E2M3": 0.75, "F6_E3M2": 0.75}


def looks_like(head: bytes, size: int, claimed: bool = False) -> bool:
    """An 8-byte length, then `{`; unless the file's name says model, the length must fit the file.

    Any text whose ninth character is `{` (`var x = {"a": 1}`) passes the first test alone.
    """
    if len(head) < 10 or head[8:9] != b"{":
        return False
    n = struct.unpack("<Q", head[:8])[0]
    return 2 <= n and (claimed or n <= min(MAX_JSON_BYTES, size - 8))


def judge(f: BinaryIO, j: Judgement, size: int) -> None:
    j.format, j.framework = "safetensors", "safetensors"
    n = struct.unpack("<Q", f.read(8))[0]
    if n > min(MAX_JSON_BYTES, size - 8):
        j.cannot(f"safetensors header claims {n} bytes; the file has {size - 8} after the length")
        return
    try:
        header = json.loads(f.read(n))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        j.cannot(f"safetensors header is not JSON: {exc}")
        return
    if not isinstance(header, dict):
        j.cannot("safetensors header is not a JSON object")
        return
    data_size = size - 8 - n
    tensors = 0
    parameters = 0
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                j.cannot("safetensors __metadata__ is not a string-to-string map")
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("shape"), list) \
                or not isinstance(entry.get("data_offsets"), list) or len(entry["data_offsets"]) != 2:
            j.cannot(f"safetensors tensor {name!r}: no dtype, shape and data_offsets")
            continue
        begin, end = entry["data_offsets"]
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= data_size):
            j.cannot(f"safetensors tensor {name!r}: data_offsets {entry['data_offsets']} outside the "
                     f"{data_size} data bytes")
            continue
        count = 1
        for d in entry["shape"]:
            count *= d if isinstance(d, int) and d >= 0 else 0
        width = _DTYPE_SIZES.get(str(entry.get("dtype")))
        if width is None:
            j.cannot(f"safetensors tensor {name!r}: unknown dtype {entry.get('dtype')!r}")
        elif int(count * width) != end - begin:
            j.cannot(f"safetensors tensor {name!r}: shape and dtype need {int(count * width)} bytes, "
                     f"data_offsets give {end - begin}")
        spans.append((begin, end))
        tensors += 1
        parameters += count
    spans.sort()
    for (b1, e1), (b2, _) in zip(spans, spans[1:]):
        if b2 < e1:
            j.cannot("safetensors tensors overlap")
            break
    j.card["mlgov:tensor-count"] = str(tensors)
    j.card["mlgov:parameter-count"] = str(parameters)
    meta = header.get("__metadata__")
    if isinstance(meta, dict) and isinstance(meta.get("format"), str):
        j.card["mlgov:saved-by"] = meta["format"]
