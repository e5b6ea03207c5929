"""SARIF that GitHub can place: a scan of a sub-folder of a git repository, as code scanning reads it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.ci_project import mlgov, monorepo
from tests.conftest import REPO, SHARED

SAMPLE = REPO / "sample_projects" / "pytorch-train"
# GitHub code scanning's limits on one upload (docs: "SARIF support for code scanning").
GITHUB_GZIP_BYTES = 10 * 1024 * 1024
GITHUB_RESULTS_PER_RUN = 25_000


@pytest.fixture(scope="module")
def oasis() -> Any:
    # The OASIS SARIF 2.1.0 schema (errata 01) that ../shared/schemas carries for every SARIF test.
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def _scan(project: Path, out: Path, *extra: str) -> dict[str, Any]:
    policy = str(project.parent.parent / "policies" / "team.toml")
    outcome = mlgov(["scan", str(project), "--policy", policy, "--report", str(out), *extra])
    assert outcome.code in (0, 1), outcome.stderr
    log: dict[str, Any] = json.loads(out.read_text())
    return log


def _uris(log: dict[str, Any]) -> list[str]:
    return [loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in log["runs"][0]["results"] for loc in result["locations"]]


def test_a_sub_folder_scan_points_at_files_from_the_repository_root(tmp_path: Path, oasis: Any) -> None:
    root = tmp_path / "repo"
    project = monorepo(root, commit=False)
    # A real project beside the scratch one, judged against a host profile kept in the repository.
    shutil.copytree(SAMPLE, root / "services" / "vision")
    (root / "fleet").mkdir()
    shutil.copy(REPO / "tests" / "data" / "hosts" / "driver470.json", root / "fleet" / "old.json")

    logs = {}
    for folder in (project, root / "services" / "vision"):
        log = _scan(folder, tmp_path / f"{folder.name}.sarif", "--host", str(root / "fleet" / "old.json"))
        oasis.validate(log)
        logs[folder.name] = log
        uris = _uris(log)
        assert uris, "the scan should have findings to place"
        for uri in uris:
            assert not uri.startswith(("/", "file:")), uri
            assert (root / uri).is_file(), f"{uri} does not resolve from the repository root"
        run = log["runs"][0]
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.resolve().as_uri() + "/"
        for result in run["results"]:
            assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"

    assert "services/train/requirements.txt" in _uris(logs["train"])
    vision = {r["ruleId"]: r for r in logs["vision"]["runs"][0]["results"]}
    # GPU001: the torch build needs a newer driver than the profile's 470; it sits on torch's pin.
    physical = vision["GPU001"]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "services/vision/requirements.txt"
    assert (root / "services/vision/requirements.txt").read_text().splitlines()[physical["region"]["startLine"] - 1] \
        .startswith("torch==")
    # Two folders of one repository are two analyses: neither upload closes the other's alerts.
    ids = {name: log["runs"][0]["automationDetails"]["id"] for name, log in logs.items()}
    assert ids == {"train": "mlgov/services/train/", "vision": "mlgov/services/vision/"}


def test_source_root_overrides_the_git_top_level(tmp_path: Path, oasis: Any) -> None:
    root = tmp_path / "repo"
    project = monorepo(root)
    log = _scan(project, tmp_path / "r.sarif", "--source-root", str(root / "services"))
    oasis.validate(log)
    assert set(_uris(log)) == {"train/requirements.txt"}
    assert log["runs"][0]["automationDetails"]["id"] == "mlgov/train/"
    outside = mlgov(["scan", str(project), "--source-root", str(tmp_path / "elsewhere")])
    assert outside.code == 2 and "is not inside the source root" in outside.stderr


def test_within_githubs_upload_limits() -> None:
    import tests.report_samples as samples
    from governance.report.sarif import render

    log = json.loads(render(samples.many(GITHUB_RESULTS_PER_RUN + 500)))
    run = log["runs"][0]
    assert len(run["results"]) == GITHUB_RESULTS_PER_RUN
    assert run["properties"]["resultsOmitted"] == 500
    # Errors sort first, so what is left out is the least severe.
    assert {r["level"] for r in run["results"][:GITHUB_RESULTS_PER_RUN // 2]} == {"error"}
    text = json.dumps(log).encode()
    assert len(gzip.compress(text)) < GITHUB_GZIP_BYTES
    assert all(len(r["locations"]) == 1 for r in run["results"])
