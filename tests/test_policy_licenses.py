"""Licence expressions judged against allow / deny / review lists."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from governance.model import Inventory, Package, Project, Provenance
from governance.policy.evaluate import evaluate
from governance.policy.load import Policy
from governance.policy.rules.licenses import Lists, Verdict, judge

LISTS = Lists({"allow": ["MIT", "Apache-2.0", "BSD-*"], "deny": ["GPL-*", "AGPL-*"], "review": ["LGPL-*"]})


@pytest.mark.parametrize(("expression", "verdict"), [
    ("MIT", Verdict.ALLOWED),
    ("mit", Verdict.ALLOWED),
    ("MIT OR GPL-3.0-only", Verdict.ALLOWED),
    ("MIT AND GPL-3.0-only", Verdict.DENIED),
    ("GPL-3.0-only", Verdict.DENIED),
    ("GPL-2.0", Verdict.DENIED),  # deprecated id, normalised to GPL-2.0-only
    ("(MIT OR GPL-3.0-only) AND LGPL-2.1-or-later", Verdict.REVIEW),
    ("BSD-3-Clause AND Apache-2.0", Verdict.ALLOWED),
    ("ISC", Verdict.REVIEW),  # SPDX, but not on the allow list
    ("Apache-2.0 WITH LLVM-exception", Verdict.ALLOWED),
    ("LicenseRef-Proprietary", Verdict.REVIEW),
    ("Frobnicate-1.0", Verdict.UNKNOWN),
    ("Frobnicate-1.0 OR MIT", Verdict.ALLOWED),
    ("Frobnicate-1.0 AND GPL-3.0-only", Verdict.DENIED),
    ("MIT AND (", Verdict.UNKNOWN),
    (None, Verdict.UNKNOWN),
    ("", Verdict.UNKNOWN),
])
def test_judge(expression: str | None, verdict: Verdict) -> None:
    assert judge(expression, LISTS)[0] is verdict


def test_without_allow_list_unlisted_spdx_is_fine() -> None:
    lists = Lists({"deny": ["GPL-*"]})
    assert judge("ISC", lists)[0] is Verdict.ALLOWED
    assert judge("LGPL-3.0-only", lists)[0] is Verdict.ALLOWED  # "GPL-*" does not match LGPL
    assert judge("GPL-2.0-only WITH Classpath-exception-2.0", lists)[0] is Verdict.DENIED
    exact = Lists({"deny": ["GPL-*"], "allow": ["GPL-2.0-only WITH Classpath-exception-2.0"]})
    assert judge("GPL-2.0-only WITH Classpath-exception-2.0", exact)[0] is Verdict.DENIED  # deny beats allow


def _policy(settings: dict) -> Policy:
    return Policy(name="t", source="t.toml", digest="0", stage="default", settings=settings)


def _installed(name: str, expression: str | None, text: str | None = None) -> Package:
    return Package(name=name, version="1.0", license_expression=expression, license_text=text,
                   provenance=(Provenance(file="<environment>", kind="environment"),))


def test_rules_and_levels() -> None:
    inventory = Inventory(project=Project("p"), packages=(
        _installed("ok", "MIT"), _installed("gpl", "GPL-3.0-or-later"), _installed("lgpl", "LGPL-3.0-only"),
        _installed("none", None), _installed("classifier", None, "License :: OSI Approved :: MIT License"),
        Package(name="declared", version="1.0", provenance=(Provenance(file="requirements.txt",
                                                                       kind="requirements", specifier="==1.0"),)),
    ))
    settings = {"licenses": {"allow": ["MIT"], "deny": ["GPL-*"], "review": ["LGPL-*"]},
                "pins": {"require_exact": False}}
    findings = evaluate(inventory, _policy(settings), datetime.now(timezone.utc)).findings
    got = {(f.rule_id, f.package, f.level.value) for f in findings}
    assert got == {("LIC001", "gpl", "error"), ("LIC002", "lgpl", "warning"), ("LIC003", "none", "warning"),
                   ("COV001", None, "warning")}
    assert "declared" in next(f.message for f in findings if f.rule_id == "COV001")


def test_no_licenses_table_no_licence_findings() -> None:
    inventory = Inventory(project=Project("p"), packages=(_installed("gpl", "GPL-3.0-only"),))
    findings = evaluate(inventory, _policy({}), datetime.now(timezone.utc)).findings
    assert [f for f in findings if f.rule_id.startswith("LIC")] == []


def test_three_hundred_packages_are_fast() -> None:
    expressions = ["MIT", "Apache-2.0", "BSD-3-Clause", "MIT OR Apache-2.0", "GPL-3.0-only", None,
                   "LGPL-2.1-or-later", "Apache-2.0 WITH LLVM-exception", "PSF-2.0", "ISC"]
    inventory = Inventory(project=Project("p"), packages=tuple(
        _installed(f"pkg{i}", expressions[i % len(expressions)]) for i in range(300)))
    policy = _policy({"licenses": {"allow": ["MIT", "Apache-2.0", "BSD-*"], "deny": ["GPL-*"]}})
    start = time.perf_counter()
    evaluate(inventory, policy, datetime.now(timezone.utc))
    assert time.perf_counter() - start < 0.5
