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

import pytest

LAUNCH = "from governance.launcher import main; main()"


def imported(code: str, *args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
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


# governance modules `mlgov --help` may import: the CLI and the small tables its options list.
HELP_ALLOWED = {"governance", "governance.launcher", "governance.cli", "governance.errors",
                "governance.platforms", "governance.report"}


def test_help_imports_click_and_the_cli_only(bare: set[str]) -> None:
    # what click itself imports to print a group's help
    click = imported("import click\n@click.group()\ndef g() -> None: pass\ng.main(['--help'], prog_name='g')") - bare
    extra = imported(LAUNCH, "--help") - bare - click
    assert extra <= HELP_ALLOWED, sorted(extra - HELP_ALLOWED)
    third_party = {name.split(".")[0] for name in extra} - {"governance"}
    assert not third_party, sorted(third_party)
