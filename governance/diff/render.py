"""A Diff as terminal text, Markdown, JSON or HTML. Renderers decide nothing:
which changes block the promotion is passed in (`blocking`)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from governance import __version__
from governance.diff.compare import KINDS, Change, Diff

FORMATS = ("terminal", "md", "json", "html")
_TITLES = {
    "downgraded": "Downgraded", "hash-changed": "Same version, different hashes",
    "distributions-changed": "Same version, distributions added or dropped",
    "source-changed": "Source or index changed", "build-changed": "Framework build changed",
    "gpu-changed": "GPU stack changed", "model-changed": "Model files changed",
    "image-changed": "Container images changed", "finding-introduced": "Findings introduced",
    "finding-fixed": "Findings fixed", "upgraded": "Upgraded", "added": "Added", "removed": "Removed",
}
# Names, versions and messages come from the compared files, which a pull
# request may control: control characters (a newline that forges a CI log
# command, ESC, bidi overrides) are shown as escapes, never passed through.


def inert(text: str | None) -> str:
    # The one terminal escaping of the project (escape.terminal): controls, C1,
    # bidi and separators shown, never obeyed.
    if text is None:
        return ""
    from governance.escape import terminal

    return terminal(text)


def _md(text: str | None) -> str:
    """Markdown-inert: no HTML, no links, no mentions, no table breaks."""
    value = inert(text)
    # Values never start a line here (they sit in table cells and list items),
    # so only what is markup mid-line is escaped.
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = re.sub(r"([\\`*_{}\[\]|~])", r"\\\1", value)
    value = value.replace("@", "@\u200b").replace("://", ":\u200b//")
    return value


def _verdict(blocking: tuple[Change, ...]) -> str:
    return "fail" if blocking else "pass"


def _arrow(change: Change) -> str:
    if change.old is not None and change.new is not None:
        return f"{change.old} -> {change.new}"
    return change.new if change.new is not None else (change.old or "")


def summary_counts(diff: Diff) -> dict[str, int]:
    tally = Counter(c.kind for c in diff.changes)
    return {kind: tally[kind] for kind in KINDS}


def _headline(diff: Diff, blocking: tuple[Change, ...], fail_on: tuple[str, ...]) -> str:
    shown = ", ".join(f"{n} {k}" for k, n in summary_counts(diff).items() if n) or "no changes"
    gate = f"{len(blocking)} blocking ({', '.join(fail_on) or 'nothing'})"
    return f"{_verdict(blocking).upper()} {shown}; {gate}"


def render_terminal(diff: Diff, blocking: tuple[Change, ...], fail_on: tuple[str, ...]) -> str:
    lines = [f"mlgov diff: {inert(diff.old)} ({diff.old_components} components) -> "
             f"{inert(diff.new)} ({diff.new_components} components)"]
    blocked = set(id(c) for c in blocking)
    for kind in KINDS:
        group = [c for c in diff.changes if c.kind == kind]
        if not group:
            continue
        lines.append(f"mlgov: {_TITLES[kind]} ({len(group)})")
        for change in group:
            mark = "!" if id(change) in blocked else " "
            detail = f"  [{inert(change.detail)}]" if change.detail and change.detail not in ("added", "removed") \
                else ""
            lines.append(f"  {mark} {inert(change.subject)}  {inert(_arrow(change))}{detail}".rstrip())
    for note in diff.notes:
        lines.append(f"mlgov: note: {inert(note)}")
    lines.append(_headline(diff, blocking, fail_on))
    return "\n".join(lines) + "\n"


def render_markdown(diff: Diff, blocking: tuple[Change, ...], fail_on: tuple[str, ...]) -> str:
    verdict = _verdict(blocking)
    icon = ":x:" if blocking else ":white_check_mark:"
    out = [f"## {icon} mlgov diff: {verdict.upper()}", "",
           f"`{inert(diff.old)}` ({diff.old_components} components) → `{inert(diff.new)}` "
           f"({diff.new_components} components). Blocking kinds: {', '.join(fail_on) or 'none'}.", ""]
    if blocking:
        out += ["### What blocks the promotion", ""]
        out += [f"- **{_TITLES[c.kind]}**: {_md(c.subject)} {_md(_arrow(c))}" +
                (f" ({_md(c.detail)})" if c.detail else "") for c in blocking[:50]]
        if len(blocking) > 50:
            out.append(f"- … and {len(blocking) - 50} more")
        out.append("")
    out += ["| change | count |", "|---|---|"]
    out += [f"| {_TITLES[k]} | {n} |" for k, n in summary_counts(diff).items() if n]
    out.append("")
    for kind in KINDS:
        group = [c for c in diff.changes if c.kind == kind]
        if not group:
            continue
        out += [f"<details><summary>{_TITLES[kind]} ({len(group)})</summary>", "",
                "| what | old | new | detail |", "|---|---|---|---|"]
        out += [f"| {_md(c.subject)} | {_md(c.old)} | {_md(c.new)} | {_md(c.detail)} |" for c in group[:500]]
        if len(group) > 500:
            out.append(f"| … {len(group) - 500} more | | | |")
        out += ["", "</details>", ""]
    out += [f"> {_md(note)}" for note in diff.notes]
    return "\n".join(out).rstrip() + "\n"


def diff_dict(diff: Diff, blocking: tuple[Change, ...], fail_on: tuple[str, ...]) -> dict[str, Any]:
    blocked = set(id(c) for c in blocking)
    return {
        "format": "mlgov-diff", "version": 1,
        "tool": {"name": "mlgov", "version": __version__},
        "verdict": _verdict(blocking),
        "old": {"source": diff.old, "components": diff.old_components},
        "new": {"source": diff.new, "components": diff.new_components},
        "fail_on": list(fail_on),
        "findings_compared": diff.compared_findings,
        "summary": {**summary_counts(diff), "blocking": len(blocking)},
        "changes": [{"kind": c.kind, "category": c.category, "subject": c.subject, "old": c.old, "new": c.new,
                     "detail": c.detail, "component": c.component, "blocking": id(c) in blocked}
                    for c in diff.changes],
        "notes": list(diff.notes),
    }


def render_json(diff: Diff, blocking: tuple[Change, ...], fail_on: tuple[str, ...]) -> str:
    from governance.escape import json_text

    # Bidi and C1 characters of compared names as \uXXXX, as in the scan's JSON report.
    return json_text(json.dumps(diff_dict(diff, blocking, fail_on), indent=2, ensure_ascii=False)) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="generator" content="mlgov {{ version }}">
<title>mlgov diff {{ verdict|upper }}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1f2937}
header{padding:1rem 2rem;color:#fff;background:{{ '#c62828' if blocking else '#2e7d32' }}}
main{padding:1rem 2rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #d1d5db;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f4f6} tr.blocking td{background:#fdecea} code{font-size:90%}
</style>
</head>
<body>
<header><h1>mlgov diff: {{ verdict|upper }}</h1>
<p><code>{{ diff.old }}</code> ({{ diff.old_components }} components) &rarr; <code>{{ diff.new }}</code>
({{ diff.new_components }} components). Blocking kinds: {{ fail_on|join(', ') or 'none' }}.</p></header>
<main>
<table><tr><th>change</th><th>count</th></tr>
{% for kind, n in counts.items() if n %}<tr><td>{{ titles[kind] }}</td><td>{{ n }}</td></tr>
{% endfor %}</table>
{% for kind, group in groups %}
<h2>{{ titles[kind] }} ({{ group|length }})</h2>
<table><tr><th>what</th><th>old</th><th>new</th><th>detail</th></tr>
{% for c in group %}<tr{% if c.blocking %} class="blocking"{% endif %}><td>{{ c.subject }}</td><td>{{ c.old or '' }}</td><td>{{ c.new or '' }}</td><td>{{ c.detail }}</td></tr>
{% endfor %}</table>
{% endfor %}
{% for note in diff.notes %}<p>{{ note }}</p>{% endfor %}
</main>
</body>
</html>
"""


def render_html(diff: Diff, blocking: tuple[Change, ...], fail_on: tuple[str, ...]) -> str:
    from jinja2 import Environment

    data = diff_dict(diff, blocking, fail_on)
    groups = [(kind, [c for c in data["changes"] if c["kind"] == kind]) for kind in KINDS]
    from governance.report.html import inert_page

    template = Environment(autoescape=True).from_string(_HTML)
    return inert_page(template.render(version=__version__, verdict=data["verdict"], diff=diff, blocking=blocking,
                                      fail_on=fail_on, counts=summary_counts(diff), titles=_TITLES,
                                      groups=[g for g in groups if g[1]]))


RENDERERS = {"terminal": render_terminal, "md": render_markdown, "json": render_json, "html": render_html}
EXTENSIONS = {".md": "md", ".json": "json", ".html": "html", ".htm": "html", ".txt": "terminal"}


def format_for(name: str) -> str | None:
    lowered = name.lower()
    return next((fmt for ext, fmt in EXTENSIONS.items() if lowered.endswith(ext)), None)


__all__ = ["FORMATS", "RENDERERS", "format_for", "inert", "diff_dict"]
