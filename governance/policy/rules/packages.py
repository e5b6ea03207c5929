"""PKG001 / PKG002: versions the policy allows, packages it denies."""

from __future__ import annotations

from collections.abc import Iterator

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.model import Finding, Package
from governance.policy.context import RuleContext
from governance.policy.rule import NOT_JUDGED, Rule

RULES = (
    Rule("PKG001", "packages", "error", "A package version is outside the range the policy allows for it.",
         "Move the package to a version inside `[packages.<name>] allowed`, or change the policy."),
    Rule("PKG002", "packages", "error", "A package the policy denies is present.",
         "Remove the package (and whatever requires it), or take it off `[packages] deny`."),
    Rule("COV012", "packages", NOT_JUDGED,
         "PKG001/PKG002 could not judge a package the policy names: its version is not known (a range, no pin) "
         "or is not a PEP 440 version.",
         "Pin the package to one version (`==X.Y.Z`, a lockfile), or scan the installed environment "
         "(--python), so that its version can be compared with `[packages.<name>] allowed` or `deny`."),
)

# conda packages whose PyPI name differs (conda-forge's pytorch feedstock builds PyTorch, which PyPI calls
# torch; the `pytorch` channel's pytorch is the same): a policy names PyPI packages, and `[packages.torch]`
# must reach a conda pytorch. Every other conda package is judged under its own name, which conda-forge
# keeps equal to the PyPI name for Python libraries (pillow, numpy, tensorflow).
_CONDA_NAMES = {"pytorch": "torch", "pytorch-gpu": "torch", "pytorch-cpu": "torch"}


def _policy_key(package: Package) -> str | None:
    if package.ecosystem == "pypi":
        return package.key
    if package.ecosystem == "conda":
        return _CONDA_NAMES.get(package.key, canonicalize_name(package.key))
    return None


def _unknown(package: Package) -> str:
    if package.version:
        return f"{package.name} {package.version} is not a PEP 440 version"
    asked = sorted({p.specifier for p in package.provenance if p.applies and p.specifier})
    where = sorted({p.location for p in package.provenance if p.applies})
    return (f"{package.name} has no exact version ({', '.join(asked) or 'no version at all'} in "
            f"{', '.join(where) or 'the input'})")


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    tables = ctx.policy.settings.get("packages", {}) or {}
    allowed: dict[str, dict[str, str]] = {canonicalize_name(name): table for name, table in tables.items()
               if isinstance(table, dict) and "allowed" in table}
    denied = [Requirement(entry) for entry in tables.get("deny", [])]
    for package in ctx.inventory.packages:
        key = _policy_key(package)
        if key is None or not any(p.applies for p in package.provenance) and package.provenance:
            continue
        version = None
        if package.version:
            try:
                version = Version(package.version)
            except InvalidVersion:
                version = None
        rule = allowed.get(key)
        if rule is not None and version is None and ctx.enabled("PKG001"):
            yield ctx.finding(
                "COV012",
                f"{_unknown(package)}: whether it is inside [packages.{key}] allowed {rule['allowed']} was not "
                f"judged (PKG001); pin it, or scan the installed environment",
                package=package, fix=f"pin {package.name} to a version matching {rule['allowed']}")
        if rule is not None and version is not None:
            spec = SpecifierSet(rule["allowed"])
            if not spec.contains(version, prereleases=True):
                reason = f" ({rule['reason']})" if rule.get("reason") else ""
                named = f" (conda's name for {key})" if key != package.key else ""
                yield ctx.finding(
                    "PKG001",
                    f"{package.name}{named} {package.version} is outside the allowed range {rule['allowed']}{reason}; "
                    f"move to a version matching {rule['allowed']}",
                    package=package, fix=f"use {package.name}{rule['allowed']}",
                )
        for requirement in denied:
            if canonicalize_name(requirement.name) != key:
                continue
            if requirement.specifier:
                if version is None:
                    if ctx.enabled("PKG002"):
                        yield ctx.finding(
                            "COV012",
                            f"{_unknown(package)}: whether it is denied by the policy ({requirement}) was not "
                            f"judged (PKG002); pin it, or scan the installed environment",
                            package=package, fix=f"pin {package.name} outside {requirement.specifier}")
                    continue
                if not requirement.specifier.contains(version, prereleases=True):
                    continue
            yield ctx.finding(
                "PKG002",
                f"{package.name}{' ' + package.version if package.version else ''} is denied by the policy "
                f"({requirement}); remove it or replace it",
                package=package, fix=f"remove {package.name}",
            )
