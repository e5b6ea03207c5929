"""policy/rules/gpu.py: GPU001-GPU006 on real-looking projects, environments and host profiles."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from governance.collect import ScanOptions, collect
from governance.collect.host import probe
from governance.hostprofile import read_profile
from governance.model import Evaluation, Finding, GpuStack, LibraryCopy
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from tests.gpu_layout import dist, h100_root, h100_site, profile, venv, write

LINUX = {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux",
         "python_version": "3.12", "python_full_version": "3.12.3", "os_name": "posix",
         "implementation_name": "cpython", "platform_python_implementation": "CPython"}
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def judge(tmp_path: Path, requirements: str = "", hosts: tuple[GpuStack, ...] = (), python: Path | None = None,
          policy: str = "baseline") -> Evaluation:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    if requirements:
        write(project / "requirements.txt", requirements)
    inventory = collect(ScanOptions(project=project, python=python, markers=LINUX, hosts=hosts))
    return evaluate(inventory, load_policy(policy), NOW)


def gpu(evaluation: Evaluation) -> list[Finding]:
    return [f for f in evaluation.findings if f.rule_id.startswith("GPU")]


def host_with(tmp_path: Path, driver: str | None, name: str = "fleet", **extra: object) -> GpuStack:
    return read_profile(profile(tmp_path / f"{name}.json", driver, host=name, **extra))


def test_torch_251_on_driver_470_cannot_run(tmp_path: Path) -> None:
    evaluation = judge(tmp_path, "torch==2.5.1\n", (host_with(tmp_path, "470.82.01"),))
    (finding,) = gpu(evaluation)
    assert (finding.rule_id, finding.level.value, finding.host) == ("GPU001", "error", "fleet")
    assert "CUDA 12.4" in finding.message and "470.82.01" in finding.message
    assert "upgrade the driver to ≥ 550.54.14, or pin torch==2.5.1+cu118" in finding.message
    assert (finding.file, finding.line) == ("requirements.txt", 1)
    assert evaluation.failed


def test_torch_251_on_driver_525_runs_under_minor_version_compatibility(tmp_path: Path) -> None:
    evaluation = judge(tmp_path, "torch==2.5.1\n", (host_with(tmp_path, "525.60.13"),))
    (finding,) = gpu(evaluation)
    assert (finding.rule_id, finding.level.value) == ("GPU002", "warning")
    assert "minor-version compatibility" in finding.message
    assert "upgrade the driver to ≥ 550.54.14, or pin torch==2.5.1+cu118" in finding.message
    assert not evaluation.failed


def test_torch_251_on_driver_550_is_clean(tmp_path: Path) -> None:
    assert gpu(judge(tmp_path, "torch==2.5.1\n", (host_with(tmp_path, "550.54.14"),))) == []


def test_a_fleet_fails_when_one_host_fails(tmp_path: Path) -> None:
    hosts = (host_with(tmp_path, "580.65.06", "new"), host_with(tmp_path, "470.82.01", "old"))
    findings = gpu(judge(tmp_path, "torch==2.5.1\n", hosts))
    assert [(f.rule_id, f.host) for f in findings] == [("GPU001", "old")]


def test_a_host_without_a_driver_cannot_run_a_cuda_build(tmp_path: Path) -> None:
    stack = host_with(tmp_path, None, no_driver_reason="no NVIDIA driver")
    (finding,) = gpu(judge(tmp_path, "torch==2.5.1\n", (stack,)))
    assert finding.rule_id == "GPU001" and "has no NVIDIA driver" in finding.message


def test_cpu_build_is_never_judged_against_the_driver(tmp_path: Path) -> None:
    assert gpu(judge(tmp_path, "torch==2.5.1+cpu\n", (host_with(tmp_path, "470.82.01"),))) == []


def test_onnxruntime_gpu_117_needs_cudnn_8_where_only_9_exists(tmp_path: Path) -> None:
    stack = host_with(tmp_path, "550.54.14", cudnn=[
        {"version": "9.1.0", "origin": "system", "path": "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.1.0"}])
    findings = gpu(judge(tmp_path, "onnxruntime-gpu==1.17.1\n", (stack,)))
    (finding,) = [f for f in findings if f.rule_id == "GPU003"]
    assert finding.level.value == "error" and finding.package == "onnxruntime-gpu"
    assert "built for cuDNN 8" in finding.message and "9.1.0 (system" in finding.message
    assert "onnxruntime-gpu>=1.19.0" in finding.message


def test_onnxruntime_gpu_120_with_cudnn_9_is_fine(tmp_path: Path) -> None:
    stack = host_with(tmp_path, "550.54.14", cudnn=[{"version": "9.1.0", "origin": "system"}])
    assert [f.rule_id for f in gpu(judge(tmp_path, "onnxruntime-gpu==1.20.2\n", (stack,)))] == []


def test_the_h100_layout_names_both_cudnn_copies_and_which_one_torch_loads(tmp_path: Path, shared_dir: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.gpu_layout import FakeNvml, h100_reading

    FakeNvml(h100_reading(shared_dir)).install(monkeypatch)
    site = venv(tmp_path / "venv")
    h100_site(site)
    stack = probe(root=h100_root(tmp_path / "root"), site_packages=(site,), name="h100")
    evaluation = judge(tmp_path, hosts=(stack,), python=tmp_path / "venv")
    findings = gpu(evaluation)
    assert [f.rule_id for f in findings] == ["GPU004"]
    message = findings[0].message
    assert "2 cuDNN copies" in message
    assert "9.14.0 (system, /usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0)" in message
    assert "9.19.0.56 (wheel, nvidia-cudnn-cu13" in message
    assert "torch loads 9.19.0.56, the wheel's copy, which torch preloads" in message


def policy_file(tmp_path: Path, gpu_table: str) -> str:
    path = write(tmp_path / "policy.toml", f"schema = 1\nname = \"gpu-pins\"\n[gpu]\n{gpu_table}\n")
    return str(path)


@pytest.mark.parametrize(("table", "requirements", "driver", "expected"), [
    ('driver = ">=550"', "torch==2.5.1\n", "535.104.05", "the policy requires driver >=550"),
    ('cuda = "==12.1.*"', "torch==2.5.1\n", "550.54.14", "the policy requires cuda ==12.1.*"),
    ('cudnn = "==9.5.*"', "torch==2.5.1\n", "550.54.14", "loads cuDNN 9.1.0.70"),
    ('require_gpu_build = ["torch"]', "torch==2.5.1+cpu\n", "550.54.14", "torch==2.5.1+cu124"),
])
def test_policy_pins(tmp_path: Path, table: str, requirements: str, driver: str, expected: str) -> None:
    stack = host_with(tmp_path, driver, cudnn=[{"version": "9.1.0.70", "origin": "wheel",
                                                "package": "nvidia-cudnn-cu12"}])
    findings = [f for f in gpu(judge(tmp_path, requirements, (stack,), policy=policy_file(tmp_path, table)))
                if f.rule_id == "GPU005"]
    assert len(findings) == 1 and expected in findings[0].message, findings


def test_policy_pins_that_hold_give_nothing(tmp_path: Path) -> None:
    table = 'driver = ">=550"\ncuda = "==12.4.*"\nrequire_gpu_build = ["torch"]'
    stack = host_with(tmp_path, "550.54.14")
    assert gpu(judge(tmp_path, "torch==2.5.1\n", (stack,), policy=policy_file(tmp_path, table))) == []


def test_no_host_profile_is_not_judged_and_an_error_when_required(tmp_path: Path) -> None:
    # GPU006 is a "not judged" finding: its level is the stage's (warning before production, error at it).
    (warning,) = gpu(judge(tmp_path, "torch==2.5.1\n"))
    assert (warning.rule_id, warning.level.value) == ("GPU006", "warning") and "no host profile" in warning.message
    at_production = judge(tmp_path, "torch==2.5.1\n", policy="production")
    assert [(f.rule_id, f.level.value) for f in gpu(at_production)] == [("GPU006", "error")]
    required = judge(tmp_path, "torch==2.5.1\n", policy=policy_file(tmp_path, "require_host_profile = true"))
    (error,) = gpu(required)
    assert (error.rule_id, error.level.value) == ("GPU006", "error") and required.failed


def test_no_gpu_framework_and_no_host_says_nothing(tmp_path: Path) -> None:
    assert gpu(judge(tmp_path, "requests==2.32.3\n")) == []


def test_two_cudnn_wheels_in_one_environment_without_a_host(tmp_path: Path) -> None:
    site = venv(tmp_path / "venv")
    dist(site, "nvidia-cudnn-cu12", "9.1.0.70")
    dist(site, "nvidia-cudnn-cu13", "9.19.0.56")
    findings = gpu(judge(tmp_path, python=tmp_path / "venv"))
    assert [f.rule_id for f in findings] == ["GPU004"]
    assert "the environment has 2 cuDNN copies" in findings[0].message


def test_loaded_copy_prefers_the_wheel_for_torch_and_the_system_for_onnxruntime() -> None:
    from governance.model import Package
    from governance.policy.rules.gpu import loaded_copy

    copies = [LibraryCopy("9.14.0", "system", "/usr/lib/libcudnn.so.9.14.0"),
              LibraryCopy("9.19.0.56", "wheel", package="nvidia-cudnn-cu13")]
    assert loaded_copy(Package("torch", "2.11.0"), copies, "9").version == "9.19.0.56"
    assert loaded_copy(Package("onnxruntime-gpu", "1.20.1"), copies, "9").version == "9.14.0"
    assert loaded_copy(Package("onnxruntime-gpu", "1.17.1"), copies, "8") is None


@pytest.mark.parametrize("line", ["torch==2.99.0", "tensorflow==2.99.0", "onnxruntime-gpu==1.99.0"])
def test_an_unknown_release_is_said_not_passed(tmp_path: Path, line: str) -> None:
    findings = gpu(judge(tmp_path, line + "\n"))
    (unknown,) = [f for f in findings if f.rule_id == "GPU007"]
    assert unknown.file == "requirements.txt" and unknown.line == 1
    assert "could not judge" in unknown.message and "update mlgov" in unknown.message
    assert unknown.level.value == "warning"  # baseline: no [coverage] not_judged
    # ...and the no-host-profile note does not disappear because the build is unknown.
    assert any(f.rule_id == "GPU006" and line.split("==")[0] in f.message for f in findings)


@pytest.mark.parametrize(("version", "names"), [
    # PyTorch published 2.0.1 as +cu117 and +cu118 only; 1.12.1 as +cu102/+cu113/+cu116; 1.8.1's
    # common tag with 1.8.0 is +cu111 (previous-versions page): never the newest series' cu126.
    ("2.0.1", "torch==2.0.1+cu118 from https://download.pytorch.org/whl/cu118"),
    ("1.12.1", "torch==1.12.1+cu116 from https://download.pytorch.org/whl/cu116"),
    ("1.8.1", "torch==1.8.1+cu111 from https://download.pytorch.org/whl/cu111"),
    ("1.4.0", None),  # a series the knowledge base does not list: no tag is named at all
])
def test_the_torch_build_advice_names_only_builds_that_release_has(version: str, names: str | None) -> None:
    from governance.policy.rules.gpu import _torch_cuda_pin

    assert _torch_cuda_pin(version) == names


@pytest.mark.parametrize(("line", "names", "not_named"), [
    ("torch==1.7.1", "mlgov's knowledge base does not list the builds of that release", "torch==1.7.1+cu"),
    ("torch==1.4.0", "mlgov's knowledge base does not list the builds of that release", "torch==1.4.0+cu"),
])
def test_gpu007_advice_names_only_builds_that_release_has(tmp_path: Path, line: str, names: str,
                                                          not_named: str) -> None:
    (unknown,) = [f for f in gpu(judge(tmp_path, line + "\n")) if f.rule_id == "GPU007"]
    assert names in unknown.message
    assert not_named not in unknown.message
    # Older than the knowledge base: updating mlgov would not help, so it is not suggested.
    assert "update mlgov" not in unknown.message and "older than the releases" in unknown.message


@pytest.mark.parametrize("line", ["torch==2.0.1", "torch==1.12.1", "torch==1.8.1", "tensorflow==2.4.0",
                                  "tensorflow-gpu==2.4.0"])
def test_pypi_releases_older_than_21_are_judged_now(tmp_path: Path, line: str) -> None:
    # Once GPU007 ("older than the releases mlgov's knowledge base holds"): now read from PyPI's wheels.
    findings = gpu(judge(tmp_path, line + "\n", (host_with(tmp_path, "470.82.01"),)))
    assert not [f for f in findings if f.rule_id == "GPU007"]


def test_tensorflow_gpu_212_is_said_to_be_a_placeholder_not_a_release_to_update_for(tmp_path: Path) -> None:
    (unknown,) = [f for f in gpu(judge(tmp_path, "tensorflow-gpu==2.12.0\n")) if f.rule_id == "GPU007"]
    assert "refuses to install" in unknown.message
    assert "install tensorflow==2.12.0 instead" in unknown.message and "update mlgov" not in unknown.message


def test_an_old_tensorflow_gpu_is_judged_against_the_driver(tmp_path: Path) -> None:
    # tensorflow-gpu 2.4.0: CUDA 11.0 (its wheel's build_info.py), whose GA needs 450.51.05; 11.x has
    # minor-version compatibility only from 450.80.02 on, which 11.0 GA predates: below 450.51.05 it fails.
    failing = [f for f in gpu(judge(tmp_path, "tensorflow-gpu==2.4.0\n", (host_with(tmp_path, "440.33"),)))
               if f.rule_id == "GPU001"]
    assert failing and "CUDA 11.0" in failing[0].message
    assert not [f for f in gpu(judge(tmp_path, "tensorflow-gpu==2.4.0\n", (host_with(tmp_path, "470.82.01"),)))
                if f.rule_id in ("GPU001", "GPU002", "GPU007")]


def test_gpu007_for_an_unpinned_torch_asks_for_a_pin_or_an_index(tmp_path: Path) -> None:
    (unknown,) = [f for f in gpu(judge(tmp_path, "torch\n")) if f.rule_id == "GPU007"]
    assert "torch (no version pinned)" in unknown.message or "torch has no version pinned" in unknown.message
    assert "pin torch to a release" in unknown.message and "https://download.pytorch.org/whl/cuXYZ" in unknown.message
    assert "update mlgov" not in unknown.message


@pytest.mark.parametrize(("requirements", "package", "cuda"), [
    ("jax[cuda13]\n", "jax", "CUDA 13"),
    ("--extra-index-url https://download.pytorch.org/whl/cu130\ntorch\n", "torch", "CUDA 13.0"),
])
def test_an_unpinned_cuda_13_build_fails_on_driver_470(tmp_path: Path, requirements: str, package: str,
                                                       cuda: str) -> None:
    findings = gpu(judge(tmp_path, requirements, (host_with(tmp_path, "470.82.01"),)))
    (failing,) = [f for f in findings if f.rule_id == "GPU001"]
    assert failing.package == package and cuda in failing.message and "≥ 580" in failing.message
    assert "(no version pinned)" in failing.message


def test_a_cuda_10_build_is_judged_against_its_toolkit_minimum(tmp_path: Path) -> None:
    """CUDA 10.x has no minor-version compatibility: below 10.2's 440.33 it does not run (GPU001)."""
    findings = gpu(judge(tmp_path, "torch==1.12.1+cu102\n", (host_with(tmp_path, "430.64"),)))
    (failing,) = [f for f in findings if f.rule_id == "GPU001"]
    assert "CUDA 10.2" in failing.message and "≥ 440.33" in failing.message
    assert not [f for f in gpu(judge(tmp_path, "torch==1.12.1+cu102\n", (host_with(tmp_path, "440.33"),)))
                if f.rule_id in ("GPU001", "GPU002")]


def test_require_gpu_build_advice_names_a_build_of_that_release(tmp_path: Path) -> None:
    findings = gpu(judge(tmp_path, "torch==2.0.1+cpu\n", policy=policy_file(tmp_path, 'require_gpu_build = ["torch"]')))
    (pin,) = [f for f in findings if f.rule_id == "GPU005"]
    assert "torch==2.0.1+cu118" in pin.message and "cu124" not in pin.message


def test_an_unknown_release_is_an_error_at_production(tmp_path: Path) -> None:
    findings = gpu(judge(tmp_path, "torch==2.99.0\n", policy="production"))
    (unknown,) = [f for f in findings if f.rule_id == "GPU007"]
    assert unknown.level.value == "error"


def test_a_lock_with_both_jax_plugins_needs_the_cuda_13_driver(tmp_path: Path) -> None:
    stack = host_with(tmp_path, "550.54.14")
    findings = gpu(judge(tmp_path, "jax==0.8.0\njax-cuda12-plugin==0.8.0\njax-cuda13-plugin==0.8.0\n", (stack,)))
    failing = [f for f in findings if f.rule_id == "GPU001"]
    assert [f.package for f in failing] == ["jax-cuda13-plugin"]
    assert "580" in failing[0].message


def test_eol_driver_branch_is_an_error_at_production_and_a_note_elsewhere(tmp_path: Path) -> None:
    stack = host_with(tmp_path, "550.54.14")
    production = [f for f in judge(tmp_path, "torch==2.5.1\n", (stack,), policy="production").findings
                  if f.rule_id == "EOL001"]
    assert [f.level.value for f in production] == ["error"] and "R550" in production[0].message
    baseline = [f for f in judge(tmp_path, "torch==2.5.1\n", (stack,)).findings if f.rule_id == "EOL001"]
    assert [f.level.value for f in baseline] == ["note"]


def test_a_supported_driver_branch_is_not_eol(tmp_path: Path) -> None:
    stack = host_with(tmp_path, "580.95.05")
    findings = judge(tmp_path, "torch==2.5.1\n", (stack,), policy="production").findings
    assert not [f for f in findings if f.rule_id == "EOL001"]
    assert not [f for f in findings if f.rule_id == "GPU005" and "driver" in f.message]


def test_eol_is_judged_on_the_evaluations_day() -> None:
    from governance import knowledge

    r535 = knowledge.driver_branch_eol("535.183.01")
    assert r535 is not None and not r535.ended("2026-05-31") and r535.ended("2026-06-01")
    python = knowledge.python_eol("3.10.14")
    assert python is not None and python.ended("2026-12-02") and not python.ended("2026-09-30")


def _lock(tmp_path: Path, text: str) -> Evaluation:
    project = tmp_path / "project"
    write(project / "uv.lock", text)
    inventory = collect(ScanOptions(project=project, markers=LINUX))
    return evaluate(inventory, load_policy("baseline"), NOW)


UV_TORCH = '''version = 1
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [{{ name = "torch" }}]

[[package]]
name = "torch"
version = "{version}"
source = {{ registry = "{index}" }}
wheels = [{{ url = "{index_files}/torch-{version}-cp311-none-macosx_11_0_arm64.whl", hash = "sha256:{digest}" }}]
'''


def test_a_linux_cuda_torch_locked_without_its_nvidia_libraries(tmp_path: Path) -> None:
    text = UV_TORCH.format(version="2.5.1", index="https://pypi.org/simple", index_files="https://files.example",
                           digest="0" * 64)
    findings = [f for f in gpu(_lock(tmp_path, text)) if f.rule_id == "GPU008"]
    assert len(findings) == 1 and "nvidia-*" in findings[0].message and findings[0].file == "uv.lock"


def test_a_torch_that_bundles_its_cuda_libraries_needs_no_nvidia_wheels_in_the_lock(tmp_path: Path) -> None:
    # PyPI's torch 1.12.1 (CUDA 10.2) bundles libcudart and links cuDNN in: it requires no nvidia-* wheel,
    # so a lock without them is complete (cleanrl's poetry.lock); 2.0.1 requires nvidia-*-cu11 ones.
    text = UV_TORCH.format(version="1.12.1", index="https://pypi.org/simple", index_files="https://files.example",
                           digest="0" * 64)
    assert not [f for f in gpu(_lock(tmp_path / "old", text)) if f.rule_id == "GPU008"]
    text = UV_TORCH.format(version="2.0.1", index="https://pypi.org/simple", index_files="https://files.example",
                           digest="0" * 64)
    assert len([f for f in gpu(_lock(tmp_path / "new", text)) if f.rule_id == "GPU008"]) == 1


def test_a_cuda_local_version_without_pytorchs_index(tmp_path: Path) -> None:
    text = UV_TORCH.format(version="2.5.1+cu124", index="https://pypi.org/simple",
                           index_files="https://files.example", digest="0" * 64)
    findings = [f for f in gpu(_lock(tmp_path, text)) if f.rule_id == "GPU008"]
    assert any("download.pytorch.org/whl/cu124" in f.message for f in findings)
    ok = UV_TORCH.format(version="2.5.1+cu124", index="https://download.pytorch.org/whl/cu124",
                         index_files="https://download.pytorch.org/whl/cu124", digest="0" * 64)
    assert not [f for f in gpu(_lock(tmp_path / "ok", ok)) if "download.pytorch.org" in f.message
                and f.rule_id == "GPU008"]


def test_a_cuda_pin_in_requirements_needs_pytorchs_index(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    missing = [f for f in gpu(judge(tmp_path / "a", "torch==2.5.1+cu124\n")) if f.rule_id == "GPU008"]
    assert len(missing) == 1 and "https://download.pytorch.org/whl/cu124" in missing[0].message
    assert missing[0].file == "requirements.txt" and missing[0].line == 1
    served = judge(tmp_path / "b", "--extra-index-url https://download.pytorch.org/whl/cu124\ntorch==2.5.1+cu124\n")
    assert not [f for f in gpu(served) if f.rule_id == "GPU008"]


@pytest.mark.parametrize(("driver", "last_day", "first_day_without"), [
    # NVIDIA's R620 edition of its driver table: R595 Production Branch to March 2027, R620 LTS to
    # September 2029, R580 LTS to June 2028 (moved from August); the R615 edition: R610 to August 2026.
    ("595.71.05", "2027-02-28", "2027-03-01"),
    ("620.10.01", "2029-08-31", "2029-09-01"),
    ("580.95.05", "2028-05-31", "2028-06-01"),
    ("610.43.02", "2026-07-31", "2026-08-01"),
])
def test_newer_driver_branches_have_their_published_end_of_life(driver: str, last_day: str,
                                                                first_day_without: str) -> None:
    from governance import knowledge

    branch = knowledge.driver_branch_eol(driver)
    assert branch is not None and not branch.ended(last_day) and branch.ended(first_day_without)


def test_a_new_feature_branch_without_a_published_date_is_not_given_one() -> None:
    """R590 is a New Feature Branch: NVIDIA lists no end of life for it, so mlgov invents none."""
    from governance import knowledge

    assert knowledge.driver_branch_eol("590.48.01") is None


def test_a_cuda_the_driver_table_does_not_hold_is_said_not_judged(tmp_path: Path) -> None:
    """torch 1.7.1+cu92 is a CUDA 9.2 build; cuda.toml starts at 10.0: GPU007, never a silent pass."""
    findings = gpu(judge(tmp_path, "torch==1.7.1+cu92\n", (host_with(tmp_path, "390.157"),)))
    (unknown,) = [f for f in findings if f.rule_id == "GPU007"]
    assert "CUDA 9.2" in unknown.message and "could not be judged" in unknown.message
    assert not [f for f in findings if f.rule_id in ("GPU001", "GPU002")]
