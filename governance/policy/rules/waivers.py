"""WAIVE001 / WAIVE002: waivers that expired, and waivers that waive nothing.

These findings are about the policy's `[[waivers]]`, not the inventory, so
this family's check finds nothing itself: governance.policy.waivers raises
them while it applies the waivers to the other families' findings. The rules
are declared here so that the catalogue (SARIF, docs, `[rules]` levels) knows
them like any other.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Finding
from governance.policy.context import RuleContext
from governance.policy.rule import Rule

RULES = (
    Rule("WAIVE001", "waivers", "error",
         "A waiver has expired: it no longer waives anything.",
         "Fix what the waiver covered, or renew the waiver with a new `expires` date and a reason that still holds."),
    Rule("WAIVE002", "waivers", "note",
         "A waiver matches no finding.",
         "Remove the waiver from the policy (the problem it covered is gone), or correct its id or package."),
)


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    return iter(())
