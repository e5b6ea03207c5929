"""What a rule family sees: the inventory, the effective policy and the clock."""

from __future__ import annotations

from datetime import datetime

from governance.frozen import frozen
from governance.model import Finding, Inventory, Level, Package, Provenance
from governance.policy.load import Policy


@frozen
class RuleContext:
    """What every rule reads: the inventory, the policy and the time of the scan."""
    inventory: Inventory
    policy: Policy
    now: datetime

    def level(self, rule_id: str) -> Level | None:
        """The rule's level under this policy and stage; None when it is off."""
        from governance.policy.catalogue import BY_ID  # the catalogue imports the rule modules

        value = self.policy.level(rule_id, BY_ID[rule_id].level)
        return None if value == "off" else Level(value)

    def enabled(self, rule_id: str) -> bool:
        return self.level(rule_id) is not None

    def finding(self, rule_id: str, message: str, package: Package | None = None,
                where: Provenance | None = None, level: Level | None = None, **extra: object) -> Finding | None:
        """A finding at the rule's configured level, or None when the rule is off."""
        configured = self.level(rule_id)
        if configured is None:
            return None
        if where is None and package is not None:
            where = declaring(package)
        return Finding(
            rule_id=rule_id, level=level or configured, message=message,
            component=package.purl if package is not None else None,
            package=package.key if package is not None else None,
            version=package.version if package is not None else None,
            file=where.file if where is not None and not where.file.startswith("<") else None,
            line=where.line if where is not None else None,
            **extra,  # type: ignore[arg-type]
        )


def declaring(package: Package) -> Provenance | None:
    """The place a fix goes: the first file that declares the package, else None."""
    for kind in ("requirements", "lockfile", "manifest"):
        for provenance in package.provenance:
            if provenance.kind == kind and provenance.applies:
                return provenance
    return None
