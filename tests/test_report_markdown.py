"""The PR comment: the verdict first, the top findings, details collapsed, under GitHub's limit."""

from __future__ import annotations

import re

import pytest

import tests.report_samples as samples
from governance.model import Finding, Level
from governance.report.markdown import GITHUB_LIMIT, TOP, render


def test_verdict_comes_first() -> None:
    text = render(samples.evaluation())
    first = text.splitlines()[0]
    assert first.startswith("## :x: mlgov: **FAIL**")
    assert "`production`" in first
    assert "**4 errors** · 3 warnings · 1 note · 2 waived · 5 components" in text.splitlines()[2]
    assert render(samples.passing()).startswith("## :white_check_mark: mlgov: **PASS**")


def test_top_findings_table_then_collapsed_details() -> None:
    text = render(samples.evaluation())
    table = text.index("### What blocks the merge")
    details = text.index("<details><summary>All 8 finding(s) by rule</summary>")
    waived = text.index("<details><summary>Waived findings (2)</summary>")
    scan = text.index("<details><summary>Scan details</summary>")
    assert table < details < waived < scan
    assert text.count("<details>") == text.count("</details>") == 3
    head = text[table:details]
    # errors first, each with where and the fix
    rows = [line for line in head.splitlines() if line.startswith("| error") or line.startswith("| warning")]
    assert rows[0].startswith("| error | `GPU001`")
    assert "| `requirements.txt:3` | pin torch==2.5.1 |" in head


def test_a_reviewer_sees_what_to_fix_without_opening_anything() -> None:
    text = render(samples.evaluation())
    for needed in ("CVE-2025-32434", "upgrade torch to 2.6.0", "tensorflow-gpu is denied", "hosts/old-t4.json",
                   "vendored wheel, hash checked upstream", "2027-03-31", "the merge is blocked"):
        assert needed in text


def test_hostile_metadata_cannot_inject_markup_or_mentions() -> None:
    text = render(samples.evaluation())
    assert "<script>" not in text.replace("`vision-train<script>alert(1)</script>`", "")
    assert "<img" not in text and "<b>" not in text
    assert "@example.com" not in text  # no e-mail mention: a zero-width space follows the @
    breaker = (Finding("LIC002", Level.ERROR, "a | b\n| c | [x](https://evil) `code`", package="p|q"),)
    row = next(line for line in render(samples.evaluation(breaker)).splitlines() if line.startswith("| error"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # six cells, whatever the message held
    assert "\\[x\\](https:\u200b//evil)" in row  # no link, no autolink


def test_specifiers_read_as_written() -> None:
    # CommonMark reads a backslash before any punctuation as an escape, so "\\&gt;" shows the
    # five characters "&gt;" instead of ">": the escape and the entity must never meet.
    text = render(samples.evaluation())
    assert "\\&" not in text
    assert "(&gt;=2.1) in requirements.txt:3" in text
    message = "pytest is not pinned (>=8.4.2, <9); pin it with ==<version> -> a ~= b"
    row = next(line for line in render(samples.evaluation((Finding("PIN001", Level.ERROR, message),))).splitlines()
               if line.startswith("| error"))
    assert "(&gt;=8.4.2, &lt;9); pin it with ==&lt;version&gt; -&gt; a \\~= b" in row


def test_a_commonmark_reader_sees_the_message_as_written() -> None:
    markdown_it = pytest.importorskip("markdown_it")  # pip-audit (test extra) brings it through rich
    message = "pytest is not pinned (>=8.4.2, <9); pin it with ==<version> -> a ~= b [x] *y* `z` | w"
    page = render(samples.evaluation((Finding("PIN001", Level.ERROR, message),)))
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(page)
    import html as html_module
    shown = html_module.unescape(re.sub(r"<[^>]+>", "", html))
    assert message in shown


@pytest.mark.parametrize("count", [1_000, 5_000])
def test_thousands_of_findings_stay_under_githubs_limit(count: int) -> None:
    text = render(samples.many(count))
    assert len(text) < GITHUB_LIMIT
    shown = len(re.findall(r"^- (error|warning): package-\d{5}", text, re.M))
    more = re.search(r"_… (\d+) more finding\(s\) not shown", text)
    assert more is not None and shown + int(more.group(1)) == count
    assert text.count("<details>") == text.count("</details>")
    # Half of them are errors (odd i): only those block the merge and are counted in the top table.
    assert f"What blocks the merge (top {TOP} of {count // 2})" in text
    assert f"{count - count // 2} other finding(s) do not block the merge" in text
    assert "<summary>Scan details</summary>" in text and "hosts/old-t4.json" in text


def test_a_huge_message_is_clipped() -> None:
    text = render(samples.evaluation((Finding("PIN001", Level.ERROR, "y" * 200_000, package="torch"),)))
    assert len(text) < GITHUB_LIMIT and "y…" in text


def test_small_reports_are_not_truncated() -> None:
    assert "not shown" not in render(samples.evaluation())
