"""Keras: the Keras 3 `.keras` zip and the legacy HDF5 `.h5`.

A model's config names the classes Keras rebuilds. A `Lambda` layer carries
Python bytecode (marshalled) that runs on load when safe_mode is off, and a
class from a module outside Keras is imported on load (CVE-2025-1550): both are
code. HDF5 is not parsed structurally: the model config is a JSON attribute
stored as contiguous bytes, found by searching the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from governance.collect.models.judgement import MAX_JSON_BYTES, Judgement
from governance.collect.models.zips import Archive

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
_KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras")
_MARKERS = (b"keras_version", b"model_config", b"layer_names", b"weight_names")


def is_keras_zip(names: list[str]) -> bool:
    return "config.json" in names and ("metadata.json" in names or "model.weights.h5" in names)


def judge_config(config: Any, j: Judgement) -> None:
    layers = 0
    classes: list[str] = []

    def visit(node: Any, depth: int = 0) -> None:
        nonlocal layers
        if depth > 200:
            j.cannot("Keras config nested too deep")
            return
        if isinstance(node, dict):
            name = node.get("class_name")
            if isinstance(name, str):
                classes.append(name)
                if isinstance(node.get("config"), dict) and "name" in node["config"]:
                    layers += 1
                if name in _CODE_LAYERS:
                    label = node.get("config", {}).get("name") if isinstance(node.get("config"), dict) else None
                    j.runs(f"{name} layer {label!r} (runs Python code when loaded without safe_mode)")
                if name == "__lambda__" or (name == "function" and isinstance(node.get("config"), dict)
                                            and "code" in node["config"]):
                    j.runs("a Python lambda serialised as bytecode")
                module = node.get("module")
                if isinstance(module, str) and module and not module.split(".")[0] in \
                        {m.split(".")[0] for m in _KERAS_MODULES}:
                    j.runs(f"class {name!r} from module {module!r} outside Keras (imported when loaded)")
            for value in node.values():
                visit(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                visit(value, depth + 1)

    visit(config)
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
        j.card["mlgov:layer-count"] = str(len(inner["layers"]))
    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        j.card["architecture"] = config["class_name"]


def judge_zip(archive: Archive, j: Judgement) -> None:
    j.format, j.framework = "keras", "keras"
    for member in archive.find("config.json"):
        data = archive.read(member, MAX_JSON_BYTES)
        if data is None:
            continue
        try:
            judge_config(json.loads(data), j)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            j.cannot(f"config.json is not JSON: {exc}")
    for member in archive.find("metadata.json"):
        data = archive.read(member, MAX_JSON_BYTES)
        try:
            meta = json.loads(data) if data else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            j.cannot("metadata.json is not JSON")
            continue
        if isinstance(meta, dict) and isinstance(meta.get("keras_version"), str):
            j.card["mlgov:keras-version"] = meta["keras_version"]
    for name in archive.names():
        if name not in ("config.json", "metadata.json", "model.weights.h5", "model.weights.npz", "assets/") \
                and not name.startswith("assets/"):
            j.cannot(f".keras member {name!r} is not part of a Keras 3 model file")


def _search(path: Path, needles: tuple[bytes, ...]) -> set[bytes]:
    found: set[bytes] = set()
    overlap = max(len(n) for n in needles)
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            window = tail + chunk
            found.update(n for n in needles if n in window)
            tail = window[-overlap:]
    return found


def is_keras_h5(path: Path) -> bool:
    found = _search(path, _MARKERS + (b"layers\x00", b"vars\x00"))
    # Keras 3 weight files (save_weights) name their groups layers/<name>/vars/<i>.
    return bool(found & set(_MARKERS)) or {b"layers\x00", b"vars\x00"} <= found


def judge_h5(path: Path, j: Judgement) -> None:
    j.format, j.framework = "hdf5", "keras"
    found = _search(path, (b'"class_name": "Lambda"', b'"class_name":"Lambda"', b'"class_name": "TFOpLambda"',
                           b"model_config"))
    configs = _configs(path) if b"model_config" in found else []
    for config in configs:
        judge_config(config, j)
    if not configs and any(n != b"model_config" for n in found):
        j.runs("a Lambda layer (its config could not be read whole)")
    if b"model_config" in found and not configs:
        j.cannot("HDF5: the model_config attribute is not readable JSON")


def _configs(path: Path) -> list[Any]:
    """Every JSON object starting with {"class_name" in the file (the model_config attribute)."""
    out: list[Any] = []
    decoder = json.JSONDecoder()
    with open(path, "rb") as f:
        data = f.read(MAX_JSON_BYTES * 4)
    start = 0
    while (at := data.find(b'{"class_name"', start)) >= 0:
        # The attribute is a fixed-length string: decode as far as valid JSON goes.
        end = data.find(b"\x00", at)
        text = data[at:end if end >= 0 else len(data)].decode("utf-8", "replace")
        try:
            value, used = decoder.raw_decode(text)
            out.append(value)
            start = at + used
        except json.JSONDecodeError:
            start = at + 1
    return out
