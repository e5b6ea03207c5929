"""CycloneDX: built from the Inventory as plain dicts, validated, and read back losslessly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.model import Hash, Inventory, Package, Project, Provenance, Source
from governance.sbom.build import serialise
from governance.sbom.read import parse_sbom
from governance.sbom.validate import SchemaViolation, validate

names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}([-_.][A-Za-z0-9]{1,4})?", fullmatch=True)
versions = st.one_of(st.none(), st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}(\.[0-9]{1,3})?(\+cu1[0-9]{2})?", fullmatch=True))
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).map(str.strip).filter(bool)
hashes = st.builds(Hash, st.just("sha256"), st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
sources = st.one_of(st.none(), st.builds(Source, kind=st.sampled_from(["url", "vcs", "path", "editable"]),
                                         url=st.just("https://example.com/x.whl"), vcs=st.none() | st.just("git"),
                                         commit=st.none() | st.just("a" * 40), editable=st.booleans()))
provenances = st.builds(
    Provenance, file=st.sampled_from(["requirements.txt", "uv.lock", "<environment>"]),
    kind=st.sampled_from(["requirements", "lockfile", "environment", "manifest"]),
    line=st.none() | st.integers(1, 5000), specifier=st.sampled_from(["", "==1.0", ">=2,<3"]),
    markers=st.none() | st.just('sys_platform == "linux"'), hashes=st.lists(hashes, max_size=2).map(tuple),
    extras=st.lists(st.sampled_from(["cuda", "dev"]), max_size=2, unique=True).map(lambda x: tuple(sorted(x))),
    group=st.none() | st.sampled_from(["main", "dev"]), source=sources, applies=st.booleans())
packages = st.builds(
    Package, name=names, version=versions, summary=st.none() | text,
    license_expression=st.none() | st.sampled_from(["MIT", "Apache-2.0 OR MIT", "BSD-3-Clause AND MIT"]),
    license_text=st.none(), hashes=st.lists(hashes, max_size=3).map(tuple),
    urls=st.lists(st.tuples(st.sampled_from(["Homepage", "Source", "Docs site"]),
                            st.just("https://example.com/p")), max_size=2).map(tuple),
    installer=st.none() | st.just("pip"), source=sources,
    provenance=st.lists(provenances, min_size=1, max_size=3).map(tuple),
    properties=st.lists(st.tuples(st.just("mlgov:cuda"), st.sampled_from(["12.4", "13.0"])), max_size=1).map(tuple))


def _unique(items: list[Package]) -> tuple[Package, ...]:
    seen: dict[tuple[str, str | None], Package] = {}
    for package in items:
        seen.setdefault((package.key, package.version if package.version else None), package)
    # At most one version-less component per name, as collect guarantees.
    keys_with_none = set()
    result = []
    for (key, version), package in seen.items():
        if version is None:
            if key in keys_with_none:
                continue
            keys_with_none.add(key)
        result.append(package)
    return tuple(sorted(result, key=lambda p: (p.ecosystem, p.key, p.version or "")))


def _with_requires(items: tuple[Package, ...], data: st.DataObject) -> tuple[Package, ...]:
    from dataclasses import replace

    keys = sorted({p.key for p in items})
    return tuple(replace(p, requires=tuple(data.draw(st.lists(st.sampled_from(keys), max_size=3, unique=True))))
                 if keys else p for p in items)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(packages, max_size=8), data=st.data(), fmt=st.sampled_from(["json", "xml"]),
       spec=st.sampled_from(["1.5", "1.6", "1.7"]))
def test_an_sbom_reads_back_into_the_same_inventory(items: list[Package], data: st.DataObject, fmt: str,
                                                    spec: str) -> None:
    inventory = Inventory(project=Project("proj", "1.0"), packages=_with_requires(_unique(items), data),
                          sources=("requirements.txt",), notes=("poetry.lock: not read",),
                          target="linux-x86_64/py3.11")
    document = serialise(inventory, fmt, spec)
    validate(document, fmt, spec)
    assert parse_sbom(document) == inventory


def _inventory() -> Inventory:
    torch = Package(
        name="torch", version="2.5.1+cu124", license_expression="BSD-3-Clause",
        summary="<script>alert(1)</script> tensors", hashes=(Hash("sha256", "ab" * 32),),
        requires=("numpy",),
        provenance=(Provenance("requirements.txt", "requirements", 3, "==2.5.1", hashes=(Hash("sha256", "ab" * 32),)),),
    )
    numpy = Package(name="numpy", version="2.1.3", license_expression="BSD-3-Clause",
                    provenance=(Provenance("requirements.txt", "requirements", 1, "==2.1.3"),))
    return Inventory(project=Project("pytorch-train", "0.3.0"), packages=(numpy, torch),
                     sources=("requirements.txt",))


def test_components_carry_purl_licence_hashes_and_provenance() -> None:
    document = json.loads(serialise(_inventory(), "json", "1.6"))
    assert document["specVersion"] == "1.6"
    assert document["metadata"]["component"]["name"] == "pytorch-train"
    assert document["metadata"]["tools"]["components"][0]["name"] == "mlgov"
    torch = next(c for c in document["components"] if c["name"] == "torch")
    assert torch["purl"] == "pkg:pypi/torch@2.5.1%2Bcu124"
    assert torch["licenses"] == [{"expression": "BSD-3-Clause"}]
    assert torch["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    provenance = [json.loads(p["value"]) for p in torch["properties"] if p["name"] == "mlgov:provenance"]
    assert provenance == [{"file": "requirements.txt", "hashes": ["sha256:" + "ab" * 32], "kind": "requirements",
                           "line": 3, "specifier": "==2.5.1"}]
    graph = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert sorted(graph["project"]) == ["pkg:pypi/numpy@2.1.3", "pkg:pypi/torch@2.5.1%2Bcu124"]
    assert graph["pkg:pypi/torch@2.5.1%2Bcu124"] == ["pkg:pypi/numpy@2.1.3"]


def test_reproducible_output_is_byte_identical_and_source_date_epoch_works(monkeypatch: pytest.MonkeyPatch) -> None:
    first = serialise(_inventory(), "json", "1.6", reproducible=True)
    assert serialise(_inventory(), "json", "1.6", reproducible=True) == first
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    stamped = serialise(_inventory(), "xml", "1.6")
    assert serialise(_inventory(), "xml", "1.6") == stamped
    assert "2023-11-14T22:13:20" in stamped


def test_an_invalid_document_is_refused_by_the_schema() -> None:
    document = json.loads(serialise(_inventory(), "json", "1.6"))
    document["components"][0]["type"] = "not-a-type"
    with pytest.raises(SchemaViolation, match="components/0/type"):
        validate(json.dumps(document), "json", "1.6")
    xml = serialise(_inventory(), "xml", "1.6").replace('type="library"', 'type="bogus"', 1)
    with pytest.raises(SchemaViolation):
        validate(xml, "xml", "1.6")


def test_a_third_party_sbom_reads_without_provenance() -> None:
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                "components": [{"type": "library", "name": "requests", "version": "2.32.3",
                                "purl": "pkg:pypi/requests@2.32.3",
                                "licenses": [{"license": {"id": "Apache-2.0"}}]}]}
    inventory = parse_sbom(json.dumps(document))
    (package,) = inventory.packages
    assert (package.name, package.version, package.license_expression, package.provenance) == (
        "requests", "2.32.3", "Apache-2.0", ())


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "invalid JSON"),
    ('{"hello": 1}', "not a CycloneDX document"),
    ("<bom><unclosed></bom>", "invalid XML"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><bom/>', "refused XML"),
])
def test_broken_sboms_are_input_errors(text: str, message: str, tmp_path: Path) -> None:
    from governance.errors import InputError
    from governance.sbom.read import read_sbom

    path = tmp_path / "sbom.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        read_sbom(path)
    assert str(path) in str(caught.value)
