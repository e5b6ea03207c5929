"""The scanned project itself: its name and version for the SBOM's root."""

from __future__ import annotations

from pathlib import Path

from governance.errors import InputError
from governance import tomlparse


def read_pyproject(root: Path) -> dict[str, object] | None:
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    from governance.inputs import read_input, reading

    text = read_input(path, "pyproject.toml", 16 * 1024 * 1024)
    try:
        with reading(path, "pyproject.toml"):
            return tomlparse.loads(text)
    except tomlparse.TOMLError as exc:
        raise InputError(f"invalid TOML: {exc}", file=path, line=exc.line) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None


def stated_name(root: Path) -> str | None:
    """The name a project folder states without running anything: pyproject.toml [project] name
    (PEP 621), [tool.poetry] name, else setup.cfg [metadata] name (setuptools, pbr). This is the
    name its build backend gives pip; a folder stating none (only a setup.py) has no name mlgov
    can know, since it never runs setup.py."""
    data = read_pyproject(root) or {}
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    for table in (data.get("project"), poetry):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            return str(table["name"])
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        import configparser

        from governance.inputs import read_input

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(read_input(setup_cfg, "setup.cfg", 1024 * 1024))
        except configparser.Error:
            return None
        if parser.has_option("metadata", "name"):
            return parser.get("metadata", "name").strip() or None
    return None


def project_name(root: Path) -> tuple[str, str | None]:
    """(name, version) from pyproject.toml's [project] or [tool.poetry], else the folder's name."""
    data = read_pyproject(root) or {}
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    for table in (data.get("project"), poetry):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            version = table.get("version")
            return table["name"], version if isinstance(version, str) else None
    return root.resolve().name, None
