"""governance/knowledge: every fact cites a source, and the tables agree with each other."""

from __future__ import annotations

import pytest

from governance import knowledge


@pytest.mark.parametrize(("table", "entry"), knowledge.entries())
def test_every_entry_cites_a_known_source(table: str, entry: dict[str, object]) -> None:
    cited = entry["source"] if isinstance(entry["source"], list) else [entry["source"]]
    assert cited and all(name in knowledge.sources() for name in cited)


@pytest.mark.parametrize(("cuda", "minimum", "floor"), [
    ("12.4", "550.54.14", "525.60.13"), ("11.8", "520.61.05", "450.80.02"), ("13.0", "580.65.06", "580"),
    ("12", None, "525.60.13"),
])
def test_driver_floor(cuda: str, minimum: str | None, floor: str) -> None:
    found = knowledge.driver_floor(cuda)
    assert found is not None and (found.minimum, found.floor) == (minimum, floor)


def test_every_torch_variant_has_a_driver_row() -> None:
    for table, entry in knowledge.entries():
        if table == "torch":
            for variant in entry["variants"]:  # type: ignore[union-attr]
                assert knowledge.toolkit_minimum(variant) is not None, (entry["series"], variant)


def test_toolkit_minimums_rise_with_the_version() -> None:
    rows = sorted(((knowledge.driver_tuple(e["version"]), knowledge.driver_tuple(e["linux"]))  # type: ignore[arg-type]
                   for t, e in knowledge.entries() if t == "toolkit"))
    drivers = [driver for _, driver in rows]
    assert drivers == sorted(drivers)


def test_the_effective_floor_never_exceeds_the_toolkits_minimum() -> None:
    for table, entry in knowledge.entries():
        if table == "toolkit":
            found = knowledge.driver_floor(str(entry["version"]))
            assert found is not None and found.floor is not None and found.minimum is not None
            assert knowledge.driver_tuple(found.floor) <= knowledge.driver_tuple(found.minimum)


def test_cuda_110_needs_only_its_own_minimum() -> None:
    found = knowledge.driver_floor("11.0")
    assert found is not None and found.floor == "450.51.05"


# -- The rows read from the wheels on PyPI, proved against the recorded wheel facts --

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from packaging.version import Version  # noqa: E402

from governance.knowledge import wheels  # noqa: E402

RECORDED = json.loads((Path(__file__).parent / "data" / "knowledge" / "pypi-wheels.json").read_text())
SHIPPED = json.loads((Path(knowledge.__file__).parent / "pypi_builds.json").read_text())


def test_every_pypi_row_is_what_the_recorded_wheels_say() -> None:
    # The rows are derived again from the recorded metadata and build files; any
    # hand edit of pypi_builds.json, or a reader change that reads a wheel
    # differently, fails here.
    assert wheels.recorded_rows(RECORDED["wheels"]) == SHIPPED["projects"]
    assert SHIPPED["read_on"] == RECORDED["read_on"]


def test_every_row_names_the_wheel_it_was_read_from() -> None:
    by_file = {r["filename"]: r for r in RECORDED["wheels"]}
    for project, releases in SHIPPED["projects"].items():
        for release, platforms in releases.items():
            for platform, row in platforms.items():
                filename = row["source"].split(" sha256:")[0]
                record = by_file[filename]
                assert (record["project"], record["version"], record["platform"]) == (project, release, platform)
                assert f"sha256:{record['sha256']}" in row["source"]


@pytest.mark.parametrize(("project", "first"), [
    ("torch", "1.8"), ("tensorflow", "2.0"), ("tensorflow-gpu", "2.0"), ("onnxruntime-gpu", "1.15"),
    ("jax-cuda12-plugin", "0.4.22"),
    ("jax-cuda13-plugin", "0.7.2"), ("jax-cuda12-pjrt", "0.4.23"), ("jax-cuda13-pjrt", "0.7.2"),
])
def test_every_release_in_range_was_read_without_error(project: str, first: str) -> None:
    read = [r for r in RECORDED["wheels"] if r["project"] == project]
    assert read and all("error" not in r for r in read)
    assert min(Version(r["version"]) for r in read) == Version(first)


def test_torch_on_linux_aarch64_is_a_cuda_build_from_211() -> None:
    torch = SHIPPED["projects"]["torch"]
    for release, platforms in torch.items():
        if Version(release) < Version("2.1"):
            continue  # not every older release has an aarch64 / macOS arm64 wheel (see the test below)
        expected = "cuda" if Version(release) >= Version("2.11") else "cpu"
        assert platforms["linux-aarch64"]["build"] == expected, release
        assert platforms["windows-amd64"]["build"] == "cpu" and platforms["macos-arm64"]["build"] == "cpu"


def test_elf_needed_reads_a_real_provider_library_from_its_recorded_sonames() -> None:
    # What the script read from onnxruntime-gpu 1.18.1's TensorRT provider (a CUDA 11.8 / cuDNN 8 build).
    record = next(r for r in RECORDED["wheels"]
                  if (r["project"], r["version"], r["platform"]) == ("onnxruntime-gpu", "1.18.1", "linux-x86_64"))
    needed = next(iter(record["needed"].values()))
    assert wheels.soname_major(needed, "libcudart") == "11" and wheels.soname_major(needed, "libcudnn") == "8"


def _elf(needed: list[str]) -> bytes:
    """A minimal 64-bit little-endian shared object: one PT_LOAD, one PT_DYNAMIC with DT_NEEDED entries."""
    import struct

    strtab = b"\x00" + b"".join(n.encode() + b"\x00" for n in needed)
    offsets, at = [], 1
    for name in needed:
        offsets.append(at)
        at += len(name) + 1
    phoff, phnum = 64, 2
    dyn_at = phoff + 56 * phnum
    dynamic = b"".join(struct.pack("<qQ", 1, o) for o in offsets) + struct.pack("<qQ", 5, 0x1000 + 0)  # DT_STRTAB
    dynamic += struct.pack("<qQ", 0, 0)
    str_at = dyn_at + len(dynamic)
    dynamic = dynamic.replace(struct.pack("<qQ", 5, 0x1000), struct.pack("<qQ", 5, 0x1000 + str_at))
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, 64,
                                                                   56, phnum, 64, 0, 0)
    total = str_at + len(strtab)
    load = struct.pack("<IIQQQQQQ", 1, 4, 0, 0x1000, 0x1000, total, total, 0x1000)
    dyn = struct.pack("<IIQQQQQQ", 2, 6, dyn_at, 0x1000 + dyn_at, 0x1000 + dyn_at, len(dynamic), len(dynamic), 8)
    return header + load + dyn + dynamic + strtab


def test_elf_needed_walks_the_dynamic_section() -> None:
    assert wheels.elf_needed(_elf(["libcudart.so.12", "libcudnn.so.9"])) == ["libcudart.so.12", "libcudnn.so.9"]
    assert wheels.elf_needed(b"not an elf" * 10) is None


@pytest.mark.parametrize(("name", "cuda", "cudnn"), [
    ("tensorflow-2.20.0-linux-x86_64-build_info.py", "12.5.1", "9"),
    ("tensorflow-2.12.0-linux-x86_64-build_info.py", "11.8", "8"),
])
def test_tensorflow_build_info_in_its_ordereddict_form(name: str, cuda: str, cudnn: str) -> None:
    # Real files, extracted from the wheels by a ranged read (scripts/refresh_knowledge.py).
    text = (Path(__file__).parent / "data" / "frameworks" / name).read_text()
    assert "OrderedDict([" in text
    info = wheels.tensorflow_build_info(text)
    assert info is not None and info["is_cuda_build"] is True
    assert (info["cuda_version"], info["cudnn_version"]) == (cuda, cudnn)


def test_python_assignments_never_run_the_file() -> None:
    assert wheels.python_assignments("import os\nx = os.system('true')\ny = '1'\n") == {"y": "1"}


def test_torch_cudnn_is_per_cuda_variant() -> None:
    # 2.7: PyPI's 12.6 wheel pins 9.5.1.17; PyTorch's +cu128 build 9.7.1.26; +cu118 9.1.0.70.
    assert knowledge.torch_cudnn("2.7.1", "12.6") == "9.5.1.17"
    assert knowledge.torch_cudnn("2.7.1+cu128", "12.8") == "9.7.1.26"
    assert knowledge.torch_cudnn("2.7.1+cu118", "11.8") == "9.1.0.70"
    # 2.11: the wheel's own pin (9.19.0.56) wins over the matrix's 9.17.1.4 for the PyPI build.
    assert knowledge.torch_cudnn("2.11.0", "13.0") == "9.19.0.56"
    assert knowledge.torch_cudnn("2.99.0", "13.0") is None


def test_cuda_133_and_the_corrected_11x_rows() -> None:
    assert knowledge.toolkit_minimum("13.3") == "610.43.02"
    assert knowledge.toolkit_minimum("11.0") == "450.51.05"


def _pe(dlls: list[str]) -> bytes:
    """A minimal PE32+ image: one section holding an import directory that names `dlls`."""
    import struct

    section_rva, section_raw = 0x1000, 0x200
    descriptors = 20 * (len(dlls) + 1)
    strings, offsets = b"", []
    for name in dlls:
        offsets.append(section_rva + descriptors + len(strings))
        strings += name.encode() + b"\x00"
    body = b"".join(struct.pack("<IIIII", 0, 0, 0, o, 0) for o in offsets) + bytes(20) + strings
    pe = 0x80
    optional_size = 240
    header = bytearray(section_raw)
    header[0:2] = b"MZ"
    struct.pack_into("<I", header, 0x3C, pe)
    header[pe:pe + 4] = b"PE\x00\x00"
    struct.pack_into("<HHIIIHH", header, pe + 4, 0x8664, 1, 0, 0, 0, optional_size, 0x2022)
    optional = pe + 24
    struct.pack_into("<H", header, optional, 0x20B)
    struct.pack_into("<II", header, optional + 112 + 8, section_rva, len(body))
    table = optional + optional_size
    struct.pack_into("<8sIIII", header, table, b".idata", len(body), section_rva, len(body), section_raw)
    return bytes(header) + body


def test_pe_imports_reads_the_import_directory() -> None:
    assert wheels.pe_imports(_pe(["cudart64_110.dll", "cudnn64_8.dll", "KERNEL32.dll"])) == \
        ["cudart64_110.dll", "cudnn64_8.dll", "KERNEL32.dll"]
    assert wheels.dll_major(["cudart64_110.dll"], "cudart64") == "11"
    assert wheels.dll_major(["cudart64_12.dll"], "cudart64") == "12"
    assert wheels.pe_imports(b"MZ" + bytes(100)) is None


def test_onnxruntime_gpu_on_windows_is_read_from_its_dll_imports() -> None:
    ort = SHIPPED["projects"]["onnxruntime-gpu"]
    assert ort["1.15.0"]["windows-amd64"] == {**ort["1.15.0"]["windows-amd64"], "build": "cuda", "cuda": "11",
                                              "cudnn_major": "8"}
    assert "linux-x86_64" not in ort["1.15.0"]  # the Linux wheel says nothing: unknown, not guessed
    assert ort["1.20.2"]["windows-amd64"]["cudnn_major"] == "9"


# -- Older releases: torch 1.8-2.0, tensorflow 2.0-2.11, tensorflow-gpu 2.0-2.11 --

def _row(project: str, release: str, platform: str = "linux-x86_64") -> dict[str, str]:
    row: dict[str, str] = SHIPPED["projects"][project][release][platform]
    return row


def test_pypi_torch_18_to_112_are_cuda_102_builds_with_cudnn_linked_in() -> None:
    # torch/version.py says cuda = '10.2'; the wheels pin no nvidia-cudnn and bundle no libcudnn
    # (only libcudart-<hash>.so.10.2), so no cuDNN is said rather than guessed.
    old = [r for r in SHIPPED["projects"]["torch"] if Version("1.8") <= Version(r) < Version("1.13")]
    assert len(old) >= 10
    for release in old:
        row = _row("torch", release)
        assert (row["build"], row["cuda"]) == ("cuda", "10.2") and "cudnn" not in row and "cudnn_major" not in row
        record = next(r for r in RECORDED["wheels"]
                      if (r["project"], r["version"], r["platform"]) == ("torch", release, "linux-x86_64"))
        assert any(name.endswith(".so.10.2") and "libcudart" in name for name in record["libraries"])


@pytest.mark.parametrize("release", ["1.13.0", "1.13.1", "2.0.0", "2.0.1"])
def test_pypi_torch_113_and_20_are_cuda_117_builds_pinning_nvidia_cudnn_cu11(release: str) -> None:
    row = _row("torch", release)
    assert (row["build"], row["cuda"], row["cudnn"], row["cudnn_major"]) == ("cuda", "11.7", "8.5.0.96", "8")


def test_only_torch_wheels_that_require_nvidia_wheels_say_so() -> None:
    torch = SHIPPED["projects"]["torch"]
    assert "nvidia_wheels" not in _row("torch", "1.12.1") and _row("torch", "1.13.0")["nvidia_wheels"] == "required"
    assert _row("torch", "2.5.1")["nvidia_wheels"] == "required"
    assert not any("nvidia_wheels" in row for platforms in torch.values() for p, row in platforms.items()
                   if p != "linux-x86_64" and row["build"] == "cpu")
    # tensorflow's nvidia-* pins are under its and-cuda extra: not required by the wheel itself.
    assert "nvidia_wheels" not in _row("tensorflow", "2.15.1")


def test_old_torch_on_windows_macos_and_aarch64_is_cpu() -> None:
    for release, platforms in SHIPPED["projects"]["torch"].items():
        if Version(release) < Version("2.1"):
            assert {platforms[p]["build"] for p in platforms if p != "linux-x86_64"} == {"cpu"}, release
            assert "windows-amd64" in platforms and "macos-x86_64" in platforms
    # PyPI has no aarch64 wheel of 1.9.1 and no macOS arm64 wheel of 1.8.1 or 1.9.1: no row, not guessed.
    assert "linux-aarch64" not in SHIPPED["projects"]["torch"]["1.9.1"]
    assert "macos-arm64" not in SHIPPED["projects"]["torch"]["1.8.1"]


@pytest.mark.parametrize(("project", "release", "platform", "cuda", "cudnn"), [
    ("tensorflow", "2.1.0", "linux-x86_64", "10.1", "7"),  # tensorflow_core/..., module-level names
    ("tensorflow", "2.2.0", "linux-x86_64", "10.1", "7"),  # build_info says '10'; cuda_config.h "10.1"
    ("tensorflow", "2.4.0", "linux-x86_64", "11.0", "8"),
    ("tensorflow", "2.11.0", "linux-x86_64", "11.2", "8"),
    ("tensorflow-gpu", "2.0.0", "linux-x86_64", "10.0", "7"),
    ("tensorflow-gpu", "2.4.0", "linux-x86_64", "11.0", "8"),
    ("tensorflow-gpu", "2.4.0", "windows-amd64", "11.0", "8"),  # 'cuda_version': '64_110'
    ("tensorflow-gpu", "2.11.0", "linux-x86_64", "11.2", "8"),
])
def test_old_tensorflow_rows(project: str, release: str, platform: str, cuda: str, cudnn: str) -> None:
    row = _row(project, release, platform)
    assert (row["build"], row["cuda"], row["cudnn_major"]) == ("cuda", cuda, cudnn)


def test_tensorflow_20_is_a_cpu_build_and_every_linux_release_from_21_a_cuda_one() -> None:
    assert _row("tensorflow", "2.0.0")["build"] == "cpu"
    for project in ("tensorflow", "tensorflow-gpu"):
        for release, platforms in SHIPPED["projects"][project].items():
            if Version("2.1") <= Version(release) or project == "tensorflow-gpu":
                row = platforms["linux-x86_64"]
                assert row["build"] == "cuda" and "." in row["cuda"], (project, release)


def test_tensorflow_gpu_has_no_release_after_211() -> None:
    # 2.12.0 on PyPI is a 2.6 KB sdist whose setup.py refuses to install: no wheel, no row.
    assert max(Version(r) for r in SHIPPED["projects"]["tensorflow-gpu"]) == Version("2.11.0")
    assert knowledge.removed_release("tensorflow-gpu", "2.12.0") is not None
    assert knowledge.removed_release("tensorflow-gpu", "2.11.0") is None
    assert knowledge.removed_release("tensorflow", "2.12.0") is None


FRAMEWORK_FILES = Path(__file__).parent / "data" / "frameworks"


@pytest.mark.parametrize(("build_info", "cuda_config", "cuda", "cudnn"), [
    # Module-level names; the Linux file gives the major only, the wheel's cuda_config.h the minor.
    ("tensorflow-2.2.0-linux-x86_64-build_info.py", "tensorflow-2.2.0-linux-x86_64-cuda_config.h", "10.1", "7"),
    ("tensorflow-2.2.0-linux-x86_64-build_info.py", None, "10", "7"),
    ("tensorflow-gpu-2.0.0-linux-x86_64-build_info.py", "tensorflow-gpu-2.0.0-linux-x86_64-cuda_config.h",
     "10.0", "7"),
    # Windows: the DLL suffixes ('64_110', '64_8') in the cuda/cudnn version fields.
    ("tensorflow-gpu-2.4.0-windows-amd64-build_info.py", None, "11.0", "8"),
])
def test_tensorflow_build_info_in_its_older_forms(build_info: str, cuda_config: str | None, cuda: str,
                                                  cudnn: str) -> None:
    # Real files extracted from the wheels by ranged reads (tests/data/frameworks/README.md).
    info = wheels.tensorflow_build_info((FRAMEWORK_FILES / build_info).read_text())
    assert info is not None and info["is_cuda_build"] is True
    config = (FRAMEWORK_FILES / cuda_config).read_text() if cuda_config else None
    assert wheels.tensorflow_cuda(info, config) == (cuda, cudnn)


def test_a_cuda_config_of_another_major_is_not_taken() -> None:
    assert wheels.tensorflow_cuda({"cuda_version": "11"}, '#define TF_CUDA_VERSION "10.1"\n') == ("11", None)


@pytest.mark.parametrize(("members", "major"), [
    (["torch/lib/libcudnn.so.8", "torch/lib/libc10.so"], "8"),
    (["torch/lib/libcudnn_ops_infer.so.8"], "8"),
    (["torch/lib/libcudnn-3e4a2c1f.so.7"], "7"),  # auditwheel's hashed name
    (["torch/lib/cudnn64_8.dll"], "8"),
    (["torch/lib/cudnn_ops_infer64_8.dll"], "8"),
    (["torch/lib/libcudart-80664282.so.10.2"], None),
])
def test_bundled_cudnn_major_from_member_names(members: list[str], major: str | None) -> None:
    assert wheels.bundled_cudnn_major(members) == major
    record = {"project": "torch", "files": {"torch/version.py": "cuda = '11.3'\n"}, "libraries": members}
    assert wheels.torch_wheel(record).cudnn_major == major
