from __future__ import annotations

import json

import pytest

from governance.model import Inventory, Package, Project, Provenance, Vulnerability
from governance.pipeline import SbomRequest, make_sbom
from governance.sbom.read import parse_sbom

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
INVENTORY = Inventory(
    project=Project("demo"),
    packages=(Package("pillow", "9.0.0", provenance=(Provenance("requirements.txt", "requirements", 1, "==9.0.0"),)),
              Package("torch", "1.10.0+cu113")),
    vulnerabilities=(
        Vulnerability(id="CVE-2022-24303", package="pillow", version="9.0.0",
                      aliases=("GHSA-9j59-75qj-795w", "PYSEC-2022-168"), summary="Pillow <b>before</b> 9.0.1",
                      severity="high", score=7.5, vector=V31, fixed_versions=("9.0.1", "9.1.0"),
                      references=("https://github.com/advisories/GHSA-9j59-75qj-795w", "javascript:alert(1)"),
                      source="osv-db:all.zip", analysis_state="in_triage",
                      analysis_detail="waived by policy p: accepted (owner o, expires 2030-01-01)"),
        Vulnerability(id="PYSEC-2022-43015", package="torch", version="1.10.0+cu113", source="osv-db:all.zip"),
    ),
    sources=("requirements.txt",))


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("spec", ["1.5", "1.6"])
def test_vulnerabilities_round_trip(fmt: str, spec: str) -> None:
    text = make_sbom(INVENTORY, SbomRequest(fmt=fmt, spec_version=spec, reproducible=True))  # validates
    assert parse_sbom(text).vulnerabilities == INVENTORY.vulnerabilities


def test_cyclonedx_fields() -> None:
    document = json.loads(make_sbom(INVENTORY, SbomRequest(reproducible=True)))
    pillow = next(v for v in document["vulnerabilities"] if v["id"] == "CVE-2022-24303")
    assert pillow["affects"] == [{"ref": "pkg:pypi/pillow@9.0.0",
                                  "versions": [{"status": "affected", "version": "9.0.0"}]}]
    assert {r["id"] for r in pillow["references"]} == {"GHSA-9j59-75qj-795w", "PYSEC-2022-168"}
    (rating,) = pillow["ratings"]
    assert (rating["score"], rating["severity"], rating["method"]) == (7.5, "high", "CVSSv31")
    assert pillow["analysis"] == {"state": "in_triage",
                                  "detail": "waived by policy p: accepted (owner o, expires 2030-01-01)"}
    assert pillow["recommendation"] == "upgrade pillow to 9.0.1"
    assert pillow["advisories"] == [{"url": "https://github.com/advisories/GHSA-9j59-75qj-795w"}]  # no javascript:
    torch = next(v for v in document["vulnerabilities"] if v["id"] == "PYSEC-2022-43015")
    assert torch["affects"][0]["ref"] == "pkg:pypi/torch@1.10.0%2Bcu113" and "analysis" not in torch


def test_an_sbom_from_another_tool_is_read_from_the_standard_fields() -> None:
    document = json.loads(make_sbom(INVENTORY, SbomRequest(reproducible=True)))
    for entry in document["vulnerabilities"]:
        del entry["properties"]
    (pillow, torch) = parse_sbom(json.dumps(document)).vulnerabilities
    assert (pillow.id, pillow.package, pillow.version, pillow.aliases, pillow.severity, pillow.score) == \
        ("CVE-2022-24303", "pillow", "9.0.0", ("GHSA-9j59-75qj-795w", "PYSEC-2022-168"), "high", 7.5)
    assert pillow.analysis_state == "in_triage" and torch.version == "1.10.0+cu113"


@pytest.mark.parametrize("value", ['{"id": 1}', '{"id": "X", "package": "p", "version": "1", "aliases": [1]}',
                                   '{"id": "X", "package": "p", "version": "1", "evil": true}', "[]"])
def test_a_bad_vulnerability_record_is_an_input_error(value: str) -> None:
    from governance.errors import InputError

    document = json.loads(make_sbom(INVENTORY, SbomRequest(reproducible=True)))
    document["vulnerabilities"][0]["properties"][0]["value"] = value
    with pytest.raises(InputError, match="unexpected CycloneDX content"):
        parse_sbom(json.dumps(document))
