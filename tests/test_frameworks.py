"""collect/frameworks.py: which CUDA/cuDNN build each framework is, from files only."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.collect import ScanOptions, collect
from governance.collect.frameworks import CUDA, CUDNN, CUDNN_MAJOR, EVIDENCE, GPU_BUILD, KERAS_BACKEND
from governance.model import Inventory, Package
from tests.gpu_layout import dist, h100_site, torch_version_py, venv, write

LINUX = {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux",
         "python_version": "3.12", "python_full_version": "3.12.3", "os_name": "posix",
         "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def scan(tmp_path: Path, requirements: str = "", python: Path | None = None,
         markers: dict[str, str] | None = None) -> Inventory:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    if requirements:
        write(project / "requirements.txt", requirements)
    return collect(ScanOptions(project=project, python=python, markers=markers or LINUX))


def one(inventory: Inventory, key: str) -> Package:
    (package,) = inventory.by_key(key)
    return package


@pytest.mark.parametrize(("line", "build", "cuda", "cudnn_major", "evidence"), [
    ("torch==2.5.1", "cuda", "12.4", "9", "PyPI's torch 2.5.1 wheel for linux-x86_64"),
    ("torch==2.5.1+cu118", "cuda", "11.8", "9", "local version +cu118"),
    ("torch==2.3.1+cu121", "cuda", "12.1", "8", "local version +cu121"),
    ("torch==2.7.1", "cuda", "12.6", "9", "PyPI's torch 2.7.1 wheel"),
    ("torch==2.10.0", "cuda", "12.8", "9", "PyPI's torch 2.10.0 wheel"),
    ("torch==2.15.0", "cuda", "13.2", "9", "PyPI's torch 2.15.0 wheel"),
    ("torch==2.99.0", "unknown", None, None, "newer than the newest release in mlgov's knowledge base"),
    ("torch==2.5.1+cpu", "cpu", None, None, "local version +cpu"),
    ("torch==2.5.1+rocm6.2", "rocm", None, None, "local version +rocm6.2"),
    ("tensorflow==2.15.1", "cuda", "12.2", "8", "PyPI's tensorflow 2.15.1 wheel"),
    ("tensorflow[and-cuda]==2.18.0", "cuda", "12.5", "9", "the and-cuda extra; PyPI's tensorflow 2.18.0"),
    ("tensorflow==2.99.0", "unknown", None, None, "newer than the newest release in mlgov's knowledge base"),
    ("tensorflow-cpu==2.18.0", "cpu", None, None, "tensorflow-cpu"),
    # Older releases read from PyPI's wheels (once "older than the knowledge base": GPU007).
    ("torch==1.12.1", "cuda", "10.2", None, "PyPI's torch 1.12.1 wheel for linux-x86_64"),
    ("torch==1.8.1", "cuda", "10.2", None, "PyPI's torch 1.8.1 wheel for linux-x86_64"),
    ("torch==2.0.1", "cuda", "11.7", "8", "PyPI's torch 2.0.1 wheel for linux-x86_64"),
    ("tensorflow==2.2.0", "cuda", "10.1", "7", "PyPI's tensorflow 2.2.0 wheel"),
    ("tensorflow==2.0.0", "cpu", None, None, "PyPI's tensorflow 2.0.0 wheel"),
    ("tensorflow-gpu==2.4.0", "cuda", "11.0", "8", "PyPI's tensorflow-gpu 2.4.0 wheel"),
    ("tensorflow-gpu==2.10.1", "cuda", "11.2", "8", "PyPI's tensorflow-gpu 2.10.1 wheel"),
    ("tensorflow-gpu==2.12.0", "unknown", None, None, "only as a source placeholder whose setup.py refuses"),
    ("onnxruntime-gpu==1.17.1", "cuda", "11", "8", "PyPI's onnxruntime-gpu 1.17.1 wheel"),
    # The wheel's providers link libcudart.so.11.0 and libcudnn.so.8 (once read as CUDA 12).
    ("onnxruntime-gpu==1.18.0", "cuda", "11", "8", "PyPI's onnxruntime-gpu 1.18.0 wheel"),
    ("onnxruntime-gpu==1.18.1", "cuda", "11", "8", "PyPI's onnxruntime-gpu 1.18.1 wheel"),
    ("onnxruntime-gpu==1.20.0", "cuda", "12", "9", "PyPI's onnxruntime-gpu 1.20.0 wheel"),
    ("onnxruntime-gpu==1.27.0", "cuda", "13.0", "9", "PyPI's onnxruntime-gpu 1.27.0 wheel"),
    ("onnxruntime-gpu==1.20.1", "unknown", None, None, "not in mlgov's knowledge base"),
    ("onnxruntime==1.20.1", "cpu", None, None, "onnxruntime package"),
    ("jax[cuda12]==0.4.35", "cuda", "12", "9", "jax-cuda12-plugin 0.4.35"),
    ("jax==0.4.35", "cpu", None, None, "no jax-cuda plugin"),
])
def test_build_from_a_lockfile_alone(tmp_path: Path, line: str, build: str, cuda: str | None,
                                     cudnn_major: str | None, evidence: str) -> None:
    inventory = scan(tmp_path, line + "\n")
    key = line.split("==")[0].split("[")[0]
    package = one(inventory, key)
    assert package.property(GPU_BUILD) == build
    assert package.property(CUDA) == cuda
    assert package.property(CUDNN_MAJOR) == cudnn_major
    assert evidence in (package.property(EVIDENCE) or "")


def test_torch_on_macos_from_pypi_is_a_cpu_build(tmp_path: Path) -> None:
    mac = dict(LINUX, sys_platform="darwin", platform_system="Darwin", platform_machine="arm64")
    assert one(scan(tmp_path, "torch==2.5.1\n", markers=mac), "torch").property(GPU_BUILD) == "cpu"


def test_installed_torch_is_read_from_version_py_not_its_metadata(tmp_path: Path) -> None:
    # The real H100 host: metadata says plain 2.11.0, torch/version.py says CUDA 13.0.
    site = venv(tmp_path / "venv")
    h100_site(site)
    torch = one(scan(tmp_path, python=tmp_path / "venv"), "torch")
    assert (torch.property(GPU_BUILD), torch.property(CUDA)) == ("cuda", "13.0")
    assert torch.property(CUDNN) == "9.19.0.56"  # the wheel beside it, not the knowledge base's guess
    assert torch.property(EVIDENCE) == "torch/version.py"


@pytest.mark.parametrize(("cuda", "hip", "build"), [(None, None, "cpu"), (None, "6.2.41133", "rocm"),
                                                    ("12.4", None, "cuda")])
def test_version_py_variants(tmp_path: Path, cuda: str | None, hip: str | None, build: str) -> None:
    site = venv(tmp_path / "venv")
    dist(site, "torch", "2.5.1")
    torch_version_py(site, "2.5.1", cuda, hip)
    torch = one(scan(tmp_path, python=tmp_path / "venv"), "torch")
    assert torch.property(GPU_BUILD) == build


def test_torch_cuda_from_its_nvidia_runtime_wheel(tmp_path: Path) -> None:
    site = venv(tmp_path / "venv")
    dist(site, "torch", "2.4.1", ("nvidia-cuda-runtime-cu12==12.4.127",))
    dist(site, "nvidia-cuda-runtime-cu12", "12.4.127")
    torch = one(scan(tmp_path, python=tmp_path / "venv"), "torch")
    assert torch.property(CUDA) == "12.4" and "nvidia-cuda-runtime-cu12 12.4.127" in (torch.property(EVIDENCE) or "")


def test_installed_onnxruntime_gpu_build_info_wins(tmp_path: Path) -> None:
    site = venv(tmp_path / "venv")
    dist(site, "onnxruntime-gpu", "1.19.2")
    write(site / "onnxruntime" / "capi" / "build_and_package_info.py",
          "package_name = 'onnxruntime-gpu'\n__version__ = '1.19.2'\ncuda_version = '12.2'\ncudnn_version = '9.1'\n")
    package = one(scan(tmp_path, python=tmp_path / "venv"), "onnxruntime-gpu")
    assert (package.property(CUDA), package.property(CUDNN), package.property(CUDNN_MAJOR)) == ("12.2", "9.1", "9")


def test_jaxlib_local_version_names_cuda_and_cudnn(tmp_path: Path) -> None:
    inventory = scan(tmp_path, "jax==0.3.25\njaxlib==0.3.25+cuda11.cudnn82\n")
    for key in ("jax", "jaxlib"):
        package = one(inventory, key)
        assert (package.property(CUDA), package.property(CUDNN_MAJOR)) == ("11", "8")


@pytest.mark.parametrize(("setup", "backend"), [
    ({"env": "jax"}, "jax"),
    ({"keras.json": '{"backend": "torch", "floatx": "float32"}'}, "torch"),
    ({}, "tensorflow"),
])
def test_keras_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: dict[str, str], backend: str) -> None:
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    if "env" in setup:
        monkeypatch.setenv("KERAS_BACKEND", setup["env"])
    if "keras.json" in setup:
        write(tmp_path / "project" / ".keras" / "keras.json", setup["keras.json"])
    keras = one(scan(tmp_path, "keras==3.9.0\ntensorflow==2.18.0\ntorch==2.5.1\n"), "keras")
    assert keras.property(KERAS_BACKEND) == backend


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(("name", "version", "cuda", "cudnn_major"), [
    ("tensorflow-2.20.0-linux-x86_64-build_info.py", "2.20.0", "12.5", "9"),
    ("tensorflow-2.12.0-linux-x86_64-build_info.py", "2.12.0", "11.8", "8"),
])
def test_installed_tensorflow_reads_the_real_ordereddict_build_info(tmp_path: Path, name: str, version: str,
                                                                    cuda: str, cudnn_major: str) -> None:
    # The real file of the real wheel (read from PyPI by a ranged request): an
    # OrderedDict([...]), which the dict-literal reader took for a CPU build.
    site = venv(tmp_path / "venv")
    dist(site, "tensorflow", version)
    write(site / "tensorflow" / "python" / "platform" / "build_info.py", (DATA / "frameworks" / name).read_text())
    package = one(scan(tmp_path, python=tmp_path / "venv"), "tensorflow")
    assert (package.property(GPU_BUILD), package.property(CUDA)) == ("cuda", cuda)
    assert package.property(CUDNN_MAJOR) == cudnn_major
    assert package.property(EVIDENCE) == "tensorflow/python/platform/build_info.py"


@pytest.mark.parametrize(("key", "version", "files", "cuda", "cudnn_major"), [
    # 2.2: module-level names, `cuda_version_number = '10'`; the installed cuda_config.h says 10.1.
    ("tensorflow", "2.2.0", {"tensorflow/python/platform/build_info.py": "tensorflow-2.2.0-linux-x86_64-build_info.py",
                             "tensorflow/include/external/local_config_cuda/cuda/cuda/cuda_config.h":
                                 "tensorflow-2.2.0-linux-x86_64-cuda_config.h"}, "10.1", "7"),
    # 2.0: the package lives in tensorflow_core/.
    ("tensorflow-gpu", "2.0.0", {
        "tensorflow_core/python/platform/build_info.py": "tensorflow-gpu-2.0.0-linux-x86_64-build_info.py",
        "tensorflow_core/include/external/local_config_cuda/cuda/cuda/cuda_config.h":
            "tensorflow-gpu-2.0.0-linux-x86_64-cuda_config.h"}, "10.0", "7"),
    # Windows 2.4: 'cuda_version': '64_110' (read as CUDA "64_110" before).
    ("tensorflow-gpu", "2.4.0", {"tensorflow/python/platform/build_info.py":
                                 "tensorflow-gpu-2.4.0-windows-amd64-build_info.py"}, "11.0", "8"),
])
def test_installed_old_tensorflow_reads_the_real_build_files(tmp_path: Path, key: str, version: str,
                                                            files: dict[str, str], cuda: str,
                                                            cudnn_major: str) -> None:
    site = venv(tmp_path / "venv")
    dist(site, key, version)
    for relative, name in files.items():
        write(site / relative, (DATA / "frameworks" / name).read_text())
    package = one(scan(tmp_path, python=tmp_path / "venv"), key)
    assert (package.property(GPU_BUILD), package.property(CUDA)) == ("cuda", cuda)
    assert package.property(CUDNN_MAJOR) == cudnn_major
    assert package.property(EVIDENCE).endswith("python/platform/build_info.py")


def test_jaxlib_old_local_tag_names_cuda(tmp_path: Path) -> None:
    inventory = scan(tmp_path, "jax==0.2.20\njaxlib==0.1.72+cuda111\n")
    package = one(inventory, "jaxlib")
    assert (package.property(GPU_BUILD), package.property(CUDA)) == ("cuda", "11.1")
    assert package.property(CUDNN_MAJOR) is None  # the tag names no cuDNN: not guessed


def test_both_jax_plugins_are_each_their_own_cuda_build(tmp_path: Path) -> None:
    inventory = scan(tmp_path, "jax==0.8.0\njaxlib==0.8.0\njax-cuda12-plugin==0.8.0\njax-cuda13-plugin==0.8.0\n")
    assert one(inventory, "jax-cuda12-plugin").property(CUDA) == "12"
    assert one(inventory, "jax-cuda13-plugin").property(CUDA) == "13"
    assert one(inventory, "jax-cuda13-plugin").property(CUDNN) == "9.12.0.46"


@pytest.mark.parametrize(("version", "build", "cuda"), [("2.10.0", "cpu", None), ("2.11.0", "cuda", "13.0"),
                                                        ("2.15.0", "cuda", "13.2")])
def test_torch_on_linux_aarch64_is_a_cuda_build_from_211(tmp_path: Path, version: str, build: str,
                                                         cuda: str | None) -> None:
    arm = dict(LINUX, platform_machine="aarch64")
    torch = one(scan(tmp_path, f"torch=={version}\n", markers=arm), "torch")
    assert (torch.property(GPU_BUILD), torch.property(CUDA)) == (build, cuda)


def test_torch_cudnn_follows_the_cuda_variant(tmp_path: Path) -> None:
    inventory = scan(tmp_path, "torch==2.7.1+cu128\n")
    assert one(inventory, "torch").property(CUDNN) == "9.7.1.26"  # not the 12.6 wheel's 9.5.1.17


@pytest.mark.parametrize(("build", "version", "companions", "expected"), [
    ("py3.10_cuda11.8_cudnn8.7.0_0", "2.2.1", {}, ("cuda", "11.8", "8.7.0")),
    ("cuda120_py311h6a8b3f1_303", "2.5.1", {"cudnn": "9.3.0.75"}, ("cuda", "12.0", "9.3.0.75")),
    ("py3.11_cpu_0", "2.2.1", {}, ("cpu", None, None)),
    ("cpu_generic_py311h9ea0d0c_3", "2.5.1", {}, ("cpu", None, None)),
    (None, "2.1.0", {"pytorch-cuda": "12.1"}, ("cuda", "12.1", None)),
    (None, "1.12.1", {"cudatoolkit": "11.6"}, ("cuda", "11.6", None)),
    (None, "2.1.0", {}, ("unknown", None, None)),
])
def test_conda_pytorch_build_from_its_build_string_and_companions(
        build: str | None, version: str, companions: dict[str, str],
        expected: tuple[str, str | None, str | None]) -> None:
    from governance.collect.frameworks import annotate

    props = (("mlgov:conda:build", build),) if build else ()
    packages = [Package("pytorch", version, ecosystem="conda", properties=props)]
    packages += [Package(name, v, ecosystem="conda") for name, v in companions.items()]
    (pytorch, *_) = annotate(packages, (), Path("."), LINUX, {})
    assert (pytorch.property(GPU_BUILD), pytorch.property(CUDA), pytorch.property(CUDNN)) == expected


def test_a_real_conda_lock_entry_of_pytorch_for_cuda_118(tmp_path: Path) -> None:
    project = DATA / "lockfiles" / "conda-pytorch-cuda118"
    inventory = collect(ScanOptions(project=project, markers=LINUX))
    (pytorch,) = inventory.by_key("pytorch")
    assert (pytorch.property(GPU_BUILD), pytorch.property(CUDA), pytorch.property(CUDNN)) == ("cuda", "11.8", "8.7.0")


@pytest.mark.parametrize(("requirements", "key", "build", "cuda", "evidence"), [
    # The extra and the index say the CUDA (or CPU) whatever release pip picks.
    ("jax[cuda13]\n", "jax", "cuda", "13", "jax[cuda13]; no version pinned"),
    ("jax[cuda12_pip]\n", "jax", "cuda", "12", "jax[cuda12_pip]"),
    ("jax[cuda12-local]\n", "jax", "cuda", "12", "jax[cuda12-local]"),
    ("jax-cuda13-plugin\n", "jax-cuda13-plugin", "cuda", "13", "the jax-cuda13-plugin package"),
    ("--extra-index-url https://download.pytorch.org/whl/cu130\ntorch\n", "torch", "cuda", "13.0",
     "PyTorch's index https://download.pytorch.org/whl/cu130 (requirements.txt:2)"),
    ("--extra-index-url https://download.pytorch.org/whl/cpu\ntorch\n", "torch", "cpu", None,
     "PyTorch's index https://download.pytorch.org/whl/cpu"),
    ("--index-url https://download.pytorch.org/whl/rocm6.2\ntorch\n", "torch", "rocm", None, "whl/rocm6.2"),
    # pip takes 2.5.1+cu118 from that index over PyPI's 2.5.1 (CUDA 12.4): the index decides.
    ("--extra-index-url https://download.pytorch.org/whl/cu118\ntorch==2.5.1\n", "torch", "cuda", "11.8",
     "whl/cu118"),
    # PyPI's jax and jaxlib are CPU builds: without a CUDA extra or plugin there is no CUDA.
    ("jax\n", "jax", "cpu", None, "no jax-cuda plugin, no CUDA extra"),
    # Nothing says the build of these: the release pip picks decides (tensorflow[and-cuda] 2.14 is
    # CUDA 11.8, 2.15+ CUDA 12; onnxruntime-gpu 1.18 CUDA 11, 1.19+ 12, 1.27+ 13).
    ("torch\n", "torch", "unknown", None, "torch has no version pinned"),
    ("tensorflow[and-cuda]\n", "tensorflow", "unknown", None, "tensorflow has no version pinned"),
    ("onnxruntime-gpu\n", "onnxruntime-gpu", "unknown", None, "onnxruntime-gpu has no version pinned"),
    ("jax[cuda]\n", "jax", "unknown", None, "names no CUDA major"),
    # A range: every release in it the knowledge base holds agrees (2.16-2.18: CUDA 12.3 and 12.5).
    ("tensorflow[and-cuda]>=2.16,<2.19\n", "tensorflow", "cuda", "12", "every tensorflow release in"),
    ("torch>=2.1,<2.5\n", "torch", "cuda", "12.1", "every torch release in"),
    # ...not when a release newer than the knowledge base could match, nor when they disagree.
    ("tensorflow>=2.18\n", "tensorflow", "unknown", None, "no version pinned"),
    ("onnxruntime-gpu>=1.17,<1.20\n", "onnxruntime-gpu", "unknown", None, "no version pinned"),
    # An old release: said older than the knowledge base, not "newer".
    ("torch==1.7.1\n", "torch", "unknown", None, "older than the releases mlgov's knowledge base holds"),
])
def test_an_unpinned_framework_gets_its_build_from_the_extra_or_index_or_says_it_cannot(
        tmp_path: Path, requirements: str, key: str, build: str, cuda: str | None, evidence: str) -> None:
    package = one(scan(tmp_path, requirements), key)
    assert package.property(GPU_BUILD) == build
    assert package.property(CUDA) == cuda
    assert evidence in (package.property(EVIDENCE) or "")


def test_an_unpinned_torch_on_macos_is_a_cpu_build(tmp_path: Path) -> None:
    mac = dict(LINUX, sys_platform="darwin", platform_system="Darwin", platform_machine="arm64")
    package = one(scan(tmp_path, "torch\n", markers=mac), "torch")
    assert package.property(GPU_BUILD) == "cpu"


def test_each_requirements_file_keeps_its_own_pytorch_index(tmp_path: Path) -> None:
    """Alternative files merged into one package: the CUDA one is what the GPU rules must judge, and a
    CPU index named in one file does not make another file's +cu pin look served by it."""
    project = tmp_path / "project"
    write(project / "requirements.txt", "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch\n")
    write(project / "requirements-cuda.txt", "--extra-index-url https://download.pytorch.org/whl/cu126\ntorch\n")
    package = one(collect(ScanOptions(project=project, markers=LINUX)), "torch")
    assert (package.property(GPU_BUILD), package.property(CUDA)) == ("cuda", "12.6")
    assert "requirements-cuda.txt:2" in (package.property(EVIDENCE) or "")
    sources = {p.file: p.source.url if p.source else None for p in package.provenance}
    assert sources == {"requirements.txt": "https://download.pytorch.org/whl/cpu",
                       "requirements-cuda.txt": "https://download.pytorch.org/whl/cu126"}


def test_a_pdm_lock_whose_torch_files_carry_cpu_is_a_cpu_build(shared_dir: Path) -> None:
    """bentoml's pdm.lock: `torch 2.0.1` from PyTorch's CPU index, its Linux and Windows files named
    torch-2.0.1+cpu-...: the installer takes 2.0.1+cpu over PyPI's 2.0.1 (a CUDA 11.7 build)."""
    inventory = collect(ScanOptions(project=shared_dir / "real-projects" / "bentoml-pdm", markers=LINUX))
    package = one(inventory, "torch")
    assert package.version == "2.0.1"
    assert package.property(GPU_BUILD) == "cpu"
    assert "locked wheel files' local version +cpu" in (package.property(EVIDENCE) or "")


@pytest.mark.parametrize(("case", "cuda", "evidence"), [
    ("stable-diffusion", "11.3", "cudatoolkit=11.3 beside it"),  # environment.yaml: cudatoolkit=11.3, pytorch=1.11.0
    ("stylegan3", "11.1", "cudatoolkit=11.1 beside it"),
])
def test_a_conda_environment_file_says_pytorchs_cuda_with_a_fuzzy_cudatoolkit_pin(
        shared_dir: Path, case: str, cuda: str, evidence: str) -> None:
    """conda's `cudatoolkit=11.3` is the fuzzy pin 11.3.*: no single version, but the CUDA it says."""
    package = one(collect(ScanOptions(project=shared_dir / "real-projects" / case, markers=LINUX)), "pytorch")
    assert (package.property(GPU_BUILD), package.property(CUDA)) == ("cuda", cuda)
    assert evidence in (package.property(EVIDENCE) or "")
