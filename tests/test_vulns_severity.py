from __future__ import annotations

import pytest

from governance.vulns.severity import level_of, rate

V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"  # 5.4
V30_HIGH = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
V4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
V2_MEDIUM = "AV:N/AC:M/Au:N/C:P/I:N/A:N"  # 4.3


@pytest.mark.parametrize(("severity", "expected"), [
    ([{"type": "CVSS_V3", "score": V31_CRITICAL}], ("critical", 9.8, V31_CRITICAL)),
    ([{"type": "CVSS_V3", "score": V31_MEDIUM}], ("medium", 5.4, V31_MEDIUM)),
    ([{"type": "CVSS_V3", "score": V30_HIGH}], ("high", 7.5, V30_HIGH)),
    ([{"type": "CVSS_V4", "score": V4_CRITICAL}], ("critical", 9.3, V4_CRITICAL)),
    ([{"type": "CVSS_V2", "score": V2_MEDIUM}], ("medium", 4.3, V2_MEDIUM)),
    # v4 is preferred over v3 when both are given, whatever their order
    ([{"type": "CVSS_V3", "score": V31_MEDIUM}, {"type": "CVSS_V4", "score": V4_CRITICAL}],
     ("critical", 9.3, V4_CRITICAL)),
    # a vector that does not parse is skipped for the next one
    ([{"type": "CVSS_V4", "score": "CVSS:4.0/garbage"}, {"type": "CVSS_V3", "score": V30_HIGH}],
     ("high", 7.5, V30_HIGH)),
])
def test_cvss_vectors(severity, expected) -> None:
    assert rate({"severity": severity}) == expected


@pytest.mark.parametrize(("label", "level"), [("CRITICAL", "critical"), ("HIGH", "high"), ("MODERATE", "medium"),
                                              ("low", "low"), ("whatever", "unknown")])
def test_database_specific_fallback(label: str, level: str) -> None:
    advisory = {"severity": [{"type": "CVSS_V3", "score": "nonsense"}], "database_specific": {"severity": label}}
    assert rate(advisory) == (level, None, None)


@pytest.mark.parametrize("advisory", [{}, {"severity": "x"}, {"severity": [None, 3]}, {"database_specific": []}])
def test_unknown(advisory) -> None:
    assert rate(advisory) == ("unknown", None, None)


@pytest.mark.parametrize(("score", "level"), [(10.0, "critical"), (9.0, "critical"), (8.9, "high"), (7.0, "high"),
                                              (6.9, "medium"), (4.0, "medium"), (3.9, "low"), (0.0, "low")])
def test_qualitative_scale(score: float, level: str) -> None:
    assert level_of(score) == level
