"""PKG001 / PKG002: versions the policy allows, packages it denies."""

from __future__ import annotations

from collections.abc import Iterator

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.model import Finding
from governance.policy.context import RuleContext
from governance.policy.rule import Rule

RULES = (
    Rule("PKG001", "packages", "error", "A package version is outside the range the policy allows for it.",
         "Move the package to a version inside `[packages.<name>] allowed`, or change the policy."),
    Rule("PKG002", "packages", "error", "A package the policy denies is present.",
         "Remove the package (and whatever requires it), or take it off `[packages] deny`."),
)


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    tables = ctx.policy.settings.get("packages", {}) or {}
    allowed: dict[str, dict[str, str]] = {canonicalize_name(name): table for name, table in tables.items()
               if isinstance(table, dict) and "allowed" in table}
    denied = [Requirement(entry) for entry in tables.get("deny", [])]
    for package in ctx.inventory.packages:
        if package.ecosystem != "pypi" or not any(p.applies for p in package.provenance) and package.provenance:
            continue
        version = None
        if package.version:
            try:
                version = Version(package.version)
            except InvalidVersion:
                version = None
        rule = allowed.get(package.key)
        if rule is not None and version is not None:
            spec = SpecifierSet(rule["allowed"])
            if not spec.contains(version, prereleases=True):
                reason = f" ({rule['reason']})" if rule.get("reason") else ""
                yield ctx.finding(
                    "PKG001",
                    f"{package.name} {package.version} is outside the allowed range {rule['allowed']}{reason}; "
                    f"move to a version matching {rule['allowed']}",
                    package=package, fix=f"use {package.name}{rule['allowed']}",
                )
        for requirement in denied:
            if canonicalize_name(requirement.name) != package.key:
                continue
            if requirement.specifier and (version is None or not requirement.specifier.contains(version, prereleases=True)):
                continue
            yield ctx.finding(
                "PKG002",
                f"{package.name}{' ' + package.version if package.version else ''} is denied by the policy "
                f"({requirement}); remove it or replace it",
                package=package, fix=f"remove {package.name}",
            )
