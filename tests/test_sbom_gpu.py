"""sbom/gpu.py: the hosts' GPU stacks go into the SBOM and come back unchanged."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from governance.model import Gpu, GpuStack, Inventory, LibraryCopy, Package, Project, Provenance
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from governance.sbom.build import serialise
from governance.sbom.read import parse_sbom
from governance.sbom.validate import validate

H100 = GpuStack(
    name="h100", driver_version="580.159.04", cuda_driver_version="13.0", nvml_version="13.580.159.04",
    gpus=(Gpu(index=0, name="NVIDIA H100 80GB HBM3", uuid="GPU-4dee87f7-538c-e0a0-5a0d-1d8fb72bf871",
              compute_capability="9.0", memory_total_bytes=85520809984, mig_mode="disabled", ecc_mode="enabled",
              vbios_version="96.00.DA.00.0C"),),
    cuda_runtimes=(LibraryCopy("13.0.96", "system", "/usr/local/cuda-13.0", "libcudart soname, nvcc --version"),
                   LibraryCopy("13.0.96", "wheel", "/venv/nvidia/cu13/lib", "dist-info", "nvidia-cuda-runtime")),
    cudnn=(LibraryCopy("9.14.0", "system", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0", "libcudnn soname"),
           LibraryCopy("9.19.0.56", "wheel", "/venv/nvidia/cudnn/lib", "dist-info", "nvidia-cudnn-cu13"),
           LibraryCopy("9.1.0.70", "conda", "/opt/conda", "conda-meta", "cudnn")),
)
OLD = GpuStack(name="old-fleet", driver_version="470.82.01")
CPU = GpuStack(name="cpu-box", no_driver_reason="no NVIDIA driver: the NVML library was not found")
TORCH = Package("torch", "2.5.1", provenance=(Provenance("requirements.txt", "requirements", 1, "==2.5.1"),),
                properties=(("mlgov:gpu-build", "cuda"), ("mlgov:cuda", "12.4"), ("mlgov:cudnn-major", "9")))
CUDNN_PKG = Package("nvidia-cudnn-cu13", "9.19.0.56", provenance=(Provenance("<environment>", "environment"),))


def inventory() -> Inventory:
    return Inventory(project=Project("demo", "1.0"), packages=(CUDNN_PKG, TORCH), hosts=(H100, OLD, CPU),
                     sources=("requirements.txt",))


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("spec", ["1.5", "1.6"])
def test_hosts_round_trip(fmt: str, spec: str) -> None:
    text = serialise(inventory(), fmt, spec, reproducible=True)
    validate(text, fmt, spec)
    back = parse_sbom(text)
    assert back.hosts == inventory().hosts
    # the cuDNN wheel's component (pkg:pypi) is the host's, not one more package
    assert [p.name for p in back.packages] == ["nvidia-cudnn-cu13", "torch"]


def test_components_have_the_cyclonedx_types_and_purls() -> None:
    import json

    document = json.loads(serialise(inventory(), "json", "1.6", reproducible=True))
    by_ref = {c["bom-ref"]: c for c in document["components"]}
    driver = by_ref["host:0:driver"]
    assert (driver["type"], driver["purl"]) == ("device-driver", "pkg:generic/nvidia-driver@580.159.04")
    gpu = by_ref["host:0:gpu:0"]
    assert gpu["type"] == "device"
    assert {"name": "mlgov:compute-capability", "value": "9.0"} in gpu["properties"]
    assert by_ref["host:0:cuda-runtime:0"]["type"] == "platform"
    assert by_ref["host:0:cudnn:0"]["purl"] == "pkg:generic/cudnn@9.14.0"
    assert by_ref["host:0:cudnn:1"]["purl"] == "pkg:pypi/nvidia-cudnn-cu13@9.19.0.56"
    assert by_ref["host:0:cudnn:2"]["purl"] == "pkg:conda/cudnn@9.1.0.70"
    assert {"name": "mlgov:host", "value": "old-fleet"} in by_ref["host:1:driver"]["properties"]


def test_check_on_the_sbom_reaches_the_same_gpu_findings() -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    policy = load_policy("baseline")
    direct = evaluate(inventory(), policy, now)
    again = evaluate(parse_sbom(serialise(inventory(), "json", "1.6")), policy, now)
    gpu_direct = [(f.rule_id, f.host, f.message) for f in direct.findings if f.rule_id.startswith("GPU")]
    assert {r for r, _, _ in gpu_direct} == {"GPU001", "GPU004"}
    assert gpu_direct == [(f.rule_id, f.host, f.message) for f in again.findings if f.rule_id.startswith("GPU")]


def test_an_sbom_without_hosts_reads_back_without_hosts() -> None:
    text = serialise(Inventory(project=Project("demo"), packages=(TORCH,)), "json", "1.6")
    assert parse_sbom(text).hosts == ()
