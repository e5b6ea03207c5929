"""The JSON report (DESIGN.md's contract; docs/report-json.md documents every field).

report.schema.json beside this module is the machine-readable form of that
document; the tests validate every rendered report against it.
"""

from __future__ import annotations

from typing import Any

from governance import __version__
from governance.model import Evaluation, Finding, GpuStack
from governance.report.common import counts, vulnerability_database


def finding_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule_id": finding.rule_id, "level": finding.level.value, "message": finding.message,
        "component": finding.component, "waived": finding.waived,
        "package": finding.package, "version": finding.version,
        "file": finding.file, "line": finding.line,
        "fingerprint": finding.fingerprint,
    }
    for key in ("host", "vulnerability", "severity", "fix"):
        value = getattr(finding, key)
        if value is not None:
            data[key] = value
    if finding.hosts:
        data["hosts"] = list(finding.hosts)
    if finding.aliases:
        data["aliases"] = list(finding.aliases)
    if finding.baseline is not None:
        data["baseline"] = finding.baseline
    if finding.waived:
        data["waiver"] = {"reason": finding.waiver_reason, "owner": finding.waiver_owner,
                          "expires": finding.waiver_expires}
        if finding.waiver_ticket:
            data["waiver"]["ticket"] = finding.waiver_ticket
    return data


def host_dict(host: GpuStack) -> dict[str, Any]:
    def copy(library: Any) -> dict[str, Any]:
        return {"version": library.version, "origin": library.origin, "path": library.path,
                "detected_by": library.detected_by}

    return {
        "name": host.name, "driver_version": host.driver_version,
        "cuda_driver_version": host.cuda_driver_version, "nvml_version": host.nvml_version,
        "no_driver_reason": host.no_driver_reason,
        "gpus": [{"index": g.index, "name": g.name, "uuid": g.uuid, "compute_capability": g.compute_capability,
                  "memory_total_bytes": g.memory_total_bytes, "mig_mode": g.mig_mode, "ecc_mode": g.ecc_mode}
                 for g in host.gpus],
        "cuda_runtimes": [copy(c) for c in host.cuda_runtimes],
        "cudnn": [copy(c) for c in host.cudnn],
    }


def baseline_dict(evaluation: Evaluation) -> dict[str, Any] | None:
    comparison = evaluation.baseline
    if comparison is None:
        return None
    return {"file": comparison.file,
            "new": sum(1 for f in evaluation.findings if f.baseline == "new"),
            "existing": sum(1 for f in evaluation.findings if f.baseline == "existing"),
            "fixed": [{"rule_id": f.rule_id, "level": f.level, "message": f.message, "package": f.package,
                       "file": f.file, "line": f.line, "waived": f.waived, "fingerprint": f.fingerprint}
                      for f in comparison.fixed]}


def _database(inventory: Any) -> dict[str, Any] | None:
    database = vulnerability_database(inventory)
    if database is None:
        return None
    return {"source": database.source, "digest": database.digest, "advisories": database.advisories,
            "newest_modified": database.newest_modified}


def _knowledge() -> dict[str, Any]:
    from governance.knowledge.summary import summary

    knowledge = summary()
    return {"version": knowledge.version, "newest_entries": dict(knowledge.newest_entries)}


def report_dict(evaluation: Evaluation) -> dict[str, Any]:
    inventory = evaluation.inventory
    data: dict[str, Any] = {
        "format": "mlgov-report", "version": 1,
        "verdict": evaluation.verdict,
        "tool": {"name": "mlgov", "version": __version__},
        "generated_at": evaluation.generated_at,
        "project": {"name": inventory.project.name, "version": inventory.project.version},
        "policy": {"name": evaluation.policy_name, "digest": evaluation.policy_digest,
                   "stage": evaluation.stage},
        "sbom_digest": evaluation.sbom_digest,
        "vulnerability_database": _database(inventory),
        "knowledge": _knowledge(),
        "sources": list(inventory.sources),
        # A stale lock's missing requirement (DRIFT004) was read: its finding and note say it.
        "not_read": [{"file": u.file, "reason": u.reason, "fix": u.fix} for u in inventory.unread
                     if u.rule != "DRIFT004"],
        "hosts": [host_dict(h) for h in inventory.hosts],
        "notes": list(inventory.notes),
        "summary": {**counts(evaluation), "components": len(inventory.packages)},
        "findings": [finding_dict(f) for f in evaluation.findings],
    }
    baseline = baseline_dict(evaluation)
    if baseline is not None:
        data["baseline"] = baseline
    return data


def render(evaluation: Evaluation) -> str:
    from governance.escape import json_document

    # One line per top-level key and per host and finding (escape.json_document).
    return json_document(report_dict(evaluation))
