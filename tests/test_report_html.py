"""The HTML report: self-contained, escaped, and working in a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tests.report_samples as samples
from governance.report.html import render

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0")


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def _chromium() -> str:
    for name in (os.environ.get("MLGOV_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium); "
                "the HTML report's browser checks need it")


def _browse(page: Path, tmp_path: Path, *extra: str, fragment: str = "") -> tuple[str, list[str]]:
    """Open the page in headless Chromium; return stdout and the page's console messages."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    done = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra,
                           page.resolve().as_uri() + fragment],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def test_hostile_metadata_is_text_not_markup() -> None:
    html = render(samples.evaluation())
    parsed = _parse(html)
    # The report's own script is the only one, and no <img> or <b> came from metadata.
    assert [t for t, _ in parsed.tags if t == "script"] == ["script"]
    assert not [t for t, _ in parsed.tags if t in ("img", "b", "iframe", "object")]
    assert not any(k.startswith("on") for _, attrs in parsed.tags for k in attrs)
    text = "".join(parsed.text)
    for hostile in (samples.HOSTILE_SCRIPT, samples.HOSTILE_IMG, samples.HOSTILE_NAME,
                    "vision-train<script>alert(1)</script>"):
        assert hostile in text  # shown to the reader, as text


def test_self_contained_no_network_assets() -> None:
    parsed = _parse(render(samples.evaluation()))
    for tag, attrs in parsed.tags:
        for key in ("src", "href", "action", "data", "poster"):
            value = attrs.get(key)
            assert value is None or not re.match(r"^\s*(https?:)?//", value), (tag, key, value)
    assert not [t for t, _ in parsed.tags if t == "link"]
    csp = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0] and "'unsafe-inline'" not in csp[0].split("script-src")[1]


@pytest.mark.parametrize("section", ["verdict", "scan", "summary", "findings", "waived", "gpu", "components"])
def test_every_section_is_present(section: str) -> None:
    ids = {attrs.get("id") for _, attrs in _parse(render(samples.evaluation())).tags}
    assert section in ids


def test_contents_scan_facts_counts_hosts_and_waivers() -> None:
    evaluation = samples.evaluation()
    text = " ".join("".join(_parse(render(evaluation)).text).split())
    for fact in ("0.1.0", evaluation.generated_at, evaluation.policy_digest, evaluation.sbom_digest,
                 "hosts/h100.json", "hosts/old-t4.json", "580.159.04", "NVIDIA H100 80GB HBM3", "79.6 GiB",
                 "9.14.0", "9.19.0", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.14.0",
                 "ml-platform@example.com", "2027-03-31", "vendored wheel, hash checked upstream",
                 "pkg:pypi/numpy@1.26.4", "BSD-3-Clause", "uv.lock:120"):
        assert fact in text, fact
    assert "FAIL" in text


def test_chart_has_one_bar_per_family_with_level_segments() -> None:
    from governance.report.common import family

    evaluation = samples.evaluation()
    html = render(evaluation)
    svg = html[html.index("<svg"):html.index("</svg>")]
    parsed = _parse(svg)
    labels = [t for t in parsed.text if t.strip()]
    families = {family(f.rule_id) for f in evaluation.findings}
    assert len(families) >= 5  # the sample spans the catalogue's families
    for family_name in families:
        assert family_name in labels
    # pins: one error (PIN001) and one waived (PIN002) segment, in that order.
    titles = [t for t in parsed.text if t.startswith("pins:")]
    assert titles == ["pins: 1 error", "pins: 1 waived"]


def test_passing_report_says_pass_and_has_no_table() -> None:
    html = render(samples.passing())
    assert 'class="verdict verdict-pass"' in html
    assert "<p class=\"verdict-word\">PASS</p>" in html
    assert 'id="findings-table"' in html  # the DRIFT001 note is still listed


def test_an_empty_scan_still_renders() -> None:
    from governance.model import Inventory, Project

    bare = samples.evaluation((), inventory=Inventory(project=Project("empty")), sbom_digest=None)
    text = " ".join("".join(_parse(render(bare)).text).split())
    for expected in ("PASS", "No findings outside the waivers.", "No finding is waived.",
                     "No host profile was given", "No components were found.", "not written"):
        assert expected in text


def test_deterministic() -> None:
    assert render(samples.evaluation()) == render(samples.evaluation())


# --- in a real browser --------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "mlgov.html"
    path.write_text(render(samples.evaluation()), encoding="utf-8")
    return path


def test_browser_loads_without_console_errors_and_script_ran(page: Path, tmp_path: Path) -> None:
    dom, console = _browse(page, tmp_path, "--dump-dom")
    assert console == []  # no script error, no CSP violation, no blocked request
    assert 'data-report="ready"' in dom  # the inline script ran to its end
    assert "8 of 8 shown" in dom


def test_browser_never_runs_hostile_metadata(page: Path, tmp_path: Path) -> None:
    dom, _ = _browse(page, tmp_path, "--dump-dom")
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "pwned" not in title.group(1)
    assert title.group(1).startswith("mlgov FAIL: vision-train")
    parsed = _parse(dom)
    assert not [t for t, _ in parsed.tags if t in ("img", "b")]
    assert "&lt;img src=x onerror=" in dom


def test_browser_filter_and_sort_from_the_fragment(page: Path, tmp_path: Path) -> None:
    dom, console = _browse(page, tmp_path, "--dump-dom", fragment="#level=error&sort=subject&dir=desc")
    assert console == []
    assert "4 of 8 shown" in dom
    body = dom[dom.index('id="findings-table"'):]
    body = body[:body.index("</table>")]
    rows = re.findall(r'<tr class="level-(\w+)" data-level="\w+" data-rank="\d" data-rule="(\w+)" '
                      r'data-subject="([^"]*)"([^>]*)>', body)
    visible = [(rule, subject) for level, rule, subject, rest in rows if "hidden" not in rest]
    # Descending by package / host; equal keys keep mlgov's order (PIN001 before VULN001).
    assert visible == [("GPU001", "torch on hosts/old-t4.json"), ("PIN001", "torch"), ("VULN001", "torch"),
                       ("PKG002", "tensorflow-gpu")]
    assert 'aria-sort="descending"' in body


def test_browser_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "mlgov.png"
    _, console = _browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000",
                         "--hide-scrollbars")
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    keep = os.environ.get("MLGOV_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "mlgov-report.png")


def test_browser_prints_to_pdf(page: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "mlgov.pdf"
    _, console = _browse(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert console == []
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_lone_surrogates_and_controls_from_inputs_are_shown_not_written() -> None:
    # A pickle global decoded with surrogateescape made the page unencodable (exit 3); ESC and U+202E
    # from a file name reached the page as they were.
    from governance.model import Finding, Level

    hostile = (Finding("MODEL001", Level.ERROR, "imports \udc94os\x1b]0;x\x07.system \u202eevil", file="m\x1b.pkl"),)
    text = render(samples.evaluation(hostile))
    text.encode("utf-8")
    assert "\\udc94os\\x1b]0;x\\x07.system \\u202eevil" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\u202e\ud800-\udfff]", text)
