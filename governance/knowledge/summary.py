"""Which knowledge a verdict rests on: a version for the shipped facts and each table's newest entry.

Read generically from every TOML file beside this module, so a table added or
reshaped by a knowledge refresh shows up without a change here: a row's
`version` or `series` (a string or a list), or the lower bounds of its
`versions` specifier, are its versions.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version
from governance import tomlparse
from governance.frozen import frozen

_HERE = Path(__file__).resolve().parent
_LOWER_BOUND = re.compile(r"(?:>=|==|~=|>)\s*([0-9][0-9A-Za-z.+!-]*)")


@frozen
class Knowledge:
    """The knowledge base's version and its newest entries."""
    version: str  # "<mlgov version>+<12 hex of sha256 over the knowledge files>"
    newest_entries: dict[str, str]  # table -> its newest version ("torch": "2.11", "toolkit": "13.2.2")


def _versions(row: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("version", "series"):
        value = row.get(key)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    spec = row.get("versions")
    if isinstance(spec, str):
        found.extend(_LOWER_BOUND.findall(spec))
    return found


def _newest(values: list[str]) -> str | None:
    parsed: list[tuple[Version, str]] = []
    for value in values:
        try:
            parsed.append((Version(value), value))
        except InvalidVersion:
            continue
    return max(parsed)[1] if parsed else None


@lru_cache(maxsize=1)
def summary() -> Knowledge:
    from governance import __version__

    digest = hashlib.sha256()
    newest: dict[str, str] = {}
    for path in sorted(_HERE.glob("*.toml")):
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        for table, rows in tomlparse.load_bytes(data).items():
            if not isinstance(rows, list):
                continue
            found = _newest([v for row in rows if isinstance(row, dict) for v in _versions(row)])
            if found is not None:
                newest[table] = found
    return Knowledge(version=f"{__version__}+{digest.hexdigest()[:12]}", newest_entries=dict(sorted(newest.items())))
