"""JUnit XML for CI test dashboards (docs/reports.md#junit).

One testsuite per rule and one testcase per (rule, component): an unwaived
error is a failure, a waived finding is skipped with the waiver's reason, and
warnings and notes pass with their messages in system-out, matching the exit
code. A final `mlgov / verdict` testcase carries the policy's verdict, so a
clean scan still shows one passing test rather than none.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from governance import __version__
from governance.escape import terminal
from governance.model import Evaluation, Finding, Level
from governance.report.common import printable, rule_for, subject, verdict_line, where


def _line(text: str) -> str:
    """One line of element text: a newline from an input (a file named `x\n::error::...`) is shown as
    `\\n`, so every line of the document starts with markup or mlgov's own words, never input."""
    return printable(terminal(text))


def _describe(finding: Finding) -> str:
    place = where(finding)
    text = f"[{finding.level.value}] {_line(finding.message)}"
    if place and place not in finding.message:
        text += f" ({_line(place)})"
    if finding.fix:
        text += f"\n  fix: {_line(finding.fix)}"
    return text


def _testcase(suite: ET.Element, rule_id: str, name: str, findings: list[Finding]) -> dict[str, int]:
    case = ET.SubElement(suite, "testcase", {"classname": f"mlgov.{rule_id}", "name": printable(name),
                                             "time": "0"})
    active = [f for f in findings if not f.waived]
    errors = [f for f in active if f.level is Level.ERROR]
    tally = {"tests": 1, "failures": 0, "skipped": 0}
    if errors:
        failure = ET.SubElement(case, "failure", {"message": printable(errors[0].message),
                                                  "type": rule_id})
        failure.text = "\n".join(_describe(f) for f in errors)
        tally["failures"] = 1
    elif not active:
        reasons = "; ".join(dict.fromkeys(f.waiver_reason or "waived" for f in findings))
        skipped = ET.SubElement(case, "skipped", {"message": printable(f"waived: {reasons}")})
        skipped.text = "\n".join(
            _line(f"{f.message} (owner {f.waiver_owner or 'unknown'}, expires {f.waiver_expires or 'never'})")
            for f in findings)
        tally["skipped"] = 1
    others = [f for f in findings if f not in errors]
    if others and (errors or active):
        ET.SubElement(case, "system-out").text = "\n".join(
            _describe(f) + (f" [waived: {_line(f.waiver_reason or '')}]" if f.waived else "") for f in others)
    return tally


def _suite(parent: ET.Element, name: str, timestamp: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", {"name": name, "timestamp": timestamp, "time": "0"})


def _close(suite: ET.Element, tally: dict[str, int]) -> None:
    suite.set("tests", str(tally["tests"]))
    suite.set("failures", str(tally["failures"]))
    suite.set("errors", "0")
    suite.set("skipped", str(tally["skipped"]))


def render(evaluation: Evaluation) -> str:
    root = ET.Element("testsuites", {"name": "mlgov"})
    # JUnit's timestamp has no zone; the evaluation's clock is UTC.
    timestamp = evaluation.generated_at.replace("+00:00", "")
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in evaluation.findings:
        grouped[finding.rule_id][subject(finding)].append(finding)
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for rule_id in sorted(grouped):
        rule = rule_for(rule_id)
        suite = _suite(root, f"{rule_id}: {rule.description}" if rule else rule_id, timestamp)
        tally = {"tests": 0, "failures": 0, "skipped": 0}
        for name in sorted(grouped[rule_id]):
            for key, count in _testcase(suite, rule_id, name, grouped[rule_id][name]).items():
                tally[key] += count
        _close(suite, tally)
        for key in total:
            total[key] += tally[key]

    suite = _suite(root, "mlgov", timestamp)
    properties = ET.SubElement(suite, "properties")
    for key, value in (("mlgov.version", __version__), ("project", evaluation.inventory.project.name),
                       ("policy", evaluation.policy_name), ("policy.digest", evaluation.policy_digest),
                       ("stage", evaluation.stage), ("sbom.digest", evaluation.sbom_digest or "")):
        ET.SubElement(properties, "property", {"name": key, "value": printable(value)})
    case = ET.SubElement(suite, "testcase", {"classname": "mlgov", "name": "verdict", "time": "0"})
    if evaluation.failed:
        ET.SubElement(case, "failure", {"message": printable(verdict_line(evaluation)),
                                        "type": "verdict"}).text = _line(verdict_line(evaluation))
    _close(suite, {"tests": 1, "failures": int(evaluation.failed), "skipped": 0})
    total["tests"] += 1
    total["failures"] += int(evaluation.failed)
    _close(root, total)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
