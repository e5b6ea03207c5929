"""Applying the policy's waivers to the findings of a scan.

A waiver matches a finding by `id` (the rule id, or the advisory's id or any
of its aliases) and/or by `package` (a name, optionally with a version
specifier: "pillow<9.3"); when it names both, both must match. A waived
finding stays in every report, marked waived with the waiver's reason, owner
and expiry. A waiver is live through its `expires` day; from the next day it
waives nothing and is itself a finding (WAIVE001, an error), so the gate fails
again. A live waiver that matched nothing is a WAIVE002 note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from governance.model import Finding, Inventory, Vulnerability
from governance.policy.context import RuleContext
from governance.policy.waiver import Waiver

OWN_RULES = ("WAIVE001", "WAIVE002")


def expired(waiver: Waiver, today: dt.date) -> bool:
    return waiver.expires is not None and waiver.expires < today


def matches(waiver: Waiver, rule_id: str, package: str | None, version: str | None, ids: Iterable[str]) -> bool:
    if waiver.id is not None:
        wanted = waiver.id.strip().upper()
        if wanted != rule_id.upper() and wanted not in {i.upper() for i in ids}:
            return False
    if waiver.package is not None:
        name, specifier = _package(waiver.package)  # validated when the policy was loaded
        if package is None or name != package:
            return False
        if specifier:
            try:
                parsed = Version(version or "")
            except InvalidVersion:
                return False
            # PEP 440 already lets "==1.10.0" match 1.10.0+cu113 and "==1.10.0+cu113" only that build.
            if not specifier.contains(parsed, prereleases=True):
                return False
    return True


@lru_cache(maxsize=None)
def _package(text: str) -> tuple[str, SpecifierSet]:
    """A waiver's `package` parsed once per evaluation, not once per finding."""
    requirement = Requirement(text)
    return canonicalize_name(requirement.name), requirement.specifier


def _finding_matches(waiver: Waiver, finding: Finding) -> bool:
    ids = (finding.vulnerability, *finding.aliases) if finding.vulnerability else finding.aliases
    return matches(waiver, finding.rule_id, finding.package, finding.version, ids)


def _describe(waiver: Waiver) -> str:
    names = " ".join(part for part in (waiver.id, waiver.package) if part)
    extra = ", ".join(f"{label} {value}" for label, value in (("owner", waiver.owner), ("ticket", waiver.ticket))
                      if value)
    return f"waiver for {names}" + (f" ({extra})" if extra else "")


def apply(ctx: RuleContext, findings: Iterable[Finding]) -> list[Finding]:
    """The findings with live waivers applied, plus WAIVE001/WAIVE002 about the waivers themselves."""
    today = ctx.now.date()
    waivers: Sequence[Waiver] = ctx.policy.waivers
    result: list[Finding | None] = []  # _about() is None when its rule is off
    used: set[int] = set()
    would_have: dict[int, int] = {}
    by_name: dict[str, list[int]] = {}
    any_package: list[int] = []
    for index, waiver in enumerate(waivers):
        if waiver.package is None:
            any_package.append(index)
        else:
            by_name.setdefault(_package(waiver.package)[0], []).append(index)
    for finding in findings:
        if finding.rule_id in OWN_RULES:
            result.append(finding)
            continue
        chosen = None
        # Only waivers for this package (or for any package) can match: found
        # through an index, in file order, instead of every waiver per finding.
        candidates = sorted(by_name.get(finding.package or "", []) + any_package) if finding.package \
            else any_package
        for index in candidates:
            waiver = waivers[index]
            if not _finding_matches(waiver, finding):
                continue
            if expired(waiver, today):
                would_have[index] = would_have.get(index, 0) + 1
                continue
            used.add(index)
            if chosen is None:  # the first live waiver in the file is the one reported
                chosen = waiver
        if chosen is not None:
            finding = replace(finding, waived=True, waiver_reason=chosen.reason, waiver_owner=chosen.owner,
                              waiver_ticket=chosen.ticket, waiver_expires=chosen.expires.isoformat() if chosen.expires else None)
        result.append(finding)
    for index, waiver in enumerate(waivers):
        if expired(waiver, today):
            count = would_have.get(index, 0)
            covered = f"; {count} finding(s) it covered are no longer waived" if count else ""
            result.append(_about(ctx, "WAIVE001", waiver,
                                 f"{_describe(waiver)} expired on {waiver.expires}{covered}; "
                                 f"fix them or renew the waiver ({waiver.reason})"))
        elif index not in used:
            result.append(_about(ctx, "WAIVE002", waiver,
                                 f"{_describe(waiver)} matches no finding; remove it from the policy"))
    return [f for f in result if f is not None]


def _about(ctx: RuleContext, rule_id: str, waiver: Waiver, message: str) -> Finding | None:
    finding = ctx.finding(rule_id, message)
    if finding is None:
        return None
    return replace(finding, file=waiver.file, line=waiver.line,
                   package=canonicalize_name(Requirement(waiver.package).name) if waiver.package else None)


def annotate(inventory: Inventory, waivers: Sequence[Waiver], today: dt.date, policy_name: str) -> Inventory:
    """The inventory with each waived vulnerability's analysis set, for the SBOM's `analysis`."""
    if not waivers or not inventory.vulnerabilities:
        return inventory

    def analysed(vulnerability: Vulnerability) -> Vulnerability:
        ids = (vulnerability.id, *vulnerability.aliases)
        for waiver in waivers:
            if not expired(waiver, today) and matches(waiver, "VULN001", vulnerability.package,
                                                      vulnerability.version, ids):
                detail = f"waived by policy {policy_name}: {waiver.reason}"
                extra = [f"{label} {value}" for label, value in
                         (("owner", waiver.owner), ("ticket", waiver.ticket), ("expires", waiver.expires)) if value]
                if extra:
                    detail += f" ({', '.join(extra)})"
                state = "not_affected" if waiver.justification else "in_triage"
                return replace(vulnerability, analysis_state=state, analysis_detail=detail,
                               analysis_justification=waiver.justification)
        return vulnerability

    return replace(inventory, vulnerabilities=tuple(analysed(v) for v in inventory.vulnerabilities))
