"""COV001: what the policy asks but the input cannot answer is said, never passed.

An SBOM from another tool (cyclonedx-py, Syft) lists components without the
requirements files or lockfiles that pinned them, so pin rules have nothing
to judge; a project scanned without its environment has no licence metadata.
Silence would read as "passed": this family reports each gap once.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Finding, Provenance
from governance.policy.context import RuleContext
from governance.policy.rule import NOT_JUDGED, Rule

RULES = (
    Rule("COV001", "coverage", NOT_JUDGED,
         "Part of the policy could not be judged from the input (e.g. pins from an SBOM without provenance).",
         "Judge the project itself (`mlgov scan`), or an SBOM written by `mlgov sbom`, which records "
         "where every package was declared, pinned and installed."),
    Rule("COV002", "coverage", NOT_JUDGED,
         "A file that looks like a dependency input (an unknown lockfile, a `.in`, a YAML with `dependencies:`, "
         "a requirements folder or a dangling link) was not read, so nothing in it was judged.",
         "Do what the finding says (compile, rename or export the file into a form mlgov reads), or waive "
         "COV002 for that file with a reason when it is not installed anywhere."),
    Rule("COV003", "coverage", NOT_JUDGED,
         "A named PEP 751 lock (`pylock.NAME.toml`: `pylock.cu130.toml`, `pylock.cpu.toml`) was not read. Named "
         "locks are alternatives, each one installable environment installed on its own, so mlgov judges one "
         "environment per scan (the unnamed lockfiles by default) and the variant this file installs was not judged.",
         "Judge each variant in its own scan (`mlgov scan . --lock pylock.cu130.toml`), or say which lock the "
         "project installs with --lock (or `lock = [...]` in [tool.mlgov]): the others are then left out on purpose "
         "(a note, not a finding)."),
    Rule("COV010", "coverage", NOT_JUDGED,
         "A lockfile records packages, but none for the scanned target (a conda-lock made for other platforms, a "
         "uv.lock whose `environments` exclude it, every entry for another Python), so what the target installs "
         "was not judged.",
         "Scan for a target the lock was made for (`--target-platform`, `--target-python`), or lock for this "
         "target too (`conda-lock -p osx-arm64`, widen uv's `environments`)."),
)


def check(ctx: RuleContext) -> Iterator[Finding | None]:
    for unread in ctx.inventory.unread:
        if unread.rule == "DRIFT004":
            # A requirement of the manifest that the lock does not record at all (the lock is stale).
            said = f"{unread.reason}; the lock is stale: the package is not installed from it and was not " \
                   f"judged; {unread.fix}"
        elif unread.rule == "COV010":
            said = f"{unread.file} was read, but {unread.reason}: the environment of this target was not " \
                   f"judged; {unread.fix}"
        elif unread.rule == "COV003":
            said = f"{unread.file} was not read ({unread.reason}): the environment it installs was not judged; " \
                   f"{unread.fix}"
        elif unread.line:
            said = f"{unread.file}:{unread.line}: {unread.reason}, so it was not judged; {unread.fix}"
        else:
            said = f"{unread.file} was not read ({unread.reason}): what it lists was not judged; {unread.fix}"
        yield ctx.finding(unread.rule, said,
                          where=Provenance(file=unread.file, line=unread.line, kind="unread"), fix=unread.fix)
    packages = ctx.inventory.packages
    if not packages:
        return
    pins_asked = [rule for rule, asked in (
        ("PIN001", ctx.policy.get("pins", "require_exact", True)),
        ("PIN002", ctx.policy.get("pins", "require_hashes", False)),
    ) if asked and ctx.enabled(rule)]
    if pins_asked and not any(p.provenance for p in packages):
        yield ctx.finding(
            "COV001",
            f"no provenance in this input ({len(packages)} components, none says which requirements file "
            f"or lockfile pinned it): pin rules {', '.join(pins_asked)} could not be judged",
            fix="judge the project with `mlgov scan`, or an SBOM written by `mlgov sbom`",
        )
    licenses = ctx.policy.settings.get("licenses")
    if isinstance(licenses, dict) and licenses and any(ctx.enabled(r) for r in ("LIC001", "LIC002", "LIC003")):
        from governance.policy.rules.licenses import licence_known_from

        unjudged = sorted(p.name for p in packages if not licence_known_from(p)
                          and any(q.applies for q in p.provenance))
        if unjudged:
            shown = ", ".join(unjudged[:5]) + (f" and {len(unjudged) - 5} more" if len(unjudged) > 5 else "")
            yield ctx.finding(
                "COV001",
                f"licences of {len(unjudged)} declared but not installed packages could not be judged "
                f"({shown}): scan with --python pointing at the installed environment",
                fix="scan with --python .venv",
            )
