"""Named PEP 751 locks are alternative environments, not parts of one (`--lock`).

mlcg (../shared/real-projects/mlcg-pylock) has a uv.lock and five `uv export`ed variants:
pylock.cpu.toml, pylock.cu128.toml, pylock.cu130.toml, pylock.rocm72.toml and pylock.no_hashes.toml.
Read together they were five torch builds in one inventory and LOCK001 errors between them that
failed even the baseline policy. One scan judges one environment: the unnamed lockfiles by
default, each named variant left unread said as COV003 (not judged: the stage decides), or the
lock(s) the user names with --lock, the others then left out on purpose (a note).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from governance.collect import ScanOptions, collect
from governance.collect.target import target_markers
from tests.entry import invoke
from tests.locktruth import CORPUS

MLCG = CORPUS / "mlcg-pylock"
VARIANTS = ("pylock.cpu.toml", "pylock.cu128.toml", "pylock.cu130.toml", "pylock.no_hashes.toml",
            "pylock.rocm72.toml")
TARGET = ["--target-platform", "linux-x86_64", "--target-python", "3.12"]


def _inventory(folder: Path, locks: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return collect(ScanOptions(project=folder, include_environment=False, include_models=False,
                               markers=target_markers("linux-x86_64", "3.12", {}), locks=locks))


def _scan(folder: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out = invoke(["scan", str(folder), *TARGET, "--format", "json", "--no-vuln-db", *args])
    assert code in (0, 1), out
    return code, json.loads(out)


def _torch(inventory) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.version or "" for p in inventory.packages if p.key == "torch")


def test_the_corpus_has_the_variants() -> None:
    assert sorted(p.name for p in MLCG.glob("pylock.*.toml")) == sorted(VARIANTS)
    assert (MLCG / "uv.lock").is_file()


def test_by_default_the_unnamed_lock_is_read_and_each_variant_is_not_judged() -> None:
    inventory = _inventory(MLCG)
    assert set(inventory.sources) == {"uv.lock", "pyproject.toml"}
    assert _torch(inventory) == ["2.11.0"]  # uv.lock's torch, not five builds
    assert sorted(u.file for u in inventory.unread if u.rule == "COV003") == sorted(VARIANTS)


def test_baseline_passes_and_production_fails_on_the_unjudged_variants() -> None:
    code, report = _scan(MLCG, "--policy", "baseline")
    rules = [f["rule_id"] for f in report["findings"]]
    assert "LOCK001" not in rules
    cov003 = [f for f in report["findings"] if f["rule_id"] == "COV003"]
    assert sorted(f["file"] for f in cov003) == sorted(VARIANTS)
    assert {f["level"] for f in cov003} == {"warning"}
    assert code == 0, report["findings"]
    for finding in cov003:
        assert f"--lock {finding['file']}" in finding["message"], finding["message"]
    code, report = _scan(MLCG, "--policy", "production", "--stage", "production")
    assert code == 1
    assert {f["level"] for f in report["findings"] if f["rule_id"] == "COV003"} == {"error"}


@pytest.mark.parametrize(("lock", "torch"), [
    ("pylock.cpu.toml", "2.11.0+cpu"), ("pylock.cu128.toml", "2.11.0+cu128"),
    ("pylock.cu130.toml", "2.11.0+cu130"), ("pylock.rocm72.toml", "2.11.0+rocm7.2"),
    ("uv.lock", "2.11.0"),
])
def test_lock_reads_that_variant_alone(lock: str, torch: str) -> None:
    inventory = _inventory(MLCG, (lock,))
    assert set(inventory.sources) == {lock, "pyproject.toml"}
    assert _torch(inventory) == [torch]
    assert not inventory.unread
    left = sorted({*VARIANTS, "uv.lock"} - {lock})
    assert f"not read, on purpose (--lock {lock}): {', '.join(left)}" in inventory.notes


def test_a_chosen_variant_scans_without_lock_drift_or_coverage_findings() -> None:
    code, report = _scan(MLCG, "--policy", "baseline", "--lock", "pylock.cu130.toml")
    rules = {f["rule_id"] for f in report["findings"]}
    assert not rules & {"LOCK001", "COV002", "COV003"}, rules
    assert code == 0


def test_lock_takes_a_path_to_the_file_too() -> None:
    inventory = _inventory(MLCG, (str(MLCG / "pylock.cpu.toml"),))
    assert _torch(inventory) == ["2.11.0+cpu"]


def test_the_sbom_carries_the_unjudged_variants_to_check(tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    code, out = invoke(["sbom", str(MLCG), *TARGET, "-o", str(sbom)])
    assert code == 0, out
    _, scanned = _scan(MLCG, "--policy", "production", "--stage", "production")
    code, out = invoke(["check", str(sbom), "--policy", "production", "--stage", "production", "--format", "json",
                        "--no-vuln-db"])
    assert code == 1, out
    checked = json.loads(out)

    def said(report: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
        return [(f["rule_id"], f["level"], f["message"]) for f in report["findings"]]

    assert said(checked) == said(scanned)
    assert sum(1 for f in checked["findings"] if f["rule_id"] == "COV003") == len(VARIANTS)
    code, out = invoke(["sbom", str(MLCG), *TARGET, "--lock", "pylock.cu130.toml"])
    assert code == 0 and "mlgov:unread" not in out
    components = [c for c in json.loads(out)["components"] if c["name"] == "torch"]
    assert [c["version"] for c in components] == ["2.11.0+cu130"]


@pytest.mark.parametrize(("args", "says"), [
    (["--lock", "poetry.lock"], "--lock poetry.lock: not a lockfile at the top of the project folder; its lockfiles: "
                                "pylock.cpu.toml, pylock.cu128.toml, pylock.cu130.toml, pylock.no_hashes.toml, "
                                "pylock.rocm72.toml, uv.lock"),
    (["--lock", "pyproject.toml"], "--lock pyproject.toml: a manifest, always read"),
    (["--lock", "/etc/hosts"], "--lock /etc/hosts: not a file at the top of the project folder"),
])
def test_a_bad_choice_is_exit_2(args: list[str], says: str, tmp_path: Path) -> None:
    out_file = tmp_path / "sbom.json"
    code, out = invoke(["scan", str(MLCG), *TARGET, "--sbom", str(out_file), *args])
    assert code == 2 and says in out and "Traceback" not in out, out
    assert not out_file.exists()


def test_only_named_variants_is_exit_2_naming_them(tmp_path: Path) -> None:
    project = tmp_path / "mlcg"
    project.mkdir()
    for name in ("pyproject.toml", "pylock.cpu.toml", "pylock.cu130.toml"):
        shutil.copy(MLCG / name, project / name)
    code, out = invoke(["scan", str(project), *TARGET])
    assert code == 2, out
    assert "choose one with --lock (pylock.cpu.toml, pylock.cu130.toml)" in out
    inventory = _inventory(project, ("pylock.cpu.toml",))
    assert _torch(inventory) == ["2.11.0+cpu"] and not inventory.unread
    (project / "pylock.cpu.toml").unlink()
    inventory = _inventory(project)  # one named lock: nothing to choose between
    assert _torch(inventory) == ["2.11.0+cu130"] and not inventory.unread


def test_a_pylock_toml_is_the_default_beside_named_ones(tmp_path: Path) -> None:
    project = tmp_path / "mlcg"
    project.mkdir()
    shutil.copy(MLCG / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(MLCG / "pylock.cpu.toml", project / "pylock.toml")
    shutil.copy(MLCG / "pylock.cu130.toml", project / "pylock.cu130.toml")
    inventory = _inventory(project)
    assert _torch(inventory) == ["2.11.0+cpu"]
    assert [(u.file, u.rule) for u in inventory.unread] == [("pylock.cu130.toml", "COV003")]


def test_the_choice_can_live_in_the_configuration(tmp_path: Path) -> None:
    project = tmp_path / "mlcg"
    shutil.copytree(MLCG, project)
    (project / "mlgov.toml").write_text('lock = ["pylock.rocm72.toml"]\n')
    code, report = _scan(project, "--policy", "baseline")
    assert "COV003" not in {f["rule_id"] for f in report["findings"]}
    code, out = invoke(["config", "show", str(project)])
    assert 'lock' in out and '["pylock.rocm72.toml"]' in out and "mlgov.toml:1" in out, out
    (project / "mlgov.toml").write_text('lock = "pylock.rocm72.toml"\n')
    code, out = invoke(["scan", str(project)])
    assert code == 2 and "mlgov.toml:1: lock: expected a list of file names, got a string" in out, out


def test_an_sbom_naming_an_unknown_unread_rule_is_bad_input(tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    code, out = invoke(["sbom", str(MLCG), *TARGET, "-o", str(sbom)])
    assert code == 0
    text = sbom.read_text()
    assert '\\"rule\\":\\"COV003\\"' in text
    sbom.write_text(text.replace('\\"rule\\":\\"COV003\\"', '\\"rule\\":\\"LIC001\\"'))
    code, out = invoke(["check", str(sbom), "--no-vuln-db"])
    assert code == 2 and "unexpected CycloneDX content" in out and "Traceback" not in out, out


def test_a_variant_and_its_supplement_are_one_environment_when_both_are_chosen() -> None:
    # pylock.no_hashes.toml holds aggforce alone (a git dependency the variants leave out), installed after one.
    inventory = _inventory(MLCG, ("pylock.cu128.toml", "pylock.no_hashes.toml"))
    assert _torch(inventory) == ["2.11.0+cu128"]
    aggforce = [p for p in inventory.packages if p.key == "aggforce"]
    assert len(aggforce) == 1
    sources = {q.source.commit for q in aggforce[0].provenance if q.source is not None and q.source.commit}
    assert len(sources) == 1 and len(next(iter(sources))) == 40, aggforce[0].provenance
    assert not [n for n in inventory.notes if "stale" in n], inventory.notes
    alone = _inventory(MLCG, ("pylock.cu128.toml",))
    assert "aggforce" not in {p.key for p in alone.packages}
    assert any("aggforce" in n and "is not in pylock.cu128.toml" in n for n in alone.notes), alone.notes


def test_manifests_are_read_whatever_lock_chooses(tmp_path: Path) -> None:
    project = tmp_path / "mlcg"
    shutil.copytree(MLCG, project)
    (project / "setup.cfg").write_text("[options]\ninstall_requires =\n    numpy==2.1.3\n")
    (project / "environment.yml").write_text("dependencies:\n  - python=3.12\n")
    inventory = _inventory(project, ("pylock.cu130.toml",))
    assert {"setup.cfg", "environment.yml", "pyproject.toml", "pylock.cu130.toml"} <= set(inventory.sources)
    assert "uv.lock" not in inventory.sources
    code, out = invoke(["scan", str(project), *TARGET, "--lock", "setup.cfg"])
    assert code == 2 and "--lock setup.cfg: a manifest, always read" in out, out
