"""PyTorch checkpoints: the zip format (`<archive>/data.pkl`), TorchScript, and the legacy tar format.

Every `.pkl` member is walked (torch reads `data.pkl`, TorchScript also
`constants.pkl`; an attacker may add more under another prefix). Tensor data
members are never read. The legacy non-zip format is a pickle stream and is
handled by pickle_format.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from governance.collect.models import pickle_format
from governance.collect.models.judgement import MAX_PICKLE_BYTES, Judgement
from governance.collect.models.zips import Archive


def is_torch_zip(names: list[str]) -> bool:
    return any(n == "data.pkl" or n.endswith("/data.pkl") or n.endswith("/constants.pkl") for n in names)


def judge_zip(archive: Archive, j: Judgement) -> None:
    names = archive.names()
    torchscript = any("/code/" in n and n.endswith(".py") for n in names)
    j.format, j.framework = ("torchscript" if torchscript else "pytorch-zip"), "pytorch"
    tensors = 0
    for member in archive.members:
        if member.name.endswith(".pkl"):
            data = archive.read(member, MAX_PICKLE_BYTES)
            if data is not None:
                pickle_format.judge_stream(io.BytesIO(data), j, member.name, legacy_torch_ok=False,
                                           first_only=True)
        elif "/data/" in member.name and not member.name.endswith("/"):
            tensors += 1
    if torchscript:
        # TorchScript code runs in the TorchScript interpreter, not Python, but it is code shipped with the model.
        j.card["mlgov:torchscript-code-files"] = str(sum(1 for n in names if "/code/" in n and n.endswith(".py")))
    j.card["mlgov:storages"] = str(tensors)


def is_legacy_tar(path: Path) -> bool:
    try:
        with tarfile.open(path, "r:") as tar:
            names = {m.name for m in tar.getmembers()[:8]}
    except (tarfile.TarError, OSError, EOFError):
        return False
    return "pickle" in names and "storages" in names


def judge_tar(path: Path, j: Judgement) -> None:
    """torch < 0.4 tar checkpoints: `sys_info`, `pickle` and `tensors` are pickles, `storages` mixes pickles and data."""
    j.format, j.framework = "pytorch-legacy", "pytorch"
    with tarfile.open(path, "r:") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                j.cannot(f"tar member {member.name!r} is not a regular file")
                continue
            if member.name in ("sys_info", "pickle", "tensors", "storages"):
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data = handle.read(MAX_PICKLE_BYTES + 1)
                # `storages` and `tensors` begin with a pickled count followed by records the loader
                # reads with further pickle.load calls; every leading pickle is walked.
                pickle_format.judge_stream(io.BytesIO(data), j, member.name, legacy_torch_ok=False,
                                           first_only=member.name in ("sys_info", "pickle"))
            else:
                j.cannot(f"tar member {member.name!r} is not part of a torch checkpoint")
