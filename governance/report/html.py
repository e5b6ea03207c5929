"""The self-contained HTML audit report (docs/reports.md#html).

One file with its CSS, SVG chart and script inline, so it opens offline,
from an e-mail or an artefact store, and prints. Everything from the scanned
project (names, summaries, licences, messages) is hostile input: the Jinja2
environment autoescapes every value, and a Content-Security-Policy that
allows only the report's own script (by hash) and no network is a second wall.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from functools import lru_cache
from typing import Any

from governance import __version__
from governance.frozen import frozen
from governance.model import Evaluation, Finding, Level, Package
from governance.report.common import basis_line, counts, family, rule_for, subject, verdict_line, where
from governance.resources import data_dir

TEMPLATE = "report.html.j2"
LEVEL_ORDER = ("error", "warning", "note", "waived")
LEVEL_COLOURS = {"error": "#c62828", "warning": "#b45309", "note": "#1d4ed8", "waived": "#6b7280"}


@frozen
class Bar:
    """One rule family's row in the summary chart: its segments left to right."""

    label: str
    y: int
    total: int
    end: float  # where the total's label goes
    segments: tuple[tuple[str, int, float, float], ...]  # (level, count, x, width)


def _chart(evaluation: Evaluation, width: float = 420.0) -> dict[str, Any]:
    per_family: dict[str, Counter[str]] = {}
    for finding in evaluation.findings:
        level = "waived" if finding.waived else finding.level.value
        per_family.setdefault(family(finding.rule_id), Counter())[level] += 1
    biggest = max((sum(c.values()) for c in per_family.values()), default=0)
    bars = []
    for row, name in enumerate(sorted(per_family)):
        tally = per_family[name]
        x, segments = 0.0, []
        for level in LEVEL_ORDER:
            if tally[level]:
                w = max(width * tally[level] / biggest, 2.0)
                segments.append((level, tally[level], round(x, 1), round(w, 1)))
                x += w
        bars.append(Bar(label=name, y=row * 28, total=sum(tally.values()), end=round(x, 1),
                        segments=tuple(segments)))
    return {"bars": bars, "width": width, "height": max(len(bars) * 28, 28)}


def _row(finding: Finding) -> dict[str, Any]:
    rule = rule_for(finding.rule_id)
    return {
        "level": finding.level.value, "rank": finding.level.rank, "rule_id": finding.rule_id,
        "rule": rule.description if rule else "", "family": family(finding.rule_id),
        "subject": subject(finding), "version": finding.version or "", "component": finding.component or "",
        "message": finding.message, "where": where(finding), "fix": finding.fix or "",
        "vulnerability": finding.vulnerability or "", "aliases": ", ".join(finding.aliases),
        "severity": finding.severity or "", "reason": finding.waiver_reason or "",
        "owner": finding.waiver_owner or "", "expires": finding.waiver_expires or "",
    }


def _component(package: Package) -> dict[str, Any]:
    return {
        "name": package.name, "version": package.version or "", "ecosystem": package.ecosystem,
        "license": package.license_expression or package.license_text or "",
        "summary": package.summary or "", "purl": package.purl,
        "declared": ", ".join(p.location for p in package.provenance if p.applies),
        "installed": package.installed,
    }


def _gib(size: int | None) -> str:
    return f"{size / 2**30:.1f} GiB" if size else ""


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    # autoescape=True for every template, whatever its extension: the
    # report's values come from files a pull request controls.
    environment = Environment(loader=FileSystemLoader(str(data_dir("templates"))), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["gib"] = _gib
    return environment


def _asset(name: str) -> str:
    return (data_dir("templates") / name).read_text(encoding="utf-8")


def render(evaluation: Evaluation) -> str:
    from markupsafe import Markup

    inventory = evaluation.inventory
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    rows = [_row(f) for f in evaluation.findings]
    context = {
        "mlgov_version": __version__,
        "evaluation": evaluation,
        "inventory": inventory,
        "verdict": evaluation.verdict,
        "verdict_line": verdict_line(evaluation),
        "basis_line": basis_line(evaluation),
        "counts": counts(evaluation),
        "chart": _chart(evaluation),
        "colours": LEVEL_COLOURS,
        "levels": LEVEL_ORDER,
        "active": [r for r, f in zip(rows, evaluation.findings) if not f.waived],
        "waived": [r for r, f in zip(rows, evaluation.findings) if f.waived],
        "components": [_component(p) for p in inventory.packages],
        "hosts": inventory.hosts,
        # Trusted files of this package, inlined verbatim; the CSP allows this script by its hash.
        "style": Markup(_asset("report.css")),
        "script": Markup(script),
        "script_hash": f"sha256-{digest}",
        "Level": Level,
    }
    text: str = _environment().get_template(TEMPLATE).render(**context)
    # Autoescaping stops markup, not characters: a pickle global with a lone surrogate could not be
    # encoded (an internal error), and ESC, BEL or U+202E from a file name would reach whoever reads or
    # prints the page. The templates and assets have none, so every one left came from an input.
    text = inert_page(text)
    return text if text.endswith("\n") else text + "\n"


def inert_page(text: str) -> str:
    """A rendered page with every control, bidi mark and lone surrogate shown as an escape (none
    is in mlgov's templates, so each one left came from an input)."""
    return _INERT.sub(_shown, text)


_INERT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                    "\u2028\u2029\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
