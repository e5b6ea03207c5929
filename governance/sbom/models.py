"""Model files in the SBOM, and back (a section: governance/sbom/sections.py).

Each model file is a CycloneDX `machine-learning-model` component: its path
as name, SHA-256, a `pkg:huggingface` purl for a hub cache snapshot, and a
`modelCard` with what the file says (architecture in modelParameters; tensor
and parameter counts as modelCard properties). What `mlgov check` needs to
re-judge the file (format, the globals its pickles import, the other ways it
runs code, what could not be read) travels in `mlgov:` properties.
"""

from __future__ import annotations

import json
from typing import Any

from governance.model import Inventory, ModelFile
from governance.sbom import codec
from governance.sbom.sections import Contribution, Json, prop, properties

TYPE = "machine-learning-model"
FORMAT = codec.NS + "model-format"
FRAMEWORK = codec.NS + "model-framework"
SIZE = codec.NS + "model-size"
GLOBALS = codec.NS + "model-globals"
CODE = codec.NS + "model-code"
UNPARSED = codec.NS + "model-unparsed"
# Card entries that CycloneDX has a modelParameters field for.
_PARAMETERS = {"architecture": "modelArchitecture", "architecture-family": "architectureFamily"}


def component(model: ModelFile) -> Json:
    data: Json = {"type": TYPE, "bom-ref": f"model:{model.path}", "name": model.path}
    if model.sha256:
        data["hashes"] = [{"alg": "SHA-256", "content": model.sha256}]
    if model.purl:
        data["purl"] = model.purl
    found = [prop(FORMAT, model.format), prop(SIZE, model.size)]
    if model.framework:
        found.append(prop(FRAMEWORK, model.framework))
    for name, values in ((GLOBALS, model.globals), (CODE, model.code), (UNPARSED, model.unparsed)):
        if values:
            found.append(prop(name, codec.dumps(list(values))))
    data["properties"] = found
    parameters = {_PARAMETERS[k]: v for k, v in model.card if k in _PARAMETERS}
    rest = [prop(k, v) for k, v in model.card if k not in _PARAMETERS]
    card: Json = {}
    if parameters:
        card["modelParameters"] = parameters
    if rest:
        card["properties"] = rest
    if card:
        data["modelCard"] = card
    return data


def from_component(data: Json) -> ModelFile:
    props = properties(data)
    sha = next((h.get("content", "") for h in data.get("hashes") or [] if h.get("alg") == "SHA-256"), "")
    card: list[tuple[str, str]] = []
    model_card = data.get("modelCard") or {}
    reverse = {v: k for k, v in _PARAMETERS.items()}
    for key, value in (model_card.get("modelParameters") or {}).items():
        if key in reverse and isinstance(value, str):
            card.append((reverse[key], value))
    card.extend((str(p.get("name")), str(p.get("value", ""))) for p in model_card.get("properties") or []
                if isinstance(p, dict))

    def listed(name: str) -> tuple[str, ...]:
        return tuple(str(v) for v in json.loads(props[name])) if name in props else ()

    unparsed = listed(UNPARSED)
    if FORMAT not in props:
        # Another tool's ML-BOM: nothing says what loading the file would do.
        unparsed = ("the SBOM does not record what loading this model runs (not written by mlgov); "
                    "scan the model file itself",)

    return ModelFile(
        path=str(data["name"]), format=props.get(FORMAT, "unknown"), sha256=str(sha),
        size=int(props.get(SIZE, "0") or 0), framework=props.get(FRAMEWORK), globals=listed(GLOBALS),
        code=listed(CODE), unparsed=unparsed, card=tuple(card), purl=data.get("purl"),
    )


class _Models:
    def write(self, inventory: Inventory) -> Contribution:
        if not inventory.models:
            return Contribution()
        components = tuple(component(m) for m in inventory.models)
        # The project uses its models: edges so that a consumer sees them in the graph.
        return Contribution(components=components,
                            dependencies=tuple({"ref": c["bom-ref"]} for c in components))

    def owns(self, component: Json) -> bool:
        return component.get("type") == TYPE

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        return {"models": tuple(sorted((from_component(c) for c in components), key=lambda m: m.path))}


SECTION = _Models()
