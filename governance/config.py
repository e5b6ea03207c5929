"""Project settings: `[tool.mlgov]` in pyproject.toml, or mlgov.toml (docs/ci.md#configuration).

A team writes its policy, stage, hosts, vulnerability database and reports
once, beside the code, instead of on the command line of every CI job. The
command line still wins: a setting's value comes from the command line when
given there, else from the configuration file, else the built-in default,
and `mlgov config show` says which for each.

Discovery starts at the scanned folder (the current folder for `mlgov check`)
and walks up to the repository's top level (the folder holding `.git`), so a
monorepo can keep one configuration at its root and scan each project folder;
outside a git repository only the starting folder is looked at, so a stray
~/pyproject.toml is never picked up. In each folder mlgov.toml is read before
pyproject.toml; a folder with both configuring mlgov is an error, not a guess.

Strict like the policy loader: an unknown key, a wrong type or a bad choice is
exit 2 with `file:line: key: message`. Paths are relative to the file's folder,
so the settings mean the same whichever folder CI runs mlgov from.
"""

from __future__ import annotations

import difflib
from dataclasses import field
from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.frozen import frozen
from governance.inputs import parse_toml, read_input

CONFIG_FILE = "mlgov.toml"
PYPROJECT = "pyproject.toml"
MAX_CONFIG_BYTES = 4 * 1024 * 1024


@frozen
class Setting:
    """One configuration key and the command-line option it stands for."""
    key: str  # the key in the configuration file: "vuln-db"
    param: str  # the click parameter it stands for: "vuln_db"
    kind: str  # "str" | "path" | "paths" | "names" | "bool" | "policy"
    commands: tuple[str, ...]
    choices: tuple[str, ...] = ()
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("policy", "policy", "policy", ("scan", "check"),
            help="a shipped policy name or a policy TOML file (relative to this file)"),
    Setting("stage", "stage", "str", ("scan", "check"), help="the promotion stage whose gates apply"),
    Setting("python", "python", "path", ("scan",), help="the installed environment to scan"),
    Setting("hosts", "host_profiles", "paths", ("scan", "check"), help="host profiles the GPU stack is judged against"),
    Setting("vuln-db", "vuln_db", "path", ("scan", "check"), help="offline vulnerability database (OSV all.zip or folder)"),
    Setting("vuln-service", "vuln_service", "str", ("scan",), choices=("osv", "pypi"),
            help="also ask an online vulnerability service"),
    Setting("reports", "reports", "paths", ("scan", "check"),
            help="report files to write; the format comes from each extension"),
    Setting("sbom", "sbom_path", "path", ("scan",), help="where the scan writes its CycloneDX SBOM"),
    Setting("spec-version", "spec_version", "str", ("scan",), choices=("1.5", "1.6", "1.7"),
            help="CycloneDX version of the SBOM"),
    Setting("target-platform", "target_platform", "str", ("scan",), help="platform lockfile markers are evaluated for"),
    Setting("target-python", "target_python", "str", ("scan",), help="Python version lockfile markers are evaluated for"),
    Setting("lock", "locks", "names", ("scan",),
            help="the lockfiles read, by name at the top of the project (named PEP 751 locks are alternatives)"),
    Setting("groups", "groups", "names", ("scan",), help="dependency groups installed besides the defaults (--group)"),
    Setting("extras", "extras", "names", ("scan",), help="the project's extras installed (--extra)"),
    Setting("all-groups", "all_groups", "bool", ("scan",), help="every dependency group, optional ones too"),
    Setting("no-dev", "no_dev", "bool", ("scan",), help="leave the development dependencies out"),
    Setting("no-default-groups", "no_default_groups", "bool", ("scan",),
            help="none of the installer's default groups, only `groups`"),
    Setting("models", "models", "paths", ("scan",), help="more places to look for model files"),
    Setting("source-root", "source_root", "path", ("scan",),
            help="the folder SARIF locations are relative to (default: the git top level)"),
    Setting("color", "color", "str", ("scan", "check"), choices=("auto", "always", "never"),
            help="colour in the terminal summary"),
    Setting("show-waived", "show_waived", "bool", ("scan", "check"),
            help="list every waived finding instead of one line per rule"),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}


@frozen
class ConfigFile:
    """The mlgov table of one configuration file, with the line of each key."""
    path: Path
    table: dict[str, Any]
    lines: dict[str, int]  # key -> line
    prefix: str  # "tool.mlgov." in pyproject.toml, "" in mlgov.toml

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)


@frozen
class Settings:
    """The effective settings of one command: each parameter's value and where it came from."""

    values: dict[str, Any]
    sources: dict[str, str]  # param -> "command line" | "FILE:LINE" | "default"
    file: ConfigFile | None = None
    command: str = "scan"
    shown: tuple[Setting, ...] = field(default=())


def git_top(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _parse(path: Path, pyproject: bool) -> ConfigFile | None:
    """The mlgov table of one file; None for a pyproject.toml without [tool.mlgov]."""
    from governance.policy.positions import key_lines

    text = read_input(path, "configuration file", MAX_CONFIG_BYTES)
    data = parse_toml(text, path)
    base: tuple[str, ...] = ()
    if pyproject:
        tool = data.get("tool")
        if not isinstance(tool, dict) or "mlgov" not in tool:
            return None
        table, prefix, base = tool["mlgov"], "tool.mlgov.", ("tool", "mlgov")
    else:
        table, prefix = data, ""
    positions = key_lines(text)
    if not isinstance(table, dict):
        raise InputError("must be a table of settings", file=path, line=positions.get(base), key=prefix.rstrip("."))
    lines = {key: positions.get((*base, key), positions.get(base, 0)) for key in table}
    return ConfigFile(path=path, table=table, lines={k: v for k, v in lines.items() if v}, prefix=prefix)


def discover(start: Path) -> ConfigFile | None:
    """The configuration that applies to a project folder, or None."""
    start = start.resolve()
    top = git_top(start)
    folders = [start] if top is None else [start, *[p for p in start.parents if p.is_relative_to(top)]]
    for folder in folders:
        own = folder / CONFIG_FILE
        project = folder / PYPROJECT
        found = _parse(own, pyproject=False) if own.is_file() else None
        in_pyproject = _parse(project, pyproject=True) if project.is_file() else None
        if found is not None and in_pyproject is not None:
            raise InputError(f"both {CONFIG_FILE} and [tool.mlgov] in {PYPROJECT} configure mlgov here; "
                             "keep one", file=in_pyproject.where(next(iter(in_pyproject.table), "")))
        if found is not None or in_pyproject is not None:
            return found or in_pyproject
    return None


def load(path: Path) -> ConfigFile:
    """An explicitly named configuration file (--config)."""
    if path.name == PYPROJECT:
        found = _parse(path, pyproject=True)
        if found is None:
            raise InputError("has no [tool.mlgov] table", file=path)
        return found
    found = _parse(path, pyproject=False)
    assert found is not None
    return found


def _fail(config: ConfigFile, key: str, message: str) -> InputError:
    return InputError(message, file=config.path, line=config.lines.get(key), key=config.prefix + key)


def _value(config: ConfigFile, setting: Setting, raw: Any) -> Any:
    """A file's value, converted to what the command-line option would have given."""
    folder = config.path.parent

    def path(value: str) -> Path:
        candidate = Path(value)
        return candidate if candidate.is_absolute() else folder / candidate

    def string(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _fail(config, setting.key, f"expected a non-empty string, got {_kind(value)}")
        return value

    if setting.kind == "bool":
        if not isinstance(raw, bool):
            raise _fail(config, setting.key, f"expected true or false, got {_kind(raw)}")
        return raw
    if setting.kind == "names":
        # File names in the scanned folder, not paths beside this file: one configuration serves each
        # project folder of a monorepo.
        if not isinstance(raw, list):
            raise _fail(config, setting.key, f"expected a list of file names, got {_kind(raw)}")
        return tuple(string(item) for item in raw)
    if setting.kind == "paths":
        if not isinstance(raw, list):
            raise _fail(config, setting.key, f"expected a list of paths, got {_kind(raw)}")
        return tuple(path(string(item)) for item in raw)
    value = string(raw)
    if setting.choices and value not in setting.choices:
        raise _fail(config, setting.key, f"{value!r} is not one of {', '.join(setting.choices)}")
    if setting.kind == "path":
        return path(value)
    if setting.kind == "policy":
        # A name is a shipped policy; anything that looks like a file is relative to the config.
        return str(path(value)) if "/" in value or "\\" in value or value.endswith(".toml") else value
    return value


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def check_keys(config: ConfigFile, command: str) -> None:
    for key in config.table:
        if key not in BY_KEY:
            close = difflib.get_close_matches(key, list(BY_KEY), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(config, key, f"unknown setting{hint}; known: {', '.join(BY_KEY)}")
        _value(config, BY_KEY[key], config.table[key])


def resolve(command: str, params: dict[str, Any], from_command_line: set[str], config: ConfigFile | None) -> Settings:
    """Merge: command line, then the configuration file, then the defaults already in params."""
    values = dict(params)
    sources: dict[str, str] = {}
    if config is not None:
        check_keys(config, command)  # every key is checked, also those this command does not use
    shown = tuple(s for s in SETTINGS if command in s.commands and s.param in params)
    for setting in shown:
        if setting.param in from_command_line:
            sources[setting.param] = "command line"
        elif config is not None and setting.key in config.table:
            values[setting.param] = _value(config, setting, config.table[setting.key])
            sources[setting.param] = config.where(setting.key)
        else:
            sources[setting.param] = "default"
    return Settings(values=values, sources=sources, file=config, command=command, shown=shown)


def describe(settings: Settings, fmt: str = "text") -> str:
    """`mlgov config show`: every setting, its effective value and where it came from."""
    import json

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    rows = [(s.key, plain(settings.values.get(s.param)), settings.sources[s.param]) for s in settings.shown]
    if fmt == "json":
        return json.dumps({"file": str(settings.file.path) if settings.file else None,
                           "settings": {key: {"value": value, "from": source} for key, value, source in rows}},
                          indent=2) + "\n"
    lines = [f"# configuration: {settings.file.path if settings.file else 'none found'}"]
    width = max(len(key) for key, _, _ in rows)
    for key, value, source in rows:
        shown = json.dumps(value) if value is not None else "(unset)"
        lines.append(f"{key.ljust(width)} = {shown}  # {source}")
    return "\n".join(lines) + "\n"
