"""scripts/refresh_knowledge.py: the ranged reads into a wheel, offline (the index is a bytes object)."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from governance.knowledge import wheels

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "refresh_knowledge.py"


@pytest.fixture()
def refresh() -> Any:
    spec = importlib.util.spec_from_file_location("refresh_knowledge", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _wheel(padding: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A large incompressible member first, so the central directory is far from the start.
        archive.writestr("torch/lib/libtorch_cuda.so", bytes(range(256)) * padding, zipfile.ZIP_STORED)
        archive.writestr("torch/version.py", "__version__ = '2.7.1+cu126'\ncuda: Optional[str] = '12.6'\n")
        archive.writestr("torch-2.7.1.dist-info/METADATA",
                         "Metadata-Version: 2.1\nName: torch\nVersion: 2.7.1\n"
                         "Requires-Dist: filelock\n"
                         'Requires-Dist: nvidia-cudnn-cu12==9.5.1.17; platform_system == "Linux"\n\n'
                         "Requires-Dist: not-a-header in the description\n")
    return buffer.getvalue()


def test_read_wheel_reads_metadata_and_build_files_by_ranges(refresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _wheel(padding=2000)  # ~500 KB: more than the 64 KiB tail the reader fetches first
    asked: list[tuple[int | None, int | None]] = []

    def get(url: str, start: int | None = None, end: int | None = None, accept: str | None = None) -> bytes:
        asked.append((start, end))
        assert start is not None, "only ranged reads of the wheel"
        return data[start:(end + 1) if end is not None else None]

    monkeypatch.setattr(refresh, "_get", get)
    info = {"filename": "torch-2.7.1-cp312-cp312-manylinux_2_28_x86_64.whl", "url": "https://files.example/t.whl",
            "size": len(data), "digests": {"sha256": "0" * 64}, "core_metadata": False}
    record = refresh.read_wheel("torch", "2.7.1", "linux-x86_64", info)
    assert record["requires_dist"] == ['nvidia-cudnn-cu12==9.5.1.17; platform_system == "Linux"']
    assert wheels.wheel_build(record) == wheels.WheelBuild("cuda", "12.6", "9.5.1.17", "9")
    # Nothing close to the whole wheel travelled.
    assert sum((end or 0) - (start or 0) + 1 for start, end in asked) < len(data) // 3


def test_rows_leave_a_wheel_that_says_nothing_unknown(refresh: Any) -> None:
    recorded = {"read_on": "2026-12-02", "wheels": [
        {"project": "onnxruntime-gpu", "version": "1.15.0", "platform": "linux-x86_64", "filename": "o.whl",
         "sha256": "1" * 64, "requires_dist": [], "files": {}, "needed": {"p.so": ["libc.so.6"]}},
        {"project": "torch", "version": "2.7.1", "platform": "windows-amd64", "filename": "t.whl",
         "sha256": "2" * 64, "requires_dist": [], "files": {"torch/version.py": "cuda = None\n"}},
    ]}
    rows = refresh.rows(recorded)["projects"]
    assert "onnxruntime-gpu" not in rows
    assert rows["torch"]["2.7.1"]["windows-amd64"] == {"build": "cpu", "source": "t.whl sha256:" + "2" * 64}
