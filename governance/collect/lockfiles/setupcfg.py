"""setup.cfg as a manifest: setuptools' declarative `[options] install_requires`
and `[options.extras_require]`, read as setuptools itself reads them
(setuptools/config/setupcfg.py), never by running anything:

- configparser, option names kept as written;
- a value spanning lines holds one requirement per line; a value on one line
  is split at semicolons (setuptools' "list-semi"), so `test = hocr-spec; pytest`
  is two requirements (a marker must be written on its own line in a
  multi-line value, as setuptools documents);
- lines starting with `#` are comments;
- `file: requirements.txt` reads that file, inside the project, the same way.

A setup.cfg that declares neither (only flake8 or metadata settings) is not a
dependency input: `matches` looks at the content.
"""

from __future__ import annotations

import re
from pathlib import Path

from governance.collect.declared import Declaration, exact_version
from governance.collect.lockfiles import LockResult
from governance.collect.lockfiles import _common as c
from governance.collect.lockfiles._declare import locked
from governance.collect.selection import DEFAULT, Selection
from governance.inputs import head
from governance.model import Source

# A manifest: it declares, a lock beside it decides; read whatever --lock chooses (lockfiles.choice).
MANIFEST = True
NAMES = ("setup.cfg",)

_DECLARES = re.compile(r"(?m)^\s*(?:install_requires\s*=|\[options\.extras_require\])")
_HEAD_BYTES = 256 * 1024


def matches(path: Path) -> bool:
    if path.name != "setup.cfg":
        return False
    text = head(path, _HEAD_BYTES)
    return text is None or bool(_DECLARES.search(text))  # unopenable: the reader then says why


def _items(value: str) -> list[str]:
    chunks = value.splitlines() if "\n" in value else value.split(";")
    return [chunk.strip() for chunk in chunks if chunk.strip() and not chunk.strip().startswith("#")]


def _requirements(value: str, root: Path, shown: str) -> list[tuple[str, str, str]]:
    """(requirement, file it is written in, that file's text) for one option's value."""
    value = value.strip()
    if not value.startswith("file:"):
        return [(item, shown, "") for item in _items(value)]
    out: list[tuple[str, str, str]] = []
    for name in (part.strip() for part in value[len("file:"):].split(",") if part.strip()):
        path = root / name
        named = c.relative(path, root)
        text = c.read_text(path, named)  # the guarded reader refuses links out of the project
        out.extend((item, named, text) for item in _items(text))
    return out


def read(path: Path, root: Path, markers: dict[str, str], selection: Selection = DEFAULT) -> LockResult:
    import configparser  # here, not at the top: a scan without a setup.cfg does not pay for it

    from packaging.requirements import InvalidRequirement, Requirement

    shown = c.relative(path, root)
    text = c.read_text(path, shown)
    # As setuptools: the default (%-interpolating) parser, names as written. A `%` that is not `%%`
    # fails setuptools too, but only in the options read here does it stop this reader.
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    wanted = set(selection.extras)
    lists: list[tuple[str | None, str]] = []
    try:
        parser.read_string(text, source=shown)
        if parser.has_option("options", "install_requires"):
            lists.append((None, parser.get("options", "install_requires")))
        if parser.has_section("options.extras_require"):
            lists.extend((extra, parser.get("options.extras_require", extra))
                         for extra in parser.options("options.extras_require"))
    except configparser.MissingSectionHeaderError as exc:
        # A subclass of ParsingError without its `errors` (an AttributeError when read as one).
        raise c.fail("invalid setup.cfg: a line before the first [section] header", shown, exc.lineno) from None
    except configparser.ParsingError as exc:
        line, content = exc.errors[0] if exc.errors else (None, "")
        # configparser keeps the line as its repr: quoted, escapes shown
        raise c.fail(f"invalid setup.cfg: cannot parse the line {content}", shown, line) from None
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        raise c.fail(f"invalid setup.cfg: {str(exc).splitlines()[0]}", shown, line) from None
    declarations: list[Declaration] = []
    also_read: list[str] = []
    for extra, value in lists:
        for requirement, written_in, written in _requirements(value, path.parent, shown):
            if written_in != shown and written_in not in also_read:
                also_read.append(written_in)  # a `file:` list: read, so never "not read" (COV002)
            line = c.line_of(written or text, requirement)
            try:
                parsed = Requirement(requirement)
            except InvalidRequirement as exc:
                raise c.fail(f"invalid requirement {requirement!r}: {str(exc).splitlines()[0]}",
                             written_in, line) from None
            marker = str(parsed.marker) if parsed.marker else None
            specifier = str(parsed.specifier)
            declarations.append(locked(
                parsed.name, exact_version(specifier), written_in, line, markers=marker,
                group=extra or "main", source=Source(kind="url", url=parsed.url) if parsed.url else None,
                kind="manifest", specifier=specifier, extras=tuple(sorted(parsed.extras)),
                applies=c.applies(marker, markers, written_in, line) and (extra is None or extra in wanted),
            ))
    return LockResult(file=shown, declarations=declarations, also_read=also_read)
