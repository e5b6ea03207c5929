"""The one rule catalogue: id, family, default level and a one-line description.

SARIF rules, JUnit test names, waivers, `mlgov rules` and docs/rules.md all
read this table, so a rule id means one thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    level: str  # default level: "error" | "warning" | "note"
    description: str
    help: str  # what to do about it, for SARIF's help text and the docs


RULES: tuple[Rule, ...] = (
    Rule("PIN001", "pins", "error", "A requirement is not pinned to one exact version (== or ===).",
         "Pin the requirement with `==X.Y.Z` (pip-compile, uv lock or poetry lock produce exact pins)."),
    Rule("PIN002", "pins", "error", "A pinned requirement has no hashes while the policy requires them.",
         "Regenerate the requirements with `pip-compile --generate-hashes` (or use a lockfile that records hashes)."),
    Rule("PKG001", "packages", "error", "A package version is outside the range the policy allows for it.",
         "Move the package to a version inside `[packages.<name>] allowed`, or change the policy."),
    Rule("PKG002", "packages", "error", "A package the policy denies is present.",
         "Remove the package (and whatever requires it), or take it off `[packages] deny`."),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(rule.family for rule in RULES))
