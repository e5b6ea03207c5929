"""Rule families, one module per family; each has `check(ctx) -> Iterable[Finding]`."""

from __future__ import annotations

import importlib
from types import ModuleType

FAMILY_MODULES: tuple[str, ...] = ("pins", "packages", "licenses", "waiver_limits", "coverage", "gpu",
                                   "lockfiles", "lifecycle", "vulns", "containers", "models", "waivers")


def families() -> list[ModuleType]:
    return [importlib.import_module(f"governance.policy.rules.{name}") for name in FAMILY_MODULES]
