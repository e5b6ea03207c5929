"""SARIF 2.1.0 for GitHub code scanning (docs/reports.md#sarif).

Every rule in the catalogue is described once (id, description, help); each
finding becomes a result pinned to the requirements or lockfile line that
declared the package, so the alert sits on the line a reviewer must change.
Waived findings stay in the log as external suppressions, which is how code
scanning shows an accepted risk rather than hiding it.
"""

from __future__ import annotations

import json
from typing import Any

import posixpath
from pathlib import Path

from governance import DOCS_URL, __version__
from governance.model import Evaluation, Finding
from governance.escape import repo_uri, terminal
from governance.report.common import basis_line, family, fingerprint, rule_for, security_score

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "mlgovFindingIdentity/v1"
# Relative artifact URIs resolve against the source root (the repository's top
# level, or --source-root), which is what code scanning maps them onto: a URI
# relative to a scanned sub-folder would name a file GitHub cannot find.
SRCROOT = "%SRCROOT%"
# GitHub's upload limits (docs: "SARIF support for code scanning"): results per run;
# the log is otherwise small (one location per result, the catalogue's rules once).
MAX_RESULTS = 25_000


def _text(value: str) -> str:
    return terminal(value)


def _descriptor(rule_id: str, score: float | None) -> dict[str, Any]:
    rule = rule_for(rule_id)
    description = rule.description if rule else f"mlgov rule {rule_id}"
    help_text = rule.help if rule else "See `mlgov rules` for this rule."
    properties: dict[str, Any] = {"tags": ["supply-chain", family(rule_id)]}
    if score is not None:
        properties["tags"].append("security")
        properties["security-severity"] = f"{score:.1f}"
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {"text": help_text, "markdown": f"**{rule_id}**: {description}\n\n{help_text}"},
        "properties": properties,
    }
    if rule is not None:
        descriptor["helpUri"] = f"{DOCS_URL}/rules.md#{rule_id.lower()}"
        descriptor["defaultConfiguration"] = {"level": rule.fixed_level}
    return descriptor


def _in_repository(evaluation: Evaluation, file: str) -> str | None:
    """A project-relative file as a URI relative to the source root; None when it is not inside it.

    repo_uri keeps only a plain relative path: a file name from a pull request
    cannot become `javascript:` or `../../etc/passwd` in code scanning.
    """
    path = Path(file)
    if path.is_absolute():
        root = evaluation.source_root
        return repo_uri(path.relative_to(root).as_posix()) if root and path.is_relative_to(root) else None
    return repo_uri(posixpath.join(evaluation.project_path or "", file.replace("\\", "/")))


def _fallback_artifact(evaluation: Evaluation) -> str:
    """Where a finding that no file declares points: the first file scanned, else the project folder.

    Never a made-up line: these locations carry no region. (A host's name is
    not a file in the repository, so a host-wide finding cannot point at it.)
    """
    for source in evaluation.inventory.sources:
        uri = _in_repository(evaluation, source) if source and not source.startswith("<") else None
        if uri:
            return uri
    folder = repo_uri(evaluation.project_path) if evaluation.project_path else None
    return folder + "/" if folder else "."


def _location(finding: Finding, evaluation: Evaluation) -> dict[str, Any]:
    file_uri = _in_repository(evaluation, finding.file) if finding.file else None
    artifact: dict[str, Any] = {"uri": file_uri or _fallback_artifact(evaluation), "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if file_uri and finding.line and finding.line > 0:
        physical["region"] = {"startLine": finding.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.component or finding.package:
        location["logicalLocations"] = [{
            "name": finding.package or finding.component,
            "fullyQualifiedName": finding.component or finding.package,
            "kind": "package",
        }]
    return location


def _result(finding: Finding, index: int, evaluation: Evaluation) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key in ("component", "package", "version", "host", "vulnerability", "severity", "fix"):
        value = getattr(finding, key)
        if value is not None:
            properties[key] = _text(value)
    if finding.aliases:
        properties["aliases"] = [_text(a) for a in finding.aliases]
    if finding.hosts:
        properties["hosts"] = [_text(h) for h in finding.hosts]
    score = security_score(finding, evaluation.inventory, evaluation.vulnerability_threshold)
    if score is not None:
        properties["security-severity"] = f"{score:.1f}"
    message = _text(finding.message)
    if finding.fix and finding.fix not in message:
        message += f" Fix: {_text(finding.fix)}."
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": finding.level.value,
        "message": {"text": message},
        "locations": [_location(finding, evaluation)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
    }
    if finding.baseline is not None:
        result["baselineState"] = "new" if finding.baseline == "new" else "unchanged"
    if properties:
        result["properties"] = properties
    if finding.waived:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted",
                                       "justification": _text(finding.waiver_reason or "waived by policy")}
        extra = {k: _text(v) for k, v in (("owner", finding.waiver_owner), ("ticket", finding.waiver_ticket),
                                          ("expires", finding.waiver_expires)) if v}
        if extra:
            suppression["properties"] = extra
        result["suppressions"] = [suppression]
    return result


def report_dict(evaluation: Evaluation) -> dict[str, Any]:
    from governance.policy.catalogue import RULES

    # The whole catalogue, then any id it lacks, so ruleIndex is stable for a release.
    rule_ids = [rule.id for rule in RULES]
    rule_ids += sorted({f.rule_id for f in evaluation.findings} - set(rule_ids))
    worst: dict[str, float] = {}
    for finding in evaluation.findings:
        score = security_score(finding, evaluation.inventory, evaluation.vulnerability_threshold)
        if score is not None:
            worst[finding.rule_id] = max(score, worst.get(finding.rule_id, 0.0))
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    inventory = evaluation.inventory
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "mlgov",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_descriptor(rule_id, worst.get(rule_id)) for rule_id in rule_ids],
        }},
        "originalUriBaseIds": {SRCROOT: _source_root(evaluation)},
        # One category per project folder: scans of several folders of a monorepo
        # are separate analyses, and one upload does not close the other's alerts.
        "automationDetails": {"id": f"mlgov/{evaluation.project_path or '.'}/"},
        "invocations": [{"executionSuccessful": True, "endTimeUtc": _utc(evaluation.generated_at)}],
        "results": [_result(f, index[f.rule_id], evaluation) for f in evaluation.findings[:MAX_RESULTS]],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "verdict": evaluation.verdict,
            "project": _text(inventory.project.name),
            "policy": _text(evaluation.policy_name),
            "policyDigest": evaluation.policy_digest,
            "stage": _text(evaluation.stage),
            "sbomDigest": evaluation.sbom_digest,
            "hosts": [_text(h.name) for h in inventory.hosts],
            "basis": _text(basis_line(evaluation)),
        },
    }
    if len(evaluation.findings) > MAX_RESULTS:  # errors come first, so what is left out is the least severe
        run["properties"]["resultsOmitted"] = len(evaluation.findings) - MAX_RESULTS
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _source_root(evaluation: Evaluation) -> dict[str, Any]:
    base: dict[str, Any] = {"description": {"text": "The repository's top level (or --source-root); "
                                                    "every location is relative to it."}}
    if evaluation.source_root:
        base["uri"] = Path(evaluation.source_root).as_uri().rstrip("/") + "/"
    return base


def _utc(stamp: str) -> str:
    """SARIF wants RFC 3339 date-times; the evaluation's is ISO 8601 with an offset."""
    return stamp.replace("+00:00", "Z")


def render(evaluation: Evaluation) -> str:
    from governance.escape import json_text

    return json_text(json.dumps(report_dict(evaluation), indent=2, ensure_ascii=False)) + "\n"
