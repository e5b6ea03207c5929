"""Match an inventory's packages against advisory records: one Vulnerability per advisory per package.

The same flaw is often published several times (a PYSEC record, a GHSA record,
a CVE); records that name each other through `aliases` are merged into one
finding, under the preferred id (CVE > GHSA > PYSEC > other).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from governance.model import Package, Vulnerability
from governance.vulns import osv
from governance.vulns.osv import Record
from governance.vulns.severity import RANK


def _preference(identifier: str) -> tuple[int, str]:
    for rank, prefix in enumerate(("CVE-", "GHSA-", "PYSEC-")):
        if identifier.upper().startswith(prefix):
            return rank, identifier
    return 3, identifier


def _groups(records: Sequence[Record]) -> list[list[Record]]:
    """Records joined by shared ids or aliases (a small union-find)."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, record in enumerate(records):
        for identifier in (record["id"], *record["aliases"]):
            if identifier in owner:
                parent[root(index)] = root(owner[identifier])
            else:
                owner[identifier] = index
    grouped: dict[int, list[Record]] = {}
    for index, record in enumerate(records):
        grouped.setdefault(root(index), []).append(record)
    return list(grouped.values())


def _fix_versions(group: Sequence[Record], name: str, version: str, matcher: osv.Matcher) -> tuple[str, ...]:
    """Fixed versions above the current one that no record of the group still affects, lowest first."""
    current = osv.public(version)
    candidates: dict[object, str] = {}
    for record in group:
        for value in osv.fixed_events(record, name):
            parsed = osv.parse(value)
            if parsed is not None and (current is None or parsed > current):
                candidates.setdefault(parsed, value)
    clean = [candidates[v] for v in sorted(candidates)  # type: ignore[type-var]
             if not any(matcher.affects(r, name, candidates[v]) for r in group)]
    return tuple(clean)


def _vulnerability(group: Sequence[Record], package: Package, source: str, matcher: osv.Matcher) -> Vulnerability:
    name, version = package.key, package.version or ""
    ids = sorted({i for r in group for i in (r["id"], *r["aliases"])}, key=_preference)
    worst = max(group, key=lambda r: (RANK.get(r["level"], 0), r["score"] or 0.0))
    summary = next((r["summary"] for r in sorted(group, key=lambda r: _preference(r["id"])) if r["summary"]), None)
    references = tuple(dict.fromkeys(u for r in group for u in r["refs"]))
    return Vulnerability(
        id=ids[0], package=name, version=version, aliases=tuple(sorted(ids[1:])), summary=summary,
        severity=worst["level"], score=worst["score"], vector=worst["vector"],
        fixed_versions=_fix_versions(group, name, version, matcher), references=references, source=source,
    )


def match(packages: Iterable[Package], index: Mapping[str, Sequence[Record]], source: str) -> tuple[Vulnerability, ...]:
    """Every advisory (aliases merged) that affects a package's version."""
    found: dict[tuple[str, str, str], Vulnerability] = {}
    matcher = osv.Matcher()
    for package in packages:
        if package.ecosystem != "pypi" or not package.version:
            continue
        candidates = index.get(package.key, ())
        hits = [r for r in candidates if matcher.affects(r, package.key, package.version)]
        for group in _groups(hits):
            vulnerability = _vulnerability(group, package, source, matcher)
            found[(vulnerability.package, vulnerability.version, vulnerability.id)] = vulnerability
    return tuple(found[k] for k in sorted(found))


def upgrade_hint(vulnerability: Vulnerability) -> str | None:
    if not vulnerability.fixed_versions:
        return None
    return f"upgrade {vulnerability.package} to {vulnerability.fixed_versions[0]}"


def merge(vulnerabilities: Iterable[Vulnerability]) -> tuple[Vulnerability, ...]:
    """One Vulnerability per flaw per package version, from several sources (a database and a service).

    Two entries for the same package version that share an id or alias are one
    flaw: ids and references are joined, the worse rating and the database's
    fix versions (when it has them) are kept.
    """
    by_target: dict[tuple[str, str], list[Vulnerability]] = {}
    for item in vulnerabilities:
        by_target.setdefault((item.package, item.version), []).append(item)
    merged: list[Vulnerability] = []
    for items in by_target.values():
        groups: list[list[Vulnerability]] = []
        for item in items:
            ids = {item.id, *item.aliases}
            joined = [g for g in groups if ids & {i for v in g for i in (v.id, *v.aliases)}]
            for g in joined:
                groups.remove(g)
            groups.append([v for g in joined for v in g] + [item])
        for group in groups:
            ranked = sorted({i for v in group for i in (v.id, *v.aliases)}, key=_preference)
            worst = max(group, key=lambda v: (RANK.get(v.severity, 0), v.score or 0.0))
            fixes = next((v.fixed_versions for v in group if v.fixed_versions), ())
            merged.append(Vulnerability(
                id=ranked[0], package=group[0].package, version=group[0].version,
                aliases=tuple(sorted(ranked[1:])),
                summary=next((v.summary for v in group if v.summary), None), severity=worst.severity,
                score=worst.score, vector=worst.vector, fixed_versions=fixes,
                references=tuple(dict.fromkeys(u for v in group for u in v.references)),
                source=",".join(dict.fromkeys(v.source for v in group if v.source)) or None))
    return tuple(sorted(merged, key=lambda v: (v.package, v.version, v.id)))
