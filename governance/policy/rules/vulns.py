"""VULN001: a known vulnerability affects a package version.

The advisories come from the scan's vulnerability sources (`--vuln-db`,
`--vuln-service`) or from the SBOM being checked; this rule only judges them.
`[vulnerabilities] fail_on` sets the threshold (default "high"): at or above
it the finding has the rule's level (an error unless `[rules]` says otherwise),
below it a warning, so it is seen but does not fail the gate. An advisory
with no rating ("unknown") is at the threshold whatever it is, because an
unrated flaw cannot be assumed to be a minor one; only `fail_on = "none"`
lets every advisory through as a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Finding, Level, Package, Vulnerability
from governance.policy.context import RuleContext
from governance.policy.rule import NOT_JUDGED, Rule

RULES = (
    Rule("VULN001", "vulnerabilities", "error",
         "A package version has a known vulnerability at or above the policy's severity threshold.",
         "Upgrade to the fixed version the finding names; when there is none, remove the package or add a "
         "dated [[waivers]] entry with the advisory id and a reason."),
    Rule("VULN002", "vulnerabilities", NOT_JUDGED,
         "The policy sets a vulnerability threshold (`fail_on`), but no advisory database or service was used: "
         "vulnerabilities were not checked.",
         "Run `mlgov db update` once (scan and check then use the cached database, offline), or pass "
         "`--vuln-db PATH` (an OSV all.zip) or `--vuln-service osv`. A stage that does not want the check "
         "says so with `fail_on = \"none\"`."),
    Rule("COV013", "vulnerabilities", NOT_JUDGED,
         "Advisories were matched, but some packages could not be: a conda or other non-PyPI package (the "
         "advisory databases are PyPI's), a package without an exact version, or a version that is not PEP 440.",
         "Pin each package to one version (a lockfile, `==X.Y.Z`) or scan the installed environment; for conda "
         "packages, check them with a tool that knows conda's advisories, then waive COV013 with a reason."),
)

DEFAULT_THRESHOLD = "high"
_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def at_or_above(severity: str, threshold: str) -> bool:
    if threshold == "none":
        return False
    if severity not in _RANK or threshold == "unknown":
        return True
    return _RANK[severity] >= _RANK.get(threshold, 0)


def _package(by_key: dict[str, list[Package]], vulnerability: Vulnerability) -> Package | None:
    candidates = by_key.get(vulnerability.package, [])
    exact = [p for p in candidates if p.version == vulnerability.version]
    if exact:
        return exact[0]
    return candidates[0] if candidates else None


def message(vulnerability: Vulnerability, name: str) -> tuple[str, str]:
    """(message, fix) for one advisory."""
    ids = vulnerability.id + (f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else "")
    rating = vulnerability.severity + (f" {vulnerability.score:.1f}" if vulnerability.score is not None else "")
    if vulnerability.fixed_versions:
        fix = f"upgrade {name} to {vulnerability.fixed_versions[0]}"
    else:
        fix = f"no fixed version is published: remove {name} or waive {vulnerability.id}"
    summary = f": {vulnerability.summary.rstrip('. ')}" if vulnerability.summary else ""
    return f"{name} {vulnerability.version}: {ids}, severity {rating}{summary}; {fix}", fix


def _not_checked(ctx: RuleContext) -> Finding | None:
    """VULN002: the policy asks for a vulnerability gate and nothing was matched against any advisory."""
    asked = ctx.policy.get("vulnerabilities", "fail_on")
    if asked is None or asked == "none" or not ctx.inventory.packages:
        return None
    # Advisories in the input (an SBOM's vulnerabilities[], from mlgov or another tool) were matched by
    # someone; only an input nothing was ever matched for is "not checked".
    if ctx.inventory.advisory_sources or ctx.inventory.vulnerabilities:
        return None
    if not ctx.enabled("VULN001"):
        return None
    fix = "run `mlgov db update` (scan and check then use it offline), or pass --vuln-db PATH or --vuln-service osv"
    return ctx.finding(
        "VULN002",
        f"vulnerabilities were not checked: the policy fails on {asked} advisories, but no advisory database "
        f"or service was used (no --vuln-db, no --vuln-service, none in mlgov's cache); {fix}",
        fix=fix)


def _unmatched(ctx: RuleContext) -> Iterator[Finding | None]:
    """COV013: advisories were matched, and some packages were left out of the matching.

    The matching (governance.vulns.match) compares PyPI names and PEP 440 versions: a conda package,
    a requirement without an exact version and a version that is not PEP 440 are not compared with
    any advisory, so "no vulnerability" would be said of packages nobody looked up.
    """
    if not ctx.inventory.advisory_sources or not ctx.enabled("VULN001"):
        return
    from governance.vulns.osv import public

    left: dict[str, list[str]] = {"ecosystem": [], "version": [], "pep440": []}
    for package in ctx.inventory.packages:
        if package.provenance and not any(p.applies for p in package.provenance):
            continue
        if package.ecosystem != "pypi":
            left["ecosystem"].append(f"{package.name} {package.version or ''}".strip())
        elif not package.version:
            left["version"].append(package.name)
        elif public(package.version) is None:
            left["pep440"].append(f"{package.name} {package.version}")
    why = {
        "ecosystem": ("not PyPI packages (conda or other): the advisory database and services mlgov uses "
                      "hold PyPI's advisories", "check them with a tool that reads conda's advisories, then "
                      "waive COV013 with a reason"),
        "version": ("without an exact version (a range or no pin, nothing installed): an advisory names "
                    "versions", "pin them (a lockfile, ==X.Y.Z) or scan the installed environment (--python)"),
        "pep440": ("whose versions are not PEP 440: advisory ranges cannot place them",
                   "install a release with a PEP 440 version"),
    }
    for reason, names in left.items():
        if not names:
            continue
        names = sorted(set(names), key=str.lower)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        said, fix = why[reason]
        yield ctx.finding(
            "COV013",
            f"vulnerabilities of {len(names)} package{'s' if len(names) > 1 else ''} were not checked ({shown}): "
            f"{said}. To fix: {fix}.", fix=fix)


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    yield _not_checked(ctx)
    yield from _unmatched(ctx)
    configured = ctx.level("VULN001")
    if configured is None:
        return
    threshold = str(ctx.policy.get("vulnerabilities", "fail_on", DEFAULT_THRESHOLD))
    by_key: dict[str, list[Package]] = {}
    if ctx.inventory.vulnerabilities:
        for candidate in ctx.inventory.packages:
            by_key.setdefault(candidate.key, []).append(candidate)
    for vulnerability in ctx.inventory.vulnerabilities:
        package = _package(by_key, vulnerability)
        name = package.name if package is not None else vulnerability.package
        text, fix = message(vulnerability, name)
        level = configured if at_or_above(vulnerability.severity, threshold) else \
            (Level.WARNING if configured is Level.ERROR else configured)
        finding = ctx.finding("VULN001", text, package=package, level=level,
                              vulnerability=vulnerability.id, aliases=vulnerability.aliases,
                              severity=vulnerability.severity, fix=fix)
        if finding is not None and package is None:
            from dataclasses import replace

            from governance.purl import package_purl

            finding = replace(finding, package=vulnerability.package, version=vulnerability.version,
                              component=package_purl(Package(name=vulnerability.package,
                                                             version=vulnerability.version)))
        yield finding
