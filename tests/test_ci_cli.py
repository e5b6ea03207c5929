"""What a CI job sees from the command line: configuration discovery, PR mode, colour, -q, waived summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tests.report_samples as samples
from governance.model import Finding, Level
from governance.report.markdown import render as markdown
from governance.report.sarif import render as sarif
from governance.report.terminal import render as terminal
from tests.ci_project import mlgov, monorepo
from tests.conftest import REPO

ANSI = "\x1b["


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return monorepo(tmp_path / "repo")


def _json(outcome_stdout: str) -> dict:  # type: ignore[type-arg]
    data: dict = json.loads(outcome_stdout)  # type: ignore[type-arg]
    return data


# -- configuration -------------------------------------------------------------------------------

def test_tool_mlgov_in_the_projects_pyproject_sets_the_defaults(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "train"\nversion = "1.0"\n\n[tool.mlgov]\npolicy = "../../policies/team.toml"\n'
        'stage = "prototype"\n')
    shown = mlgov(["config", "show", str(project), "--format", "json"])
    assert shown.code == 0, shown.stderr
    settings = _json(shown.stdout)["settings"]
    assert settings["policy"] == {"value": str(project / "../../policies/team.toml"),
                                  "from": f"{project / 'pyproject.toml'}:6"}
    assert settings["stage"]["from"] == f"{project / 'pyproject.toml'}:7"
    assert settings["vuln-db"] == {"value": None, "from": "default"}
    scanned = mlgov(["scan", str(project), "--format", "json"])
    assert _json(scanned.stdout)["policy"]["name"] == "team"
    assert _json(scanned.stdout)["policy"]["stage"] == "prototype"
    assert scanned.code == 0  # prototype: everything is a warning


def test_mlgov_toml_at_the_repository_root_applies_to_every_folder(project: Path) -> None:
    root = project.parent.parent
    (root / "mlgov.toml").write_text('policy = "policies/team.toml"\nreports = ["out/mlgov.json"]\n')
    (root / "out").mkdir()
    outcome = mlgov(["scan", str(project), "-q"])
    assert outcome.code == 1  # requests>=2.31 is not pinned, and team makes PIN001 an error
    assert outcome.stdout.startswith("FAIL: train under policy team")
    # Paths in the file are relative to the file, whatever folder mlgov runs in.
    report = json.loads((root / "out" / "mlgov.json").read_text())
    assert [f["package"] for f in report["findings"] if not f["waived"]] == ["requests"]


def test_the_command_line_overrides_the_file_and_config_show_says_so(project: Path) -> None:
    root = project.parent.parent
    (root / "mlgov.toml").write_text('# team defaults\npolicy = "policies/team.toml"\nstage = "production"\n')
    shown = mlgov(["config", "show", str(project), "--policy", "baseline"])
    assert shown.code == 0, shown.stderr
    lines = {line.split("=")[0].strip(): line for line in shown.stdout.splitlines()[1:]}
    assert lines["policy"].endswith('"baseline"  # command line')
    assert lines["stage"].endswith(f'"production"  # {root / "mlgov.toml"}:3')
    assert lines["color"].endswith('"auto"  # default')
    scanned = mlgov(["scan", str(project), "--policy", "baseline", "--format", "json"])
    assert _json(scanned.stdout)["policy"] == {**_json(scanned.stdout)["policy"], "name": "baseline",
                                               "stage": "production"}


@pytest.mark.parametrize(("text", "line", "message"), [
    ('policy = "baseline"\npolcy = "production"\n', 2, "polcy: unknown setting (did you mean 'policy'?)"),
    ('hosts = "a.json"\n', 1, "hosts: expected a list of paths, got a string"),
    ('color = "sometimes"\n', 1, "color: 'sometimes' is not one of auto, always, never"),
    ('show-waived = "yes"\n', 1, "show-waived: expected true or false, got a string"),
    ('policy = \n', 1, "invalid TOML"),
])
def test_a_bad_configuration_is_exit_2_with_file_and_line(project: Path, text: str, line: int,
                                                          message: str) -> None:
    config = project / "mlgov.toml"
    config.write_text(text)
    outcome = mlgov(["scan", str(project)])
    assert outcome.code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(f"mlgov: error: {config}:{line}: ")
    assert message in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_an_unknown_key_in_tool_mlgov_names_the_pyproject_line(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.mlgov]\nstage = "production"\n'
                                            'vulndb = "osv.zip"\n')
    outcome = mlgov(["config", "show", str(project)])
    assert outcome.code == 2
    assert f"{project / 'pyproject.toml'}:6: tool.mlgov.vulndb: unknown setting (did you mean 'vuln-db'?)" \
        in outcome.stderr


def test_two_configurations_in_one_folder_are_refused(project: Path) -> None:
    (project / "mlgov.toml").write_text('stage = "production"\n')
    (project / "pyproject.toml").write_text('[tool.mlgov]\nstage = "prototype"\n')
    outcome = mlgov(["config", "show", str(project)])
    assert outcome.code == 2 and "keep one" in outcome.stderr


def test_discovery_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "mlgov.toml").write_text('polcy = "typo that must not be read"\n')
    project = monorepo(tmp_path / "repo")
    outcome = mlgov(["config", "show", str(project)])
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("# configuration: none found")


def test_explicit_config_file(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "ci.toml"
    elsewhere.write_text('stage = "stabilization"\n')
    shown = mlgov(["config", "show", str(project), "--config", str(elsewhere), "--format", "json"])
    assert _json(shown.stdout)["settings"]["stage"] == {"value": "stabilization", "from": f"{elsewhere}:1"}


# -- PR mode ---------------------------------------------------------------------------------------

def test_baseline_fails_only_on_introduced_findings_and_lists_fixed_ones(project: Path, tmp_path: Path) -> None:
    policy = str(project.parent.parent / "policies" / "team.toml")
    base = tmp_path / "main.json"
    assert mlgov(["scan", str(project), "--policy", policy, "--report", str(base), "-q"]).code == 1

    # The change moves every line down (the fingerprint ignores lines), fixes requests and adds pandas>=2.
    (project / "requirements.txt").write_text("# comment\nrequests==2.32.3\nnumpy==2.1.0\nrich>=13\nclick\n")
    unchanged = mlgov(["scan", str(project), "--policy", policy, "--baseline", str(base), "--format", "json"])
    assert unchanged.code == 0, unchanged.stdout  # the only error was fixed; nothing new
    report = _json(unchanged.stdout)
    assert report["verdict"] == "pass"
    assert [f["package"] for f in report["baseline"]["fixed"]] == ["requests"]
    assert {f["package"]: f["baseline"] for f in report["findings"]} == {"click": "existing", "rich": "existing"}

    (project / "requirements.txt").write_text("requests>=2.31\nnumpy==2.1.0\nrich>=13\nclick\npandas>=2\n")
    introduced = mlgov(["scan", str(project), "--policy", policy, "--baseline", str(base), "--color", "never"])
    assert introduced.code == 1
    assert "pandas is not pinned" in introduced.stdout
    assert "requests is not pinned to one version (>=2.31) in requirements.txt:1; pin it with ==<version> " \
           "(pip-compile or a lockfile does this for you) [existing]" in introduced.stdout
    assert f"Compared with {base}: 1 new finding(s) (1 error(s)), 1 existing, 0 fixed" in introduced.stdout

    # The old error alone does not fail a change that did not bring it.
    (project / "requirements.txt").write_text("requests>=2.31\nnumpy==2.1.0\nrich>=13\nclick\n")
    assert mlgov(["scan", str(project), "--policy", policy, "--baseline", str(base), "-q"]).code == 0
    assert mlgov(["scan", str(project), "--policy", policy, "-q"]).code == 1


def test_the_fingerprint_is_the_one_sarif_carries(project: Path, tmp_path: Path) -> None:
    policy = str(project.parent.parent / "policies" / "team.toml")
    json_report, sarif_report = tmp_path / "r.json", tmp_path / "r.sarif"
    mlgov(["scan", str(project), "--policy", policy, "--report", str(json_report), "--report", str(sarif_report)])
    from_json = {f["fingerprint"] for f in json.loads(json_report.read_text())["findings"]}
    results = json.loads(sarif_report.read_text())["runs"][0]["results"]
    assert from_json == {r["partialFingerprints"]["mlgovFindingIdentity/v1"] for r in results}
    assert len(from_json) == 3


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", ":1: not JSON"),
    ('{"format": "cyclonedx"}', "not an mlgov JSON report"),
    ('{"format": "mlgov-report", "version": 1, "findings": [{"level": "error"}]}', "findings[0] is not a finding"),
])
def test_a_bad_baseline_is_exit_2_before_any_work(project: Path, tmp_path: Path, content: str, message: str) -> None:
    base = tmp_path / "base.json"
    base.write_text(content)
    report = tmp_path / "out.md"
    outcome = mlgov(["scan", str(project), "--baseline", str(base), "--report", str(report)])
    assert outcome.code == 2 and message in outcome.stderr and str(base) in outcome.stderr
    assert not report.exists()


def test_a_report_without_fingerprints_still_matches(project: Path, tmp_path: Path) -> None:
    """Reports written before fingerprints were stored carry every part of one."""
    policy = str(project.parent.parent / "policies" / "team.toml")
    base = tmp_path / "old.json"
    mlgov(["scan", str(project), "--policy", policy, "--report", str(base)])
    data = json.loads(base.read_text())
    for finding in data["findings"]:
        del finding["fingerprint"]
    base.write_text(json.dumps(data))
    assert mlgov(["scan", str(project), "--policy", policy, "--baseline", str(base), "-q"]).code == 0


# -- terminal ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "env", "coloured"), [
    ([], {}, False),  # not a terminal
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins over FORCE_COLOR
    (["--color", "always"], {"NO_COLOR": "1"}, True),  # the command line wins over both
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
])
def test_colour_follows_color_no_color_and_force_color(project: Path, args: list[str], env: dict[str, str],
                                                       coloured: bool) -> None:
    outcome = mlgov(["scan", str(project), *args], env=env)
    assert outcome.code == 0
    assert (ANSI in outcome.stdout) is coloured


def test_no_color_in_a_config_file(project: Path) -> None:
    (project / "mlgov.toml").write_text('color = "always"\n')
    assert ANSI in mlgov(["scan", str(project)]).stdout


def test_quiet_prints_the_verdict_alone_and_no_progress_even_on_a_terminal(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from governance import cli

    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: True)
    quiet = mlgov(["scan", str(project), "-q"], env={"CI": None})
    assert quiet.stdout.count("\n") == 1 and quiet.stdout.startswith("PASS: train")
    assert quiet.stderr == ""
    loud = mlgov(["scan", str(project)], env={"CI": None})
    assert "mlgov: evaluating policy" in loud.stderr  # the same run without -q shows progress on a terminal


def test_waived_findings_are_one_line_per_rule_unless_asked() -> None:
    waived = tuple(Finding("PIN001", Level.ERROR, f"pkg-{i} is not pinned", package=f"pkg-{i}", waived=True,
                           waiver_reason="legacy image" if i % 3 else "vendored", waiver_expires="2027-0{}-01".format(
                               1 + i % 9)) for i in range(252))
    errors = tuple(Finding("VULN001", Level.ERROR, f"advisory {i}", package="torch") for i in range(4))
    evaluation = samples.evaluation(waived + errors)
    summary = terminal(evaluation)
    assert len(summary.splitlines()) < 25
    assert "  - PIN001: 252 waived (legacy image and 1 other reason(s); first expiry 2027-01-01)" in summary
    full = terminal(evaluation, show_waived=True)
    assert sum(1 for line in full.splitlines() if "(waived: " in line) == 252


def test_show_waived_on_the_command_line(project: Path) -> None:
    policy = str(project.parent.parent / "policies" / "team.toml")
    short = mlgov(["scan", str(project), "--policy", policy]).stdout
    assert "PIN001: 2 waived (developer tooling, never deployed; first expiry 2099-01-01)" in short
    full = mlgov(["scan", str(project), "--policy", policy, "--show-waived"]).stdout
    assert "ticket MLP-7" in full and "rich is not pinned" in full


def test_advisory_summaries_are_not_cut_at_the_first_newline() -> None:
    from governance.vulns.osv import _summary

    assert _summary({"summary": "Remote code execution\nwhen torch.load reads a crafted file"}) == \
        "Remote code execution when torch.load reads a crafted file"


# -- Markdown and SARIF details ------------------------------------------------------------------------

def test_only_blocking_findings_are_under_what_blocks_the_merge() -> None:
    text = markdown(samples.evaluation())
    table = text.split("### What blocks the merge", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| level")]
    assert rows and all(row.startswith("| error |") for row in rows)
    assert "| warning |" not in table and "| note |" not in table


def test_a_clipped_cell_never_ends_in_half_a_url() -> None:
    url = "https://github.com/pytorch/pytorch/security/advisories/GHSA-53q9-r3pm-6pq6"
    message = "x" * 260 + " see " + url + " for details"
    text = markdown(samples.evaluation((Finding("VULN001", Level.ERROR, message, package="torch"),)))
    row = next(line for line in text.splitlines() if line.startswith("| error")).replace("\u200b", "")
    assert "https://github.com/pytorch/pytorch/s" not in row.replace(url, "")
    assert row.count("see…") == 1  # the URL that did not fit is left out whole


def test_waiver_tickets_are_shown() -> None:
    finding = Finding("PIN002", Level.ERROR, "no hashes", package="pillow", waived=True,
                      waiver_reason="vendored", waiver_owner="ml-platform", waiver_ticket="MLP-142")
    evaluation = samples.evaluation((finding,))
    assert "| ml-platform | MLP-142 |" in markdown(evaluation)
    suppression = json.loads(sarif(evaluation))["runs"][0]["results"][0]["suppressions"][0]
    assert suppression["properties"]["ticket"] == "MLP-142"


@pytest.mark.parametrize(("threshold", "score"), [("high", "8.0"), ("medium", "5.5"), ("critical", "9.5")])
def test_an_unrated_advisory_is_scored_at_the_policys_threshold(threshold: str, score: str) -> None:
    finding = Finding("VULN001", Level.ERROR, "torch: GHSA-xxxx, severity unknown", package="torch",
                      vulnerability="GHSA-xxxx-yyyy-zzzz", severity="unknown")
    log = json.loads(sarif(samples.evaluation((finding,), vulnerability_threshold=threshold)))
    assert log["runs"][0]["results"][0]["properties"]["security-severity"] == score


def test_every_rule_has_a_help_uri_to_its_section_of_the_rules_doc(repo_root: Path) -> None:
    log = json.loads(sarif(samples.evaluation()))
    rules_md = (repo_root / "docs" / "rules.md").read_text()
    for rule in log["runs"][0]["tool"]["driver"]["rules"]:
        anchor = rule["helpUri"].rsplit("#", 1)[1]
        assert rule["helpUri"].split("#")[0].endswith("/docs/rules.md")
        assert f"\n### {anchor.upper()}\n" in rules_md


def test_every_setting_is_in_the_docs_table(repo_root: Path) -> None:
    from governance.config import SETTINGS

    table = (repo_root / "docs" / "ci.md").read_text()
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in table]
    assert missing == []


def test_groups_and_extras_from_the_configuration_choose_what_is_installed(tmp_path: Path) -> None:
    """[tool.mlgov] no-default-groups + groups: the cpu variant of a project whose default is cuda12."""
    import shutil

    from tests.entry import invoke

    variants = REPO / "tests" / "data" / "lockfiles" / "uv-variants"
    shutil.copytree(variants, tmp_path / "v")
    project = tmp_path / "v" / "conflict-groups"
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.mlgov]\nno-default-groups = true\ngroups = ["cpu"]\ntarget-platform = "linux-x86_64"\n'
                'target-python = "3.11"\n')
    code, output = invoke(["scan", str(project), "--format", "json", "--sbom", str(tmp_path / "s.json")])
    assert code in (0, 1), output
    versions = {c["name"]: c.get("version") for c in json.loads((tmp_path / "s.json").read_text())["components"]}
    assert versions == {"torchlike": "2.10.0+cpu", "typinglike": "4.0"}
