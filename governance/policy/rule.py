"""A rule's catalogue entry."""

from __future__ import annotations

from governance.frozen import frozen


# The default level of a rule that reports what mlgov could not judge (an input
# it cannot read, a build it cannot attribute, advisories it was not given).
# Such a finding takes its level from the stage (`[coverage] not_judged`), so one
# setting says how much "not judged" a gate tolerates: an error at production,
# a warning before it. `[rules] ID = ...` still overrides it for one rule.
NOT_JUDGED = "not-judged"


@frozen
class Rule:
    """A catalogue entry: a rule's id, family, default level and help."""
    id: str  # stable: SARIF, JUnit, waivers and docs use it
    family: str
    level: str  # default level: "error" | "warning" | "note" | NOT_JUDGED (from the stage)
    description: str  # one line
    help: str  # what to do about it, for SARIF's help text and the docs

    @property
    def not_judged(self) -> bool:
        return self.level == NOT_JUDGED

    @property
    def fixed_level(self) -> str:
        """A level without a policy to ask: what SARIF's defaultConfiguration shows."""
        return "warning" if self.not_judged else self.level
