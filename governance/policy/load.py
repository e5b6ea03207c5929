"""Policy files: TOML, strictly validated, fail closed.

A policy starts with `schema = 1`. Every key is declared in SCHEMA below; an
unknown key, a wrong type or a bad value is an error naming the file, the
line and the key path, never silently ignored.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from governance.errors import InputError, PolicyError
from governance.frozen import frozen
from governance.inputs import parse_toml, read_input, reading
from governance.policy.positions import PathKey, dotted, key_lines, line_of
from governance.policy.waiver import Waiver, parse_waiver
from governance.resources import data_dir

LEVELS = ("error", "warning", "note", "off")
# The promotion gates, in order. A fixed list, so that [stages.prodution] is a typo, not a new stage.
STAGES = ("prototype", "stabilization", "production")
# In a schema table, the check that every key itself must pass (rule ids, stage names).
KEYS = "<keys>"

Check = Callable[[Any], str | None]  # returns a complaint, or None when the value is fine


def _type(kind: type, label: str) -> Check:
    def check(value: Any) -> str | None:
        # TOML's true is a Python int too; an integer key must not take it.
        if isinstance(value, bool) and kind is not bool:
            return f"expected {label}, got a boolean"
        return None if isinstance(value, kind) else f"expected {label}, got {type(value).__name__}"
    return check


def _list_of_str(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "expected a list of strings"
    return None


def _requirement_list(value: Any) -> str | None:
    complaint = _list_of_str(value)
    if complaint:
        return complaint
    from packaging.requirements import InvalidRequirement, Requirement

    for entry in value:
        try:
            Requirement(entry)
        except InvalidRequirement:
            return f"{entry!r} is not a package name or requirement (e.g. \"tensorflow-gpu\" or \"pillow<9\")"
    return None


def _diff_kinds(value: Any) -> str | None:
    """`mlgov diff` change kinds a promotion to this stage fails on."""
    complaint = _list_of_str(value)
    if complaint:
        return complaint
    from governance.diff.compare import CATEGORIES

    for entry in value:
        if entry not in CATEGORIES and entry != "any":
            close = difflib.get_close_matches(entry, CATEGORIES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return f"unknown change kind {entry!r} ({hint}known: {', '.join(CATEGORIES)}, any)"
    return None


def _level(value: Any) -> str | None:
    if value not in LEVELS:
        return f"expected one of {', '.join(LEVELS)}, got {value!r}"
    return None


def _specifier(value: Any) -> str | None:
    if not isinstance(value, str):
        return "expected a version specifier string such as \">=2.1,<3\""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        return f"invalid version specifier {value!r}"
    return None


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"expected one of {', '.join(choices)}, got {value!r}"
    return check


def _date(value: Any) -> str | None:
    import datetime as dt

    if isinstance(value, dt.datetime) or not isinstance(value, (dt.date, str)):
        return "expected a date such as 2026-12-31"
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"invalid date {value!r} (expected YYYY-MM-DD)"
    return None


def _positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "expected a whole number of days, 1 or more"
    return None


def _rule_key(key: str) -> str | None:
    """A [rules] key: a rule id from the catalogue, or a pattern ("GPU*", "*") that matches one."""
    from governance.policy.catalogue import BY_ID  # the catalogue imports the rule modules

    if key in BY_ID:
        return None
    if any(c in key for c in "*?[") and any(fnmatch.fnmatchcase(rule, key) for rule in BY_ID):
        return None
    close = difflib.get_close_matches(key, list(BY_ID), n=1)
    hint = f" (did you mean {close[0]}?)" if close else " (`mlgov rules` lists them)"
    return f"unknown rule {key!r}{hint}"


def _stage_key(key: str) -> str | None:
    if key in STAGES:
        return None
    close = difflib.get_close_matches(key, STAGES, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown stage {key!r} ({hint}stages are {', '.join(STAGES)})"


def _model_formats(value: Any) -> str | None:
    complaint = _list_of_str(value)
    if complaint:
        return complaint
    from governance.collect.models.formats import FORMATS

    unknown = [v for v in value if v not in FORMATS]
    if unknown:
        return f"unknown model format {unknown[0]!r} (formats: {', '.join(FORMATS)})"
    return None


_STR = _type(str, "a string")
_BOOL = _type(bool, "true or false")
_INT = _type(int, "an integer")

# A table maps keys to checks or to nested tables; "*" stands for any key.
GATES: dict[str, Any] = {
    "pins": {
        "require_exact": _BOOL,
        "require_hashes": _BOOL,
    },
    "packages": {
        "deny": _requirement_list,
        "*": {"allowed": _specifier, "reason": _STR},
    },
    "rules": {"*": _level, KEYS: _rule_key},
    "gpu": {
        "driver": _specifier, "cuda": _specifier, "cudnn": _specifier,
        "require_gpu_build": _list_of_str, "require_host_profile": _BOOL,
    },
    "vulnerabilities": {
        "fail_on": _one_of("critical", "high", "medium", "low", "unknown", "none"),
    },
    "licenses": {"allow": _list_of_str, "deny": _list_of_str, "review": _list_of_str},
    "containers": {"trusted": _list_of_str, "require_digest": _BOOL},
    "waiver_limits": {"max_days": _positive_int, "require_expiry": _BOOL, "require_owner": _BOOL},
    # The level of every finding that says "mlgov could not judge this" (rules whose
    # default level is NOT_JUDGED): how much a stage tolerates what was not checked.
    "coverage": {"not_judged": _one_of("error", "warning", "note")},
    "models": {"allow_formats": _model_formats, "manifest": _STR, "allow_globals": _list_of_str},
    "promotion": {"fail_on": _diff_kinds},
}
# A list holding one table's schema stands for an array of tables ([[waivers]]).
WAIVER: dict[str, Any] = {
    "id": _STR, "package": _STR, "reason": _STR, "owner": _STR, "ticket": _STR, "expires": _date,
    # CycloneDX impact-analysis justifications (the VEX `analysis.justification` values).
    "justification": _one_of("code_not_present", "code_not_reachable", "requires_configuration",
                             "requires_dependency", "requires_environment", "protected_by_compiler",
                             "protected_at_runtime", "protected_at_perimeter", "protected_by_mitigating_control"),
}
SCHEMA: dict[str, Any] = {
    "schema": _INT,
    "name": _STR,
    "description": _STR,
    "stage": _one_of(*STAGES),
    "extends": _list_of_str,
    **GATES,
    "waivers": [WAIVER],
    "stages": {"*": GATES, KEYS: _stage_key},
}


@frozen
class Policy:
    """A loaded policy with one stage applied."""

    name: str
    source: str  # the file it came from
    digest: str  # sha256 of the effective settings, shown in reports
    stage: str
    settings: dict[str, Any]  # the effective tables (stage overrides applied)
    waivers: tuple[Waiver, ...] = ()
    description: str | None = None
    files: tuple[str, ...] = ()  # every file merged, bases first, this one last
    stages: tuple[str, ...] = ()  # the stages the policy (or a base) configures

    def get(self, table: str, key: str, default: Any = None) -> Any:
        section = self.settings.get(table)
        if isinstance(section, dict):
            return section.get(key, default)
        return default

    def not_judged(self) -> str:
        """The level of a "could not be judged" finding at this stage.

        `[coverage] not_judged` when the policy sets it; otherwise fail closed at
        production (an error) and warn before it.
        """
        value = self.get("coverage", "not_judged")
        if value in ("error", "warning", "note"):
            return str(value)
        return "error" if self.stage == "production" else "warning"

    def level(self, rule_id: str, default: str) -> str:
        """An exact rule id wins over a pattern; among patterns, the longest.

        A default of NOT_JUDGED stands for the stage's `[coverage] not_judged`.
        """
        from governance.policy.rule import NOT_JUDGED

        if default == NOT_JUDGED:
            default = self.not_judged()
        rules = self.settings.get("rules") or {}
        if rule_id in rules:
            return str(rules[rule_id])
        patterns = [p for p in rules if _is_pattern(p) and fnmatch.fnmatchcase(rule_id, p)]
        if patterns:
            return str(rules[max(patterns, key=lambda p: (len(p), p))])
        return default

    def effective(self) -> dict[str, Any]:
        """The merged policy as one document: what `mlgov policy show` prints."""
        document: dict[str, Any] = {"schema": 1, "name": self.name}
        if self.description:
            document["description"] = self.description
        document["stage"] = self.stage
        document["files"] = list(self.files)
        document.update(_sorted_tables(self.settings))
        if self.waivers:
            document["waivers"] = [w.as_table() for w in self.waivers]
        return document


def _is_pattern(key: str) -> bool:
    return any(c in key for c in "*?[")


def _sorted_tables(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: _sorted_tables(v) if isinstance(v, dict) else v for k, v in sorted(settings.items())}




def resolve(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A shipped policy's name ("production") or a file path.

    Inside a policy's `extends`, paths are relative to the file that names them.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or "/" in name_or_path or "\\" in name_or_path or \
            (relative_to is None and path.exists()):
        if relative_to is not None and not path.is_absolute():
            path = relative_to.parent / path
        if not path.is_file():
            raise PolicyError("policy file not found", file=path)
        return path
    shipped = data_dir("policies") / f"{name_or_path}.toml"
    if not shipped.is_file():
        names = ", ".join(sorted(p.stem for p in data_dir("policies").glob("*.toml")))
        raise PolicyError(f"no shipped policy named {name_or_path!r} (shipped: {names})")
    return shipped


def _validate(data: Any, schema: dict[str, Any], path: PathKey, file: str, lines: dict[PathKey, int]) -> None:
    def fail(message: str, where: PathKey) -> PolicyError:
        return PolicyError(message, file=file, line=line_of(lines, where), key=dotted(where))

    for key, value in data.items():
        where = path + (key,)
        key_check = schema.get(KEYS)
        if key_check is not None:
            complaint = key_check(key)
            if complaint:
                raise fail(complaint, where)
        spec = schema.get(key, schema.get("*"))
        if spec is None:
            known = [k for k in schema if k not in ("*", KEYS)]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise fail(f"unknown key ({hint}known here: {', '.join(sorted(known))})", where)
        if isinstance(spec, list):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise fail(f"expected an array of tables ([[{dotted(where)}]])", where)
            for index, item in enumerate(value):
                _validate(item, spec[0], where + (index,), file, lines)
        elif isinstance(spec, dict):
            if not isinstance(value, dict):
                raise fail("expected a table", where)
            _validate(value, spec, where, file, lines)
        else:
            complaint = spec(value)
            if complaint:
                raise fail(complaint, where)


@frozen
class PolicyFile:
    """One policy file as written: validated, with the line of every key."""

    path: Path
    data: dict[str, Any]
    lines: dict[PathKey, int]

    def line(self, *path: str | int) -> int | None:
        return line_of(self.lines, tuple(path))


def read_policy(path: Path) -> PolicyFile:
    text = read_input(path, "policy file")
    with reading(path, "policy file"):
        return _read_policy(path, text)


def _read_policy(path: Path, text: str) -> PolicyFile:
    try:
        data = parse_toml(text, path)
    except InputError as exc:
        raise PolicyError(exc.message, file=exc.file, line=exc.line) from None
    lines = key_lines(text)
    if data.get("schema") != 1:
        raise PolicyError("a policy starts with `schema = 1`" if "schema" not in data
                          else f"unsupported schema {data.get('schema')!r} (this mlgov reads schema 1)",
                          file=path, line=line_of(lines, ("schema",)), key="schema")
    _validate(data, SCHEMA, (), str(path), lines)
    for index, entry in enumerate(data.get("waivers", [])):
        parse_waiver(entry, str(path), line_of(lines, ("waivers", index)), f"waivers[{index}]")
    return PolicyFile(path=path, data=data, lines=lines)


def _chain(path: Path, stack: tuple[Path, ...], seen: dict[Path, PolicyFile]) -> list[PolicyFile]:
    """The files to merge, bases first (depth first, in `extends` order), each once."""
    policy = read_policy(path)
    key = path.resolve()
    seen[key] = policy
    ordered: list[PolicyFile] = []
    for index, entry in enumerate(policy.data.get("extends", [])):
        try:
            base = resolve(entry, relative_to=path)
        except PolicyError as exc:
            raise PolicyError(f"cannot extend {entry!r}: {exc}", file=path,
                              line=policy.line("extends", index), key=f"extends[{index}]") from None
        base_key = base.resolve()
        if base_key in stack or base_key == key:
            cycle = " -> ".join(str(p) for p in (*stack, key, base_key))
            raise PolicyError(f"policy inheritance cycle: {cycle}", file=path,
                              line=policy.line("extends", index), key=f"extends[{index}]")
        if base_key in seen:
            continue  # a diamond: the shared base is merged once, first time it is reached
        ordered.extend(_chain(base, (*stack, key), seen))
    ordered.append(policy)
    return ordered


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge; in a `rules` table a later pattern replaces what it matches."""
    merged = dict(base)
    for key, value in over.items():
        if key == "rules" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            kept = {rule: level for rule, level in merged[key].items()
                    if not any(_is_pattern(p) and fnmatch.fnmatchcase(rule, p) and p != rule for p in value)}
            merged[key] = {**kept, **value}
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_policy(name_or_path: str, stage: str | None = None) -> Policy:
    path = resolve(name_or_path)
    files = _chain(path, (), {})
    own = files[-1].data
    merged: dict[str, Any] = {}
    waivers: list[Waiver] = []
    default_stage: str | None = None
    for policy in files:
        merged = _merge(merged, {k: v for k, v in policy.data.items() if k in GATES or k == "stages"})
        default_stage = policy.data.get("stage", default_stage)
        for index, entry in enumerate(policy.data.get("waivers", [])):
            waivers.append(parse_waiver(entry, str(policy.path), policy.line("waivers", index),
                                        f"waivers[{index}]"))
    if stage is not None and stage not in STAGES and stage != "default":
        raise PolicyError(f"unknown stage {stage!r} (stages are {', '.join(STAGES)})", file=path)
    chosen = stage or default_stage or "default"
    stages = merged.pop("stages", {})
    settings = _merge(merged, stages[chosen]) if chosen in stages else merged
    # The digest covers what decides findings: settings and waivers, not where they came from.
    decisive = {"settings": settings, "waivers": [{k: v for k, v in w.as_table().items() if k != "from"}
                                                  for w in waivers]}
    digest = hashlib.sha256(json.dumps(decisive, sort_keys=True, default=str).encode()).hexdigest()
    return Policy(name=str(own.get("name") or path.stem), source=str(path), digest=digest,
                  stage=chosen, settings=settings, waivers=tuple(waivers),
                  description=own.get("description"), files=tuple(str(p.path) for p in files),
                  stages=tuple(s for s in STAGES if s in stages))
