"""Small facts every renderer shows the same way."""

from __future__ import annotations

import re
from collections import Counter

from governance.model import AdvisorySource, Evaluation, Finding, Inventory
from governance.policy.rule import Rule

# GitHub's bands for `security-severity` (0.1-3.9 low, 4-6.9 medium, 7-8.9
# high, 9+ critical): an advisory without a CVSS score gets its band's middle.
SEVERITY_SCORES: dict[str, float] = {"critical": 9.5, "high": 8.0, "medium": 5.5, "low": 2.0}


def unread_heading(rule: str) -> str:
    """How the report lists an input that was left unjudged, by the rule that says it."""
    return {"COV010": "read, not judged for this target"}.get(rule, "not read")


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


def baseline_line(evaluation: Evaluation) -> str:
    """PR mode in one line: what the change introduces, what was already there, what it fixed."""
    comparison = evaluation.baseline
    if comparison is None:
        return ""
    active = [f for f in evaluation.findings if not f.waived]
    new = [f for f in active if f.baseline == "new"]
    new_errors = sum(1 for f in new if f.level.value == "error")
    return (f"Compared with {comparison.file}: {len(new)} new finding(s) ({new_errors} error(s)), "
            f"{len(active) - len(new)} existing, {len(comparison.fixed)} fixed; only new errors fail.")


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
    """A finding's identity across runs (Finding.fingerprint: one definition for SARIF and --baseline)."""
    return finding.fingerprint


def security_score(finding: Finding, inventory: Inventory, threshold: str = "high") -> float | None:
    """GitHub's security-severity of a VULN finding: the advisory's CVSS base score, else its band's middle.

    An advisory without a rating fails the gate as if it were at the policy's
    threshold (rules/vulns.py), so it is scored there too: shown as Low, a
    gate-failing advisory would look ignorable. A VULN finding about no advisory
    (the vulnerability check itself could not be done) is scored the same way.
    """
    if not finding.rule_id.startswith("VULN"):
        return None
    at_threshold = SEVERITY_SCORES.get(threshold, SEVERITY_SCORES["low"])
    if not finding.vulnerability:
        return at_threshold
    for advisory in inventory.vulnerabilities:
        if advisory.id == finding.vulnerability and advisory.score is not None and \
                (finding.package is None or advisory.package == finding.package):
            return round(float(advisory.score), 1)
    severity = (finding.severity or "").lower()
    if severity not in SEVERITY_SCORES:
        for advisory in inventory.vulnerabilities:
            if advisory.id == finding.vulnerability and advisory.severity in SEVERITY_SCORES:
                severity = advisory.severity
                break
    return SEVERITY_SCORES.get(severity, at_threshold)


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
