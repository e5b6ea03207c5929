"""A rule's catalogue entry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str  # stable: SARIF, JUnit, waivers and docs use it
    family: str
    level: str  # default level: "error" | "warning" | "note"
    description: str  # one line
    help: str  # what to do about it, for SARIF's help text and the docs
