"""TOML for every reader: lockfiles, pyproject.toml, policies, configuration, knowledge.

tomli rather than the standard library's tomllib, which is a copy of it:
- tomli's wheels are compiled with mypyc: a 100 KB uv.lock parses in 7 ms
  instead of tomllib's 20 ms (pure-Python wheels elsewhere behave as tomllib);
- since 2.3.1 it refuses a key of over 1,000 dotted parts, which tomllib (3.11
  to 3.14) parses in quadratic time: a one-line 60 KB key of 20,000 parts takes
  8 s, so a hostile pyproject.toml in a pull request could stall the gate.
tomli 2.4 and later read TOML 1.1 (what tomllib reads from Python 3.15): a
file only TOML 1.1 allows is read, not refused.
"""

from __future__ import annotations

import re
from typing import Any

import tomli

__all__ = ["TOMLError", "load_bytes", "loads"]


class TOMLError(ValueError):
    """A document that is not TOML, with the 1-based line the parser points at (None when it gives none)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def loads(text: str) -> dict[str, Any]:
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise TOMLError(str(exc), _line(str(exc), text)) from None
    except RecursionError as exc:
        # tomli refuses inline arrays and tables nested over 400 levels and keys of over 1,000
        # parts with a RecursionError of its own; a deeper stack than the interpreter's ends here too.
        said = str(exc)
        raise TOMLError(said if "allowed" in said else "nested too deeply", None) from None


def _line(message: str, text: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    if match:
        return int(match.group(1))
    if "end of document" in message:
        return text.count("\n") + (0 if text.endswith("\n") else 1)
    return None


def load_bytes(data: bytes) -> dict[str, Any]:
    """A TOML file's bytes, decoded as UTF-8 (what TOML requires)."""
    return loads(data.decode("utf-8"))
