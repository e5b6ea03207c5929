"""The one rule catalogue: id, family, default level and a one-line description.

Each family module (governance/policy/rules/<family>.py) declares its RULES
next to its checks; this module gathers them. SARIF rules, JUnit test names,
waivers, `mlgov rules` and docs/rules.md all read this table, so a rule id
means one thing everywhere.
"""

from __future__ import annotations

from governance.policy.rule import Rule
from governance.policy.rules import families

RULES: tuple[Rule, ...] = tuple(rule for family in families() for rule in family.RULES)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(rule.family for rule in RULES))

if len(BY_ID) != len(RULES):  # pragma: no cover - a programming error caught at import
    raise RuntimeError("duplicate rule id in the catalogue")
