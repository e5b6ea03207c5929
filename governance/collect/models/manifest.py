"""The models manifest (`models.lock`): the SHA-256 of every model file, as the team reviewed them.

Written by `mlgov models lock`, named by a policy (`[models] manifest`), and
compared by MODEL004. TOML, one [[model]] table per file, sorted by path.
"""

from __future__ import annotations

from pathlib import Path

from governance.model import ModelFile, ModelManifest
from governance import tomlparse

HEADER = ("# mlgov models manifest: the SHA-256 of every model file as reviewed.\n"
          "# Written by `mlgov models lock`; a policy names it with [models] manifest = \"models.lock\".\n")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dumps(models: tuple[ModelFile, ...]) -> str:
    out = [HEADER, "version = 1\n"]
    for model in sorted(models, key=lambda m: m.path):
        out.append(f"\n[[model]]\npath = {_quote(model.path)}\nsha256 = {_quote(model.sha256)}\n"
                   f"size = {model.size}\nformat = {_quote(model.format)}\n")
    return "".join(out)


def read(path: Path, display: str) -> ModelManifest:
    """The manifest at path; a missing or malformed one is a ModelManifest with `error` set."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return ModelManifest(file=display, error="not found (run `mlgov models lock`)")
    except (OSError, UnicodeDecodeError) as exc:
        return ModelManifest(file=display, error=f"cannot be read: {exc}")
    try:
        data = tomlparse.loads(text)
    except tomlparse.TOMLError as exc:
        return ModelManifest(file=display, error=f"invalid TOML: {exc}")
    entries = data.get("model", [])
    if data.get("version") != 1 or not isinstance(entries, list):
        return ModelManifest(file=display, error="not an mlgov models manifest (version = 1, [[model]] tables)")
    hashes = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) \
                or not isinstance(entry.get("sha256"), str):
            return ModelManifest(file=display, error=f"model entry {index + 1} lacks path or sha256")
        hashes.append((entry["path"], entry["sha256"].lower()))
    return ModelManifest(file=display, hashes=tuple(hashes))


def manifests_in(root: Path) -> list[str]:
    """Names of the models manifests at the top of root (not lockfiles of packages, though named *.lock)."""
    found = []
    for entry in root.glob("*.lock"):
        try:
            with open(entry, "rb") as f:
                if f.read(len(HEADER)).decode("utf-8", "replace").startswith(HEADER.splitlines()[0]):
                    found.append(entry.name)
        except OSError:
            continue
    return found
