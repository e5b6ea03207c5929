"""The JSON report (DESIGN.md's contract; docs/report-json.md documents every field)."""

from __future__ import annotations

import json
from typing import Any

from governance import __version__
from governance.model import Evaluation, Finding
from governance.report.common import counts


def finding_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule_id": finding.rule_id, "level": finding.level.value, "message": finding.message,
        "component": finding.component, "waived": finding.waived,
        "package": finding.package, "version": finding.version,
        "file": finding.file, "line": finding.line,
    }
    for key in ("host", "vulnerability", "severity", "fix"):
        value = getattr(finding, key)
        if value is not None:
            data[key] = value
    if finding.aliases:
        data["aliases"] = list(finding.aliases)
    if finding.waived:
        data["waiver"] = {"reason": finding.waiver_reason, "owner": finding.waiver_owner,
                          "expires": finding.waiver_expires}
    return data


def report_dict(evaluation: Evaluation) -> dict[str, Any]:
    inventory = evaluation.inventory
    return {
        "format": "mlgov-report", "version": 1,
        "verdict": evaluation.verdict,
        "tool": {"name": "mlgov", "version": __version__},
        "generated_at": evaluation.generated_at,
        "project": {"name": inventory.project.name, "version": inventory.project.version},
        "policy": {"name": evaluation.policy_name, "digest": evaluation.policy_digest,
                   "stage": evaluation.stage},
        "sbom_digest": evaluation.sbom_digest,
        "sources": list(inventory.sources),
        "notes": list(inventory.notes),
        "summary": {**counts(evaluation), "components": len(inventory.packages)},
        "findings": [finding_dict(f) for f in evaluation.findings],
    }


def render(evaluation: Evaluation) -> str:
    return json.dumps(report_dict(evaluation), indent=2, ensure_ascii=False) + "\n"
