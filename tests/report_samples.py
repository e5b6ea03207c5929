"""Evaluations built straight from the model, for the report tests.

They carry every kind of finding the rule families make (pins, packages, GPU
per host, vulnerabilities, licences, lockfile drift, waivers), waived ones,
two hosts and hostile metadata, without depending on those families' code.
"""

from __future__ import annotations

from governance.model import (Evaluation, Finding, Gpu, GpuStack, Hash, Inventory, Level, LibraryCopy,
                              Package, Project, Provenance, Vulnerability)

# What a pull request can put in a package's METADATA: each would set the
# page's title if it ever ran.
HOSTILE_SCRIPT = "<script>document.title='pwned'</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.title='pwned'\">"
HOSTILE_NAME = "evil<b>pkg</b>"


def _pinned(file: str, line: int, spec: str, kind: str = "requirements") -> Provenance:
    return Provenance(file=file, kind=kind, line=line, specifier=spec)


def packages() -> tuple[Package, ...]:
    return (
        Package("torch", "2.5.1", summary="Tensors and Dynamic neural networks in Python",
                license_expression="BSD-3-Clause",
                provenance=(_pinned("requirements.txt", 3, ">=2.1"),
                            Provenance(file="<environment>", kind="environment"))),
        Package("numpy", "1.26.4", summary="Fundamental package for array computing",
                license_expression="BSD-3-Clause", hashes=(Hash("sha256", "ab" * 32),),
                provenance=(_pinned("uv.lock", 120, "==1.26.4", "lockfile"),)),
        Package("pillow", "9.0.0", summary="Python Imaging Library (Fork)", license_expression="MIT-CMU",
                provenance=(_pinned("requirements.txt", 7, "==9.0.0"),)),
        Package("tensorflow-gpu", "2.10.0", summary="TensorFlow is an open source machine learning framework",
                license_expression="Apache-2.0", provenance=(_pinned("requirements.txt", 9, "==2.10.0"),)),
        Package(HOSTILE_NAME, "1.0", summary=HOSTILE_SCRIPT, license_text=HOSTILE_IMG,
                provenance=(_pinned("requirements.txt", 11, "==1.0"),)),
    )


def hosts() -> tuple[GpuStack, ...]:
    return (
        GpuStack(name="hosts/h100.json", driver_version="580.159.04", cuda_driver_version="13.0",
                 nvml_version="13.580.159.04",
                 gpus=(Gpu(0, "NVIDIA H100 80GB HBM3", uuid="GPU-4dee87f7-538c-e0a0-5a0d-1d8fb72bf871",
                           compute_capability="9.0", memory_total_bytes=85_520_809_984,
                           mig_mode="disabled", ecc_mode="enabled"),),
                 cuda_runtimes=(LibraryCopy("13.0.96", "toolkit", "/usr/local/cuda-13.0/lib64/libcudart.so.13"),),
                 cudnn=(LibraryCopy("9.14.0", "system", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0",
                                    "cudnn_version.h"),
                        LibraryCopy("9.19.0", "wheel", "site-packages/nvidia/cudnn/lib/libcudnn.so.9",
                                    "dist-info"))),
        GpuStack(name="hosts/old-t4.json", driver_version="470.82.01", cuda_driver_version="11.4",
                 gpus=(Gpu(0, "Tesla T4", compute_capability="7.5", memory_total_bytes=16_106_127_360),)),
    )


def vulnerabilities() -> tuple[Vulnerability, ...]:
    return (
        Vulnerability("CVE-2025-32434", "torch", "2.5.1", aliases=("GHSA-53q9-r3pm-6pq6", "PYSEC-2025-41"),
                      summary="torch.load with weights_only=True can still run code", severity="critical",
                      score=9.8, fixed_versions=("2.6.0",)),
        Vulnerability("CVE-2022-22817", "pillow", "9.0.0", aliases=("GHSA-8vj2-vxx3-667w",),
                      severity="high", fixed_versions=("9.0.1",)),
    )


def findings() -> tuple[Finding, ...]:
    torch_pkg = "pkg:pypi/torch@2.5.1"
    return (
        Finding("PIN001", Level.ERROR, "torch is not pinned to one version (>=2.1) in requirements.txt:3; "
                "pin it with ==2.5.1", component=torch_pkg, package="torch", version="2.5.1",
                file="requirements.txt", line=3, fix="pin torch==2.5.1"),
        Finding("VULN001", Level.ERROR, "torch 2.5.1 is affected by CVE-2025-32434 (critical): "
                "torch.load with weights_only=True can still run code; fixed in 2.6.0",
                component=torch_pkg, package="torch", version="2.5.1", file="requirements.txt", line=3,
                vulnerability="CVE-2025-32434", aliases=("GHSA-53q9-r3pm-6pq6", "PYSEC-2025-41"),
                severity="critical", fix="upgrade torch to 2.6.0"),
        Finding("GPU001", Level.ERROR, "torch 2.5.1+cu124 needs NVIDIA driver >= 525.60.13; "
                "host hosts/old-t4.json has 470.82.01", component=torch_pkg, package="torch",
                version="2.5.1", host="hosts/old-t4.json", fix="upgrade the driver or use a cu118 build"),
        Finding("GPU004", Level.WARNING, "2 cuDNN copies on host hosts/h100.json (9.14.0 system, 9.19.0 wheel); "
                "torch loads the wheel's", host="hosts/h100.json"),
        Finding("PKG002", Level.ERROR, "tensorflow-gpu is denied by the policy (deprecated: use tensorflow)",
                component="pkg:pypi/tensorflow-gpu@2.10.0", package="tensorflow-gpu", version="2.10.0",
                file="requirements.txt", line=9, fix="replace tensorflow-gpu with tensorflow"),
        Finding("LIC002", Level.WARNING, f"{HOSTILE_NAME} has licence {HOSTILE_IMG}, which needs review",
                component="pkg:pypi/evil-b-pkg-b@1.0", package=HOSTILE_NAME, version="1.0",
                file="requirements.txt", line=11),
        Finding("DRIFT001", Level.NOTE, "numpy is 1.26.4 in uv.lock but 1.26.3 is installed",
                component="pkg:pypi/numpy@1.26.4", package="numpy", version="1.26.4", file="uv.lock", line=120),
        Finding("LOCK001", Level.WARNING, "no lockfile: requirements.txt pins versions but not the whole tree"),
        Finding("VULN001", Level.ERROR, "pillow 9.0.0 is affected by CVE-2022-22817 (high); fixed in 9.0.1",
                component="pkg:pypi/pillow@9.0.0", package="pillow", version="9.0.0",
                file="requirements.txt", line=7, vulnerability="CVE-2022-22817",
                aliases=("GHSA-8vj2-vxx3-667w",), severity="high", waived=True,
                waiver_reason="PIL.ImageMath.eval is never called with user input; " + HOSTILE_SCRIPT,
                waiver_owner="ml-platform@example.com", waiver_expires="2027-03-31"),
        Finding("PIN002", Level.ERROR, "pillow==9.0.0 in requirements.txt:7 has no hashes",
                component="pkg:pypi/pillow@9.0.0", package="pillow", version="9.0.0",
                file="requirements.txt", line=7, waived=True, waiver_reason="vendored wheel, hash checked upstream",
                waiver_owner=None, waiver_expires=None),
    )


def evaluation(finding_list: tuple[Finding, ...] | None = None, **changes: object) -> Evaluation:
    inventory = Inventory(
        project=Project("vision-train<script>alert(1)</script>", "0.3.0"), packages=packages(),
        hosts=hosts(), vulnerabilities=vulnerabilities(),
        sources=("requirements.txt", "uv.lock", "<environment>"),
        notes=("setup.cfg was not read: mlgov reads pyproject.toml, requirements files and lockfiles",))
    ordered = tuple(sorted(findings() if finding_list is None else finding_list, key=Finding.sort_key))
    values: dict[str, object] = dict(
        findings=ordered, policy_name="production", policy_digest="sha256:" + "0f" * 32,
        stage="production", inventory=inventory, generated_at="2026-11-24T10:00:00+00:00",
        sbom_digest="sha256:" + "5e" * 32)
    values.update(changes)
    return Evaluation(**values)  # type: ignore[arg-type]


def passing() -> Evaluation:
    only_notes = tuple(f for f in findings() if f.level is Level.NOTE or f.waived)
    return evaluation(only_notes)


def many(count: int) -> Evaluation:
    """A large failing evaluation: `count` findings with long, distinct messages."""
    bulk = tuple(
        Finding("PIN001" if i % 3 else "VULN001", Level.ERROR if i % 2 else Level.WARNING,
                f"package-{i:05d} is not pinned in requirements.txt:{i + 1}; " + "x" * 80,
                component=f"pkg:pypi/package-{i:05d}@1.{i}", package=f"package-{i:05d}", version=f"1.{i}",
                file="requirements.txt", line=i + 1)
        for i in range(count))
    return evaluation(bulk)
