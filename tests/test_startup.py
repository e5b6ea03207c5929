"""What `mlgov --version` and `mlgov --help` import, listed with `python -X importtime`.

Start-up is paid on every push and every commit. These tests name every
module the two commands import beyond a bare interpreter, so a new top-level
import (a collector, packaging, the model, cyclonedx...) fails here instead
of slowing every run down unnoticed. The timing itself is measured by
benchmarks/bench_startup.py, not here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LAUNCH = "from governance.launcher import main; main()"


def imported(code: str, *args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], capture_output=True,
                            text=True, check=False)
    assert result.returncode in (0, 1) if args[:1] == ("scan",) else result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and not line.rstrip().endswith("| package"):
            names.add(line.rsplit("|", 1)[1].strip())
    assert names, "python -X importtime printed nothing"
    return names


@pytest.fixture(scope="module")
def bare() -> set[str]:
    return imported("pass")


def test_version_imports_nothing_but_the_launcher(bare: set[str]) -> None:
    extra = imported(LAUNCH, "--version") - bare
    assert extra <= {"governance", "governance.launcher"}, sorted(extra)


# governance modules `mlgov --help` may import: the CLI and the small tables its options list;
# and gc, built into the interpreter, whose pace the launcher sets.
HELP_ALLOWED = {"governance", "governance.launcher", "governance.cli", "governance.errors",
                "governance.platforms", "governance.report", "gc"}


def test_help_imports_click_and_the_cli_only(bare: set[str]) -> None:
    # what click itself imports to print a group's help
    click = imported("import click\n@click.group()\ndef g() -> None: pass\ng.main(['--help'], prog_name='g')") - bare
    extra = imported(LAUNCH, "--help") - bare - click
    assert extra <= HELP_ALLOWED, sorted(extra - HELP_ALLOWED)
    third_party = {name.split(".")[0] for name in extra} - {"governance", "gc"}
    assert not third_party, sorted(third_party)


# What `mlgov sbom --python VENV` (the benchmark's 300-distribution command) and `mlgov scan` of a
# locked project must not import: each was a measurable share of the command and none is needed
# there. license-expression builds a Licensing of ~2,500 licences (~0.08 s) where one-word License
# fields are judged from its index; the email package parsed core metadata (now walked as
# email.feedparser walks it); packageurl built every purl; pynvml (~0.02 s) and the host module
# are for machines that have an NVIDIA driver; the policy is not the SBOM's business; cyclonedx's
# object model and lxml are for reading other tools' SBOMs and for XML.
SLOW_FOR_SBOM = {"license_expression", "boolean", "email.parser", "email.feedparser", "packageurl", "pynvml",
                 "governance.collect.host", "governance.policy", "cyclonedx.model", "lxml", "ctypes"}
# A scan of a project without container files needs none of the Dockerfile and compose readers
# (~15 M instructions); every TOML file goes through tomli, never the slower tomllib.
SLOW_FOR_SCAN = {"email.parser", "email.feedparser", "packageurl", "cyclonedx.model", "lxml",
                 "governance.collect.containers", "tomllib"}


def _slow(imported_names: set[str], slow: set[str]) -> list[str]:
    return sorted(name for name in imported_names
                  if any(name == s or name.startswith(s + ".") for s in slow))


def test_sbom_of_an_environment_imports_none_of_the_slow_modules(tmp_path: Path) -> None:
    from tests.fakevenv import Dist, make_venv

    venv = make_venv(tmp_path / "venv", [
        Dist("alpha", "1.0", license="LGPL-3.0-or-later", requires=['beta ; python_version >= "3"']),
        Dist("beta", "2.0+cu124", license="UNKNOWN", classifiers=["License :: OSI Approved :: MIT License"]),
        Dist("gamma_pkg", "0.1", license="Free for non-commercial use"),
    ])
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0.1.0"\n', encoding="utf-8")
    names = imported(LAUNCH, "sbom", str(project), "--python", str(venv), "-o", str(tmp_path / "out.cdx.json"))
    assert (tmp_path / "out.cdx.json").exists()
    assert not _slow(names, SLOW_FOR_SBOM), _slow(names, SLOW_FOR_SBOM)


def test_scan_of_a_locked_project_imports_none_of_the_slow_modules(tmp_path: Path) -> None:
    uv = Path(__file__).resolve().parent / "data" / "lockfiles" / "uv"
    slow = set(SLOW_FOR_SCAN)
    if subprocess.run([sys.executable, "-c", "import ctypes; ctypes.CDLL('libnvidia-ml.so.1')"],
                      capture_output=True, check=False).returncode != 0:
        slow |= {"pynvml", "governance.collect.host"}  # no driver here: nothing to ask NVML
    names = imported(LAUNCH, "scan", str(uv), "--sbom", str(tmp_path / "s.cdx.json"), "--quiet",
                     "--target-platform", "linux-x86_64", "--target-python", "3.11")
    assert (tmp_path / "s.cdx.json").exists()
    assert not _slow(names, slow), _slow(names, slow)
