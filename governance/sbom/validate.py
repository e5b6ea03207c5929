"""Validation against the official CycloneDX schemas that cyclonedx-python-lib ships.

JSON is checked with jsonschema-rs, a compiled validator, against the same
bom-1.x.schema.json files cyclonedx-python-lib uses. cyclonedx-py spends almost
all of its time in the pure-Python jsonschema's `iri-reference` format checker
(an Earley parser); jsonschema-rs checks the same schema, formats included, in
milliseconds. XML is checked against the XSD with lxml, as cyclonedx-python-lib does.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_VERSIONS = ("1.5", "1.6", "1.7")


class SchemaViolation(Exception):
    """The document does not validate; the message says where and why."""


def _schema_dir() -> Path:
    import cyclonedx.schema._res as res

    return Path(res.__file__).parent


def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=4)
def _json_validator(spec_version: str) -> Any:
    import jsonschema_rs

    folder = _schema_dir()
    schema = _load_json(folder / f"bom-{spec_version}.SNAPSHOT.schema.json")

    def retrieve(uri: str) -> Any:
        # The schema refers to its neighbours by URL (spdx.schema.json,
        # jsf-0.82.schema.json, cryptography-defs.schema.json): serve the local copies.
        name = uri.rsplit("/", 1)[-1].split("#", 1)[0]
        local = folder / name
        if not local.is_file():
            local = folder / f"{name.removesuffix('.schema.json')}.SNAPSHOT.schema.json"
        if not local.is_file() or local.parent != folder:
            raise ValueError(f"no local copy of {uri}")
        return _load_json(local)

    return jsonschema_rs.validator_for(schema, retriever=retrieve, validate_formats=True)


def validate_json(document: str | dict[str, Any], spec_version: str) -> None:
    data = json.loads(document) if isinstance(document, str) else document
    validator = _json_validator(spec_version)
    errors = list(validator.iter_errors(data))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.instance_path) or "(root)"
        raise SchemaViolation(f"CycloneDX {spec_version} JSON schema: at {path}: {first.message}"
                              + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))


@lru_cache(maxsize=4)
def _xml_schema(spec_version: str) -> Any:
    from lxml import etree

    path = _schema_dir() / f"bom-{spec_version}.SNAPSHOT.xsd"
    # The XSD imports spdx.xsd by a relative location, which lxml resolves
    # beside the file; no network is involved.
    return etree.XMLSchema(etree.parse(str(path)))


def validate_xml(document: str, spec_version: str) -> None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(document.encode("utf-8"), parser=parser)
    schema = _xml_schema(spec_version)
    if not schema.validate(root):
        error = schema.error_log.last_error
        raise SchemaViolation(f"CycloneDX {spec_version} XML schema: line {error.line}: {error.message}")


def validate(document: str, fmt: str, spec_version: str) -> None:
    if fmt == "xml":
        validate_xml(document, spec_version)
    else:
        validate_json(document, spec_version)
