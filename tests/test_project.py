"""The scanned project's own name and version (the SBOM's root component)."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.collect.project import project_name
from governance.errors import InputError


def test_name_and_version_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1.2"\n')
    assert project_name(tmp_path) == ("demo", "1.2")


@pytest.mark.parametrize("table", ["project", "tool.poetry"])
def test_a_version_no_release_has_is_an_input_error_at_its_line(tmp_path: Path, table: str) -> None:
    # Was exit 3 after the whole scan: the SBOM's root version failed the CycloneDX schema.
    (tmp_path / "pyproject.toml").write_text(f'[{table}]\nname = "demo"\n\nversion = "2.{"9" * 5000}"\n')
    with pytest.raises(InputError, match="not a release") as raised:
        project_name(tmp_path)
    assert raised.value.line == 4 and len(str(raised.value)) < 400


def test_scan_with_a_huge_project_version_exits_2_and_writes_no_sbom(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from governance.cli import main

    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "1e{"9" * 5000}"\ndependencies = ["numpy==1.26.4"]\n')
    with pytest.raises(SystemExit) as stop:
        main(["scan", str(project), "--policy", "production", "--sbom", str(tmp_path / "sbom.cdx.json")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "pyproject.toml:3:" in err and "Traceback" not in err
    assert not (tmp_path / "sbom.cdx.json").exists()
