"""Severity of an advisory: a CVSS base score when the advisory carries a vector.

The score comes from the `cvss` library (v2, v3.x and v4 calculators); the
level follows the CVSS v3 qualitative scale. When no vector can be scored,
`database_specific.severity` (GitHub's CRITICAL / HIGH / MODERATE / LOW) is
the fallback, and "unknown" is what is left.
"""

from __future__ import annotations

from typing import Any

LEVELS = ("unknown", "low", "medium", "high", "critical")  # ascending
RANK = {level: rank for rank, level in enumerate(LEVELS)}
_DATABASE_LEVELS = {"critical": "critical", "high": "high", "moderate": "medium", "medium": "medium",
                    "low": "low"}
# Newest scheme first: when an advisory states both, v4 is the one its authors updated last.
_PREFERENCE = ("CVSS_V4", "CVSS_V3", "CVSS_V2")
MAX_VECTOR = 256


def level_of(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"  # CVSS calls 0.0 "none"; an advisory that exists is at least low for a gate


def cvss_score(kind: str, vector: str) -> float | None:
    """The base score of one vector, or None when the vector does not parse."""
    try:
        if kind == "CVSS_V4":
            from cvss import CVSS4

            return float(CVSS4(vector).base_score)
        if kind == "CVSS_V3":
            from cvss import CVSS3

            return float(CVSS3(vector).scores()[0])
        if kind == "CVSS_V2":
            from cvss import CVSS2

            return float(CVSS2(vector).scores()[0])
    except Exception:  # noqa: BLE001 - the library raises several error types for bad vectors
        return None
    return None


def rate(advisory: dict[str, Any]) -> tuple[str, float | None, str | None]:
    """(level, score, vector) of one OSV advisory."""
    entries = advisory.get("severity")
    if isinstance(entries, list):
        usable = [(e.get("type"), e.get("score")) for e in entries if isinstance(e, dict)]
        for wanted in _PREFERENCE:
            for kind, vector in usable:
                if kind == wanted and isinstance(vector, str) and len(vector) <= MAX_VECTOR:
                    score = cvss_score(kind, vector)
                    if score is not None:
                        return level_of(score), score, vector
    specific = advisory.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        level = _DATABASE_LEVELS.get(specific["severity"].strip().lower())
        if level:
            return level, None, None
    return "unknown", None, None
