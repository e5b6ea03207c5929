"""One scan writes all five reports, and each is read by a real consumer."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from click.testing import CliRunner

from governance.cli import cli, main
from governance.report import FORMATS, format_for

REQUIREMENTS = """\
# a small training project, half pinned
torch>=2.1
numpy==1.26.4
tensorflow-gpu==2.10.0
requests
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "vision-train"
    folder.mkdir()
    (folder / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    return folder


def _scan(project: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["scan", str(project), "--policy", "production", *args],
                              catch_exceptions=False)


def test_one_scan_writes_all_five_reports(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    names = ["mlgov.html", "mlgov.md", "mlgov.sarif", "mlgov.junit.xml", "mlgov.json"]
    args = [a for name in names for a in ("--report", str(out / name))]
    result = _scan(project, "--sbom", str(out / "sbom.cdx.json"), *args)
    assert result.exit_code == 1, result.output  # unpinned torch and requests fail production
    assert result.output.rstrip().splitlines()[-1].startswith("FAIL: vision-train under policy production")

    # JSON: the project's own schema
    from importlib.resources import files

    schema = json.loads(files("governance.report").joinpath("report.schema.json").read_text(encoding="utf-8"))
    report = json.loads((out / "mlgov.json").read_text(encoding="utf-8"))
    assert [str(e) for e in jsonschema_rs.validator_for(schema, validate_formats=True).iter_errors(report)] == []
    assert report["verdict"] == "fail" and report["sbom_digest"].startswith("sha256:")
    pinned = {(f["rule_id"], f["package"]): f["line"] for f in report["findings"]}
    assert pinned[("PIN001", "torch")] == 2 and pinned[("PIN001", "requests")] == 5

    # SARIF: the OASIS schema, and locations on the requirement lines
    sarif_schema = json.loads((Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    sarif = json.loads((out / "mlgov.sarif").read_text(encoding="utf-8"))
    assert [str(e) for e in jsonschema_rs.validator_for(sarif_schema).iter_errors(sarif)] == []
    lines = {(r["ruleId"], r["properties"]["package"]): r["locations"][0]["physicalLocation"]["region"]["startLine"]
             for r in sarif["runs"][0]["results"] if "package" in r.get("properties", {})}
    assert lines[("PIN001", "torch")] == 2 and lines[("PKG002", "tensorflow-gpu")] == 4

    # JUnit: an XML test reader
    root = ET.parse(out / "mlgov.junit.xml").getroot()
    failed = {(c.get("classname"), c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None}
    assert ("mlgov.PIN001", "torch") in failed and ("mlgov", "verdict") in failed

    # Markdown: the verdict in the first line, under GitHub's limit
    md = (out / "mlgov.md").read_text(encoding="utf-8")
    assert md.startswith("## :x: mlgov: **FAIL** for `vision-train`") and len(md) < 65_536

    # HTML: the SBOM digest in the scan facts; a browser opens it when one is installed
    html = (out / "mlgov.html").read_text(encoding="utf-8")
    assert report["sbom_digest"] in html and "tensorflow-gpu" in html
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser:
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--disable-quic", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
                               "--enable-logging=stderr", "--v=0", "--dump-dom", (out / "mlgov.html").as_uri()],
                              capture_output=True, text=True, timeout=120, check=False)
        assert 'data-report="ready"' in done.stdout
        assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []


@pytest.mark.parametrize("fmt, check", [
    ("terminal", lambda text: text.rstrip().splitlines()[-1].startswith("FAIL:")),
    ("md", lambda text: text.startswith("## :x: mlgov")),
    ("html", lambda text: text.startswith("<!DOCTYPE html>")),
    ("json", lambda text: json.loads(text)["verdict"] == "fail"),
    ("sarif", lambda text: json.loads(text)["version"] == "2.1.0"),
    ("junit", lambda text: ET.fromstring(text.split("?>", 1)[1]).tag == "testsuites"),
])
def test_format_picks_stdout(project: Path, fmt: str, check: Any) -> None:
    result = _scan(project, "--format", fmt)
    assert result.exit_code == 1
    assert check(result.output)


def test_every_format_is_offered() -> None:
    assert set(FORMATS) == {"terminal", "md", "html", "json", "sarif", "junit"}


@pytest.mark.parametrize("name, fmt", [("a.html", "html"), ("a.HTM", "html"), ("a.md", "md"),
                                       ("a.sarif", "sarif"), ("a.sarif.json", "sarif"), ("a.xml", "junit"),
                                       ("a.junit.xml", "junit"), ("a.json", "json"), ("a.txt", "terminal"),
                                       ("a.pdf", None)])
def test_format_from_extension(name: str, fmt: str | None) -> None:
    assert format_for(name) == fmt


def test_quiet_prints_the_verdict_line_alone(project: Path) -> None:
    result = _scan(project, "--quiet")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert re.match(r"^FAIL: vision-train under policy production \(stage \w+\): \d+ error\(s\)", result.output)


def test_unknown_report_extension_is_bad_usage_and_writes_nothing(project: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "ok.json", tmp_path / "report.pdf"
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", str(project), "--report", str(good), "--report", str(bad)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "report.pdf" in err and ".sarif" in err and "Traceback" not in err
    assert not good.exists() and not bad.exists()


def test_terminal_is_grouped_with_the_verdict_last(project: Path) -> None:
    output = _scan(project).output
    pin = output.index("ERROR PIN001 (2)")
    assert output.index("requests is not pinned") > pin and output.index("torch is not pinned") > pin
    assert output.rstrip().splitlines()[-1].startswith("FAIL:")
