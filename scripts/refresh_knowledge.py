#!/usr/bin/env python3
"""Maintainer script: read the frameworks' wheels on PyPI and refresh the build knowledge.

    python scripts/refresh_knowledge.py            # read PyPI, write both files below
    python scripts/refresh_knowledge.py --check    # read PyPI, say what changed, write nothing (exit 1 on a change)
    python scripts/refresh_knowledge.py --offline  # rebuild the rows from the recorded wheel facts only

For every release in range it picks one wheel per platform (Linux x86_64 and
aarch64, Windows, macOS) and reads, without downloading the wheel:
  - the core metadata: the PEP 658 `.metadata` file where the index serves it,
    else the wheel's `*.dist-info/METADATA` through HTTP range requests (the
    zip's end record, its central directory, then the member alone);
  - the build files inside: torch/version.py, TensorFlow's build_info.py (and
    the #define lines of the cuda_config.h its wheels ship, for the 2.0/2.2 ones
    whose build_info.py gives only the CUDA major), the names of the CUDA
    libraries a torch wheel bundles (from the zip directory),
    onnxruntime's capi/build_and_package_info.py, and the library names of
    onnxruntime's CUDA provider (its ELF dynamic string table, a few MB read
    from the start of the member).
What it read is written to tests/data/knowledge/pypi-wheels.json (the recorded
facts: Requires-Dist lines that name nvidia-* / cuda-* / jax CUDA packages,
the build files' text, the library names), and the rows derived from it to
governance/knowledge/pypi_builds.json; tests/test_knowledge.py proves, offline,
that every row is what the recorded facts say. Wheels on PyTorch's own index
(download.pytorch.org, the +cuXYZ builds) are not read here; see docs/knowledge.md.

Standard library only (plus this package's parsers), so it runs from a checkout.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import re
import struct
import sys
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from packaging.version import InvalidVersion, Version  # noqa: E402

from governance.knowledge import wheels  # noqa: E402

RECORDED = ROOT / "tests" / "data" / "knowledge" / "pypi-wheels.json"
ROWS = ROOT / "governance" / "knowledge" / "pypi_builds.json"
INDEX = "https://pypi.org"

# project -> (first version read, the build files to read: a path, or "*/" + the end of a path)
TENSORFLOW_FILES = (*wheels.TENSORFLOW_BUILD_INFO, "*/" + wheels.TENSORFLOW_CUDA_CONFIG)
PROJECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    # 1.8-1.12: CUDA 10.2 builds on Linux x86_64 (cuDNN linked in); 1.13 and 2.0: CUDA 11.7 with nvidia-*-cu11.
    "torch": ("1.8", ("torch/version.py",)),
    # 2.0: a CPU build on Linux; 2.1-2.11 CUDA builds (build_info.py in its older forms).
    "tensorflow": ("2.0", TENSORFLOW_FILES),
    # 2.12 and later on PyPI are a few-KB sdist that refuses to install (no wheel, so nothing read).
    "tensorflow-gpu": ("2.0", TENSORFLOW_FILES),
    "onnxruntime-gpu": ("1.15", ("onnxruntime/capi/build_and_package_info.py",)),
    "jax-cuda12-plugin": ("0.4", ()),
    "jax-cuda13-plugin": ("0.7", ()),
    "jax-cuda12-pjrt": ("0.4", ()),
    "jax-cuda13-pjrt": ("0.7", ()),
    # jax itself: its cuda12 extra held the nvidia-cudnn pin before the plugins did.
    "jax": ("0.4.16", ()),
}
TRT_PROVIDER = "onnxruntime/capi/libonnxruntime_providers_tensorrt.so"
CUDA_PROVIDER = "onnxruntime/capi/libonnxruntime_providers_cuda.so"
TRT_PROVIDER_DLL = "onnxruntime/capi/onnxruntime_providers_tensorrt.dll"
CUDA_PROVIDER_DLL = "onnxruntime/capi/onnxruntime_providers_cuda.dll"
PLATFORMS = {  # our name -> wheel platform tag pattern
    "linux-x86_64": re.compile(r"manylinux.*_x86_64|linux_x86_64"),
    "linux-aarch64": re.compile(r"manylinux.*_aarch64|linux_aarch64"),
    "windows-amd64": re.compile(r"win_amd64"),
    "macos-arm64": re.compile(r"macosx_.*_arm64"),
    "macos-x86_64": re.compile(r"macosx_.*_x86_64"),
    "any": re.compile(r"-none-any\.whl$"),
}
# Build files are read on every platform; the provider's ELF only on Linux.
USER_AGENT = "mlgov-refresh-knowledge"


def _get(url: str, start: int | None = None, end: int | None = None, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start is not None:
        request.add_header("Range", f"bytes={start}-{'' if end is None else end}")
    if accept:
        request.add_header("Accept", accept)
    for attempt in range(4):
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                data: bytes = response.read()
                if start is not None and response.status != 206:
                    raise RuntimeError(f"{url}: the server ignored the range request")
                return data
        except OSError:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


class RemoteWheel:
    """A wheel on the index, read through range requests: only the bytes asked for travel."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size = url, size
        self.members: dict[str, tuple[int, int, int, int]] = {}  # name -> (header offset, csize, usize, method)
        tail_start = max(0, size - 65536 - 22)
        tail = _get(url, tail_start, size - 1)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0:
            raise RuntimeError(f"{url}: no zip end record")
        cd_size, cd_offset = struct.unpack_from("<II", tail, at + 12)
        if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
            locator = tail.rfind(b"PK\x06\x07", 0, at)
            zip64_at, = struct.unpack_from("<Q", tail, locator + 8)
            record = _get(url, zip64_at, zip64_at + 55)
            cd_size, cd_offset = struct.unpack_from("<QQ", record, 40)
        if cd_offset >= tail_start:
            directory = tail[cd_offset - tail_start: cd_offset - tail_start + cd_size]
        else:
            directory = _get(url, cd_offset, cd_offset + cd_size - 1)
        self._parse(directory)

    def _parse(self, directory: bytes) -> None:
        at = 0
        while directory[at:at + 4] == b"PK\x01\x02":
            method, = struct.unpack_from("<H", directory, at + 10)
            csize, usize = struct.unpack_from("<II", directory, at + 20)
            name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, at + 28)
            offset, = struct.unpack_from("<I", directory, at + 42)
            name = directory[at + 46: at + 46 + name_len].decode("utf-8")
            extra = directory[at + 46 + name_len: at + 46 + name_len + extra_len]
            if 0xFFFFFFFF in (csize, usize, offset):
                csize, usize, offset = self._zip64(extra, csize, usize, offset)
            self.members[name] = (offset, csize, usize, method)
            at += 46 + name_len + extra_len + comment_len

    @staticmethod
    def _zip64(extra: bytes, csize: int, usize: int, offset: int) -> tuple[int, int, int]:
        at = 0
        while at + 4 <= len(extra):
            tag, length = struct.unpack_from("<HH", extra, at)
            if tag == 1:
                values = list(struct.unpack_from("<" + "Q" * (length // 8), extra, at + 4))
                if usize == 0xFFFFFFFF:
                    usize = values.pop(0)
                if csize == 0xFFFFFFFF:
                    csize = values.pop(0)
                if offset == 0xFFFFFFFF:
                    offset = values.pop(0)
            at += 4 + length
        return csize, usize, offset

    def _data_start(self, offset: int) -> int:
        header = _get(self.url, offset, offset + 29)
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        return int(offset + 30 + name_len + extra_len)

    def read(self, name: str, limit: int | None = None) -> bytes:
        """A member's bytes (its first `limit` bytes when given: the read stops there)."""
        offset, csize, usize, method = self.members[name]
        start = self._data_start(offset)
        if method == 0:
            return _get(self.url, start, start + min(csize, limit or csize) - 1)
        inflate = zlib.decompressobj(-15)
        out = bytearray()
        fetched, chunk = 0, 1 << 20
        while fetched < csize and (limit is None or len(out) < limit):
            step = csize - fetched if limit is None else min(chunk, csize - fetched)
            out += inflate.decompress(_get(self.url, start + fetched, start + fetched + step - 1))
            fetched += step
            chunk = min(chunk * 2, 16 << 20)
        return bytes(out if limit is None else out[:limit])


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def releases(project: str, first: str) -> dict[str, list[dict[str, Any]]]:
    """Final releases from `first` on, each with its files (PyPI JSON API; the simple JSON API for PEP 658)."""
    data = json.loads(_get(f"{INDEX}/pypi/{project}/json"))
    simple = json.loads(_get(f"{INDEX}/simple/{project}/", accept="application/vnd.pypi.simple.v1+json"))
    served = {f["filename"]: f for f in simple.get("files", [])}
    floor = Version(first)
    found = {}
    for text, files in data["releases"].items():
        version = _version(text)
        if version is None or version.is_prerelease or version < floor or not files:
            continue
        live = [f for f in files if not f.get("yanked") and f["filename"].endswith(".whl")]
        for f in live:
            f["url"] = urllib.parse.urljoin(f"{INDEX}/pypi/{project}/json", f["url"])
            f["core_metadata"] = bool((served.get(f["filename"]) or {}).get("core-metadata"))
        if live:
            found[text] = live
    return found


def _pick(files: list[dict[str, Any]], pattern: re.Pattern[str]) -> dict[str, Any] | None:
    """One wheel of a platform: CPython 3.12 first (the most common), else the newest non-free-threaded tag."""
    matching = [f for f in files if pattern.search(f["filename"])]
    if not matching:
        return None

    def rank(f: dict[str, Any]) -> tuple[int, int, str]:
        tags = f["filename"][:-4].split("-")
        python, abi = tags[-3], tags[-2]
        number = int(re.sub(r"\D", "", python) or 0)
        return (number == 312, not abi.endswith("t") and not python.endswith("t"), f"{number:04d}{f['filename']}")

    return max(matching, key=rank)


_CUDA_CONFIG_KEPT = re.compile(r'#define (TF_CUDA_VERSION|TF_CUDA_LIB_VERSION|TF_CUDNN_VERSION) ')


def compact(name: str, text: str) -> str:
    """What of a build file is recorded: a Python file without its comment-only and blank lines (the
    licence header; ast reads the same), of cuda_config.h only the CUDA/cuDNN version #defines."""
    if name.endswith(wheels.TENSORFLOW_CUDA_CONFIG):
        return "".join(line + "\n" for line in text.splitlines() if _CUDA_CONFIG_KEPT.match(line))
    return "".join(line + "\n" for line in text.splitlines() if line.strip() and not line.startswith("#"))


def read_wheel(project: str, version: str, platform: str, info: dict[str, Any]) -> dict[str, Any]:
    files_wanted = PROJECTS[project][1]
    record: dict[str, Any] = {"project": project, "version": version, "platform": platform,
                              "filename": info["filename"], "sha256": info["digests"]["sha256"],
                              "size": info["size"]}
    wheel = None
    if info.get("core_metadata"):
        metadata = _get(info["url"] + ".metadata").decode("utf-8", "replace")
        record["metadata_from"] = "PEP 658 .metadata"
    else:
        wheel = RemoteWheel(info["url"], info["size"])
        name = next(n for n in wheel.members if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        metadata = wheel.read(name).decode("utf-8", "replace")
        record["metadata_from"] = "range requests into the wheel"
    record["requires_dist"] = wheels.gpu_requirements(wheels.requires_dist(metadata))
    if files_wanted or project == "onnxruntime-gpu":
        wheel = wheel or RemoteWheel(info["url"], info["size"])
        record["files"] = {}
        for wanted in files_wanted:
            member = wanted if wanted in wheel.members else next(
                (n for n in sorted(wheel.members) if wanted.startswith("*/") and n.endswith(wanted[1:])), None)
            if member is None:
                continue
            record["files"][member] = compact(member, wheel.read(member).decode("utf-8", "replace"))
        if project == "torch":
            # The CUDA libraries a torch wheel bundles (their names in the zip directory, already read).
            libraries = sorted(n for n in wheel.members if n.startswith("torch/lib/")
                               and re.search(r"(cudnn|cudart)[^/]*$", n, re.IGNORECASE))
            if libraries:
                record["libraries"] = libraries
        if project == "onnxruntime-gpu" and platform in ("linux-x86_64", "linux-aarch64", "windows-amd64"):
            windows = platform.startswith("windows")
            parse = wheels.pe_imports if windows else wheels.elf_needed
            small, large = (TRT_PROVIDER_DLL, CUDA_PROVIDER_DLL) if windows else (TRT_PROVIDER, CUDA_PROVIDER)
            needed = {}
            # The TensorRT provider (under 1 MB) links the same CUDA runtime and cuDNN as the CUDA
            # provider (100-260 MB); the CUDA provider is read only when the small one does not say.
            for member in (small, large):
                if member in wheel.members and wheel.members[member][1] <= 256 << 20:
                    names = parse(wheel.read(member))
                    if names is not None:
                        needed[member] = names
                        if wheels.soname_major(names, "libcudart") or wheels.dll_major(names, "cudart64"):
                            break
            if needed:
                record["needed"] = needed
    return record


def fetch(workers: int, only: list[str] | None = None) -> dict[str, Any]:
    jobs = []
    for project, (first, _) in PROJECTS.items():
        if only and project not in only:
            continue
        for version, files in sorted(releases(project, first).items(), key=lambda kv: Version(kv[0])):
            for platform, pattern in PLATFORMS.items():
                picked = _pick(files, pattern)
                if picked is not None:
                    jobs.append((project, version, platform, picked))
    print(f"reading {len(jobs)} wheels", file=sys.stderr)
    records = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(read_wheel, *job): job for job in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            project, version, platform, picked = futures[future]
            try:
                records.append(future.result())
            except Exception as error:  # noqa: BLE001 - one unreadable wheel is reported, the rest still count
                records.append({"project": project, "version": version, "platform": platform,
                                "filename": picked["filename"], "sha256": picked["digests"]["sha256"],
                                "size": picked["size"], "error": f"{type(error).__name__}: {error}"})
            if done % 25 == 0:
                print(f"  {done}/{len(jobs)}", file=sys.stderr)
    records.sort(key=lambda r: (r["project"], Version(r["version"]), r["platform"]))
    return {"format": "mlgov-recorded-wheels", "version": 1, "index": INDEX,
            "read_on": dt.date.today().isoformat(), "wheels": records}


def rows(recorded: dict[str, Any]) -> dict[str, Any]:
    """The knowledge rows the recorded wheels say: project -> release -> platform -> build."""
    return {"format": "mlgov-pypi-builds", "version": 1, "read_on": recorded["read_on"],
            "source": "the wheels on PyPI, read by scripts/refresh_knowledge.py (docs/knowledge.md)",
            "projects": wheels.recorded_rows(recorded["wheels"])}


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    said = []
    old_p, new_p = old.get("projects", {}), new["projects"]
    for project in sorted(set(old_p) | set(new_p)):
        for version in sorted(set(old_p.get(project, {})) | set(new_p.get(project, {})), key=Version):
            a, b = old_p.get(project, {}).get(version), new_p.get(project, {}).get(version)
            if a != b:
                said.append(f"{project} {version}: " + ("new row " + json.dumps(b) if a is None else
                                                         "gone" if b is None else f"{a} -> {b}"))
    return said


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when PyPI says something new")
    parser.add_argument("--offline", action="store_true", help="rebuild the rows from the recorded facts only")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--only", action="append", choices=sorted(PROJECTS),
                        help="read only this project again, keep the other recorded wheels (repeatable)")
    args = parser.parse_args()
    recorded = json.loads(RECORDED.read_text()) if args.offline else fetch(args.workers, args.only)
    if args.only and not args.offline:
        kept = [r for r in json.loads(RECORDED.read_text())["wheels"] if r["project"] not in args.only]
        recorded["wheels"] = sorted(kept + recorded["wheels"],
                                    key=lambda r: (r["project"], Version(r["version"]), r["platform"]))
    errors = [r for r in recorded["wheels"] if "error" in r]
    for record in errors:
        print(f"could not read {record['filename']}: {record['error']}", file=sys.stderr)
    new = rows(recorded)
    old = json.loads(ROWS.read_text()) if ROWS.exists() else {}
    changes = _changes(old, new)
    for line in changes:
        print(line)
    print(f"{len(recorded['wheels'])} wheels, {len(errors)} unreadable, {len(changes)} row(s) changed", file=sys.stderr)
    if args.check:
        return 1 if changes or errors else 0
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    if not args.offline:
        RECORDED.write_text(_dump(recorded))
    ROWS.write_text(_dump(new))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
