"""collect/host.py: NVML through a fake pynvml, and CUDA/cuDNN copies in a fake system root."""

from __future__ import annotations

import json
from pathlib import Path

import pynvml
import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.collect import host
from governance.collect.nvml_library import NO_LIBRARY
from governance.hostprofile import read_profile
from tests.gpu_layout import FakeNvml, cudnn_header, dist, h100_reading, h100_root, h100_site, venv, write


@pytest.fixture
def h100(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
    fake = FakeNvml(h100_reading(shared_dir))
    fake.install(monkeypatch)
    return fake


def test_nvml_reading_of_the_real_h100(h100: FakeNvml) -> None:
    result = host.read_nvml()
    assert result.reason is None and result.skipped == []
    reading = result.reading
    assert reading is not None
    assert (reading.driver_version, reading.cuda_driver_version, reading.nvml_version) == \
        ("580.159.04", "13.0", "13.580.159.04")
    (gpu,) = reading.gpus
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.uuid == "GPU-4dee87f7-538c-e0a0-5a0d-1d8fb72bf871"
    assert (gpu.compute_capability, gpu.memory_total_bytes) == ("9.0", 85520809984)
    assert (gpu.mig_mode, gpu.ecc_mode, gpu.vbios_version) == ("disabled", "enabled", "96.00.DA.00.0C")
    assert h100.shutdowns == 1


@pytest.mark.parametrize(("code", "reason"), [
    (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "(libnvidia-ml.so.1) was not found"),
    (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "not loaded"),
    (pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
    (pynvml.NVML_ERROR_UNKNOWN, "NVML could not start"),
])
def test_nvml_that_cannot_start_gives_no_reading_and_the_reason(shared_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                code: int, reason: str) -> None:
    FakeNvml(h100_reading(shared_dir), fail={"nvmlInit": code}).install(monkeypatch)
    result = host.read_nvml()
    assert result.reading is None
    assert reason in (result.reason or "")
    stack = host.probe(root=Path("/nonexistent-root"), nvml=host.read_nvml)
    assert stack.driver_version is None and reason in (stack.no_driver_reason or "")


@pytest.mark.parametrize(("function", "code", "field"), [
    ("nvmlDeviceGetCurrentEccMode", pynvml.NVML_ERROR_NOT_SUPPORTED, "ecc_mode"),
    ("nvmlDeviceGetMigMode", pynvml.NVML_ERROR_NOT_SUPPORTED, "mig_mode"),
    ("nvmlDeviceGetUUID", pynvml.NVML_ERROR_NO_PERMISSION, "uuid"),
    ("nvmlDeviceGetVbiosVersion", pynvml.NVML_ERROR_FUNCTION_NOT_FOUND, "vbios_version"),
])
def test_a_field_nvml_will_not_give_is_left_out(shared_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                function: str, code: int, field: str) -> None:
    fake = FakeNvml(h100_reading(shared_dir), fail={function: code})
    fake.install(monkeypatch)
    result = host.read_nvml()
    assert result.reading is not None and result.reading.driver_version == "580.159.04"
    (gpu,) = result.reading.gpus
    assert getattr(gpu, field) is None
    assert gpu.compute_capability == "9.0"
    assert len(result.skipped) == 1
    assert fake.shutdowns == 1


def test_cuda_driver_version_falls_back_to_v1_on_an_old_binding(shared_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    reading = dict(h100_reading(shared_dir), cuda_driver=12040)
    FakeNvml(reading).install(monkeypatch)
    monkeypatch.delattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2")
    result = host.read_nvml()
    assert result.reading is not None and result.reading.cuda_driver_version == "12.4"


@pytest.mark.parametrize(("value", "text"), [(13000, "13.0"), (12040, "12.4"), (11080, "11.8"), (12090, "12.9")])
def test_decode_cuda_driver_version(value: int, text: str) -> None:
    assert host.decode_cuda_version(value) == text


@pytest.mark.parametrize(("value", "text"), [(91400, "9.14.0"), (91900, "9.19.0"), (90100, "9.1.0"),
                                             (8907, "8.9.7"), (7605, "7.6.5")])
def test_decode_cudnn_version(value: int, text: str) -> None:
    assert host.decode_cudnn_version(value) == text


def test_probe_of_the_h100_layout_finds_both_cudnn_copies(h100: FakeNvml, tmp_path: Path) -> None:
    root = h100_root(tmp_path / "root", nvcc=True)
    site = venv(tmp_path / "venv")
    h100_site(site)
    stack = host.probe(root=root, site_packages=(site,), name="h100", run_tools=True)
    assert stack.driver_version == "580.159.04" and stack.gpus[0].compute_capability == "9.0"
    system, wheel = stack.cudnn
    assert (system.version, system.origin, system.path) == \
        ("9.14.0", "system", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0")
    assert "libcudnn soname" in (system.detected_by or "") and "cudnn_version.h" in (system.detected_by or "")
    assert (wheel.version, wheel.origin, wheel.package) == ("9.19.0.56", "wheel", "nvidia-cudnn-cu13")
    assert wheel.path == str(site / "nvidia" / "cudnn" / "lib")
    toolkit, runtime_wheel = stack.cuda_runtimes
    # one toolkit folder is one copy, though /usr/local/cuda links to it and nvcc says 13.0.88
    assert (toolkit.version, toolkit.path) == ("13.0.96", "/usr/local/cuda-13.0")
    assert "nvcc --version" in (toolkit.detected_by or "")
    assert (runtime_wheel.version, runtime_wheel.package) == ("13.0.96", "nvidia-cuda-runtime")


@pytest.mark.parametrize(("files", "version", "method"), [
    ({"version.json": json.dumps({"cuda": {"name": "CUDA SDK", "version": "12.4.1"}})}, "12.4.1", "version.json"),
    ({"version.txt": "CUDA Version 10.2.89\n"}, "10.2.89", "version.txt"),
    ({"lib64/libcudart.so.11.8.89": ""}, "11.8.89", "libcudart soname"),
])
def test_toolkit_version_sources(tmp_path: Path, files: dict[str, str], version: str, method: str) -> None:
    for name, text in files.items():
        write(tmp_path / "usr" / "local" / "cuda-x" / name, text)
    (copy,) = host.system_cuda_runtimes(tmp_path, load_libraries=False, run_tools=False)
    assert (copy.version, copy.detected_by, copy.origin) == (version, method, "system")


def test_cudnn_7_reads_cudnn_h_and_conda_packages_are_copies(tmp_path: Path) -> None:
    cudnn_header(tmp_path / "root" / "usr" / "local" / "cuda" / "include" / "cudnn.h", 7, 6, 5)
    prefix = tmp_path / "conda"
    site = prefix / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    write(prefix / "conda-meta" / "cudnn-9.1.0.70-h1.json", json.dumps({"name": "cudnn", "version": "9.1.0.70"}))
    write(prefix / "conda-meta" / "cuda-cudart-12.4.127-h2.json",
          json.dumps({"name": "cuda-cudart", "version": "12.4.127"}))
    write(prefix / "conda-meta" / "numpy-1.26.4-h3.json", json.dumps({"name": "numpy", "version": "1.26.4"}))
    stack = host.probe(root=tmp_path / "root", site_packages=(site,), environ={},
                       nvml=lambda: host.NvmlResult(None, "no driver here"))
    assert [(c.version, c.origin) for c in stack.cudnn] == [("7.6.5", "system"), ("9.1.0.70", "conda")]
    assert [(c.version, c.origin, c.package) for c in stack.cuda_runtimes] == [("12.4.127", "conda", "cuda-cudart")]
    assert stack.no_driver_reason == "no driver here"


def test_probe_command_prints_a_summary_and_writes_a_profile(h100: FakeNvml, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site = venv(tmp_path / "venv")
    h100_site(site)
    dist(site, "numpy", "2.1.0")
    runner = CliRunner()
    result = runner.invoke(cli, ["probe", "--python", str(tmp_path / "venv"), "--name", "h100"])
    assert result.exit_code == 0, result.output
    assert "NVIDIA driver: 580.159.04  (CUDA driver API 13.0)" in result.output
    assert "GPU 0: NVIDIA H100 80GB HBM3, compute capability 9.0" in result.output
    assert "9.19.0.56" in result.output and "nvidia-cudnn-cu13" in result.output
    out = tmp_path / "h100.json"
    result = runner.invoke(cli, ["probe", "--python", str(tmp_path / "venv"), "--name", "h100", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["format"] == "mlgov-host-profile" and data["version"] == 1
    assert data["nvidia"]["driver_version"] == "580.159.04"
    assert data["nvidia"]["gpus"][0]["compute_capability"] == "9.0"
    stack = read_profile(out)
    assert stack.name == "h100" and any(c.version == "9.19.0.56" for c in stack.cudnn)


def test_probe_without_a_driver_writes_nvidia_null_and_exits_0(shared_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    FakeNvml(h100_reading(shared_dir), fail={"nvmlInit": pynvml.NVML_ERROR_LIBRARY_NOT_FOUND}).install(monkeypatch)
    out = tmp_path / "cpu.json"
    result = CliRunner().invoke(cli, ["probe", "--python", str(venv(tmp_path / "v").parent.parent.parent),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["nvidia"] is None and "not found" in data["no_driver_reason"]


def test_scan_probes_nothing_on_a_machine_without_nvml(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeNvml(h100_reading(shared_dir), fail={"nvmlInit": pynvml.NVML_ERROR_LIBRARY_NOT_FOUND}).install(monkeypatch)
    assert host.hosts_for_scan(()) == ()


def test_scan_probes_this_machine_when_nvml_works(h100: FakeNvml) -> None:
    (stack,) = host.hosts_for_scan(())
    assert stack.driver_version == "580.159.04"


# The real NVML library decides this test's expectation: where it loads (a GPU machine), pynvml is used.
_HAS_DRIVER_CODE = """
import ctypes, sys
try:
    ctypes.CDLL("libnvidia-ml.so.1")
except OSError:
    sys.exit(1)
"""


def test_a_machine_without_the_driver_is_told_without_importing_pynvml() -> None:
    import subprocess
    import sys

    driver = subprocess.run([sys.executable, "-c", _HAS_DRIVER_CODE], check=False).returncode == 0
    code = ("import sys\nfrom governance.collect.host import read_nvml\nresult = read_nvml()\n"
            "print(result.reading is None, result.reason, 'pynvml' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    if driver:
        assert done.stdout.split()[-1] == "True"  # pynvml asked the driver
    else:
        assert done.stdout.strip() == f"True {NO_LIBRARY} False"
