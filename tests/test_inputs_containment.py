"""Containment with folder resolution cached per scan: links and '..' still cannot lead outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.errors import InputError
from governance.inputs import confined, read_input_bytes


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.txt").write_text("ok")
    (tmp_path / "outside.txt").write_text("secret")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    (root / "dirlink").symlink_to(tmp_path / "elsewhere")
    return root


@pytest.mark.parametrize("relative", ["link.txt", "dirlink/x.txt", "sub/../../outside.txt", ".."])
def test_paths_that_leave_the_scanned_folder_are_refused(tree: Path, relative: str) -> None:
    with confined(tree):
        assert read_input_bytes(tree / "sub" / "ok.txt") == b"ok"  # fills the folder cache
        with pytest.raises(InputError, match="outside the scanned folders"):
            read_input_bytes(tree / relative)


def test_a_folder_replaced_by_a_link_in_a_later_scan_is_seen(tree: Path, tmp_path: Path) -> None:
    with confined(tree):
        assert read_input_bytes(tree / "sub" / "ok.txt") == b"ok"
    (tree / "sub" / "ok.txt").unlink()
    (tree / "sub").rmdir()
    (tree / "sub").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "ok.txt").write_text("secret")
    with confined(tree), pytest.raises(InputError, match="outside the scanned folders"):
        read_input_bytes(tree / "sub" / "ok.txt")
