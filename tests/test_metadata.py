"""Installed core metadata is read exactly as pip and importlib.metadata read it (email.parser, compat32)."""

from __future__ import annotations

import email.parser
import email.policy
import shutil
from pathlib import Path

import pytest

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
