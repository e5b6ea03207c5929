"""The key-line scanner: every key path of a valid TOML document maps to its line."""

from __future__ import annotations

import tomllib

import pytest

from governance.policy.positions import dotted, key_lines, line_of

DOC = '''\
schema = 1
extends = [
  "baseline",  # a comment with = and [brackets]
  '../org/base.toml',
]
a.b."c.d" = { e = 1, f = [1, { g = 2 }] }
text = """
[not.a.table]
key = \\""" still text"""
[[waivers]]
id = "A"
[[waivers]]
id = "B"
[waivers.sub]
k = 1
[stages.production.rules]
PIN001 = 'error' # trailing
"GPU*" = "warning"
[ stages . prototype ]
pins = { require_hashes = true }
'''


@pytest.mark.parametrize(("path", "line"), [
    (("schema",), 1),
    (("extends",), 2),
    (("extends", 0), 3),
    (("extends", 1), 4),
    (("a", "b", "c.d"), 6),
    (("a", "b", "c.d", "f", 1, "g"), 6),
    (("text",), 7),
    (("waivers", 0), 10),
    (("waivers", 0, "id"), 11),
    (("waivers", 1, "id"), 13),
    (("waivers", 1, "sub", "k"), 15),
    (("stages", "production", "rules"), 16),
    (("stages", "production", "rules", "PIN001"), 17),
    (("stages", "production", "rules", "GPU*"), 18),
    (("stages", "prototype"), 19),
    (("stages", "prototype", "pins", "require_hashes"), 20),
])
def test_lines(path: tuple[str | int, ...], line: int) -> None:
    tomllib.loads(DOC)  # the scanner's contract: documents tomllib accepts
    assert key_lines(DOC)[path] == line


def test_no_key_inside_multiline_string() -> None:
    assert ("not",) not in key_lines(DOC)
    assert ("key",) not in key_lines(DOC)


def test_every_parsed_key_has_a_line() -> None:
    def paths(value: object, prefix: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
        out = [prefix] if prefix else []
        if isinstance(value, dict):
            for k, v in value.items():
                out += paths(v, prefix + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                out += paths(v, prefix + (i,))
        return out

    lines = key_lines(DOC)
    missing = [p for p in paths(tomllib.loads(DOC), ()) if p not in lines]
    assert missing == []


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    lines = key_lines(DOC)
    assert line_of(lines, ("waivers", 1, "owner")) == 12
    assert line_of(lines, ("nowhere",)) is None


@pytest.mark.parametrize(("path", "text"), [
    (("stages", "production", "rules", "PIN001"), "stages.production.rules.PIN001"),
    (("waivers", 2, "reason"), "waivers[2].reason"),
    (("rules", "GPU*"), 'rules."GPU*"'),
])
def test_dotted(path: tuple[str | int, ...], text: str) -> None:
    assert dotted(path) == text
