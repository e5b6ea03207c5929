"""TensorFlow SavedModel folders (saved_model.pb): graph ops that run Python or touch files.

`PyFunc`/`EagerPyFunc` call back into Python functions of the loading process,
and `ReadFile`/`WriteFile`/`MatchingFiles` reach the loading machine's files
(the SavedModel tricks modelscan looks for). Op names are matched as protobuf
NodeDef `op` fields.
"""

from __future__ import annotations

from pathlib import Path

from governance.collect.models.judgement import Judgement

_RISKY_OPS = ("PyFunc", "PyFuncStateless", "EagerPyFunc", "ReadFile", "WriteFile", "MatchingFiles")
_MAX_PB = 2 << 30


def judge(path: Path, j: Judgement) -> None:
    j.format, j.framework = "tf-savedmodel", "tensorflow"
    size = path.stat().st_size
    if size > _MAX_PB:
        j.cannot(f"saved_model.pb of {size} bytes is larger than protobuf allows")
        return
    data = path.read_bytes()
    for op in _RISKY_OPS:
        # NodeDef.op is field 2 (tag 0x12), a length-prefixed string.
        if b"\x12" + bytes([len(op)]) + op.encode() in data:
            j.runs(f"TensorFlow op {op} (runs Python or reaches files on the loading machine)")
    if not (path.parent / "variables").is_dir():
        j.card["mlgov:variables"] = "none"
