"""Installed core metadata is read exactly as pip and importlib.metadata read it (email.parser, compat32)."""

from __future__ import annotations

import email.parser
import email.policy
import shutil
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.collect.environment import parse_metadata, read_distribution

DATA = Path(__file__).resolve().parent / "data" / "metadata"


@pytest.mark.parametrize("name", ["scipy-1.14.1", "tqdm-4.67.1"])
def test_headers_are_those_email_parser_gives(name: str) -> None:
    text = (DATA / f"{name}.METADATA").read_text()
    message = email.parser.Parser(policy=email.policy.compat32).parsestr(text)
    headers, _ = parse_metadata(text)
    for key in {k.lower() for k in message.keys()}:
        assert headers[key] == message.get_all(key), key


def _dist(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / f"{name}.dist-info"
    folder.mkdir()
    shutil.copy(DATA / f"{name}.METADATA", folder / "METADATA")
    return folder


def test_scipy_multi_line_license_keeps_requires_dist_and_classifiers(tmp_path: Path) -> None:
    package = read_distribution(_dist(tmp_path, "scipy-1.14.1"), {"python_version": "3.11", "sys_platform": "linux"})
    assert package is not None
    assert "numpy" in package.requires  # the scipy -> numpy edge
    assert package.license_expression == "BSD-3-Clause"  # from the classifiers, after the folded License


def test_tqdm_spdx_license_field_is_accepted(tmp_path: Path) -> None:
    package = read_distribution(_dist(tmp_path, "tqdm-4.67.1"), {"python_version": "3.11", "sys_platform": "linux"})
    assert package is not None
    assert package.license_expression == "MPL-2.0 AND MIT" and package.license_text is None


def test_prose_and_names_in_license_are_not_taken_for_spdx() -> None:
    from governance.collect.licenses import license_from_metadata

    assert license_from_metadata(None, "Proprietary", []) == (None, "Proprietary")
    assert license_from_metadata(None, "FooBar-1.0 AND MIT", [])[0] is None  # an unknown id
    assert license_from_metadata(None, "Copyright (c) 2001 Someone", [])[0] is None


# parse_metadata walks the headers as email.feedparser does, without the email package: held here
# to email.parser's own answer (headers and body) on real files and on generated text.


def email_parser(text: str) -> tuple[dict[str, list[str]], str]:
    message = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    headers: dict[str, list[str]] = {}
    for key, value in message.items():
        headers.setdefault(key.lower(), []).append(str(value))
    payload = message.get_payload()
    return headers, payload if isinstance(payload, str) else ""


def real_metadata() -> list[Path]:
    """The test data, and every METADATA / PKG-INFO installed beside the running interpreter."""
    import site
    import sysconfig

    folders = {Path(p) for p in (*site.getsitepackages(), sysconfig.get_path("purelib")) if Path(p).is_dir()}
    files = sorted(DATA.glob("*.METADATA"))
    for folder in sorted(folders):
        files += sorted(folder.glob("*.dist-info/METADATA")) + sorted(folder.glob("*.egg-info/PKG-INFO"))
    return files


def test_real_metadata_files_parse_as_email_parser_parses_them() -> None:
    files = real_metadata()
    assert len(files) > 20  # the test extra installs dozens of distributions
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert parse_metadata(text) == email_parser(text), path


EDGES = [
    "", "\n", "Name: a\n", "Name: a", "Name: a\r\nVersion: 1\r\n\r\nbody\r\n", "Name: a\rVersion: 1\r\rbody",
    "Name: a\n\n", "Name: a\nbody without separator\nmore\n", "From someone\nName: a\n\nbody",
    "Name: a\nFrom someone\n\nbody", "Name: a\nFrom x\nVersion: 1\n", "Name: a\nFrom x", " lead\nName: a\n",
    ": no name\n x\nName: a\n", "License: line one\n   \n        \n    more\nRequires-Dist: numpy\n\nbody",
    "Name: a\n\tfolded\n  again\nVersion: 1\n", "Name:\n", "Name:   \t x  \n", "Name: a\x0cb\n\x85c\n\u2028d\n",
    "Name: é\nSummary: ü\n\nkörper", "Name: a\n\n\n\nbody\n\n", "Name : spaced\n", "Na me: x\n",
    "Name: a\r\n\tfolded\r\nVersion: 1\r\n", "Name: a\n\r\nbody", "Name: a\r\n\rbody", "From \n",
]


@pytest.mark.parametrize("text", EDGES)
def test_edge_cases_parse_as_email_parser_parses_them(text: str) -> None:
    assert parse_metadata(text) == email_parser(text)


_PIECES = ["Name", "Version", "License", "From", "From ", ":", ": ", " ", "\t", "\r", "\n", "\r\n", "x", "é",
           "\x0c", "\x85", "\u2028", "Requires-Dist: a ; extra == 'b'", "\n\n", "Na me", "\ud800"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_generated_text_parses_as_email_parser_parses_it(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert outcome(parse_metadata, text) == outcome(email_parser, text)


def outcome(parse: Callable[[str], object], text: str) -> object:
    # email.message fails on a lone surrogate in the body; whatever it does, the same must happen
    try:
        return parse(text)
    except Exception as exc:  # noqa: BLE001
        return type(exc)
