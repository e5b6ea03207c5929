"""Golden files pin the SBOM bytes mlgov writes under --reproducible.

Any change to what the SBOM says, or how, shows up as a diff of these files
in review. Regenerate them on purpose, as cyclonedx-python-lib does with its
snapshots: MLGOV_UPDATE_GOLDEN=1 python -m pytest tests/test_sbom_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.model import (Gpu, GpuStack, Hash, Inventory, LibraryCopy, Package, Project, Provenance, Source,
                              Vulnerability)
from governance.sbom.build import serialise
from governance.sbom.read import parse_sbom
from governance.sbom.validate import validate

GOLDEN = Path(__file__).parent / "data" / "golden"
UPDATE = os.environ.get("MLGOV_UPDATE_GOLDEN") == "1"


def golden_inventory() -> Inventory:
    """Every kind of fact the SBOM carries, some of it hostile."""
    numpy = Package("numpy", "2.1.3", license_expression="BSD-3-Clause", hashes=(Hash("sha256", "ab" * 32),),
                    provenance=(Provenance("uv.lock", "lockfile", 12, hashes=(Hash("sha256", "ab" * 32),)),
                                Provenance("<environment>", "environment")), installer="uv")
    torch = Package(
        "torch", "2.5.1+cu124", summary="Tensors & <dynamic> neural networks", license_expression="BSD-3-Clause",
        requires=("numpy", "nvidia-cudnn-cu12"),
        urls=(("Homepage", "https://pytorch.org"), ("Source", "https://github.com/pytorch/pytorch"),
              ("Docs", "https://example.com/a path/with \"quotes\"")),
        provenance=(Provenance("requirements.txt", "requirements", 3, "==2.5.1", 'sys_platform == "linux"',
                               extras=("cuda",), group="main"),),
        properties=(("mlgov:cuda", "12.4"), ("mlgov:cudnn-major", "9"), ("mlgov:gpu-build", "cuda")))
    cudnn = Package("nvidia-cudnn-cu12", "9.1.0.70", license_text="NVIDIA Proprietary Software",
                    provenance=(Provenance("<environment>", "environment"),))
    mylib = Package("mylib", "0.1.0", source=Source("vcs", "https://git.example.com/mylib.git", "git", "c" * 40),
                    provenance=(Provenance("requirements.txt", "requirements", 5,
                                           source=Source("vcs", "https://git.example.com/mylib.git", "git")),))
    unpinned = Package("requests", None, provenance=(Provenance("requirements.txt", "requirements", 4, ">=2"),))
    conda = Package("cudatoolkit", "11.8.0", ecosystem="conda",
                    provenance=(Provenance("environment.yml", "manifest", 7, "=11.8"),),
                    properties=(("mlgov:conda:channel", "conda-forge"),))
    host = GpuStack(
        name="a100", driver_version="550.54.15", cuda_driver_version="12.4", nvml_version="12.550.54.15",
        gpus=(Gpu(0, "NVIDIA A100-SXM4-80GB", "GPU-0000", "8.0", 85899345920, "disabled", "enabled", "92.00"),),
        cuda_runtimes=(LibraryCopy("12.4.127", "wheel", "/venv/nvidia/cuda_runtime/lib", "dist-info",
                                   "nvidia-cuda-runtime-cu12"),),
        cudnn=(LibraryCopy("9.1.0.70", "wheel", "/venv/nvidia/cudnn/lib", "dist-info", "nvidia-cudnn-cu12"),
               LibraryCopy("8.9.7", "system", "/usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.7", "libcudnn soname")))
    cpu = GpuStack(name="cpu-runner", no_driver_reason="no NVIDIA driver: the NVML library was not found")
    vulnerabilities = (
        Vulnerability("PYSEC-2024-1", "numpy", "2.1.3", source="osv-db:all.zip"),
        Vulnerability("CVE-2025-32434", "torch", "2.5.1+cu124", aliases=("GHSA-53q9-r3pm-6pq6",),
                      summary="torch.load with weights_only=True can run code", severity="critical", score=9.8,
                      vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", fixed_versions=("2.6.0",),
                      references=("https://github.com/advisories/GHSA-53q9-r3pm-6pq6", "javascript:alert(1)"),
                      source="osv-db:all.zip", analysis_state="in_triage",
                      analysis_detail="waived by policy team: no untrusted checkpoints (owner ml-platform)"),
    )
    packages = tuple(sorted((numpy, torch, cudnn, mylib, unpinned, conda),
                            key=lambda p: (p.ecosystem, p.key, p.version or "")))
    return Inventory(project=Project("vision-train", "1.4.0"), packages=packages, hosts=(host, cpu),
                     vulnerabilities=vulnerabilities, sources=("requirements.txt", "uv.lock", "<environment>"),
                     notes=("poetry.lock: not read (no [metadata])",), target="linux-x86_64/py3.11")


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("spec", ["1.5", "1.6", "1.7"])
def test_the_sbom_matches_its_golden_file(fmt: str, spec: str) -> None:
    text = serialise(golden_inventory(), fmt, spec, reproducible=True)
    path = GOLDEN / f"sbom-{spec}.cdx.{fmt}"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    validate(text, fmt, spec)
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed (MLGOV_UPDATE_GOLDEN=1 to accept)"
    assert parse_sbom(text) == _with_escaped_urls(golden_inventory())


def _with_escaped_urls(inventory: Inventory) -> Inventory:
    # The one thing that does not come back as written: a URL that is not a
    # valid IRI is percent-encoded in the SBOM (else the schema refuses it).
    from dataclasses import replace

    from governance.sbom.sections import uri

    return replace(inventory, packages=tuple(replace(p, urls=tuple((label, uri(url)) for label, url in p.urls))
                                             for p in inventory.packages))


def test_json_and_xml_say_the_same() -> None:
    inventory = golden_inventory()
    assert parse_sbom(serialise(inventory, "json", "1.6", reproducible=True)) == \
        parse_sbom(serialise(inventory, "xml", "1.6", reproducible=True))
