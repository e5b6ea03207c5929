"""Policy files: TOML, strictly validated, fail closed.

A policy starts with `schema = 1`. Every key is declared in SCHEMA below; an
unknown key, a wrong type or a bad value is an error naming the file, the
line and the key path, never silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from governance.errors import PolicyError
from governance.policy.waiver import Waiver, parse_waivers
from governance.resources import data_dir

LEVELS = ("error", "warning", "note", "off")

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
    "rules": {"*": _level},
    "gpu": {
        "driver": _specifier, "cuda": _specifier, "cudnn": _specifier,
        "require_gpu_build": _list_of_str, "require_host_profile": _BOOL,
    },
    "vulnerabilities": {
        "fail_on": _one_of("critical", "high", "medium", "low", "unknown", "none"),
    },
    "licenses": {"allow": _list_of_str, "deny": _list_of_str, "review": _list_of_str},
}
# A list holding one table's schema stands for an array of tables ([[waivers]]).
WAIVER: dict[str, Any] = {
    "id": _STR, "package": _STR, "reason": _STR, "owner": _STR, "ticket": _STR, "expires": _date,
}
SCHEMA: dict[str, Any] = {
    "schema": _INT,
    "name": _STR,
    "description": _STR,
    "stage": _STR,
    "extends": _list_of_str,
    **GATES,
    "waivers": [WAIVER],
    "stages": {"*": GATES},
}


@dataclass(frozen=True)
class Policy:
    """A loaded policy with one stage applied."""

    name: str
    source: str  # the file it came from
    digest: str  # sha256 of the effective settings, shown in reports
    stage: str
    settings: dict[str, Any]  # the effective tables (stage overrides applied)
    waivers: tuple[Waiver, ...] = ()

    def get(self, table: str, key: str, default: Any = None) -> Any:
        section = self.settings.get(table)
        if isinstance(section, dict):
            return section.get(key, default)
        return default

    def level(self, rule_id: str, default: str) -> str:
        return str(self.get("rules", rule_id, default))


def resolve(name_or_path: str) -> Path:
    """A shipped policy's name ("production") or a file path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists() or "/" in name_or_path:
        if not path.is_file():
            raise PolicyError("policy file not found", file=path)
        return path
    shipped = data_dir("policies") / f"{name_or_path}.toml"
    if not shipped.is_file():
        names = ", ".join(sorted(p.stem for p in data_dir("policies").glob("*.toml")))
        raise PolicyError(f"no shipped policy named {name_or_path!r} (shipped: {names})")
    return shipped


def _line_of(text: str, path: tuple[str, ...]) -> int | None:
    """The line where a key path is set, found in the text (tomllib gives no positions)."""
    lines = text.splitlines()
    tables, key = path[:-1], path[-1]
    start = 0
    if tables:
        header = re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(re.escape(t) for t in tables) + r"\s*\]\]?\s*(#.*)?$")
        for index, line in enumerate(lines):
            if header.match(line):
                start = index + 1
                break
        else:
            dotted = ".".join(tables + (key,))
            for index, line in enumerate(lines):
                if re.match(r"^\s*" + re.escape(dotted) + r"\s*=", line):
                    return index + 1
            return None
    pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for index in range(start, len(lines)):
        if index > start and re.match(r"^\s*\[", lines[index]):
            break
        if pattern.match(lines[index]):
            return index + 1
    return None


def _validate(data: dict[str, Any], schema: dict[str, Any], path: tuple[str, ...], file: str, text: str) -> None:
    for key, value in data.items():
        spec = schema.get(key, schema.get("*"))
        where = path + (key,)
        if spec is None:
            known = ", ".join(sorted(k for k in schema if k != "*"))
            raise PolicyError(f"unknown key (known here: {known})", file=file, line=_line_of(text, where),
                              key=".".join(where))
        if isinstance(spec, list):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise PolicyError("expected an array of tables ([[%s]])" % ".".join(where), file=file,
                                  line=_line_of(text, where), key=".".join(where))
            for item in value:
                _validate(item, spec[0], where, file, text)
        elif isinstance(spec, dict):
            if not isinstance(value, dict):
                raise PolicyError("expected a table", file=file, line=_line_of(text, where), key=".".join(where))
            _validate(value, spec, where, file, text)
        else:
            complaint = spec(value)
            if complaint:
                raise PolicyError(complaint, file=file, line=_line_of(text, where), key=".".join(where))


def read_policy_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read: {exc}", file=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        raise PolicyError(f"invalid TOML: {exc}", file=path, line=int(match.group(1)) if match else None) from None
    if data.get("schema") != 1:
        raise PolicyError("a policy starts with `schema = 1`" if "schema" not in data
                          else f"unsupported schema {data.get('schema')!r} (this mlgov reads schema 1)",
                          file=path, line=_line_of(text, ("schema",)), key="schema")
    _validate(data, SCHEMA, (), str(path), text)
    return data, text


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_policy(name_or_path: str, stage: str | None = None) -> Policy:
    path = resolve(name_or_path)
    data, text = read_policy_file(path)
    stages = data.get("stages", {})
    chosen = stage or data.get("stage") or "default"
    if stage and stage not in stages and stage != "default":
        known = ", ".join(sorted(stages)) or "none"
        raise PolicyError(f"the policy has no stage {stage!r} (stages: {known})", file=path)
    settings = {k: v for k, v in data.items() if k in GATES}
    if chosen in stages:
        settings = _merge(settings, stages[chosen])
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
    waivers = parse_waivers(data.get("waivers", []), str(path), text)
    return Policy(name=str(data.get("name") or path.stem), source=str(path), digest=digest,
                  stage=chosen, settings=settings, waivers=waivers)
