"""Policy loading: strict validation with exact lines, inheritance, stages, rule levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import PolicyError
from governance.policy.load import load_policy


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ("schema = 1\n[pins]\nrequire_exact = true\nrequire_hash = true\n", 4, "pins.require_hash",
     "did you mean 'require_hashes'"),
    ("schema = 1\npins.require_exact = 'yes'\n", 2, "pins.require_exact", "expected true or false"),
    ("schema = 1\n\n[stages.production]\npins = { require_exact = true, hashes = true }\n", 4,
     "stages.production.pins.hashes", "unknown key"),
    ("schema = 1\n[stages.prodution.rules]\nPIN001 = 'error'\n", 2, "stages.prodution",
     "did you mean production"),
    ("schema = 1\n[rules]\nPIN001 = 'error'\nPIN01 = 'error'\n", 4, "rules.PIN01", "did you mean PIN001"),
    ("schema = 1\n[rules]\n'XYZ*' = 'off'\n", 3, 'rules."XYZ*"', "unknown rule"),
    ("schema = 1\n[rules]\nPIN001 = 'fatal'\n", 3, "rules.PIN001", "expected one of error"),
    ("schema = 1\n[[waivers]]\nid = 'PIN001'\nreason = 'r'\n[[waivers]]\nid = 'PIN002'\nreason = 'r'\n"
     "expires = '2026-02-30'\n", 8, "waivers[1].expires", "invalid date"),
    ("schema = 1\n[[waivers]]\nid = 'PIN001'\nreason = 'r'\nexpires = 2026-01-01T10:00:00\n", 5,
     "waivers[0].expires", "expected a date"),
    ("schema = 1\n[[waivers]]\nid = 'PIN001'\n", 2, "waivers[0].reason", "needs a reason"),
    ("schema = 1\nwaiver_limits = { max_days = 0 }\n", 2, "waiver_limits.max_days", "1 or more"),
    ("schema = 1\nstage = 'staging'\n", 2, "stage", "expected one of prototype"),
    ("schema = 2\n", 1, "schema", "unsupported schema"),
    ("name = 'x'\n", None, "schema", "starts with `schema = 1`"),
    ("schema = 1\n[packages.torch]\nallowed = '>=2.6'\nreasn = 'typo'\n", 4, "packages.torch.reasn",
     "unknown key"),
])
def test_strict_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int | None, key: str,
                                              words: str) -> None:
    path = write(tmp_path, "team.toml", text)
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, key)
    assert words in error.message


def test_toml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", "schema = 1\n[pins\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    assert caught.value.line == 2


def test_extends_relative_paths_deep_merge_and_concatenate_waivers(tmp_path: Path) -> None:
    write(tmp_path, "org/base.toml", "schema = 1\nstage = 'stabilization'\n[pins]\nrequire_hashes = true\n"
          "[packages.torch]\nallowed = '>=2.4'\nreason = 'org'\n"
          "[[waivers]]\nid = 'PIN002'\nreason = 'org-wide'\n")
    team = write(tmp_path, "team/policy.toml",
                 "schema = 1\nextends = ['baseline', '../org/base.toml']\n[packages.torch]\nallowed = '>=2.6'\n"
                 "[[waivers]]\nid = 'PIN001'\nreason = 'team'\n")
    policy = load_policy(str(team))
    assert policy.stage == "stabilization"  # inherited
    assert policy.get("pins", "require_hashes") is True  # from org, over baseline's false
    assert policy.settings["packages"]["torch"] == {"allowed": ">=2.6", "reason": "org"}
    assert policy.settings["packages"]["deny"] == ["tensorflow-gpu", "pickle5"]  # from baseline
    assert [w.reason for w in policy.waivers] == ["org-wide", "team"]
    assert policy.waivers[0].file == str(tmp_path / "team/../org/base.toml")
    assert policy.waivers[0].line == 8
    assert [Path(f).name for f in policy.files] == ["baseline.toml", "base.toml", "policy.toml"]


def test_diamond_merges_the_shared_base_once(tmp_path: Path) -> None:
    write(tmp_path, "root.toml", "schema = 1\n[[waivers]]\nid = 'PIN001'\nreason = 'once'\n")
    write(tmp_path, "a.toml", "schema = 1\nextends = ['root.toml']\n")
    write(tmp_path, "b.toml", "schema = 1\nextends = ['root.toml']\n")
    top = write(tmp_path, "top.toml", "schema = 1\nextends = ['a.toml', 'b.toml']\n")
    assert len(load_policy(str(top)).waivers) == 1


def test_cycle_is_an_error_at_the_extends_line(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", "schema = 1\nextends = ['b.toml']\n")
    b = write(tmp_path, "b.toml", "schema = 1\nextends = [\n  'baseline',\n  'a.toml',\n]\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(tmp_path / "a.toml"))
    assert caught.value.file == str(b)
    assert caught.value.line == 4
    assert caught.value.key == "extends[1]"
    assert "cycle" in caught.value.message


@pytest.mark.parametrize("entry", ["missing.toml", "no-such-shipped-policy"])
def test_missing_base_is_an_error_at_the_extends_line(tmp_path: Path, entry: str) -> None:
    path = write(tmp_path, "team.toml", f"schema = 1\n\nextends = ['{entry}']\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(path), 3, "extends[0]")


def test_an_error_in_a_base_names_the_base(tmp_path: Path) -> None:
    base = write(tmp_path, "base.toml", "schema = 1\n[pins]\nrequire_exactly = true\n")
    top = write(tmp_path, "top.toml", "schema = 1\nextends = ['base.toml']\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(top))
    assert (caught.value.file, caught.value.line) == (str(base), 3)


def test_stages_override_and_patterns(tmp_path: Path) -> None:
    path = write(tmp_path, "p.toml", "schema = 1\nstage = 'prototype'\n[rules]\nPIN001 = 'error'\nPKG001 = 'note'\n"
                 "[stages.prototype.rules]\n'*' = 'warning'\n[stages.production.rules]\n'PIN*' = 'off'\n"
                 "PIN002 = 'error'\n")
    prototype = load_policy(str(path))
    assert prototype.stage == "prototype"
    assert {r: prototype.level(r, "error") for r in ("PIN001", "PKG001", "LIC001")} == \
        {"PIN001": "warning", "PKG001": "warning", "LIC001": "warning"}
    production = load_policy(str(path), "production")
    assert {r: production.level(r, "error") for r in ("PIN001", "PIN002", "PKG001")} == \
        {"PIN001": "off", "PIN002": "error", "PKG001": "note"}
    # A configured-nowhere stage is the top-level tables unchanged.
    assert load_policy(str(path), "stabilization").level("PIN001", "x") == "error"
    with pytest.raises(PolicyError, match="unknown stage 'staging'"):
        load_policy(str(path), "staging")


def test_digest_follows_settings_and_waivers(tmp_path: Path) -> None:
    one = write(tmp_path, "one.toml", "schema = 1\n[pins]\nrequire_hashes = true\n")
    two = write(tmp_path, "two.toml", "schema = 1\n[pins]\nrequire_hashes = true\n")
    three = write(tmp_path, "three.toml", "schema = 1\n[pins]\nrequire_hashes = false\n")
    assert load_policy(str(one)).digest == load_policy(str(two)).digest != load_policy(str(three)).digest


@pytest.mark.parametrize("name", ["baseline", "prototype", "stabilization", "production"])
@pytest.mark.parametrize("stage", [None, "prototype", "stabilization", "production"])
def test_shipped_policies_load_at_every_stage(name: str, stage: str | None) -> None:
    policy = load_policy(name, stage)
    assert policy.stage == (stage or {"baseline": "default"}.get(name, name))


def test_shipped_production_keeps_its_intent() -> None:
    policy = load_policy("production")
    assert policy.get("pins", "require_hashes") is True
    assert policy.get("vulnerabilities", "fail_on") == "high"
    assert policy.get("gpu", "driver") == ">=580"
    assert "GPL-*" in policy.get("licenses", "deny")
    assert policy.get("waiver_limits", "max_days") == 30
    assert policy.level("PIN001", "x") == policy.level("PIN002", "x") == "error"
    assert load_policy("prototype").level("PKG002", "error") == "warning"
