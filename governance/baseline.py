"""PR mode: compare an evaluation with the target branch's JSON report (`--baseline`).

A pull request should be blocked by the problems it brings, not by the ones
its target branch already has. Findings are matched by Finding.fingerprint,
the same identity SARIF's partialFingerprints carry, so a finding survives a
line move or a version bump and is still "existing". A finding the baseline
lacks is "new"; a baseline finding this scan lacks is listed as fixed.

Reading the report is strict like every other input: a file that is not an
mlgov JSON report is exit 2 with the file and line, never a silent "nothing
to compare with" (which would block every old problem, or hide every new one).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.inputs import raise_huge_number, read_input
from governance.model import BaselineComparison, Evaluation, FixedFinding, finding_fingerprint

MAX_BASELINE_BYTES = 256 * 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _optional_str(entry: dict[str, Any], key: str, shown: str, index: int) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"findings[{index}].{key} is {type(value).__name__}, expected a string or null", file=shown)
    return value


def read_baseline(path: Path) -> tuple[FixedFinding, ...]:
    """The findings of a JSON report as FixedFinding records (each with its fingerprint)."""
    shown = str(path)
    text = read_input(path, "baseline report", MAX_BASELINE_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (column {exc.colno}); --baseline takes a report written by "
                         "`mlgov scan --report X.json`", file=shown, line=exc.lineno) from None
    except ValueError:
        raise_huge_number(text, shown)
        raise
    except RecursionError:
        raise InputError("not JSON mlgov can read: arrays or objects nested too deeply; --baseline takes a report "
                         "written by `mlgov scan --report X.json`", file=shown) from None
    if not isinstance(data, dict) or data.get("format") != "mlgov-report":
        raise InputError("not an mlgov JSON report (no \"format\": \"mlgov-report\"); write one on the "
                         "target branch with `mlgov scan --report mlgov.json`", file=shown)
    if data.get("version") != 1:
        raise InputError(f"report version {data.get('version')!r} is not supported (this mlgov reads version 1)",
                         file=shown)
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise InputError("\"findings\" is missing or not a list", file=shown)
    records = []
    for index, entry in enumerate(findings):
        if not isinstance(entry, dict) or not isinstance(entry.get("rule_id"), str):
            raise InputError(f"findings[{index}] is not a finding (no rule_id)", file=shown)
        package, file, host, vulnerability = (_optional_str(entry, key, shown, index)
                                              for key in ("package", "file", "host", "vulnerability"))
        stored = entry.get("fingerprint")
        # Reports from before fingerprints were written carry every part of one.
        fingerprint = stored if isinstance(stored, str) and _HEX64.match(stored) else \
            finding_fingerprint(entry["rule_id"], package, file, host, vulnerability)
        line = entry.get("line")
        records.append(FixedFinding(
            rule_id=entry["rule_id"], level=str(entry.get("level", "")), message=str(entry.get("message", "")),
            fingerprint=fingerprint, package=package, file=file,
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            waived=entry.get("waived") is True))
    return tuple(records)


def compare(evaluation: Evaluation, baseline: tuple[FixedFinding, ...], file: str) -> Evaluation:
    """The evaluation with each finding marked new or existing, and the baseline's fixed findings listed."""
    known = {record.fingerprint for record in baseline}
    findings = tuple(replace(f, baseline="existing" if f.fingerprint in known else "new")
                     for f in evaluation.findings)
    present = {f.fingerprint for f in evaluation.findings}
    fixed: dict[str, FixedFinding] = {}
    for record in baseline:
        if record.fingerprint not in present:
            fixed.setdefault(record.fingerprint, record)
    return replace(evaluation, findings=findings,
                   baseline=BaselineComparison(file=file, fixed=tuple(fixed.values())))
