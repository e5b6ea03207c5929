"""Waivers: a named, reasoned, dated exception to a finding.

A waiver without a reason, or with a date that is not a date, is a policy
error (exit 2), never a silent waiver.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from governance.errors import PolicyError
from governance.frozen import frozen


@frozen
class Waiver:
    """An accepted finding, with its reason, owner and expiry."""
    id: str | None  # a rule id (PIN001) or an advisory id or alias (CVE-..., GHSA-..., PYSEC-...)
    package: str | None  # "pillow" or "pillow<9.3"; canonical name matching
    reason: str
    owner: str | None = None
    ticket: str | None = None
    expires: dt.date | None = None
    # CycloneDX's reason a component is not affected (code_not_reachable, ...): with it, the
    # advisory is declared not_affected in the SBOM and VEX; without it, accepted for now (in_triage).
    justification: str | None = None
    file: str | None = None  # the policy file that holds it
    line: int | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else str(self.file or "<policy>")

    def as_table(self) -> dict[str, Any]:
        """The waiver as TOML/JSON would write it, with the file it came from."""
        table: dict[str, Any] = {}
        for name in ("id", "package", "reason", "owner", "ticket", "expires", "justification"):
            value = getattr(self, name)
            if value is not None:
                table[name] = value
        if self.file:
            table["from"] = self.location
        return table


def parse_waiver(entry: dict[str, Any], file: str, line: int | None, key: str = "waivers") -> Waiver:
    """One [[waivers]] table, already type-checked by the schema."""
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise PolicyError("a waiver needs a reason", file=file, line=line, key=f"{key}.reason")
    if not entry.get("id") and not entry.get("package"):
        raise PolicyError("a waiver names an id, a package, or both", file=file, line=line, key=key)
    package = entry.get("package")
    if package:
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            Requirement(package)
        except InvalidRequirement:
            raise PolicyError(f"invalid package {package!r} (e.g. \"pillow\" or \"pillow<9.3\")",
                              file=file, line=line, key=f"{key}.package") from None
    expires = entry.get("expires")
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise PolicyError(f"invalid date {expires!r} (expected YYYY-MM-DD)", file=file, line=line,
                              key=f"{key}.expires") from None
    return Waiver(id=entry.get("id"), package=package, reason=reason.strip(),
                  owner=entry.get("owner"), ticket=entry.get("ticket"), expires=expires,
                  justification=entry.get("justification"), file=file, line=line)


def parse_waivers(entries: list[dict[str, Any]], file: str, text: str) -> tuple[Waiver, ...]:
    from governance.policy.positions import key_lines, line_of

    lines = key_lines(text)
    return tuple(parse_waiver(entry, file, line_of(lines, ("waivers", index)), f"waivers[{index}]")
                 for index, entry in enumerate(entries))


def days_left(waiver: Waiver, today: dt.date) -> int | None:
    """Days from today to the waiver's expiry (negative once expired); None without expiry."""
    return None if waiver.expires is None else (waiver.expires - today).days
