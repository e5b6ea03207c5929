"""Small facts every renderer shows the same way."""

from __future__ import annotations

from collections import Counter

from governance.model import Evaluation, Finding


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
