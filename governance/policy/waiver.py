"""Waivers: a named, reasoned, dated exception to a finding.

A waiver without a reason, or with a date that is not a date, is a policy
error (exit 2), never a silent waiver.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from governance.errors import PolicyError


@dataclass(frozen=True)
class Waiver:
    id: str | None  # a rule id (PIN001) or an advisory id or alias (CVE-..., GHSA-..., PYSEC-...)
    package: str | None  # "pillow" or "pillow<9.3"; canonical name matching
    reason: str
    owner: str | None = None
    ticket: str | None = None
    expires: dt.date | None = None
    file: str | None = None  # the policy file that holds it
    line: int | None = None


def _line(text: str, index: int) -> int | None:
    count = -1
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*\[\[\s*waivers\s*\]\]", line):
            count += 1
            if count == index:
                return number
    return None


def parse_waivers(entries: list[dict[str, Any]], file: str, text: str) -> tuple[Waiver, ...]:
    waivers = []
    for index, entry in enumerate(entries):
        line = _line(text, index)
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise PolicyError("a waiver needs a reason", file=file, line=line, key=f"waivers[{index}].reason")
        if not entry.get("id") and not entry.get("package"):
            raise PolicyError("a waiver names an id, a package, or both", file=file, line=line,
                              key=f"waivers[{index}]")
        package = entry.get("package")
        if package:
            from packaging.requirements import InvalidRequirement, Requirement

            try:
                Requirement(package)
            except InvalidRequirement:
                raise PolicyError(f"invalid package {package!r} (e.g. \"pillow\" or \"pillow<9.3\")",
                                  file=file, line=line, key=f"waivers[{index}].package") from None
        expires = entry.get("expires")
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise PolicyError(f"invalid date {expires!r} (expected YYYY-MM-DD)", file=file, line=line,
                                  key=f"waivers[{index}].expires") from None
        waivers.append(Waiver(id=entry.get("id"), package=package, reason=reason.strip(),
                              owner=entry.get("owner"), ticket=entry.get("ticket"), expires=expires,
                              file=file, line=line))
    return tuple(waivers)
