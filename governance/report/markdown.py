"""Markdown for a pull-request comment (docs/reports.md#markdown).

A reviewer reads the verdict in the first line, the findings that block the
merge in a short table, and everything else in collapsed sections. GitHub
refuses comments over 65,536 characters, so every section is filled against
one budget and says how many entries it left out.
"""

from __future__ import annotations

import re
from itertools import groupby

from governance import __version__
from governance.escape import markdown, terminal
from governance.model import Evaluation, Finding
from governance.report.common import baseline_line, basis_line, counts, rule_for, subject, unread_heading, where

GITHUB_LIMIT = 65_536
# Room for the closing lines and the footer, which are always written.
LIMIT = GITHUB_LIMIT - 2_000
TOP = 15  # rows in the first table: enough to act on, short enough to read
CELL = 300  # characters of one cell before it is clipped


_URL = re.compile(r"\b(?:https?|ftp)://\S+", re.IGNORECASE)


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, never ending inside a URL.

    A URL cut short reads as (and, anywhere it is linked, becomes) a link to a
    page that does not exist, so a URL that does not fit is left out whole.
    """
    if len(text) <= limit:
        return text
    cut = limit - 1
    for match in _URL.finditer(text):
        if match.start() < cut < match.end():
            cut = match.start()
            break
    return text[:cut].rstrip() + "…"


def _cell(text: str, limit: int = CELL) -> str:
    # Metadata is hostile input: no table breaks, no HTML, no links, no mentions.
    return markdown(_clip(" ".join(text.split()), limit))


def _code(text: str) -> str:
    # A code span shows its text literally (no HTML, no links, no mentions);
    # it cannot escape a backtick, so those are dropped, and a pipe would end the table cell.
    text = " ".join(terminal(text).replace("`", "").split())
    if len(text) > 120:
        text = text[:119] + "…"
    text = text.replace("|", "\\|")
    return f"`{text}`" if text else ""


def _fit(lines: list[str], budget: int) -> tuple[list[str], int]:
    """The leading lines that fit in `budget` characters, and how many were left out."""
    size = 0
    for index, line in enumerate(lines):
        size += len(line) + 1
        if size > budget:
            return lines[:index], len(lines) - index
    return lines, 0


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _headline(evaluation: Evaluation) -> list[str]:
    c = counts(evaluation)
    inventory = evaluation.inventory
    word, icon = ("FAIL", ":x:") if evaluation.failed else ("PASS", ":white_check_mark:")
    parts = [f"**{c['error']} error{'s' if c['error'] != 1 else ''}**" if c["error"] else "0 errors",
             f"{c['warning']} warning{'s' if c['warning'] != 1 else ''}",
             f"{c['note']} note{'s' if c['note'] != 1 else ''}", f"{c['waived']} waived",
             f"{len(inventory.packages)} components"]
    hosts = ", ".join(_code(h.name) for h in inventory.hosts[:5]) or "no host profile"
    if len(inventory.hosts) > 5:
        hosts += f" and {len(inventory.hosts) - 5} more"
    why = ("the merge is blocked until the errors below are fixed or waived" if evaluation.failed
           else "nothing blocks the merge")
    return [f"## {icon} mlgov: **{word}** for {_code(inventory.project.name)} under policy "
            f"{_code(evaluation.policy_name)}, stage {_code(evaluation.stage)}", "",
            f"{' · '.join(parts)} · hosts: {hosts}", "", f"{word}: {why}.", ""]


def _table_row(finding: Finding) -> str:
    return (f"| {finding.level.value} | {_code(finding.rule_id)} | {_cell(subject(finding))} "
            f"| {_cell(finding.message)} | {_code(where(finding))} | {_cell(finding.fix or '')} |")


def _details_lines(active: list[Finding]) -> list[str]:
    lines: list[str] = []
    for rule_id, group in groupby(sorted(active, key=lambda f: (f.rule_id, f.sort_key())), key=lambda f: f.rule_id):
        items = list(group)
        rule = rule_for(rule_id)
        lines += ["", f"**{rule_id}** ({len(items)}){': ' + _cell(rule.description) if rule else ''}", ""]
        for finding in items:
            place = where(finding)
            lines.append(f"- {finding.level.value}: {_cell(finding.message)}"
                         + (f" ({_code(place)})" if place and place not in finding.message else ""))
    return lines


def _waived_lines(waived: list[Finding]) -> list[str]:
    return [f"| {_code(f.rule_id)} | {_cell(subject(f))} | {_cell(f.message)} | {_cell(f.waiver_reason or '')} "
            f"| {_cell(f.waiver_owner or '—')} | {_cell(f.waiver_ticket or '—')} "
            f"| {_cell(f.waiver_expires or 'never')} |" for f in waived]


def _baseline_lines(evaluation: Evaluation) -> list[str]:
    comparison = evaluation.baseline
    if comparison is None:
        return []
    lines = [f"{baseline_line(evaluation)}", ""]
    if comparison.fixed:
        rows = [f"- {_code(f.rule_id)} {_cell(f.message)}" + (f" ({_code(f.file)})" if f.file else "")
                for f in comparison.fixed[:TOP]]
        more = [f"- … and {len(comparison.fixed) - TOP} more"] if len(comparison.fixed) > TOP else []
        lines += [f"<details><summary>Fixed by this change ({len(comparison.fixed)})</summary>", "",
                  *rows, *more, "", "</details>", ""]
    return lines


def _scan_lines(evaluation: Evaluation) -> list[str]:
    inventory = evaluation.inventory
    lines = [f"- mlgov {__version__}, {evaluation.generated_at}",
             f"- policy {_code(evaluation.policy_name)} {_code(evaluation.policy_digest)}, "
             f"stage {_code(evaluation.stage)}",
             f"- SBOM {_code(evaluation.sbom_digest) if evaluation.sbom_digest else 'not written'}",
             f"- sources: {', '.join(_code(s) for s in inventory.sources) or 'none'}",
             f"- {_cell(basis_line(evaluation))}"]
    lines += [f"- {unread_heading(u.rule)}: {_code(u.file)} ({_cell(u.reason)})" for u in inventory.unread
              if u.rule != "DRIFT004"]  # a stale lock's missing requirement: its note says it
    for host in inventory.hosts:
        gpus = ", ".join(sorted({g.name for g in host.gpus})) or "no GPU"
        cudnn = ", ".join(f"{c.version} ({c.origin})" for c in host.cudnn) or "none found"
        lines.append(f"- host {_code(host.name)}: driver {_cell(host.driver_version or 'none')}, "
                     f"CUDA {_cell(host.cuda_driver_version or 'unknown')}, {_cell(gpus)}; cuDNN {_cell(cudnn)}")
    lines += [f"- note: {_cell(note)}" for note in inventory.notes]
    return lines


def render(evaluation: Evaluation) -> str:
    active = [f for f in evaluation.findings if not f.waived]
    waived = [f for f in evaluation.findings if f.waived]
    head = _headline(evaluation)
    # Only what fails the gate blocks the merge: unwaived errors (in PR mode, the new ones).
    blocking = [f for f in active if f.level.value == "error" and f.baseline != "existing"]
    shown = blocking if evaluation.failed else active
    if shown:
        top = shown[:TOP]
        title = "What blocks the merge" if evaluation.failed else "Findings"
        head += [f"### {title}" + (f" (top {len(top)} of {len(shown)})" if len(shown) > len(top) else ""), "",
                 "| level | rule | package / host | finding | where | fix |", "|---|---|---|---|---|---|"]
        head += [_table_row(f) for f in top] + [""]
        if evaluation.failed and len(active) > len(blocking):
            head += [f"{len(active) - len(blocking)} other finding(s) do not block the merge; "
                     "they are listed below.", ""]
    else:
        head += ["No findings outside the waivers.", ""]
    head += _baseline_lines(evaluation)
    left = LIMIT - _size(head)

    # The smaller sections first, each bounded, so the full list cannot crowd out the scan facts.
    scan, dropped = _fit(_scan_lines(evaluation), min(6_000, left // 4))
    scan = ["<details><summary>Scan details</summary>", ""] + scan \
        + ([f"- … {dropped} more line(s)"] if dropped else []) + ["", "</details>"]
    left -= _size(scan)

    waived_part: list[str] = []
    if waived:
        rows, dropped = _fit(_waived_lines(waived), left // 3 if active else left - 200)
        waived_part = [f"<details><summary>Waived findings ({len(waived)})</summary>", "",
                       "| rule | package / host | finding | reason | owner | ticket | expires |",
                       "|---|---|---|---|---|---|---|",
                       *rows] + ([f"", f"_… {dropped} more waived finding(s) not shown._"] if dropped else []) \
            + ["", "</details>", ""]
        left -= _size(waived_part)

    details: list[str] = []
    if active:
        lines, dropped = _fit(_details_lines(active), left - 300)
        hidden = len(active) - sum(1 for line in lines if line.startswith("- "))
        details = [f"<details><summary>All {len(active)} finding(s) by rule</summary>", *lines]
        if hidden:
            details += ["", f"_… {hidden} more finding(s) not shown (GitHub's comment limit): "
                            "the HTML, JSON and SARIF reports list them all._"]
        details += ["", "</details>", ""]
    return "\n".join(head + details + waived_part + scan) + "\n"
