"""The terminal summary: findings grouped by level and rule, the verdict last."""

from __future__ import annotations

from itertools import groupby

import click

from governance.model import Evaluation, Level
from governance.policy.catalogue import BY_ID
from governance.report.common import basis_line, verdict_line, where

_COLOURS = {Level.ERROR: "red", Level.WARNING: "yellow", Level.NOTE: "cyan"}


def render(evaluation: Evaluation, colour: bool = False, quiet: bool = False) -> str:
    def style(text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if colour else text  # type: ignore[arg-type]

    lines: list[str] = []
    if not quiet:
        inventory = evaluation.inventory
        lines.append(f"{inventory.project.name}: {len(inventory.packages)} package(s) from "
                     f"{', '.join(inventory.sources) or 'no sources'}")
        for note in inventory.notes:
            lines.append(style(f"  note: {note}", dim=True))
        for unread in inventory.unread:
            lines.append(style(f"  not read: {unread.file} ({unread.reason})", dim=True))
        lines.append(style(f"  {basis_line(evaluation)}", dim=True))
        active = [f for f in evaluation.findings if not f.waived]
        for (level, rule_id), group in groupby(active, key=lambda f: (f.level, f.rule_id)):
            items = list(group)
            rule = BY_ID.get(rule_id)
            title = rule.description if rule else ""
            lines.append("")
            lines.append(style(f"{level.value.upper()} {rule_id}", fg=_COLOURS[level], bold=True)
                         + f" ({len(items)}) {title}")
            for finding in items:
                place = where(finding)
                lines.append(f"  - {finding.message}" + (style(f"  [{place}]", dim=True) if place and place not in finding.message else ""))
        waived = [f for f in evaluation.findings if f.waived]
        if waived:
            lines.append("")
            lines.append(style(f"WAIVED ({len(waived)})", bold=True))
            for finding in waived:
                lines.append(f"  - {finding.rule_id} {finding.message} (waived: {finding.waiver_reason}"
                             + (f", expires {finding.waiver_expires}" if finding.waiver_expires else "") + ")")
        lines.append("")
    verdict = verdict_line(evaluation)
    lines.append(style(verdict, fg="red" if evaluation.failed else "green", bold=True))
    return "\n".join(lines) + "\n"
