"""Which globals a model's pickle may import, per format.

A file passes only when every global is on its format's list (an allow-list,
never a block-list: picklescan's block-list took over 30 bypasses). The lists
are data, generated from the libraries (governance/knowledge/model_globals.toml,
scripts/refresh_model_globals.py). Evaluation judges with them, so that
`mlgov check` on an SBOM judges the globals it records exactly as the scan did.
"""

from __future__ import annotations

import functools
from governance import tomlparse

# Format -> the lists whose union it may import. torch formats add NumPy's
# array rebuild (training checkpoints often hold NumPy scalars); a plain
# pickle or joblib file is what scikit-learn writes.
LISTS_FOR_FORMAT: dict[str, tuple[str, ...]] = {
    "pytorch-zip": ("torch", "numpy", "python"),
    "pytorch-legacy": ("torch", "numpy", "python"),
    "torchscript": ("torch", "python"),
    "numpy": ("numpy", "python"),
    "numpy-zip": ("numpy", "python"),
    "joblib": ("sklearn", "numpy", "python"),
    "pickle": ("sklearn", "numpy", "torch", "python"),
}


@functools.lru_cache(maxsize=1)
def _lists() -> dict[str, frozenset[str]]:
    from importlib import resources

    text = resources.files("governance.knowledge").joinpath("model_globals.toml").read_text("utf-8")
    data = tomlparse.loads(text)
    return {name: frozenset(table["globals"]) for name, table in data.items() if name != "sources"}


def allowed(fmt: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    lists = _lists()
    names: set[str] = set(extra)
    for name in LISTS_FOR_FORMAT.get(fmt, ()):
        names |= lists[name]
    return frozenset(names)


# TorchScript's own unpickler resolves `__torch__.` names to compiled TorchScript
# classes of the archive, never to Python modules.
_PREFIXES_FOR_FORMAT: dict[str, tuple[str, ...]] = {"torchscript": ("__torch__.",)}


def disallowed(fmt: str, globals_: tuple[str, ...], extra: tuple[str, ...] = ()) -> list[str]:
    ok = allowed(fmt, extra)
    prefixes = _PREFIXES_FOR_FORMAT.get(fmt, ())
    return [g for g in globals_ if g not in ok and not (prefixes and g.startswith(prefixes))]
