"""The issue's "done when": a CI job with no GPU, given the fleet's profile, fails a torch bump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from tests.gpu_layout import profile, write


@pytest.fixture
def no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    import pynvml

    def missing() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    monkeypatch.setattr(pynvml, "nvmlInit", missing)


def test_ci_without_a_gpu_fails_a_torch_bump_the_fleet_cannot_run(tmp_path: Path, no_nvml: None) -> None:
    write(tmp_path / "requirements.txt", "numpy==2.1.3\ntorch==2.5.1\n")
    fleet = profile(tmp_path / "fleet.json", "470.82.01", host="prod-fleet")
    sbom = tmp_path / "sbom.cdx.json"
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--host", str(fleet), "--sbom", str(sbom),
                                      "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert "GPU001" in result.output
    assert "upgrade the driver to ≥ 550.54.14, or pin torch==2.5.1+cu118" in result.output
    findings = json.loads(report.read_text())["findings"]
    (gpu001,) = [f for f in findings if f["rule_id"] == "GPU001"]
    assert gpu001["level"] == "error" and gpu001["component"] == "pkg:pypi/torch@2.5.1"
    document = json.loads(sbom.read_text())
    drivers = [c for c in document["components"] if c["type"] == "device-driver"]
    assert [(d["name"], d["purl"]) for d in drivers] == [("nvidia-driver", "pkg:generic/nvidia-driver@470.82.01")]
    checked = CliRunner().invoke(cli, ["check", str(sbom), "--format", "json"])
    assert checked.exit_code == 1
    assert [f["rule_id"] for f in json.loads(checked.output)["findings"] if f["rule_id"].startswith("GPU")] \
        == ["GPU001"]


def test_the_same_scan_passes_on_a_driver_that_runs_it(tmp_path: Path, no_nvml: None) -> None:
    write(tmp_path / "requirements.txt", "torch==2.5.1\n")
    fleet = profile(tmp_path / "fleet.json", "550.54.14")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--host", str(fleet)])
    assert result.exit_code == 0, result.output
    assert "GPU" not in result.output


def test_without_a_profile_the_scan_notes_it(tmp_path: Path, no_nvml: None) -> None:
    write(tmp_path / "requirements.txt", "torch==2.5.1\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "GPU006" in result.output and "no host profile" in result.output


@pytest.mark.parametrize(("text", "complaint"), [
    ("{", "invalid JSON"),
    ('{"format": "other", "version": 1, "nvidia": null}', "not a host profile"),
    ('{"format": "mlgov-host-profile", "version": 2, "nvidia": null}', "unsupported version"),
    ('{"format": "mlgov-host-profile", "version": 1, "nvidia": {"driver_version": 470}}', "nvidia.driver_version"),
    ('{"format": "mlgov-host-profile", "version": 1, "nvidia": {"driver": "470"}}', "unknown key"),
    ('{"format": "mlgov-host-profile", "version": 1, "nvidia": {"driver_version": "latest"}}', "not a driver version"),
    ('{"format": "mlgov-host-profile", "version": 1, "nvidia": null, "cudnn": [{"version": "9", "origin": "x"}]}',
     "cudnn[0].origin"),
])
def test_a_bad_profile_is_exit_2_naming_the_file(tmp_path: Path, text: str, complaint: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from governance.cli import main

    write(tmp_path / "requirements.txt", "torch==2.5.1\n")
    bad = write(tmp_path / "bad.json", text)
    with pytest.raises(SystemExit) as stop:
        main(["scan", str(tmp_path), "--host", str(bad)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and complaint in err and "Traceback" not in err


def test_bad_profile_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from governance.cli import main

    bad = write(tmp_path / "bad.json", '{"format": "mlgov-host-profile", "version": 1, "nvidia": {"driver_version": 470}}')
    with pytest.raises(SystemExit):
        main(["scan", str(tmp_path), "--host", str(bad)])
    err = capsys.readouterr().err
    assert "bad.json: nvidia.driver_version: expected a string" in err and "Traceback" not in err


def test_scan_of_a_conda_lock_against_a_driver_470_host(tmp_path: Path) -> None:
    # conda-forge's pytorch 2.5.1 for CUDA 12.4 cannot use the GPU on R470 (below CUDA 12's 525.60.13 floor);
    # the pytorch channel's CUDA 11.8 build runs there only under minor-version compatibility (11.x floor
    # 450.80.02) and fails a production gate (R470 is end of life; the policy wants >= 580).
    data = Path(__file__).parent / "data"
    host = str(data / "hosts" / "driver470.json")
    runner = CliRunner()
    result = runner.invoke(cli, ["scan", str(data / "lockfiles" / "conda"), "--host", host, "--format", "json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["findings"]
    assert any(f["rule_id"] == "GPU001" and "pytorch 2.5.1" in f["message"] and "CUDA 12.4" in f["message"]
               for f in findings)
    result = runner.invoke(cli, ["scan", str(data / "lockfiles" / "conda-pytorch-cuda118"), "--host", host,
                                  "--policy", "production", "--format", "json"])
    assert result.exit_code == 1, result.output
    by_rule = {f["rule_id"]: f for f in json.loads(result.output)["findings"]}
    assert "CUDA 11.8" in by_rule["GPU002"]["message"] and by_rule["GPU002"]["level"] == "warning"
    assert by_rule["EOL001"]["level"] == "error" and "R470" in by_rule["EOL001"]["message"]
    assert by_rule["GPU005"]["level"] == "error"


def test_keras_unpinned_cuda_13_builds_fail_on_a_driver_470_host(shared_dir: Path) -> None:
    """keras's requirements-jax-cuda.txt has `jax[cuda13]` and requirements-torch-cuda.txt
    `--extra-index-url .../whl/cu130` + `torch`, neither with a version: both are CUDA 13 builds
    whatever release pip picks, and CUDA 13 needs driver >= 580 (once: no GPU finding at all)."""
    host = str(Path(__file__).parent / "data" / "hosts" / "driver470.json")
    result = CliRunner().invoke(cli, ["scan", str(shared_dir / "real-projects" / "keras"), "--host", host,
                                      "--format", "json"])
    assert result.exit_code == 1, result.output
    failing = {f["component"]: f["message"] for f in json.loads(result.output)["findings"] if f["rule_id"] == "GPU001"}
    assert "CUDA 13," in failing["pkg:pypi/jax"] and "jax[cuda13]" in failing["pkg:pypi/jax"]
    assert "CUDA 13.0" in failing["pkg:pypi/torch"] and "requirements-torch-cuda.txt:7" in failing["pkg:pypi/torch"]
    assert all("≥ 580" in message for message in (failing["pkg:pypi/jax"], failing["pkg:pypi/torch"]))


def test_a_team_that_refuses_minor_version_compatibility_fails_the_cuda_118_build_on_r470(tmp_path: Path) -> None:
    """docs/gpu.md: CUDA 11.8 on 470.82.01 runs under minor-version compatibility (GPU002, a warning);
    `[rules] GPU002 = "error"` makes the same scan fail at any stage."""
    data = Path(__file__).parent / "data"
    policy = tmp_path / "team.toml"
    policy.write_text('schema = 1\nextends = ["baseline"]\n\n[rules]\nGPU002 = "error"\n')
    result = CliRunner().invoke(cli, ["scan", str(data / "lockfiles" / "conda-pytorch-cuda118"), "--host",
                                      str(data / "hosts" / "driver470.json"), "--policy", str(policy),
                                      "--format", "json"])
    assert result.exit_code == 1, result.output
    gpu002 = [f for f in json.loads(result.output)["findings"] if f["rule_id"] == "GPU002"]
    assert gpu002 and gpu002[0]["level"] == "error" and "CUDA 11.8" in gpu002[0]["message"]
