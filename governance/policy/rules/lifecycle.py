"""EOL001: nothing the project runs on is past its end of life.

The dates are knowledge (governance/knowledge/lifecycle.toml, each with its
source): NVIDIA driver branches (the hosts' drivers) and Python versions (a
locked `python` package, or the scan's target). The clock is the evaluation's
`now`, so a verdict can be reproduced for a given day. Off by default outside
the stages that ask for it (the shipped production policy makes it an error).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from governance import knowledge
from governance.model import Finding
from governance.policy.context import RuleContext
from governance.policy.rule import NOT_JUDGED, Rule

RULES = (
    Rule("EOL001", "lifecycle", "note",
         "An NVIDIA driver branch or Python version the project runs on is past its end of life.",
         "Move the hosts to a supported driver branch (R580 LTS or newer) and the project to a supported Python; "
         "the dates and their sources are in mlgov's lifecycle table (docs/knowledge.md)."),
    Rule("COV011", "lifecycle", NOT_JUDGED,
         "EOL001 could not judge a host's NVIDIA driver branch or the project's Python: mlgov's lifecycle table "
         "has no row for it (a branch NVIDIA gives no date, a Python newer than the table).",
         "Check the branch or Python against its vendor's lifecycle page (NVIDIA's data-center driver table, "
         "devguide.python.org/versions) and waive COV011 for it with the date found, or update mlgov. Reported "
         "only where EOL001 is on."),
)


def _ended(eol: knowledge.EndOfLife) -> str:
    return "is listed as end of life" if eol.eol == "listed" else f"reached end of life in {eol.eol}"


class _Sources:
    """knowledge.sources() (three knowledge files parsed), read only when a finding cites one."""

    def get(self, key: str, default: str) -> str:
        return knowledge.sources().get(key, default)


def _unknown(ctx: RuleContext, what: str, **where: object) -> Finding | None:
    """COV011: EOL001 asked, and the lifecycle table cannot answer; said, never passed."""
    if not ctx.enabled("EOL001"):
        return None
    return ctx.finding(
        "COV011",
        f"{what}, which mlgov's lifecycle table does not list: whether it is past its end of life was not "
        f"judged (EOL001). To fix: check it against its vendor's lifecycle page and waive COV011 with the date "
        f"found, move to a listed one, or update mlgov.",
        fix="check its end of life by hand, or update mlgov", **where)  # type: ignore[arg-type]


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    today = ctx.now.date().isoformat()
    sources = _Sources()
    for host in ctx.inventory.hosts:
        if not host.driver_version:
            continue
        eol = knowledge.driver_branch_eol(host.driver_version)
        if eol is None:
            yield _unknown(ctx, f"host {host.name!r} runs driver {host.driver_version}, of branch "
                           f"R{knowledge.driver_tuple(host.driver_version)[0]}", host=host.name)
        elif eol.ended(today):
            yield ctx.finding(
                "EOL001",
                f"host {host.name!r} runs driver {host.driver_version}: {eol.what} {_ended(eol)} "
                f"({sources.get(eol.source, eol.source)}); it gets no security fixes. To fix: move the host to a "
                f"supported branch (R580 LTS or newer).",
                host=host.name, fix="install a driver of a supported branch")
    seen: set[str] = set()
    for package in ctx.inventory.packages:
        if package.key != "python" or package.ecosystem != "conda" or not package.version:
            continue
        if not any(p.applies for p in package.provenance) and package.provenance:
            continue
        eol = knowledge.python_eol(package.version)
        if eol is None and "python" not in seen:
            seen.add("python")
            yield _unknown(ctx, f"the project runs python {package.version}", package=package)
        elif eol is not None and eol.ended(today) and eol.what not in seen:
            seen.add(eol.what)
            yield ctx.finding(
                "EOL001",
                f"{eol.what} (python {package.version}) {_ended(eol)} ({sources.get(eol.source, eol.source)}). "
                f"To fix: move the environment to a supported Python.",
                package=package, fix="use a supported Python")
    match = re.search(r"/py(\d+\.\d+)", ctx.inventory.target or "")
    if match:
        eol = knowledge.python_eol(match.group(1))
        if eol is None and "python" not in seen:
            yield _unknown(ctx, f"the scan's target {ctx.inventory.target} is Python {match.group(1)}")
        elif eol is not None and eol.ended(today) and eol.what not in seen:
            yield ctx.finding(
                "EOL001",
                f"the scan's target {ctx.inventory.target} is {eol.what}, which {_ended(eol)} "
                f"({sources.get(eol.source, eol.source)}). To fix: target a supported Python.",
                fix="use a supported Python")
