"""The SBOM's extension point: a section contributes plain dicts and reads them back.

A section for machine-learning models (with a CycloneDX modelCard, which
cyclonedx-python-lib cannot write) and one for container images are plugged
in here as the model-files and container parts do: the document they make
validates against the official schemas in JSON and XML, every version, and
each section gets back exactly the components it wrote.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from governance.model import Inventory, Package, Project, Provenance
from governance.sbom import sections as registry
from governance.sbom.build import serialise
from governance.sbom.read import parse_sbom
from governance.sbom.sections import Contribution, properties, prop, uri
from governance.sbom.validate import SchemaViolation, validate

MODEL_CARD = {
    "modelParameters": {
        "approach": {"type": "supervised"}, "task": "image-classification", "architectureFamily": "resnet",
        "modelArchitecture": "resnet50", "datasets": [{"ref": "dataset:imagenet"}],
        "inputs": [{"format": "image"}], "outputs": [{"format": "label"}]},
    "quantitativeAnalysis": {"performanceMetrics": [
        {"type": "top-1 accuracy", "value": "0.76", "confidenceInterval": {"lowerBound": "0.75",
                                                                           "upperBound": "0.77"}}]},
    "considerations": {"users": ["ML engineers"], "technicalLimitations": ["224x224 inputs"],
                       "ethicalConsiderations": [{"name": "bias", "mitigationStrategy": "audit"}]},
    "properties": [{"name": "mlgov:format", "value": "safetensors"}],
}


class ModelSection:
    def write(self, inventory: Inventory) -> Contribution:
        return Contribution(components=(
            {"type": "machine-learning-model", "bom-ref": "model:resnet50", "name": "resnet50.safetensors",
             "hashes": [{"alg": "SHA-256", "content": "cd" * 32}], "modelCard": MODEL_CARD,
             "properties": [prop("mlgov:model-file", "models/resnet50.safetensors")]},),
            properties=(prop("mlgov:models", "1"),))

    def owns(self, component: dict[str, Any]) -> bool:
        return component.get("type") == "machine-learning-model"

    def read(self, document: dict[str, Any], components: list[dict[str, Any]]) -> dict[str, Any]:
        self.seen = components
        return {}


class ContainerSection:
    def write(self, inventory: Inventory) -> Contribution:
        return Contribution(components=(
            {"type": "container", "bom-ref": "image:pytorch", "name": "pytorch/pytorch",
             "version": "2.5.1-cuda12.4-cudnn9-runtime",
             "purl": "pkg:oci/pytorch@sha256%3A" + "ef" * 32 + "?repository_url=docker.io/pytorch/pytorch",
             "properties": [prop("mlgov:image-cuda", "12.4")]},))

    def owns(self, component: dict[str, Any]) -> bool:
        return component.get("type") == "container"

    def read(self, document: dict[str, Any], components: list[dict[str, Any]]) -> dict[str, Any]:
        self.seen = components
        return {}


INVENTORY = Inventory(project=Project("demo"), packages=(
    Package("torch", "2.5.1", provenance=(Provenance("requirements.txt", "requirements", 1, "==2.5.1"),)),))


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("spec", ["1.5", "1.6", "1.7"])
def test_a_new_section_is_written_validated_and_read_back(fmt: str, spec: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.sections
    model, container = ModelSection(), ContainerSection()
    # The shipped model-files section is taken out: this test is about how any section plugs in.
    from governance.sbom import models

    monkeypatch.setattr(registry, "sections", lambda: (*(s for s in real() if s is not models.SECTION),
                                                       model, container))
    text = serialise(INVENTORY, fmt, spec, reproducible=True)
    validate(text, fmt, spec)
    back = parse_sbom(text)
    assert back.packages == INVENTORY.packages  # the model and the image are not packages
    (card,) = model.seen
    assert card["modelCard"]["modelParameters"]["modelArchitecture"] == "resnet50"
    assert card["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][0]["confidenceInterval"] == \
        {"lowerBound": "0.75", "upperBound": "0.77"}
    assert card["modelCard"]["considerations"]["users"] == ["ML engineers"]
    assert card["hashes"] == [{"alg": "SHA-256", "content": "cd" * 32}]
    assert properties(card) == {"mlgov:model-file": "models/resnet50.safetensors"}
    (image,) = container.seen
    assert (image["name"], image["version"], properties(image)) == \
        ("pytorch/pytorch", "2.5.1-cuda12.4-cudnn9-runtime", {"mlgov:image-cuda": "12.4"})
    if fmt == "json":
        assert json.loads(text)["components"][1]["modelCard"] == MODEL_CARD  # as written, nothing lost


def test_a_key_without_a_place_in_the_xml_schema_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Bad(ModelSection):
        def write(self, inventory: Inventory) -> Contribution:
            return Contribution(components=({"type": "library", "name": "x", "colour": "red"},))

    real = registry.sections
    monkeypatch.setattr(registry, "sections", lambda: (*real(), Bad()))
    with pytest.raises(ValueError, match="colour"):
        serialise(INVENTORY, "xml", "1.6")
    with pytest.raises(SchemaViolation):  # JSON has no order to break; the schema refuses the key
        validate(serialise(INVENTORY, "json", "1.6"), "json", "1.6")


@pytest.mark.parametrize("url", ["https://example.com/a b", 'https://x.org/"q"', "https://x.org/100%",
                                 "https://x.org/#a#b", "https://x.org/{x}|^`\\", "https://x.org/\x01",
                                 "https://例え.jp/パス"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_hostile_urls_from_metadata_still_validate(url: str, fmt: str) -> None:
    package = Package("p", "1.0", urls=(("Homepage", url),))
    text = serialise(Inventory(project=Project("demo"), packages=(package,)), fmt, "1.6")
    validate(text, fmt, "1.6")
    assert parse_sbom(text).packages[0].urls == (("Homepage", uri(url)),)


def test_an_sbom_cyclonedx_python_lib_wrote_reads_the_same_from_json_and_xml() -> None:
    # Another tool's SBOM, written by the library cyclonedx-py is built on.
    from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import LicenseExpression
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from packageurl import PackageURL

    requests = Component(type=ComponentType.LIBRARY, name="requests", version="2.32.3", bom_ref="requests",
                         purl=PackageURL.from_string("pkg:pypi/requests@2.32.3"),
                         licenses=[LicenseExpression(value="Apache-2.0")],
                         hashes=[HashType(alg=HashAlgorithm.SHA_256, content="ab" * 32)],
                         external_references=[ExternalReference(type=ExternalReferenceType.WEBSITE,
                                                                url=XsUri("https://requests.readthedocs.io"))],
                         properties=[Property(name="x", value="y")])
    bom = Bom(components=[requests])
    texts = [make_outputter(bom, f, SchemaVersion.V1_6).output_as_string() for f in (OutputFormat.JSON,
                                                                                     OutputFormat.XML)]
    from_json, from_xml = (parse_sbom(t) for t in texts)
    assert from_json == from_xml
    (package,) = from_json.packages
    assert (package.name, package.version, package.license_expression, package.provenance, package.properties) \
        == ("requests", "2.32.3", "Apache-2.0", (), (("x", "y"),))
    assert package.hashes[0].value == "ab" * 32 and package.urls == (("website", "https://requests.readthedocs.io"),)
