"""The CLI as users run it: exit codes, outputs, and bad input that never leaves half a file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli, main
from tests.conftest import REPO
from tests.fakevenv import Dist, make_venv

SAMPLES = REPO / "sample_projects"


def run(args: list[str]) -> tuple[int, str, str]:
    """The real entry point in a child process: exit codes and stderr exactly as a user sees them."""
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "governance", *args], capture_output=True, text=True,
                               check=False, cwd=REPO)
    return completed.returncode, completed.stdout, completed.stderr


def test_version_and_help_teach_by_example() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).output.startswith("mlgov, version ")
    for command in ("scan", "sbom", "check"):
        result = runner.invoke(cli, [command, "--help"])
        assert result.exit_code == 0
        assert "Examples:" in result.output and "mlgov " + command in result.output


@pytest.mark.parametrize(("sample", "policy", "code", "rules"), [
    # GPU006: a CUDA build of torch, and no host profile to judge it against (not judged: a warning here)
    ("pytorch-train", "baseline", 0, {"GPU006"}),
    # torch 2.5.1 < 2.6 (CVE-2025-32434); COV001: no environment, so licences cannot be judged;
    # VULN002: production's fail_on, and no advisory database was given (none in the cache either)
    ("pytorch-train", "production", 1, {"PKG001", "COV001", "GPU006", "VULN002"}),
    # ranges warn; every tensorflow[and-cuda] in >=2.16,<2.19 is a CUDA 12 build: no host profile (GPU006)
    ("tensorflow-keras", "baseline", 0, {"PIN001", "GPU006"}),
    ("tensorflow-keras", "production", 1, {"PIN001", "COV001", "GPU006", "VULN002"}),
    ("onnx-serving", "production", 1, {"PIN002", "COV001", "GPU006", "VULN002"}),  # exact pins, no hashes
])
def test_sample_projects_get_a_verdict(sample: str, policy: str, code: int, rules: set[str]) -> None:
    result = CliRunner().invoke(cli, ["scan", str(SAMPLES / sample), "--policy", policy, "--format", "json"])
    assert result.exit_code == code, result.output
    report = json.loads(result.output)
    assert report["verdict"] == ("fail" if code else "pass")
    assert {f["rule_id"] for f in report["findings"]} == rules
    for finding in report["findings"]:
        assert set(finding) >= {"rule_id", "level", "message", "component", "waived"}
        if finding["component"] is not None:
            assert finding["file"] == "requirements.txt" and finding["line"] >= 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("sample", ["pytorch-train", "tensorflow-keras", "onnx-serving"])
def test_each_sample_gets_a_valid_sbom(sample: str, fmt: str, tmp_path: Path) -> None:
    from governance.sbom.read import read_sbom
    from governance.sbom.validate import validate

    out = tmp_path / f"sbom.cdx.{fmt}"
    result = CliRunner().invoke(cli, ["sbom", str(SAMPLES / sample), "-o", str(out)])
    assert result.exit_code == 0, result.output
    validate(out.read_text(), fmt, "1.6")
    inventory = read_sbom(out)
    assert inventory.project.name == sample
    assert len(inventory.packages) > 3


def test_scan_with_environment_writes_sbom_and_reports(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("torch==2.5.1\nnumpy>=2\n")
    make_venv(project / ".venv", [Dist("torch", "2.5.1+cu124", requires=["numpy"]), Dist("numpy", "2.1.3")])
    sbom, md, js = tmp_path / "sbom.json", tmp_path / "r.md", tmp_path / "r.json"
    result = CliRunner().invoke(cli, ["scan", str(project), "--sbom", str(sbom), "--report", str(md),
                                      "--report", str(js)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("PASS: proj under policy baseline")
    document = json.loads(sbom.read_text())
    assert {c["purl"] for c in document["components"]} == {"pkg:pypi/torch@2.5.1%2Bcu124", "pkg:pypi/numpy@2.1.3"}
    assert md.read_text().startswith("## :white_check_mark: mlgov: **PASS**")
    report = json.loads(js.read_text())
    assert report["sbom_digest"].startswith("sha256:")
    # numpy>=2 is a range (PIN001); no host profile to judge torch's CUDA build against (GPU006, not judged).
    assert sorted(f["rule_id"] for f in report["findings"] if f["level"] == "warning") == ["GPU006", "PIN001"]


BAD = [
    (["scan", "{project}"], "requirements.txt:2: invalid requirement"),
    (["scan", "{project}", "--python", "{notpython}"], "not a Python interpreter"),
    (["scan", "{project}", "--python", "{missing}"], "no such environment"),
    (["scan", "{project}", "--policy", "{badpolicy}"], "policy.toml:3: "),
    (["sbom", "{project}", "-o", "{out}"], "requirements.txt:2: invalid requirement"),
]


@pytest.mark.parametrize(("args", "expected"), BAD)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(args: list[str], expected: str, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy==2.1.3\ntorch=>2.0\n")
    if "--python" in args or "--policy" in args:
        (project / "requirements.txt").write_text("numpy==2.1.3\n")
    notpython = tmp_path / "python"
    notpython.write_text("#!/bin/sh\nexit 3\n")
    notpython.chmod(0o755)
    badpolicy = tmp_path / "policy.toml"
    badpolicy.write_text("schema = 1\n[pins]\nrequire_exactly = true\n")
    out = tmp_path / "sbom.json"
    values = {"project": project, "notpython": notpython, "missing": tmp_path / "nope", "badpolicy": badpolicy,
              "out": out}
    code, stdout, stderr = run([a.format(**values) for a in args] + (["--sbom", str(out)] if args[0] == "scan" else []))
    assert code == 2, (stdout, stderr)
    assert expected in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".sbom.json.*"))  # no temporary file left behind


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_bytes(b"\xff\xfe\x00bad")
    code, _, stderr = run(["scan", str(project)])
    assert code == 2 and "requirements.txt:1: cannot read: not UTF-8" in stderr


def test_an_sbom_that_fails_validation_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import governance.sbom.packages as packages

    real = packages.component
    monkeypatch.setattr(packages, "component", lambda *a, **k: {**real(*a, **k), "type": "bogus"})
    project = tmp_path / "proj"
    shutil.copytree(SAMPLES / "onnx-serving", project)
    out = tmp_path / "sbom.json"
    with pytest.raises(SystemExit) as exit_info:
        main(["sbom", str(project), "-o", str(out)])
    assert exit_info.value.code == 3
    assert "did not validate, nothing was written" in capsys.readouterr().err
    assert not out.exists()


def test_check_reaches_the_scans_findings(tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.json"
    runner = CliRunner()
    scanned = runner.invoke(cli, ["scan", str(SAMPLES / "tensorflow-keras"), "--policy", "production",
                                  "--sbom", str(sbom), "--format", "json"])
    checked = runner.invoke(cli, ["check", str(sbom), "--policy", "production", "--format", "json"])
    assert scanned.exit_code == checked.exit_code == 1
    assert json.loads(scanned.output)["findings"] == json.loads(checked.output)["findings"]
