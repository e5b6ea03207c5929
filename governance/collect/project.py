"""The scanned project itself: its name and version for the SBOM's root."""

from __future__ import annotations

from pathlib import Path

from governance.errors import InputError


def read_pyproject(root: Path) -> dict[str, object] | None:
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    from governance.inputs import parse_toml, read_input, reading

    text = read_input(path, "pyproject.toml", 16 * 1024 * 1024)
    with reading(path, "pyproject.toml"):
        return parse_toml(text, path)


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
            if isinstance(version, str):
                # The SBOM's root component: a version no release has (5,000 digits) would fail
                # the schema after the whole scan, as an internal error.
                from governance.collect.declared import check_version_text

                try:
                    check_version_text(version, "pyproject.toml")
                except InputError as exc:
                    raise InputError(exc.message, file=root / "pyproject.toml",
                                     line=_key_line(root / "pyproject.toml", "version")) from None
            return table["name"], version if isinstance(version, str) else None
    return root.resolve().name, None


def _key_line(path: Path, key: str) -> int | None:
    """The first line that sets `key` (for an error message; the file was read once already)."""
    import re

    from governance.inputs import read_input

    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(read_input(path, "pyproject.toml", 16 * 1024 * 1024).splitlines(), 1):
        if pattern.match(line):
            return number
    return None
