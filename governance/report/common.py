"""Small facts every renderer shows the same way."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from governance.model import AdvisorySource, Evaluation, Finding, Inventory
from governance.policy.rule import Rule

# GitHub's bands for `security-severity` (0.1-3.9 low, 4-6.9 medium, 7-8.9
# high, 9+ critical): an advisory without a CVSS score gets its band's middle.
SEVERITY_SCORES: dict[str, float] = {"critical": 9.5, "high": 8.0, "medium": 5.5, "low": 2.0}


def counts(evaluation: Evaluation) -> dict[str, int]:
    active = Counter(f.level.value for f in evaluation.findings if not f.waived)
    return {"error": active["error"], "warning": active["warning"], "note": active["note"],
            "waived": sum(1 for f in evaluation.findings if f.waived)}


def verdict_line(evaluation: Evaluation) -> str:
    c = counts(evaluation)
    word = "FAIL" if evaluation.failed else "PASS"
    parts = [f"{c['error']} error(s)", f"{c['warning']} warning(s)", f"{c['note']} note(s)"]
    if c["waived"]:
        parts.append(f"{c['waived']} waived")
    return (f"{word}: {evaluation.inventory.project.name} under policy {evaluation.policy_name}"
            f" (stage {evaluation.stage}): " + ", ".join(parts))


def where(finding: Finding) -> str:
    if finding.file:
        return f"{finding.file}:{finding.line}" if finding.line else finding.file
    return ""


def rule_for(rule_id: str) -> Rule | None:
    """The catalogue entry, or None for an id this build does not know (an SBOM from a newer mlgov)."""
    from governance.policy.catalogue import BY_ID

    return BY_ID.get(rule_id)


def family(rule_id: str) -> str:
    rule = rule_for(rule_id)
    if rule is not None:
        return rule.family
    prefix = re.match(r"[A-Za-z]+", rule_id)
    return prefix.group(0).lower() if prefix else rule_id


def subject(finding: Finding) -> str:
    """What a finding is about, in the user's words: a package, a host, or the project."""
    if finding.package and finding.host:
        return f"{finding.package} on {finding.host}"
    if finding.package:
        return finding.package
    if finding.host:
        return f"host {finding.host}"
    return "project"


def fingerprint(finding: Finding) -> str:
    """A finding's identity across runs, for SARIF's partialFingerprints.

    sha256 over the rule id, the package's canonical name, the file that
    declares it, the host and the advisory id, NUL-separated. The version,
    line number and message are left out on purpose: upgrading a package that
    is still unpinned, or adding a line above it, is the same problem, not a new one.
    """
    parts = (finding.rule_id, finding.package or "", finding.file or "", finding.host or "",
             finding.vulnerability or "")
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def security_score(finding: Finding, inventory: Inventory) -> float | None:
    """The CVSS base score of a vulnerability finding, else its severity band's middle."""
    if not finding.vulnerability:
        return None
    for advisory in inventory.vulnerabilities:
        if advisory.id == finding.vulnerability and advisory.score is not None and \
                (finding.package is None or advisory.package == finding.package):
            return round(float(advisory.score), 1)
    severity = (finding.severity or "").lower()
    if not severity:
        for advisory in inventory.vulnerabilities:
            if advisory.id == finding.vulnerability:
                severity = advisory.severity
                break
    return SEVERITY_SCORES.get(severity)


def printable(text: str) -> str:
    """Text XML 1.0 can carry, controls and bidi marks shown rather than obeyed (escape.xml_text)."""
    from governance.escape import xml_text

    return xml_text(text)


def vulnerability_database(inventory: Inventory) -> AdvisorySource | None:
    """The advisory source the verdict's vulnerabilities rest on: the last database used, else a service."""
    sources = inventory.advisory_sources
    databases = [s for s in sources if s.digest is not None or s.advisories is not None]
    if databases:
        return databases[-1]
    return sources[-1] if sources else None


def basis_line(evaluation: Evaluation) -> str:
    """What the verdict rests on, in one line: the advisory database and the knowledge version."""
    from governance.knowledge.summary import summary

    database = vulnerability_database(evaluation.inventory)
    if database is None:
        advisories = "advisories: none used (vulnerabilities not checked)"
    else:
        facts = [database.digest[:19] + "…" if database.digest else None,
                 f"{database.advisories:,} advisories" if database.advisories is not None else None,
                 f"newest modified {database.newest_modified}" if database.newest_modified else None]
        shown = ", ".join(f for f in facts if f)
        advisories = f"advisories: {database.source}" + (f" ({shown})" if shown else "")
        others = [s.source for s in evaluation.inventory.advisory_sources if s != database]
        if others:
            advisories += " + " + " + ".join(others)
    knowledge = summary()
    newest = ", ".join(f"{table} {version}" for table, version in knowledge.newest_entries.items())
    return f"{advisories}; knowledge {knowledge.version} (newest: {newest})"
