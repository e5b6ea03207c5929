"""The terminal summary: findings grouped by level and rule, the verdict last.

Every string from an input goes through escape.terminal, and every line starts
with mlgov's own text ("project", "note:", "-", the level, the verdict), so a
package or project name cannot start a line of a CI log (`::add-mask::`).

Waived findings are accepted risks: a project with hundreds of them would bury
its few real errors, so they are one line per rule unless `--show-waived`.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

import click

from governance.escape import terminal as t
from governance.model import Evaluation, Finding, Level
from governance.policy.catalogue import BY_ID
from governance.report.common import baseline_line, basis_line, unread_heading, verdict_line, where

_COLOURS = {Level.ERROR: "red", Level.WARNING: "yellow", Level.NOTE: "cyan"}


def _waived_summary(waived: list[Finding]) -> list[str]:
    lines = []
    for rule_id, group in groupby(sorted(waived, key=lambda f: f.rule_id), key=lambda f: f.rule_id):
        items = list(group)
        reasons = Counter(f.waiver_reason or "waived" for f in items)
        reason, _ = reasons.most_common(1)[0]
        more = f" and {len(reasons) - 1} other reason(s)" if len(reasons) > 1 else ""
        expiries = sorted(f.waiver_expires for f in items if f.waiver_expires)
        expiry = f"; first expiry {t(expiries[0])}" if expiries else ""
        lines.append(f"  - {t(rule_id)}: {len(items)} waived ({t(reason)}{more}{expiry})")
    return lines


def _waived_full(waived: list[Finding]) -> list[str]:
    lines = []
    for finding in waived:
        extra = "".join(f", {label} {t(value)}" for label, value in (
            ("owner", finding.waiver_owner), ("ticket", finding.waiver_ticket),
            ("expires", finding.waiver_expires)) if value)
        lines.append(f"  - {t(finding.rule_id)} {t(finding.message)} (waived: {t(finding.waiver_reason)}{extra})")
    return lines


def render(evaluation: Evaluation, colour: bool = False, quiet: bool = False, show_waived: bool = False) -> str:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if colour else text  # type: ignore[arg-type]

    lines: list[str] = []
    if not quiet:
        inventory = evaluation.inventory
        lines.append(f"project {t(inventory.project.name)}: {len(inventory.packages)} package(s) from "
                     f"{t(', '.join(inventory.sources)) or 'no sources'}")
        if inventory.models:
            lines.append(f"  {len(inventory.models)} model file(s): "
                         f"{t(', '.join(sorted({m.format for m in inventory.models})))}")
        for note in inventory.notes:
            lines.append(style(f"  note: {t(note)}", dim=True))
        for unread in inventory.unread:
            if unread.rule == "DRIFT004":
                continue  # a stale lock's missing requirement: its note says it
            lines.append(style(f"  {unread_heading(unread.rule)}: {t(unread.file)} ({t(unread.reason)})", dim=True))
        lines.append(style(f"  {t(basis_line(evaluation))}", dim=True))
        active = [f for f in evaluation.findings if not f.waived]
        for (level, rule_id), group in groupby(active, key=lambda f: (f.level, f.rule_id)):
            items = list(group)
            rule = BY_ID.get(rule_id)
            title = rule.description if rule else ""
            lines.append("")
            lines.append(style(f"{level.value.upper()} {t(rule_id)}", fg=_COLOURS[level], bold=True)
                         + f" ({len(items)}) {title}")
            for finding in items:
                place = where(finding)
                mark = " [existing]" if finding.baseline == "existing" else ""
                lines.append(f"  - {t(finding.message)}{mark}"
                             + (style(f"  [{t(place)}]", dim=True) if place and place not in finding.message else ""))
        waived = [f for f in evaluation.findings if f.waived]
        if waived:
            lines.append("")
            lines.append(style(f"WAIVED ({len(waived)})", bold=True)
                         + ("" if show_waived else " one line per rule; --show-waived lists them"))
            lines += _waived_full(waived) if show_waived else _waived_summary(waived)
        if evaluation.baseline is not None and evaluation.baseline.fixed:
            lines.append("")
            lines.append(style(f"FIXED ({len(evaluation.baseline.fixed)}) since the baseline", fg="green", bold=True))
            lines += [f"  - {t(f.rule_id)} {t(f.message)}" for f in evaluation.baseline.fixed]
        lines.append("")
        if evaluation.baseline is not None:
            lines.append(t(baseline_line(evaluation)))
    verdict = t(verdict_line(evaluation))
    lines.append(style(verdict, fg="red" if evaluation.failed else "green", bold=True))
    return "\n".join(lines) + "\n"
