"""Build the tiny wheels of the local indexes this fixture's locks were made from.

download.pytorch.org cannot be reached where these fixtures were made, so the
shapes of a real ML uv.lock (torch twice at one version from two indexes, torch
+cpu and +cu128 variants behind conflicting extras or groups, NVIDIA wheels
that only the Linux/CUDA variant pulls in) are rebuilt with stand-ins:
torchlike, tritonlike, nvlike-cublas, typinglike. Each index is a flat folder
(uv `format = "flat"`). Run once; the wheels are committed with the locks.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAMP = (2026, 1, 1, 0, 0, 0)

# index -> [(name, version, requires-dist..., marker of the build)]
WHEELS = {
    "main": [
        ("torchlike", "2.9.1", ["typinglike>=4", "nvlike-cublas==12.8.1; sys_platform == 'linux'",
                                "tritonlike==3.5.0; sys_platform == 'linux' and platform_machine == 'x86_64'"]),
        ("torchlike", "2.10.0", ["typinglike>=4", "nvlike-cublas==12.8.1; sys_platform == 'linux'"]),
        ("tritonlike", "3.5.0", []),
        ("nvlike-cublas", "12.8.1", []),
        ("typinglike", "4.0", []),
        ("coloramalike", "0.4.6", []),
    ],
    "cpu": [
        ("torchlike", "2.9.1", ["typinglike>=4"]),
        ("torchlike", "2.10.0+cpu", ["typinglike>=4"]),
    ],
    "cu128": [
        ("torchlike", "2.10.0+cu128", ["typinglike>=4", "nvlike-cublas==12.8.1", "tritonlike==3.5.0"]),
    ],
}


def wheel(folder: Path, name: str, version: str, requires: list[str], index: str) -> None:
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}/__init__.py": f"# {name} {version} from the {index} index\n",
        f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\n" f"Name: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: make_wheels\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record + [f"{dist}.dist-info/RECORD,,"]) + "\n"
    target = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(zipfile.ZipInfo(path, STAMP), text)


def main() -> None:
    for index, wheels in WHEELS.items():
        folder = HERE / "indexes" / index
        folder.mkdir(parents=True, exist_ok=True)
        for name, version, requires in wheels:
            wheel(folder, name, version, requires, index)


if __name__ == "__main__":
    main()
