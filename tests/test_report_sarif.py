"""SARIF 2.1.0: valid against the OASIS schema, located on the pinning line, stable fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

import tests.report_samples as samples
from governance.model import Finding, Level
from governance.policy.catalogue import RULES
from governance.report.sarif import FINGERPRINT_KEY, render


@pytest.fixture(scope="module")
def validator() -> Any:
    # tests/data/schemas/sarif-schema-2.1.0.json: the OASIS schema (errata 01), JSON Schema draft-04.
    schema = json.loads((Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def _sarif(evaluation: Any = None) -> dict[str, Any]:
    return json.loads(render(evaluation or samples.evaluation()))


def _results(log: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


@pytest.mark.parametrize("evaluation", [samples.evaluation(), samples.passing(), samples.evaluation(()),
                                        samples.many(300)], ids=["mixed", "passing", "empty", "many"])
def test_validates_against_the_sarif_schema(validator: Any, evaluation: Any) -> None:
    log = _sarif(evaluation)
    errors = [str(e) for e in validator.iter_errors(log)]
    assert errors == []
    assert log["version"] == "2.1.0"


def test_the_schema_check_can_fail(validator: Any) -> None:
    log = _sarif()
    _results(log)[0]["level"] = "fatal"
    assert not validator.is_valid(log)


def test_rules_carry_id_description_and_help() -> None:
    rules = _sarif()["runs"][0]["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids[: len(RULES)] == [r.id for r in RULES]
    by_id = {r["id"]: r for r in rules}
    for rule in RULES:
        descriptor = by_id[rule.id]
        assert descriptor["shortDescription"]["text"] == rule.description
        assert descriptor["help"]["text"] == rule.help
        assert descriptor["defaultConfiguration"]["level"] == rule.fixed_level
    # Rules from families this build does not know still get a descriptor, and ruleIndex points at it.
    for result in _results(_sarif()):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


@pytest.mark.parametrize("rule_id, package, line", [("PIN001", "torch", 3), ("PKG002", "tensorflow-gpu", 9),
                                                    ("DRIFT001", "numpy", 120)])
def test_results_sit_on_the_line_that_pinned_the_package(rule_id: str, package: str, line: int) -> None:
    result = next(r for r in _results(_sarif())
                  if r["ruleId"] == rule_id and r.get("properties", {}).get("package") == package)
    physical = result["locations"][0]["physicalLocation"]
    expected_file = "uv.lock" if rule_id == "DRIFT001" else "requirements.txt"
    assert physical["artifactLocation"] == {"uri": expected_file, "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": line}
    assert result["locations"][0]["logicalLocations"][0]["name"] == package


@pytest.mark.parametrize("rule_id, uri", [("GPU001", "requirements.txt"), ("GPU004", "requirements.txt"),
                                          ("LOCK001", "requirements.txt")])
def test_findings_without_a_file_have_no_fake_line(rule_id: str, uri: str) -> None:
    result = next(r for r in _results(_sarif()) if r["ruleId"] == rule_id)
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == uri
    assert "region" not in physical


def test_level_follows_the_finding() -> None:
    levels = {(r["ruleId"], r.get("properties", {}).get("package")): r["level"] for r in _results(_sarif())}
    assert levels[("PIN001", "torch")] == "error"
    assert levels[("GPU004", None)] == "warning"
    assert levels[("DRIFT001", "numpy")] == "note"


def test_vulnerabilities_carry_security_severity() -> None:
    log = _sarif()
    vulns = {r["properties"]["vulnerability"]: r for r in _results(log) if r["ruleId"] == "VULN001"}
    assert vulns["CVE-2025-32434"]["properties"]["security-severity"] == "9.8"  # the advisory's CVSS score
    assert vulns["CVE-2022-22817"]["properties"]["security-severity"] == "8.0"  # "high", no score: band middle
    rule = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "VULN001")
    assert rule["properties"]["security-severity"] == "9.8"  # the worst of its results
    assert "security" in rule["properties"]["tags"]
    pin = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "PIN001")
    assert "security-severity" not in pin["properties"]


def test_waived_findings_are_external_suppressions() -> None:
    results = _results(_sarif())
    waived = [r for r in results if "suppressions" in r]
    assert sorted(r["ruleId"] for r in waived) == ["PIN002", "VULN001"]
    vuln = next(r for r in waived if r["ruleId"] == "VULN001")
    suppression = vuln["suppressions"][0]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert suppression["justification"].startswith("PIL.ImageMath.eval is never called")
    assert suppression["properties"] == {"owner": "ml-platform@example.com", "expires": "2027-03-31"}
    assert all("suppressions" not in r for r in results if r not in waived)


def test_fingerprints_are_stable_and_distinct() -> None:
    first = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _results(_sarif())]
    again = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _results(_sarif())]
    assert first == again
    assert len(set(first)) == len(first)


def test_fingerprint_ignores_version_line_and_message() -> None:
    original = samples.findings()[0]
    assert original.rule_id == "PIN001"
    moved = replace(original, version="2.6.0", line=40, message="torch is still not pinned (>=2.6)",
                    component="pkg:pypi/torch@2.6.0")
    other_rule = replace(original, rule_id="PIN002")

    def fingerprint(finding: Finding) -> str:
        result = _results(_sarif(samples.evaluation((finding,))))[0]
        return str(result["partialFingerprints"][FINGERPRINT_KEY])

    assert fingerprint(original) == fingerprint(moved)
    assert fingerprint(original) != fingerprint(other_rule)
    assert fingerprint(original) != fingerprint(replace(original, package="numpy"))


def test_hostile_text_stays_data() -> None:
    text = render(samples.evaluation((Finding("LIC002", Level.WARNING, "bad\x00licence\x1b[31m <b>x</b>"),)))
    log = json.loads(text)
    assert _results(log)[0]["message"]["text"] == "bad\\x00licence\\x1b[31m <b>x</b>"  # shown, not obeyed
