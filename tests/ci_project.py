"""A scratch monorepo as CI sees it: a git repository with a project in a sub-folder.

Shared by the configuration, PR-mode, SARIF and CI-integration tests.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from governance.cli import main

TEAM_POLICY = """\
schema = 1
name = "team"
description = "Exact pins required; one accepted exception."
extends = ["baseline"]

[rules]
PIN001 = "error"

[[waivers]]
id = "PIN001"
package = "rich"
reason = "developer tooling, never deployed"
owner = "ml-platform"
ticket = "MLP-7"
expires = "2099-01-01"

[[waivers]]
id = "PIN001"
package = "click"
reason = "developer tooling, never deployed"
owner = "ml-platform"
ticket = "MLP-7"
expires = "2099-01-01"
"""

REQUIREMENTS = "requests>=2.31\nnumpy==2.1.0\nrich>=13\nclick\n"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def mlgov(args: list[str], env: dict[str, str | None] | None = None) -> Outcome:
    """`mlgov` through click's test runner, by the real entry point (exit codes and error lines as users see them)."""
    runner = CliRunner()
    code = 0
    with runner.isolation(env={"CI": "true", **(env or {})}) as (out, err, _):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                               "HOME": str(folder), "PATH": "/usr/bin:/bin:/usr/local/bin"}).stdout


def monorepo(root: Path, requirements: str = REQUIREMENTS, commit: bool = True) -> Path:
    """root/ (git) with policies/team.toml and services/train/requirements.txt; returns the project folder."""
    project = root / "services" / "train"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text(requirements)
    (root / "policies").mkdir()
    (root / "policies" / "team.toml").write_text(TEAM_POLICY)
    git(root, "init", "-q", "-b", "main")
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "scratch")
    return project
