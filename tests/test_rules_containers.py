"""IMG001-IMG006 on container fixtures, the image-tag knowledge, and the images in the SBOM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.knowledge import images as image_knowledge
from governance.policy.rules.containers import requirement_holds
from tests.test_check import scan_then_check

DATA = Path(__file__).parent / "data"
CONTAINERS = DATA / "containers"
HOST_470 = str(DATA / "hosts" / "driver470.json")
NOW = {"SOURCE_DATE_EPOCH": "1780000000"}  # 2026-05-28


def scan(project: Path, *options: str, env: dict[str, str] | None = None) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(cli, ["scan", str(project), *options, "--format", "json"], env=env or NOW,
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)["findings"]


def images(findings: list[dict], rule: str) -> list[tuple[str, str | None, int | None]]:
    return [(f["level"], f.get("file"), f.get("line")) for f in findings if f["rule_id"] == rule]


def host(tmp_path: Path, driver: str, name: str = "gpu-box") -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"format": "mlgov-host-profile", "version": 1, "host": name,
                                "nvidia": {"driver_version": driver}}))
    return str(path)


def policy(tmp_path: Path, body: str) -> str:
    path = tmp_path / "policy.toml"
    path.write_text("schema = 1\nextends = ['baseline']\n" + body)
    return str(path)


def test_img001_trusted_globs_with_docker_hub_normalisation(tmp_path: Path) -> None:
    rules = policy(tmp_path, "[containers]\ntrusted = ['nvidia/cuda', 'python', 'registry.local:5000/ml/*', "
                             "'ghcr.io']\n")
    _, findings = scan(CONTAINERS / "compose", "--policy", rules)
    untrusted = [f["package"] for f in findings if f["rule_id"] == "IMG001"]
    # nvidia/cuda (docker.io), python (docker.io/library), the port registry and ghcr.io are trusted.
    assert untrusted == ["docker.io/library/redis"]
    found = next(f for f in findings if f["rule_id"] == "IMG001")
    assert (found["level"], found["file"], found["line"], found["component"]) == (
        "error", "docker-compose.yml", 16, "pkg:docker/redis")


def test_img001_silent_without_a_trusted_list() -> None:
    _, findings = scan(CONTAINERS / "compose", "--policy", "baseline")
    assert not images(findings, "IMG001")


def test_img002_latest_is_always_reported_and_production_requires_digests() -> None:
    _, findings = scan(CONTAINERS / "compose", "--policy", "baseline")
    assert sorted(images(findings, "IMG002")) == [("warning", "docker-compose.yml", 16),
                                                  ("warning", "docker-compose.yml", 18)]
    _, findings = scan(CONTAINERS / "compose", "--policy", "production")
    assert sorted(images(findings, "IMG002")) == [("error", "Dockerfile", 1), ("error", "docker-compose.yml", 2),
                                                  ("error", "docker-compose.yml", 16),
                                                  ("error", "docker-compose.yml", 18),
                                                  ("error", "docker-compose.yml", 25)]


def test_img002_digest_pinned_images_pass_production() -> None:
    _, findings = scan(CONTAINERS / "digest-pinned", "--policy", "production")
    assert not images(findings, "IMG002")


def test_img003_image_cuda_and_cudnn_older_than_the_lock_needs() -> None:
    _, findings = scan(CONTAINERS / "ml-cuda-arg", "--policy", "baseline")
    found = [f["message"] for f in findings if f["rule_id"] == "IMG003"]
    assert len(found) == 2
    assert "brings CUDA 12.1.1, but torch 2.8.0+cu128 is built for CUDA 12.8" in found[0]
    assert "brings cuDNN 8, but torch 2.8.0+cu128 is built for cuDNN 9" in found[1]
    assert images(findings, "IMG003") == [("error", "Dockerfile", 4)] * 2


def test_img003_framework_image_differs_from_the_lock() -> None:
    _, findings = scan(CONTAINERS / "ngc-framework", "--policy", "baseline")
    (found,) = [f for f in findings if f["rule_id"] == "IMG003"]
    assert "ships torch 2.4.0a0+07cecf4168, but the project pins torch 2.5.1+cu124" in found["message"]


def test_img003_matching_image_passes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\n")
    (tmp_path / "requirements.txt").write_text("torch==2.5.1+cu124\n")
    _, findings = scan(tmp_path, "--policy", "baseline")
    assert not images(findings, "IMG003")


def test_img004_against_the_fleet(tmp_path: Path) -> None:
    # Judged per host: the 470 node refuses the CUDA 12.1 image, a 550 node runs it.
    _, findings = scan(CONTAINERS / "ml-cuda-arg", "--policy", "baseline", "--host", HOST_470,
                       "--host", host(tmp_path, "550.54.14"))
    (found,) = [f for f in findings if f["rule_id"] == "IMG004"]
    assert found["host"] == "fleet-r470" and found["level"] == "error"
    assert "NVIDIA_REQUIRE_CUDA='cuda>=12.1'" in found["message"] and "CUDA 11.4" in found["message"]


def test_img004_brand_alternatives_are_a_warning() -> None:
    # The runtime stage declares brand=tesla,driver>=470,driver<471: only data-center GPUs run it there.
    _, findings = scan(CONTAINERS / "multistage", "--policy", "baseline", "--host", HOST_470)
    assert images(findings, "IMG004") == [("warning", "Containerfile", 10)]


def test_img004_framework_image_uses_the_driver_floors(tmp_path: Path) -> None:
    _, findings = scan(CONTAINERS / "framework-images", "--policy", "baseline", "--host", HOST_470)
    assert [f["file"] for f in findings if f["rule_id"] == "IMG004"] == ["Dockerfile.pytorch",
                                                                        "Dockerfile.tensorflow"]
    _, findings = scan(CONTAINERS / "framework-images", "--policy", "baseline", "--host", host(tmp_path, "535.54.03"))
    # 535 runs TF 2.15's CUDA 12.2 fully and CUDA 12.4 only under minor-version compatibility.
    assert images(findings, "IMG004") == [("warning", "Dockerfile.pytorch", 4)]


def test_img005_end_of_life_cuda_tag_depends_on_the_clock() -> None:
    _, findings = scan(CONTAINERS / "eol", "--policy", "baseline")
    (found,) = [f for f in findings if f["rule_id"] == "IMG005"]
    assert found["level"] == "warning" and "past its end of life (by 2023-05-10" in found["message"]
    _, before = scan(CONTAINERS / "eol", "--policy", "baseline", env={"SOURCE_DATE_EPOCH": "1672531200"})  # 2023-01-01
    assert not images(before, "IMG005")


def test_img006_not_judged_takes_the_stage_level() -> None:
    _, findings = scan(CONTAINERS / "unresolved", "--policy", "baseline")
    assert images(findings, "IMG006") == [("warning", "Dockerfile", 2)]
    code, findings = scan(CONTAINERS / "unresolved", "--policy", "production")
    assert images(findings, "IMG006") == [("error", "Dockerfile", 2)] and code == 1
    _, findings = scan(CONTAINERS / "framework-images", "--policy", "baseline")
    assert [f["file"] for f in findings if f["rule_id"] == "IMG006"] == ["Dockerfile.ngc-unknown"]


@pytest.mark.parametrize(("expression", "driver", "cuda", "expected"), [
    ("cuda>=12.4", "550.54.14", "12.4", True),
    ("cuda>=12.4", "470.82.01", "11.4", False),
    # A space is OR: the second alternative holds on a 470 driver, if the GPU is a Tesla.
    ("cuda>=12.4 brand=tesla,driver>=470,driver<471", "470.82.01", "11.4", None),
    # A comma is AND: the driver range fails, so the brand does not matter.
    ("cuda>=12.4 brand=tesla,driver>=470,driver<471", "535.54.03", "12.2", False),
    ("cuda>=11.0 driver>=999", "450.80.02", "11.0", True),
    ("driver>=450,driver<451", "450.80.02", None, True),
])
def test_nvidia_require_cuda_semantics(expression: str, driver: str, cuda: str | None, expected: bool | None) -> None:
    assert requirement_holds(expression, driver, cuda)[0] is expected


@pytest.mark.parametrize(("registry", "repository", "tag", "expected"), [
    ("docker.io", "nvidia/cuda", "12.4.1-cudnn-runtime-ubuntu22.04", ("12.4.1", "9", None, None)),
    ("docker.io", "nvidia/cuda", "11.8.0-cudnn8-devel-ubuntu22.04", ("11.8.0", "8", None, None)),
    ("docker.io", "nvidia/cuda", "12.6.3-base-ubuntu24.04", ("12.6.3", None, None, None)),
    ("docker.io", "pytorch/pytorch", "2.5.1-cuda12.4-cudnn9-runtime", ("12.4", "9", "torch", "2.5.1")),
    ("docker.io", "tensorflow/tensorflow", "2.15.0-gpu", ("12.2", "8.9", "tensorflow", "2.15.0")),
    ("docker.io", "tensorflow/tensorflow", "2.15.0", (None, None, "tensorflow", "2.15.0")),
    ("nvcr.io", "nvidia/pytorch", "24.05-py3", ("12.4.1", "9.1.0.70", "torch", "2.4.0a0+07cecf4168")),
])
def test_image_tag_knowledge(registry: str, repository: str, tag: str,
                             expected: tuple[str | None, str | None, str | None, str | None]) -> None:
    facts = image_knowledge.brings(registry, repository, tag)
    assert facts is not None and facts.source
    assert (facts.cuda, facts.cudnn, facts.framework, facts.framework_version) == expected


@pytest.mark.parametrize(("registry", "repository", "tag"), [
    ("docker.io", "nvidia/cuda", "latest"), ("nvcr.io", "nvidia/pytorch", "19.01-py3"),
    ("docker.io", "library/python", "3.11"), ("docker.io", "pytorch/pytorch", None),
])
def test_unknown_tags_are_not_guessed(registry: str, repository: str, tag: str | None) -> None:
    assert image_knowledge.brings(registry, repository, tag) is None


def test_every_image_fact_names_a_known_source() -> None:
    from governance import knowledge

    known = set(image_knowledge.sources()) | set(knowledge.sources())
    for table, row in image_knowledge.rows():
        cited = row.get("source")
        assert isinstance(cited, list), (table, row)
        if table != "repository" or row.get("scheme") != "ngc":  # NGC rows cite per release
            assert cited, (table, row)
        assert set(cited) <= known, (table, row)


def test_driver_cuda_from_the_toolkit_table() -> None:
    assert image_knowledge.driver_cuda("470.82.01") == "11.4"
    assert image_knowledge.driver_cuda("550.54.14") == "12.4"
    assert image_knowledge.driver_cuda("nonsense") is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("spec", ["1.5", "1.6"])
def test_images_round_trip_through_the_sbom(fmt: str, spec: str) -> None:
    from governance.collect import ScanOptions, collect
    from governance.pipeline import SbomRequest, make_sbom
    from governance.sbom.read import parse_sbom

    for case in ("syntax", "compose", "digest-pinned", "multistage", "unresolved", "ngc-framework"):
        inventory = collect(ScanOptions(project=CONTAINERS / case, include_environment=False))
        text = make_sbom(inventory, SbomRequest(fmt=fmt, spec_version=spec))  # validated against the schema
        assert parse_sbom(text).images == inventory.images, case


def test_sbom_container_components() -> None:
    from governance.collect import ScanOptions, collect
    from governance.pipeline import SbomRequest, make_sbom

    inventory = collect(ScanOptions(project=CONTAINERS / "digest-pinned", include_environment=False))
    document = json.loads(make_sbom(inventory, SbomRequest()))
    (base, uv) = [c for c in document["components"] if c["type"] == "container"]
    assert (base["name"], base["group"], base["version"]) == ("nvidia/cuda", "docker.io",
                                                              "12.4.1-cudnn-runtime-ubuntu22.04")
    assert base["purl"].startswith("pkg:oci/cuda@sha256") and "3f0c19" in base["purl"]
    assert "repository_url=docker.io/nvidia/cuda" in base["purl"]
    assert base["hashes"] == [{"alg": "SHA-256", "content": inventory.images[0].digest.split(":")[1]}]
    shown = {p["name"]: p["value"] for p in base["properties"]}
    assert shown["mlgov:image-cuda"] == "12.4.1" and shown["mlgov:runtime-image"] == "true"
    assert shown["mlgov:stage"] == "0" and shown["mlgov:image-line"] == "2"
    assert uv["version"].startswith("sha256:") and uv["purl"].startswith("pkg:oci/uv@sha256")


@pytest.mark.parametrize(("case", "options", "rules"), [
    ("ml-cuda-arg", ["--host", HOST_470], "baseline"),
    ("ngc-framework", ["--host", HOST_470], "production"),
    ("compose", [], "production"),
    ("multistage", ["--host", HOST_470], "baseline"),
    ("eol", [], "baseline"),
    ("unresolved", [], "production"),
    ("framework-images", ["--host", HOST_470], "stabilization"),
])
def test_check_on_the_sbom_gives_the_scan_findings(tmp_path: Path, case: str, options: list[str],
                                                   rules: str) -> None:
    scan_then_check(CONTAINERS / case, options, rules, None, tmp_path / "sbom.cdx.json")


def test_img003_cudnn_from_a_wheel_is_not_the_images(tmp_path: Path) -> None:
    # torch loads the nvidia-cudnn wheel the lock installs, not the image's cuDNN 8.
    (tmp_path / "Dockerfile").write_text("FROM nvidia/cuda:12.8.1-cudnn8-runtime-ubuntu22.04\n")
    (tmp_path / "requirements.txt").write_text("torch==2.8.0+cu128\nnvidia-cudnn-cu12==9.10.2.21\n")
    _, findings = scan(tmp_path, "--policy", "baseline")
    assert not images(findings, "IMG003")
    (tmp_path / "requirements.txt").write_text("torch==2.8.0+cu128\n")
    _, findings = scan(tmp_path, "--policy", "baseline")
    assert images(findings, "IMG003") == [("error", "Dockerfile", 1)]
