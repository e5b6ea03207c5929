"""Shared test fixtures: where the repository and the shared data live."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# scan and check use the advisory database that `mlgov db update` keeps in the user's
# cache. Tests must not depend on whether the machine running them has one: every
# test session gets its own empty cache (child processes inherit it). A test that
# needs the default database sets MLGOV_CACHE_DIR to a folder of its own.
os.environ["MLGOV_CACHE_DIR"] = tempfile.mkdtemp(prefix="mlgov-test-cache-")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# CI checks the repository out with the project's shared data beside it.
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many real projects mlgov reads as their installer does (tests/test_real_projects.py)."""
    import sys

    module = sys.modules.get("tests.test_real_projects")
    agreement = getattr(module, "AGREEMENT", None)
    if agreement:
        terminalreporter.write_line(module.summary())  # type: ignore[union-attr]
