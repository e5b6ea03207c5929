"""A fleet: --host takes folders and globs; identical stacks are judged once and findings name every host."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance import fleet
from governance.cli import cli
from governance.errors import InputError
from governance.hostprofile import expand, read_profiles
from governance.model import Gpu, GpuStack, Inventory, Package, Project, Provenance
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from tests.gpu_layout import profile, write

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
TORCH = Package("torch", "2.5.1", provenance=(Provenance("requirements.txt", "requirements", 1, "==2.5.1"),),
                properties=(("mlgov:gpu-build", "cuda"), ("mlgov:cuda", "12.4"), ("mlgov:cudnn-major", "9")))


@pytest.fixture
def no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    import pynvml

    def missing() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    monkeypatch.setattr(pynvml, "nvmlInit", missing)


def _fleet(folder: Path, old: int, new: int) -> Path:
    for i in range(old):
        profile(folder / f"old-{i:03}.json", "470.82.01", host=f"old-{i:03}")
    for i in range(new):
        profile(folder / "racks" / f"new-{i:03}.json", "580.65.06", host=f"new-{i:03}")
    return folder


def test_folders_and_globs_expand_to_the_profiles_in_order(tmp_path: Path) -> None:
    folder = _fleet(tmp_path / "fleet", 2, 2)
    write(folder / "notes.txt", "not a profile")
    assert [p.name for p in expand([folder])] == ["old-000.json", "old-001.json"]  # *.json, not nested
    assert [p.name for p in expand([Path(f"{folder}/**/*.json")])] == \
        ["old-000.json", "old-001.json", "new-000.json", "new-001.json"]
    # a profile reached twice is one host
    assert len(expand([folder, Path(f"{folder}/old-*.json")])) == 2
    assert [s.name for s in read_profiles([Path(f"{folder}/racks/*.json"), folder])] == \
        ["new-000", "new-001", "old-000", "old-001"]


@pytest.mark.parametrize("argument", ["empty", "fleet/*.yaml", "missing/*.json"])
def test_a_folder_or_glob_that_gives_no_profile_is_an_error(tmp_path: Path, argument: str) -> None:
    (tmp_path / "empty").mkdir()
    _fleet(tmp_path / "fleet", 1, 0)
    with pytest.raises(InputError, match="no host profile"):
        read_profiles([tmp_path / argument])


def test_two_profiles_with_one_name_are_an_error(tmp_path: Path) -> None:
    profile(tmp_path / "a.json", "470.82.01", host="same")
    profile(tmp_path / "b.json", "580.65.06", host="same")
    with pytest.raises(InputError, match="two host profiles are named 'same'"):
        read_profiles([tmp_path])


def test_identical_stacks_are_grouped_ignoring_names_and_gpu_uuids() -> None:
    a = GpuStack("a", "470.82.01", gpus=(Gpu(0, "A100", uuid="GPU-1"),))
    b = GpuStack("b", "470.82.01", gpus=(Gpu(0, "A100", uuid="GPU-2"),))
    c = GpuStack("c", "470.82.01", gpus=(Gpu(0, "A100", uuid="GPU-3", compute_capability="8.0"),))
    groups = fleet.group((a, b, c))
    assert [(g.stack.name, g.names) for g in groups] == [("a, b", ("a", "b")), ("c", ("c",))]
    many = tuple(f"node-{i:04}" for i in range(1000))
    shown = fleet.label(many)
    assert shown.startswith("node-0000, node-0001") and shown.endswith("more with the same stack")
    assert len(shown) <= fleet.MAX_LABEL


def test_a_group_is_judged_once_and_its_findings_name_every_host() -> None:
    hosts = tuple(GpuStack(f"old-{i}", "470.82.01") for i in range(50)) + (GpuStack("new", "580.65.06"),)
    inventory = Inventory(project=Project("demo"), packages=(TORCH,), hosts=hosts, sources=("requirements.txt",))
    evaluation = evaluate(inventory, load_policy("production"), NOW)
    gpu001 = [f for f in evaluation.findings if f.rule_id == "GPU001"]
    assert len(gpu001) == 1  # not 50
    (finding,) = gpu001
    assert finding.hosts == tuple(f"old-{i}" for i in range(50))
    assert "old-0, old-1" in finding.message and finding.host in finding.message
    assert evaluation.inventory.hosts == hosts  # the report still lists every host
    # the same verdict and findings as judging each host on its own, per host
    single = evaluate(Inventory(project=Project("demo"), packages=(TORCH,), hosts=hosts[:1],
                                sources=("requirements.txt",)), load_policy("production"), NOW)
    assert [(f.rule_id, f.level) for f in single.findings if f.rule_id.startswith("GPU")] == \
        [(f.rule_id, f.level) for f in evaluation.findings if f.rule_id.startswith("GPU")]


def test_scan_with_a_fleet_folder_reports_every_host(tmp_path: Path, no_nvml: None) -> None:
    write(tmp_path / "project" / "requirements.txt", "torch==2.5.1\n")
    folder = _fleet(tmp_path / "fleet", 3, 2)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "project"), "--host", str(folder),
                                      "--host", f"{folder}/racks/*.json", "--report", str(report)])
    assert result.exit_code == 1, result.output
    data = json.loads(report.read_text())
    assert len(data["hosts"]) == 5
    (gpu001,) = [f for f in data["findings"] if f["rule_id"] == "GPU001"]
    assert gpu001["hosts"] == ["old-000", "old-001", "old-002"] and gpu001["host"] == "old-000, old-001, old-002"
