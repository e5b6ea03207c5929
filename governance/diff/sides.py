"""The two sides of `mlgov diff`: an SBOM file (any tool's), or a project folder scanned now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from governance.diff.compare import Side
from governance.errors import InputError

MAX_REPORT_BYTES = 64 * 1024 * 1024


def _folder_document(folder: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    """Scan the folder as `mlgov sbom` would (no live host probe: a diff must not
    depend on the machine it runs on) and return the SBOM's JSON form."""
    from governance.collect import ScanOptions, collect
    from governance.pipeline import SbomRequest, make_sbom

    inventory = collect(ScanOptions(project=folder), progress)
    text = make_sbom(inventory, SbomRequest(fmt="json", reproducible=True), progress)
    document: dict[str, Any] = json.loads(text)
    return document


def load_side(path: Path, report: Path | None = None,
              progress: Callable[[str], None] = lambda _: None) -> Side:
    from governance.diff.compare import check_shape
    from governance.inputs import read_input, reading
    from governance.sbom.read import MAX_SBOM_BYTES, parse_document

    if path.is_dir():
        progress(f"scanning {path}")
        document = _folder_document(path, progress)
    else:
        if not path.exists():
            raise InputError("no such SBOM file or project folder", file=path)
        with reading(path, "SBOM"):
            document = parse_document(read_input(path, "SBOM", MAX_SBOM_BYTES), str(path))
            try:
                check_shape(document)
            except (TypeError, ValueError, AttributeError) as exc:
                raise InputError(f"cannot compare this SBOM: {exc}", file=path) from None
    findings = _report_findings(report) if report is not None else None
    component = (document.get("metadata") or {}).get("component") or {}
    return Side(label=str(path), document=document, findings=findings,
                name=component.get("name") if isinstance(component.get("name"), str) else None,
                version=component.get("version") if isinstance(component.get("version"), str) else None)


def _report_findings(path: Path) -> tuple[dict[str, Any], ...]:
    from governance.inputs import parse_json, read_input, refuse_lone_surrogates

    text = read_input(path, "JSON report", MAX_REPORT_BYTES)
    refuse_lone_surrogates(text, path)
    data = parse_json(text, path)
    if not isinstance(data, dict) or data.get("format") != "mlgov-report" or \
            not isinstance(data.get("findings"), list):
        raise InputError("not an mlgov JSON report (`mlgov scan --report r.json` writes one)", file=path)
    findings = data["findings"]
    for number, finding in enumerate(findings):
        if not isinstance(finding, dict) or not isinstance(finding.get("rule_id"), str):
            raise InputError(f"findings[{number}] is not a finding with a rule_id", file=path)
    return tuple(findings)


__all__ = ["load_side"]
