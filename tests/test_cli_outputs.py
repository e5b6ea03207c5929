"""Bad usage writes nothing; outputs get the user's umask; a missing extra is a usage error.
Run as real child processes: exit codes, stderr and the files left behind exactly as a user sees them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SAMPLE = str(REPO / "sample_projects" / "pytorch-train")


def mlgov(args: list[str], umask: int | None = None, code: str | None = None) -> subprocess.CompletedProcess[str]:
    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "governance", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=set_umask)


@pytest.mark.parametrize(("outputs", "complaint"), [
    (["--sbom", "{out}/s.json", "--report", "{out}/r.pdf"], "{out}/r.pdf: cannot tell the report format"),
    (["--sbom", "{out}/s.pdf", "--report", "{out}/r.md"], "{out}/s.pdf: cannot tell the SBOM format"),
    (["--sbom", "{out}/s.json", "--report", "{out}/missing/r.md"], "the folder {out}/missing does not exist"),
    (["--sbom", "{out}/s.json", "--report", "{out}/s.json"], "{out}/s.json: named twice (as the SBOM and as the report)"),
    (["--report", "{out}/r.md", "--report", "{out}/old.md"], "{out}/old.md: cannot write the report: it is a folder"),
])
def test_bad_outputs_write_nothing(tmp_path: Path, outputs: list[str], complaint: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.md").mkdir()
    result = mlgov(["scan", SAMPLE, *[o.format(out=out) for o in outputs]])
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert complaint.format(out=out) in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["old.md"]  # nothing new, not even a temporary


def test_sbom_command_checks_its_output_first(tmp_path: Path) -> None:
    result = mlgov(["sbom", SAMPLE, "-o", str(tmp_path / "sbom.pdf")])
    assert result.returncode == 2 and "cannot tell the SBOM format from the extension" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert mlgov(["sbom", SAMPLE, "-o", str(tmp_path / "sbom.pdf"), "--format", "xml"]).returncode == 0


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_users_umask(tmp_path: Path, umask: int, mode: int) -> None:
    sbom, report, profile = tmp_path / "s.json", tmp_path / "r.md", tmp_path / "host.json"
    assert mlgov(["scan", SAMPLE, "--sbom", str(sbom), "--report", str(report)], umask=umask).returncode == 0
    assert mlgov(["probe", "-o", str(profile)], umask=umask).returncode == 0
    for path in (sbom, report, profile):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_a_replaced_output_keeps_its_mode(tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    report.write_text("old")
    report.chmod(0o640)
    assert mlgov(["scan", SAMPLE, "--report", str(report)], umask=0o022).returncode == 0
    assert report.read_text() != "old" and stat.S_IMODE(report.stat().st_mode) == 0o640


def test_vuln_service_without_the_online_extra_says_how_to_install_it(tmp_path: Path) -> None:
    # pip-audit is in the test extra; this interpreter is made to lack it, as a plain `pip install mlgov` would.
    code = ("import sys; sys.modules['pip_audit'] = None; sys.argv = ['mlgov', *sys.argv[1:]]; "
            "from governance.cli import main; main()")
    report = tmp_path / "r.md"
    result = mlgov(["scan", SAMPLE, "--vuln-service", "osv", "--report", str(report)], code=code)
    assert result.returncode == 2, result.stderr
    assert result.stderr == ("mlgov: error: --vuln-service needs the `online` extra (pip-audit), which is not "
                             "installed: pip install 'mlgov[online]'\n")
    assert not report.exists()
