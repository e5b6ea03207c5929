"""The terminal summary: findings grouped by level and rule, the verdict last.

Every string from an input goes through escape.terminal, and every line starts
with mlgov's own text ("project", "note:", "-", the level, the verdict), so a
package or project name cannot start a line of a CI log (`::add-mask::`).
"""

from __future__ import annotations

from itertools import groupby

import click

from governance.escape import terminal as t
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
        lines.append(f"project {t(inventory.project.name)}: {len(inventory.packages)} package(s) from "
                     f"{t(', '.join(inventory.sources)) or 'no sources'}")
        for note in inventory.notes:
            lines.append(style(f"  note: {t(note)}", dim=True))
        for unread in inventory.unread:
            lines.append(style(f"  not read: {t(unread.file)} ({t(unread.reason)})", dim=True))
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
                lines.append(f"  - {t(finding.message)}"
                             + (style(f"  [{t(place)}]", dim=True) if place and place not in finding.message else ""))
        waived = [f for f in evaluation.findings if f.waived]
        if waived:
            lines.append("")
            lines.append(style(f"WAIVED ({len(waived)})", bold=True))
            for finding in waived:
                lines.append(f"  - {t(finding.rule_id)} {t(finding.message)} (waived: {t(finding.waiver_reason)}"
                             + (f", expires {t(finding.waiver_expires)}" if finding.waiver_expires else "") + ")")
        lines.append("")
    verdict = t(verdict_line(evaluation))
    lines.append(style(verdict, fg="red" if evaluation.failed else "green", bold=True))
    return "\n".join(lines) + "\n"
