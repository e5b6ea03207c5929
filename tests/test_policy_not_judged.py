""""Not judged" is a level the stage decides: `[coverage] not_judged`, overridable per rule."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from governance.errors import PolicyError
from governance.model import Inventory, Level, Package, Project
from governance.policy.catalogue import RULES
from governance.policy.evaluate import evaluate
from governance.policy.load import load_policy
from governance.policy.rule import NOT_JUDGED

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
# Components without provenance (as in another tool's SBOM): the pin rules cannot judge them (COV001).
UNPROVEN = Inventory(project=Project("p"), packages=(Package(name="numpy", version="2.1.3"),))


def cov001(policy: Path | str, stage: str | None = None) -> Level | None:
    evaluation = evaluate(UNPROVEN, load_policy(str(policy), stage), NOW)
    levels = [f.level for f in evaluation.findings if f.rule_id == "COV001"]
    return levels[0] if levels else None


@pytest.mark.parametrize(("policy", "stage", "level"), [
    ("baseline", None, Level.WARNING),
    ("baseline", "prototype", Level.WARNING),
    ("baseline", "stabilization", Level.WARNING),
    ("baseline", "production", Level.ERROR),
    ("production", None, Level.ERROR),
    ("stabilization", None, Level.WARNING),
    ("prototype", None, Level.WARNING),
])
def test_shipped_stages_decide_what_not_judged_costs(policy: str, stage: str | None, level: Level) -> None:
    assert cov001(policy, stage) is level


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team.toml"
    path.write_text("schema = 1\n" + text, encoding="utf-8")
    return path


def test_a_policy_sets_the_level_per_stage(tmp_path: Path) -> None:
    policy = write(tmp_path, "[coverage]\nnot_judged = 'note'\n"
                             "[stages.stabilization.coverage]\nnot_judged = 'error'\n")
    assert cov001(policy) is Level.NOTE
    assert cov001(policy, "stabilization") is Level.ERROR
    assert cov001(policy, "prototype") is Level.NOTE


def test_without_a_setting_production_fails_closed(tmp_path: Path) -> None:
    policy = write(tmp_path, "")  # extends nothing, says nothing about coverage
    assert cov001(policy) is Level.WARNING
    assert cov001(policy, "production") is Level.ERROR


def test_a_rule_level_still_wins_over_the_stage(tmp_path: Path) -> None:
    policy = write(tmp_path, "extends = ['production']\n[rules]\nCOV001 = 'note'\n")
    assert cov001(policy) is Level.NOTE
    off = write(tmp_path, "extends = ['production']\n[stages.production.rules]\n'COV*' = 'off'\n")
    assert cov001(off) is None


@pytest.mark.parametrize("value", ["'off'", "'fatal'", "true"])
def test_a_bad_setting_is_a_policy_error(tmp_path: Path, value: str) -> None:
    policy = write(tmp_path, f"[coverage]\nnot_judged = {value}\n")
    with pytest.raises(PolicyError, match=r"team.toml:3: coverage.not_judged: expected one of error, warning, note"):
        load_policy(str(policy))


def test_coverage_rules_default_to_the_stage() -> None:
    assert "COV001" in {rule.id for rule in RULES if rule.level == NOT_JUDGED}
