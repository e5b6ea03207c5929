"""`mlgov rules`, `mlgov policy validate` and `mlgov policy show` through the CLI."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli, main
from governance.policy.catalogue import RULES
from governance.policy.load import load_policy


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_rules_text_lists_every_rule() -> None:
    lines = invoke("rules").splitlines()
    assert [line.split()[0] for line in lines] == [r.id for r in RULES]


def test_rules_json() -> None:
    listed = json.loads(invoke("rules", "--format", "json"))
    assert [(r["id"], r["family"], r["level"]) for r in listed] == [(r.id, r.family, r.level) for r in RULES]


@pytest.mark.parametrize("name", ["baseline", "prototype", "stabilization", "production"])
def test_validate_shipped(name: str) -> None:
    assert invoke("policy", "validate", name).startswith(f"{name}: valid")


@pytest.mark.parametrize(("name", "stage"), [("production", None), ("baseline", "prototype"),
                                             ("stabilization", "production")])
def test_show_toml_is_itself_a_policy_with_the_same_settings(tmp_path: Path, name: str, stage: str | None) -> None:
    shown = invoke("policy", "show", name, *(["--stage", stage] if stage else []))
    flat = tmp_path / "flat.toml"
    flat.write_text(shown)
    original = load_policy(name, stage)
    assert load_policy(str(flat)).settings == original.settings
    assert tomllib.loads(shown)["name"] == original.name


def test_show_json_with_waivers(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("schema = 1\nextends = ['production']\n[[waivers]]\nid = 'PIN002'\nreason = 'soon'\n"
                      "expires = 2026-07-01\n")
    shown = json.loads(invoke("policy", "show", str(policy), "--format", "json"))
    assert shown["stage"] == "production"
    assert shown["gpu"] == {"driver": ">=580"}
    assert shown["waivers"] == [{"id": "PIN002", "reason": "soon", "expires": "2026-07-01",
                                 "from": f"{policy}:3"}]
    assert [Path(f).name for f in shown["files"]] == ["baseline.toml", "production.toml", "p.toml"]


@pytest.mark.parametrize("args", [["policy", "validate", "nope.toml"], ["policy", "show", "production", "--stage", "qa"],
                                  ["check", "x.json", "--policy", "no-such-policy"]])
def test_bad_input_exits_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("mlgov: error: ") and "Traceback" not in err
