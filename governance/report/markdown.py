"""Markdown for a pull-request comment: the verdict first, then what to fix."""

from __future__ import annotations

from governance.model import Evaluation, Finding
from governance.report.common import counts, verdict_line, where

# GitHub refuses comments over 65,536 characters; leave room for the footer.
LIMIT = 60_000


def _cell(text: str) -> str:
    # Metadata is hostile input: no table breaks, no HTML, no mentions.
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("@", "@\u200b").replace("\n", " "))


def _row(finding: Finding) -> str:
    place = where(finding)
    return (f"| {finding.level.value} | `{finding.rule_id}` | {_cell(finding.package or '')} "
            f"| {_cell(finding.message)} | {_cell(place)} |")


def render(evaluation: Evaluation) -> str:
    c = counts(evaluation)
    icon = ":x:" if evaluation.failed else ":white_check_mark:"
    head = [f"## {icon} mlgov: {_cell(verdict_line(evaluation))}", "",
            f"| errors | warnings | notes | waived | components |", "|---|---|---|---|---|",
            f"| {c['error']} | {c['warning']} | {c['note']} | {c['waived']} | {len(evaluation.inventory.packages)} |",
            ""]
    active = [f for f in evaluation.findings if not f.waived]
    rows = [_row(f) for f in active]
    table_head = ["| level | rule | package | finding | where |", "|---|---|---|---|---|"]
    body: list[str] = []
    if rows:
        body += ["### Findings", ""] + table_head
        size = sum(len(x) + 1 for x in head + body)
        shown = 0
        for row in rows:
            if size + len(row) + 1 > LIMIT:
                break
            body.append(row)
            size += len(row) + 1
            shown += 1
        if shown < len(rows):
            body += ["", f"_{len(rows) - shown} more finding(s) not shown: the full list is in the JSON, "
                         "SARIF or HTML report._"]
    waived = [f for f in evaluation.findings if f.waived]
    if waived:
        body += ["", "<details><summary>Waived findings ({})</summary>".format(len(waived)), ""]
        for finding in waived:
            line = (f"- `{finding.rule_id}` {_cell(finding.message)} — {_cell(finding.waiver_reason or '')}"
                    + (f" (expires {finding.waiver_expires})" if finding.waiver_expires else ""))
            if sum(len(x) + 1 for x in head + body) + len(line) > LIMIT:
                body.append(f"- … and more")
                break
            body.append(line)
        body += ["", "</details>"]
    footer = ["", f"<sub>policy `{_cell(evaluation.policy_name)}` ({evaluation.policy_digest[:12]}), "
                  f"stage `{_cell(evaluation.stage)}`, {evaluation.generated_at}</sub>"]
    return "\n".join(head + body + footer) + "\n"
