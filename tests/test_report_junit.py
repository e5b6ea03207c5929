"""JUnit XML: one testcase per (rule, component), read back by standard readers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

import tests.report_samples as samples
from governance.model import Finding, Level
from governance.report.junit import render


def _cases(xml: str) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(xml)
    return {(case.get("classname", ""), case.get("name", "")): case for case in root.iter("testcase")}


def test_one_testcase_per_rule_and_component() -> None:
    cases = _cases(render(samples.evaluation()))
    assert set(cases) == {
        ("mlgov.DRIFT001", "numpy"), ("mlgov.GPU001", "torch on hosts/old-t4.json"),
        ("mlgov.GPU004", "host hosts/h100.json"), ("mlgov.LIC002", samples.HOSTILE_NAME),
        ("mlgov.LOCK001", "project"), ("mlgov.PIN001", "torch"), ("mlgov.PIN002", "pillow"),
        ("mlgov.PKG002", "tensorflow-gpu"), ("mlgov.VULN001", "pillow"), ("mlgov.VULN001", "torch"),
        ("mlgov", "verdict"),
    }


@pytest.mark.parametrize("case, outcome", [
    (("mlgov.PIN001", "torch"), "failure"),
    (("mlgov.VULN001", "torch"), "failure"),
    (("mlgov.VULN001", "pillow"), "skipped"),  # waived
    (("mlgov.PIN002", "pillow"), "skipped"),  # waived
    (("mlgov.GPU004", "host hosts/h100.json"), None),  # a warning passes, as the exit code does
    (("mlgov.DRIFT001", "numpy"), None),
    (("mlgov", "verdict"), "failure"),
])
def test_outcomes(case: tuple[str, str], outcome: str | None) -> None:
    element = _cases(render(samples.evaluation()))[case]
    children = {child.tag for child in element} - {"system-out"}
    assert children == ({outcome} if outcome else set())


def test_waived_case_carries_reason_owner_and_expiry() -> None:
    skipped = _cases(render(samples.evaluation()))[("mlgov.VULN001", "pillow")].find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("waived: PIL.ImageMath.eval is never called")
    assert "ml-platform@example.com" in (skipped.text or "") and "2027-03-31" in (skipped.text or "")


def test_two_findings_on_one_component_share_a_testcase() -> None:
    twice = (Finding("PIN001", Level.ERROR, "torch unpinned in a.txt", package="torch", file="a.txt", line=1),
             Finding("PIN001", Level.ERROR, "torch unpinned in b.txt", package="torch", file="b.txt", line=2))
    cases = _cases(render(samples.evaluation(twice)))
    failure = cases[("mlgov.PIN001", "torch")].find("failure")
    assert failure is not None and "a.txt" in (failure.text or "") and "b.txt" in (failure.text or "")


def test_counts_add_up() -> None:
    root = ET.fromstring(render(samples.evaluation()))
    assert (root.get("tests"), root.get("failures"), root.get("skipped"), root.get("errors")) == ("11", "5", "2", "0")
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None)


def test_passing_scan_has_a_passing_verdict_case() -> None:
    root = ET.fromstring(render(samples.evaluation(())))
    assert root.get("tests") == "1" and root.get("failures") == "0"
    verdict = _cases(render(samples.evaluation(())))[("mlgov", "verdict")]
    assert list(verdict) == []


def test_control_characters_do_not_break_the_xml() -> None:
    hostile = (Finding("LIC002", Level.ERROR, "licence \x00\x07\x1b]0;owned\x07 <![CDATA[ ]]> &amp;",
                       package="evil\x01pkg"),)
    root = ET.fromstring(render(samples.evaluation(hostile)))
    failure = next(root.iter("failure"))
    assert "<![CDATA[ ]]> &amp;" in (failure.get("message") or "")


def test_standard_reader_junitparser() -> None:
    junitparser = pytest.importorskip("junitparser", reason="junitparser is a test extra: pip install -e '.[test]'")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mlgov.junit.xml"
        path.write_text(render(samples.evaluation()), encoding="utf-8")
        xml = junitparser.JUnitXml.fromfile(str(path))
        outcomes: dict[tuple[str, str], str] = {}
        for suite in xml:
            for case in suite:
                result = case.result
                kind = type(result[0]).__name__ if result else "passed"
                outcomes[(case.classname, case.name)] = kind
    assert outcomes[("mlgov.PIN001", "torch")] == "Failure"
    assert outcomes[("mlgov.VULN001", "pillow")] == "Skipped"
    assert outcomes[("mlgov.DRIFT001", "numpy")] == "passed"
    assert sum(1 for kind in outcomes.values() if kind == "Failure") == 5


def test_every_line_of_the_document_starts_with_markup_or_mlgov_text() -> None:
    # A file named "evil\n::error file=x::pwn.pkl" put "::error file=x::pwn.pkl ..." at the start of a
    # line of the failure text: a CI log that prints the report obeys it as a workflow command.
    name = "evil\n::error file=x::pwn\r\n::add-mask::s.pkl"
    hostile = (Finding("MODEL001", Level.ERROR, f"{name} can run code", file=name, fix=f"delete {name}"),
               Finding("MODEL001", Level.WARNING, f"{name} again", file="b.pkl"),
               Finding("MODEL001", Level.ERROR, f"{name} waived", file="c.pkl", waived=True,
                       waiver_reason="ok\n::stop-commands::x"))
    xml = render(samples.evaluation(hostile))
    assert not [line for line in xml.splitlines() if line.lstrip().startswith("::")]
    failure = next(ET.fromstring(xml).iter("failure"))
    assert "evil\\n::error file=x::pwn" in (failure.text or "") and "\n  fix: delete evil\\n" in (failure.text or "")
