"""The JSON report against its own documented schema (governance/report/report.schema.json)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

import tests.report_samples as samples
from governance.report.json_report import render


@pytest.fixture(scope="module")
def validator() -> Any:
    from importlib.resources import files

    schema = json.loads(files("governance.report").joinpath("report.schema.json").read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@pytest.mark.parametrize("evaluation", [samples.evaluation(), samples.passing(), samples.evaluation(()),
                                        samples.many(50)], ids=["mixed", "passing", "empty", "many"])
def test_report_matches_its_schema(validator: Any, evaluation: Any) -> None:
    report = json.loads(render(evaluation))
    assert [str(e) for e in validator.iter_errors(report)] == []


@pytest.mark.parametrize("path, value", [
    (("verdict",), "maybe"),
    (("findings", 0, "level"), "fatal"),
    (("findings", 0, "surprise"), 1),
    (("summary", "error"), -1),
    (("hosts", 0, "gpus", 0, "index"), "0"),
])
def test_schema_rejects_what_the_docs_forbid(validator: Any, path: tuple[Any, ...], value: Any) -> None:
    report = json.loads(render(samples.evaluation()))
    target = report
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not validator.is_valid(report)


def test_waived_findings_carry_the_waiver_and_only_they_do(validator: Any) -> None:
    report = json.loads(render(samples.evaluation()))
    waived = [f for f in report["findings"] if f["waived"]]
    assert {f["rule_id"]: f["waiver"]["owner"] for f in waived} == {"PIN002": None,
                                                                     "VULN001": "ml-platform@example.com"}
    report["findings"][0]["waiver"] = {"reason": "x", "owner": None, "expires": None}
    assert report["findings"][0]["waived"] is False
    assert not validator.is_valid(report)


def test_contract_fields_and_hosts() -> None:
    report = json.loads(render(samples.evaluation()))
    assert report["verdict"] == "fail"
    assert report["summary"] == {"error": 4, "warning": 3, "note": 1, "waived": 2, "components": 5}
    assert [h["name"] for h in report["hosts"]] == ["hosts/h100.json", "hosts/old-t4.json"]
    assert [c["version"] for c in report["hosts"][0]["cudnn"]] == ["9.14.0", "9.19.0"]
    first = report["findings"][0]
    assert set(first) >= {"rule_id", "level", "message", "component", "waived"}


def test_schema_ships_in_the_package() -> None:
    from importlib.resources import files

    assert files("governance.report").joinpath("report.schema.json").is_file()
