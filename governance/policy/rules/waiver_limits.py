"""POL001 / POL002: waivers the stage does not accept.

`[waiver_limits]` (usually under `[stages.production]`) bounds what a waiver
may be: at most `max_days` until it expires, counted from the day of the
check, an `expires` date and an `owner` when required. These are findings
rather than load errors because they depend on the clock, which only
evaluate has; the waiver keeps waiving, but the finding (an error in a gate
that sets the limits) fails the verdict until the waiver is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from governance.model import Finding
from governance.policy.context import RuleContext
from governance.policy.rule import Rule
from governance.policy.waiver import Waiver, days_left

RULES = (
    Rule("POL001", "policy", "error", "A waiver runs longer than the stage's `waiver_limits.max_days`.",
         "Shorten the waiver's `expires` to within the limit, and renew it when it runs out."),
    Rule("POL002", "policy", "error", "A waiver lacks an `expires` date or an `owner` that the stage requires.",
         "Add `expires = YYYY-MM-DD` (and `owner`) to the waiver."),
)


def _name(waiver: Waiver) -> str:
    return " ".join(part for part in (waiver.id, waiver.package) if part) or "waiver"


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    max_days = ctx.policy.get("waiver_limits", "max_days")
    require_expiry = ctx.policy.get("waiver_limits", "require_expiry", False)
    require_owner = ctx.policy.get("waiver_limits", "require_owner", False)
    today = ctx.now.date()
    for waiver in ctx.policy.waivers:
        left = days_left(waiver, today)
        where = {"file": waiver.file, "line": waiver.line}
        if left is None and (require_expiry or max_days is not None):
            yield _finding(ctx, "POL002", f"waiver {_name(waiver)} ({waiver.location}) has no expiry date; "
                           f"stage {ctx.policy.stage} requires one"
                           + (f" at most {max_days} days ahead" if max_days is not None else ""),
                           where, "add expires = YYYY-MM-DD")
        elif max_days is not None and left is not None and left > max_days:
            yield _finding(ctx, "POL001", f"waiver {_name(waiver)} ({waiver.location}) expires {waiver.expires}, "
                           f"{left} days from {today}; stage {ctx.policy.stage} allows at most {max_days}",
                           where, f"set expires no later than {today.fromordinal(today.toordinal() + max_days)}")
        if require_owner and not waiver.owner:
            yield _finding(ctx, "POL002", f"waiver {_name(waiver)} ({waiver.location}) has no owner; "
                           f"stage {ctx.policy.stage} requires one", where, "add owner = \"team or person\"")


def _finding(ctx: RuleContext, rule_id: str, message: str, where: Mapping[str, object], fix: str) -> Finding | None:
    finding = ctx.finding(rule_id, message, fix=fix)
    if finding is None:
        return None
    from dataclasses import replace

    return replace(finding, **where)  # type: ignore[arg-type]
