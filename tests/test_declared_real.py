"""What a project declares, read from real projects' files (../shared/real-projects).

Components only for what is installed on the target, with the version the lock gives: a line
for another target never creates a component or lends its version; a manifest beside the lock
compiled from it joins the locked package (DRIFT004 when the lock no longer satisfies it);
dependencies that pyproject.toml takes from files (`dynamic`) are read from those files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.collect.target import target_markers

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "real-projects"
TARGET = ("--target-platform", "linux-x86_64", "--target-python", "3.11")


def _case(name: str) -> Path:
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the real-project corpus must sit beside the checkout")
    return folder


def _inventory(folder: Path, python: str = "3.11"):  # type: ignore[no-untyped-def]
    from governance.collect import ScanOptions, collect

    return collect(ScanOptions(project=folder, markers=target_markers("linux-x86_64", python, {}),
                               include_environment=False))


def _scan(folder: Path, tmp_path: Path, *args: str) -> tuple[int, dict, dict]:
    """(exit code, JSON report, SBOM) of `mlgov scan` for linux-x86_64 / CPython 3.11."""
    out = tmp_path / "sbom.cdx.json"
    result = CliRunner().invoke(cli, ["scan", str(folder), *TARGET, "--format", "json", "--sbom", str(out), *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output), json.loads(out.read_text())


def _findings(report: dict, rule: str) -> list[str]:
    return [f["message"] for f in report["findings"] if f["rule_id"] == rule]


# --- a declaration that does not apply never creates a component or lends its version ---------------

def test_a_pin_for_another_platform_does_not_lend_its_version(tmp_path: Path) -> None:
    # requirements.txt:13 `torch; sys_platform != 'darwin'`, :14 `torch==2.8.0+cu128; sys_platform == 'darwin'`
    _, report, sbom = _scan(_case("deep-live-cam"), tmp_path, "--policy", "baseline")
    components = {(c["name"], c.get("version")) for c in sbom["components"] if c["name"] in ("torch", "torchvision")}
    assert components == {("torch", None), ("torchvision", None)}
    pins = [m for m in _findings(report, "PIN001") if m.startswith(("torch ", "torchvision "))]
    assert len(pins) == 2
    assert all("requirements.txt:13" in m or "requirements.txt:15" in m for m in pins)
    assert not any("2.8.0" in m or "0.20.1" in m for m in pins)


def test_the_other_platforms_pin_is_said_left_out_not_installed() -> None:
    inventory = _inventory(_case("deep-live-cam"))
    torch = [p for p in inventory.packages if p.name == "torch"]
    assert len(torch) == 1 and torch[0].version is None
    assert all(p.applies for p in torch[0].provenance)
    assert any("torch 2.8.0+cu128 (requirements.txt:14)" in note for note in inventory.notes)
    assert not any(note.startswith("not installed") and "torch" in note for note in inventory.notes)


def test_on_the_other_platform_the_pin_is_the_component() -> None:
    from governance.collect import ScanOptions, collect

    inventory = collect(ScanOptions(project=_case("deep-live-cam"), include_environment=False,
                                    markers=target_markers("macos-arm64", "3.11", {})))
    assert {(p.name, p.version) for p in inventory.packages if p.name in ("torch", "torchvision")} == {
        ("torch", "2.8.0+cu128"), ("torchvision", "0.20.1")}
