"""Errors that end a command with a clear one-line message.

DESIGN.md's exit codes: 2 for bad usage or input, 3 for an internal error.
Collectors and the policy loader raise InputError with the file and line; the
CLI turns it into "file:line: message" and exit 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class MlgovError(Exception):
    """Base of the errors mlgov reports itself."""

    exit_code = 3


class InputError(MlgovError):
    """A file or argument the user gave cannot be used."""

    exit_code = 2

    def __init__(self, message: str, file: str | Path | None = None,
                 line: int | None = None, key: str | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class PolicyError(InputError):
    """A policy file that does not parse or does not validate."""


class NetworkError(MlgovError):
    """An online service that was asked for could not be reached."""

    exit_code = 2
