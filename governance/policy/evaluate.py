"""evaluate(inventory, policy, now) -> Evaluation. Pure: no disk, no network.

The clock is passed in so that waiver expiry is testable and a re-run of
`mlgov check` on an old SBOM can be judged as of a chosen day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from governance import fleet
from governance.model import Evaluation, Finding, Inventory
from governance.policy.context import RuleContext
from governance.policy.load import Policy
from governance.policy.rules import families
from governance.policy.rules.vulns import DEFAULT_THRESHOLD
from governance.policy.waivers import apply as apply_waivers


def evaluate(inventory: Inventory, policy: Policy, now: datetime, sbom_digest: str | None = None) -> Evaluation:
    # A fleet is judged per distinct stack: a thousand identical nodes are one
    # judgement, whose findings name every node (fleet.py).
    groups = fleet.group(inventory.hosts)
    judged_inventory = inventory if len(groups) == len(inventory.hosts) else \
        replace(inventory, hosts=tuple(g.stack for g in groups))
    ctx = RuleContext(inventory=judged_inventory, policy=policy, now=now)
    findings: list[Finding] = []
    for family in families():
        findings.extend(f for f in family.check(ctx) if f is not None)
    findings = fleet.name_every_host(findings, groups)
    # One finding per (rule, place, message): two files can agree on a problem
    # but one requirement line should not be reported twice.
    unique = {(f.rule_id, f.component, f.file, f.line, f.host, f.vulnerability, f.message): f for f in findings}
    judged = apply_waivers(ctx, unique.values())  # waived findings stay, marked; expired waivers are findings
    ordered = tuple(sorted(judged, key=Finding.sort_key))
    return Evaluation(findings=ordered, policy_name=policy.name, policy_digest=policy.digest,
                      stage=policy.stage, inventory=inventory, generated_at=now.isoformat(),
                      sbom_digest=sbom_digest,
                      vulnerability_threshold=str(policy.get("vulnerabilities", "fail_on", DEFAULT_THRESHOLD)))
