"""LIC001 / LIC002 / LIC003: licences against `[licenses] allow`, `deny` and `review`.

A package's licence is an SPDX expression, judged as one: `MIT OR GPL-3.0-only`
is fine when MIT is allowed (the user picks MIT), `MIT AND GPL-3.0-only` needs
both. Each licence in it is classified by the lists (deny beats review beats
allow; ids and patterns such as "GPL-*" match case-insensitively), then OR
takes the best choice and AND the worst:

    allowed < needs review < unknown < denied

The family only runs when the policy has a [licenses] table, and then the
SPDX licensing index (slow to build) is loaded once and each distinct
expression is parsed once.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from enum import IntEnum
from functools import lru_cache
from typing import Any

from governance.model import Finding, Package
from governance.policy.context import RuleContext
from governance.policy.rule import Rule

RULES = (
    Rule("LIC001", "licenses", "error", "A package's licence is denied by the policy.",
         "Replace the package, or, when another licence it offers is acceptable, record that choice "
         "in a waiver; `[licenses] deny` lists what the policy refuses."),
    Rule("LIC002", "licenses", "warning", "A package's licence needs a review (listed under review, or "
         "not on the allow list).",
         "Have the licence reviewed, then add it to `[licenses] allow` or waive the package."),
    Rule("LIC003", "licenses", "warning", "A package's licence is unknown, absent or not an SPDX expression.",
         "Check the package's licence by hand and record it in a waiver, or ask upstream to declare "
         "a PEP 639 License-Expression."),
)


class Verdict(IntEnum):
    ALLOWED = 0
    REVIEW = 1
    UNKNOWN = 2
    DENIED = 3


def _licensing() -> Any:
    from governance.collect.licenses import spdx_licensing

    return spdx_licensing()  # one Licensing a process (~0.08 s to build), shared with reading metadata


@lru_cache(maxsize=4096)
def _parse(expression: str) -> tuple[Any, frozenset[str]] | None:
    """The parsed expression and its unknown (non-SPDX) symbols; None when it does not parse."""
    from license_expression import ExpressionError

    licensing = _licensing()
    try:
        parsed = licensing.parse(expression, validate=False, strict=False)
    except (ExpressionError, TypeError, ValueError):  # TypeError/ValueError: the parser's own failures
        return None
    if parsed is None:
        return None
    unknown = frozenset(str(key) for key in licensing.unknown_license_keys(parsed))
    return parsed, unknown


class Lists:
    """The policy's three lists, compiled once."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.allow = tuple(p.casefold() for p in table.get("allow", []))
        self.deny = tuple(p.casefold() for p in table.get("deny", []))
        self.review = tuple(p.casefold() for p in table.get("review", []))

    @staticmethod
    def _matches(name: str, patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    def classify(self, names: tuple[str, ...], known: bool) -> Verdict:
        """names: the ways one licence can be written (with and without its exception)."""
        folded = tuple(n.casefold() for n in names)
        if any(self._matches(n, self.deny) for n in folded):
            return Verdict.DENIED
        if any(self._matches(n, self.review) for n in folded):
            return Verdict.REVIEW
        if any(self._matches(n, self.allow) for n in folded):
            return Verdict.ALLOWED
        if not known:
            return Verdict.UNKNOWN
        return Verdict.REVIEW if self.allow else Verdict.ALLOWED


def judge(expression: str | None, lists: Lists) -> tuple[Verdict, str]:
    """A verdict on one licence expression and the licences that decided it."""
    if not expression or not expression.strip():
        return Verdict.UNKNOWN, "no licence declared"
    parsed = _parse(expression.strip())
    if parsed is None:
        return Verdict.UNKNOWN, f"{expression!r} is not an SPDX expression"
    node, unknown = parsed
    return _walk(node, lists, unknown)


def _walk(node: Any, lists: Lists, unknown: frozenset[str]) -> tuple[Verdict, str]:
    from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol

    if isinstance(node, LicenseWithExceptionSymbol):
        key = str(node.license_symbol.key)
        names = (f"{key} WITH {node.exception_symbol.key}", key)
        return lists.classify(names, key not in unknown), names[0]
    if isinstance(node, LicenseSymbol):
        key = str(node.key)
        known = key not in unknown or key.startswith("LicenseRef-")
        return lists.classify((key,), known), key
    if isinstance(node, (AND, OR)):
        parts = [_walk(arg, lists, unknown) for arg in node.args]
        pick = max if isinstance(node, AND) else min
        verdict = pick(v for v, _ in parts)
        deciding = [text for v, text in parts if v == verdict]
        return verdict, (" and " if isinstance(node, AND) else " or ").join(deciding)
    return Verdict.UNKNOWN, str(node)  # pragma: no cover - the parser yields only the above


def _expression(package: Package) -> str | None:
    """The SPDX expression; else a Trove classifier or a known name that another tool kept as text."""
    if package.license_expression:
        return package.license_expression
    if package.license_text:
        from governance.collect.licenses import CLASSIFIERS, NAMES

        text = package.license_text.strip()
        return CLASSIFIERS.get(text) or NAMES.get(text.lower())
    return None


def licence_known_from(package: Package) -> bool:
    """Whether there is metadata to judge the licence by: an installed copy, or an SBOM's component.

    A requirement line alone says nothing about the licence; calling that
    "unknown licence" would bury the real LIC003 findings.
    """
    return package.installed or not package.provenance or bool(package.license_expression or package.license_text)


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    table = ctx.policy.settings.get("licenses")
    if not isinstance(table, dict) or not table:
        return
    if not any(ctx.enabled(rule.id) for rule in RULES):
        return
    lists = Lists(table)
    for package in ctx.inventory.packages:
        if package.provenance and not any(p.applies for p in package.provenance):
            continue
        if not licence_known_from(package):
            continue  # declared but not installed: the coverage family says so once
        expression = _expression(package)
        verdict, deciding = judge(expression, lists)
        if verdict is Verdict.ALLOWED:
            continue
        label = f"{package.name} {package.version}" if package.version else package.name
        if verdict is Verdict.DENIED:
            yield ctx.finding("LIC001", f"{label} is licensed {expression}; the policy denies {deciding}",
                              package=package, fix=f"replace {package.name} or waive it with a reason")
        elif verdict is Verdict.REVIEW:
            why = "is listed for review" if lists._matches(deciding.casefold(), lists.review) \
                else "is not on the allow list"
            yield ctx.finding("LIC002", f"{label} is licensed {expression}; {deciding} {why}",
                              package=package, fix=f"review {deciding} and allow it, or waive {package.name}")
        else:
            said = f" (the metadata says {package.license_text!r})" if package.license_text else ""
            yield ctx.finding("LIC003", f"{label}: licence unknown: {deciding}{said}",
                              package=package, fix=f"check {package.name}'s licence by hand")
