"""The CI integrations run by their real consumers: pre-commit, GitHub's schemas and zizmor, the action's
own shell steps, gitlab-ci-local and GitLab's schema.

The consumers are not Python dependencies of mlgov: .ci/run installs them in a
tools folder (pre-commit, check-jsonschema and zizmor from PyPI, gitlab-ci-local
from npm) and names its bin folders in MLGOV_CI_TOOLS. Where that variable is
set, a missing tool fails the test; a developer without the tools sees the
tests skipped with the command that installs them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci_project import git, monorepo
from tests.conftest import REPO

SHA = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
TOOLS_HINT = "run .ci/run once, or: export MLGOV_CI_TOOLS=<bin folders with pre-commit, check-jsonschema, " \
             "zizmor, gitlab-ci-local>"


def tool(name: str) -> str:
    folders = os.environ.get("MLGOV_CI_TOOLS", "")
    found = (shutil.which(name, path=folders) if folders else None) or shutil.which(name)
    if found is None:
        if folders:
            pytest.fail(f"{name} is not in MLGOV_CI_TOOLS ({folders})")
        pytest.skip(f"{name} not installed: {TOOLS_HINT}")
    return found


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> \
        subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})


def _example(name: str) -> str:
    text = (REPO / "docs" / "ci.md").read_text()
    match = re.search(rf"<!-- example: {name}[^\n]*-->\n```yaml\n(.*?)```", text, re.S)
    assert match, f"docs/ci.md has no example {name}"
    return match.group(1)


# -- GitHub Actions ------------------------------------------------------------------------------

def test_action_and_example_workflow_validate_against_githubs_schemas(tmp_path: Path) -> None:
    checker = tool("check-jsonschema")
    workflow = tmp_path / ".github" / "workflows" / "mlgov.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_example("github-workflow"))
    for schema, file in (("vendor.github-actions", REPO / "action.yml"), ("vendor.github-workflows", workflow)):
        result = run([checker, "--builtin-schema", schema, str(file)], cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: an action without `runs` is not an action.
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\ndescription: y\n")
    assert run([checker, "--builtin-schema", "vendor.github-actions", str(broken)], cwd=tmp_path).returncode == 1


def test_zizmor_finds_nothing_in_the_action_or_the_example(tmp_path: Path) -> None:
    zizmor = tool("zizmor")
    workflow = tmp_path / ".github" / "workflows" / "mlgov.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_example("github-workflow"))
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")
    result = run([zizmor, "--offline", "--no-progress", str(tmp_path / "action.yml"), str(workflow)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # The audit is real: an input spliced into a script is template injection.
    unsafe = (REPO / "action.yml").read_text().replace('cat "${out}/mlgov.md"', 'cat "${{ inputs.path }}"')
    (tmp_path / "action.yml").write_text(unsafe)
    result = run([zizmor, "--offline", "--no-progress", str(tmp_path / "action.yml")], cwd=tmp_path)
    assert result.returncode != 0 and "template-injection" in result.stdout + result.stderr


def test_every_third_party_step_is_pinned_by_full_sha() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    uses = [step["uses"] for step in action["runs"]["steps"] if "uses" in step]
    workflow = yaml.safe_load(_example("github-workflow"))
    uses += [step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step]
    assert "github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7" in uses
    assert uses and all(SHA.match(u) for u in uses), uses
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"an expression inside a script: {step['name']}"


class Runner:
    """The composite action's steps as the runner executes them: bash, env from `env:`, the GITHUB_* files."""

    def __init__(self, workspace: Path, temp: Path) -> None:
        self.action = yaml.safe_load((REPO / "action.yml").read_text())
        self.workspace, self.temp = workspace, temp
        self.summary, self.output = temp / "summary.md", temp / "output.txt"

    def _expression(self, text: str, inputs: dict[str, str], outputs: dict[str, str]) -> Any:
        """The few expressions the action uses: inputs.X, steps.scan.outputs.X, always(), ==, !=, &&."""
        text = text.strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2].strip()
        python = re.sub(r"inputs\.([\w-]+)", lambda m: repr(inputs[m.group(1)]), text)
        python = re.sub(r"steps\.scan\.outputs\.([\w-]+)", lambda m: repr(outputs.get(m.group(1), "")), python)
        python = python.replace("always()", "True").replace("&&", " and ").replace("||", " or ")
        return eval(python, {"__builtins__": {}}, {})  # noqa: S307 - the action's own, fixed expressions

    def run(self, given: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, int]], list[dict[str, Any]]]:
        inputs = {name: spec.get("default", "") for name, spec in self.action["inputs"].items()}
        assert set(given) <= set(inputs), set(given) - set(inputs)
        inputs.update(given)
        for file in (self.summary, self.output):
            file.write_text("")
        outputs: dict[str, str] = {}
        statuses: list[tuple[str, int]] = []
        uploads: list[dict[str, Any]] = []
        failed = False
        for step in self.action["runs"]["steps"]:
            condition = step.get("if")
            # An `if` without always() still requires the earlier steps to have succeeded.
            if failed and "always()" not in (condition or ""):
                continue
            if condition is not None and not self._expression(condition, inputs, outputs):
                continue
            if "uses" in step:
                uploads.append({k: self._expression(v, inputs, outputs) if "${{" in v else v
                                for k, v in step["with"].items()})
                continue
            assert step["shell"] == "bash"
            env = {key: str(self._expression(value, inputs, outputs)) for key, value in step.get("env", {}).items()}
            env.update({"GITHUB_ACTION_PATH": str(REPO), "GITHUB_STEP_SUMMARY": str(self.summary),
                        "GITHUB_OUTPUT": str(self.output), "RUNNER_TEMP": str(self.temp), "CI": "true",
                        "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(self.workspace),
                        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(self.temp))})
            # GitHub runs a bash step as `bash --noprofile --norc -eo pipefail {0}`.
            script = self.temp / "step.sh"
            script.write_text(step["run"])
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                    cwd=self.workspace, env=env, capture_output=True, text=True, timeout=600,
                                    check=False)
            statuses.append((step["name"], result.returncode))
            if result.returncode != 0:
                failed = True
                statuses[-1] = (step["name"] + ": " + result.stdout[-2000:] + result.stderr[-2000:],
                                result.returncode)
            outputs = dict(line.split("=", 1) for line in self.output.read_text().splitlines() if "=" in line)
        return outputs, statuses, uploads


def _seed_venv(temp: Path) -> None:
    """A runner whose pip already has mlgov's dependencies, so the install step builds only mlgov itself.

    The step still runs unchanged (`python3 -m venv`, `pip install $GITHUB_ACTION_PATH`); the
    dependencies come from this test's environment through a .pth instead of the index.
    """
    venv = temp / "mlgov-venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "test-dependencies.pth").write_text("\n".join(ours) + "\n")


@pytest.mark.skipif(shutil.which("bash") is None, reason="the action's steps are bash")
def test_the_actions_shell_steps_with_githubs_files(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    project = monorepo(workspace)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    _seed_venv(temp)
    runner = Runner(workspace, temp)

    # A failing gate: requests is not pinned under the team policy.
    outputs, statuses, uploads = runner.run({"path": "services/train", "policy": "policies/team.toml"})
    assert [code for _, code in statuses] == [0, 0, 1], statuses  # install, scan, gate
    assert outputs["verdict"] == "fail" and outputs["errors"] == "1" and outputs["waived"] == "2"
    assert outputs["new"] == "" and outputs["fixed"] == ""
    summary = runner.summary.read_text()
    assert summary.startswith("## :x: mlgov: **FAIL** for `train`") and "What blocks the merge" in summary
    for name in ("json", "markdown", "sarif", "junit", "html", "sbom"):
        assert (workspace / outputs[name]).is_file(), name
    assert outputs["sarif"] == "mlgov-reports/mlgov.sarif"
    # The upload step gets the SARIF, and its locations are relative to the repository root.
    assert uploads == [{"sarif_file": "mlgov-reports/mlgov.sarif"}]
    sarif = json.loads((workspace / uploads[0]["sarif_file"]).read_text())
    assert {loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
            for loc in r["locations"]} == {"services/train/requirements.txt"}

    # PR mode against that report: nothing new, so the gate passes; fail-on-policy false never fails.
    shutil.copy(workspace / outputs["json"], tmp_path / "base.json")
    outputs, statuses, _ = runner.run({"path": "services/train", "policy": "policies/team.toml",
                                       "baseline": str(tmp_path / "base.json"), "upload-sarif": "false"})
    assert [code for _, code in statuses] == [0, 0, 0], statuses
    assert outputs["verdict"] == "pass" and outputs["new"] == "0" and outputs["fixed"] == "0"

    # An input is data, never shell: a command substitution reaches mlgov as a policy name (exit 2).
    canary = tmp_path / "pwned"
    outputs, statuses, uploads = runner.run({"path": "services/train", "policy": f"$(touch {canary})",
                                             "hosts": f"a.json\n`touch {canary}`"})
    assert statuses[-1][1] == 2 and "mlgov could not judge the project (exit 2)" in statuses[-1][0]
    assert not canary.exists()
    assert runner.summary.read_text() == "" and "verdict" not in outputs and uploads == []


# -- pre-commit --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This working tree as a committed repository: what pre-commit clones (uncommitted files included)."""
    target = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot")
    return target, git(target, "rev-parse", "HEAD").strip()


def test_pre_commit_hook_through_try_repo(tmp_path: Path, hook_repository: tuple[Path, str]) -> None:
    pre_commit = tool("pre-commit")
    hooks, rev = hook_repository
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "requirements.txt").write_text("requests==2.32.3\n")
    (repo / "mlgov.toml").write_text('policy = "baseline"\nstage = "stabilization"\n')
    (repo / "README.md").write_text("# a project\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "CI": "true"}

    def try_repo(*args: str) -> subprocess.CompletedProcess[str]:
        return run([pre_commit, "try-repo", str(hooks), "mlgov", "--ref", rev, *args], cwd=repo, env=env,
                   timeout=900)

    passed = try_repo("--all-files")
    assert passed.returncode == 0 and re.search(r"mlgov supply-chain gate\.+Passed", passed.stdout), \
        passed.stdout + passed.stderr

    (repo / "requirements.txt").write_text("requests>=2.31\n")  # stabilization requires exact pins
    failed = try_repo("--files", "requirements.txt")
    assert failed.returncode == 1 and re.search(r"mlgov supply-chain gate\.+Failed", failed.stdout)
    assert "FAIL: project under policy baseline (stage stabilization)" in failed.stdout

    # A change that touches no dependency file does not run the hook at all.
    skipped = try_repo("--files", "README.md")
    assert skipped.returncode == 0 and re.search(r"mlgov supply-chain gate\.+\(no files to check\)Skipped",
                                                 skipped.stdout), skipped.stdout


def test_pre_commit_accepts_the_manifest_and_the_example_config(tmp_path: Path) -> None:
    pre_commit = tool("pre-commit")
    manifest = run([pre_commit, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")], cwd=tmp_path)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(_example("pre-commit-config"))
    checked = run([pre_commit, "validate-config", str(config)], cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(("name", "runs"), [
    ("requirements.txt", True), ("services/train/requirements-gpu.in", True), ("requirements/base.txt", True),
    ("uv.lock", True), ("poetry.lock", True), ("pdm.lock", True), ("Pipfile.lock", True), ("pylock.toml", True),
    ("pylock.gpu.toml", True), ("conda-lock.yml", True), ("environment.yml", True), ("pyproject.toml", True),
    ("mlgov.toml", True), ("policies/team.toml", True), ("ci/policy.toml", True), ("constraints.txt", True),
    ("train.py", False), ("README.md", False), ("docs/conf.toml", False), ("data/labels.txt", False),
])
def test_the_hook_runs_for_dependency_files_only(name: str, runs: bool) -> None:
    hook = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    assert bool(re.search(hook["files"], name)) is runs
    assert hook["pass_filenames"] is False and hook["language"] == "python"


# -- GitLab CI -------------------------------------------------------------------------------------

TEMPLATE = REPO / "ci" / "gitlab" / "mlgov.gitlab-ci.yml"


def test_gitlab_template_validates_against_gitlabs_schema(tmp_path: Path) -> None:
    checker = tool("check-jsonschema")
    result = run([checker, "--builtin-schema", "vendor.gitlab-ci", str(TEMPLATE)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    including = tmp_path / ".gitlab-ci.yml"
    including.write_text(_example("gitlab-include"))
    assert run([checker, "--builtin-schema", "vendor.gitlab-ci", str(including)], cwd=tmp_path).returncode == 0


def test_gitlab_template_runs_in_gitlab_ci_local(tmp_path: Path) -> None:
    gitlab_ci_local = tool("gitlab-ci-local")
    if shutil.which("rsync") is None:
        pytest.fail("gitlab-ci-local's shell executor needs rsync (.ci/run installs it)")
    root = tmp_path / "repo"
    monorepo(root, commit=False)
    (root / "ci" / "gitlab").mkdir(parents=True)
    shutil.copy(TEMPLATE, root / "ci" / "gitlab" / TEMPLATE.name)
    (root / ".gitlab-ci.yml").write_text("include:\n  - local: ci/gitlab/mlgov.gitlab-ci.yml\n\nvariables:\n"
                                         "  MLGOV_PATH: services/train\n  MLGOV_POLICY: policies/team.toml\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ci")
    # The shell executor on this machine, with mlgov already on PATH (MLGOV_PACKAGE empty), as in an
    # image that ships it; the job's script, variables and artifacts are the template's own.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = run([gitlab_ci_local, "--force-shell-executor", "--variable", "MLGOV_PACKAGE=", "mlgov"],
                 cwd=root, env={"PATH": path}, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # the gate fails: requests is not pinned
    assert "FAIL: train under policy team" in output

    artifacts = root / ".gitlab-ci-local" / "artifacts" / "mlgov"
    job = yaml.safe_load(TEMPLATE.read_text())["mlgov"]["artifacts"]
    assert job["when"] == "always"  # reports are kept when the gate fails
    sbom_file, junit_file = job["reports"]["cyclonedx"][0], job["reports"]["junit"]
    markdown_file = "mlgov-reports/mlgov.md"
    for file in (sbom_file, junit_file, markdown_file):
        assert (artifacts / file).is_file(), f"{file} not among the job's artifacts"
        assert any(file.startswith(kept) for kept in job["paths"])

    from governance.sbom.validate import validate

    sbom_text = (artifacts / sbom_file).read_text()
    validate(sbom_text, "json", "1.6")
    assert {c["name"] for c in json.loads(sbom_text)["components"]} >= {"requests", "numpy", "rich", "click"}
    junit = (artifacts / junit_file).read_text()
    assert "<failure" in junit and "requests" in junit
    assert (artifacts / markdown_file).read_text().startswith("## :x: mlgov: **FAIL** for `train`")
