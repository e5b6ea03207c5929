"""The guarded reader's cached resolution of folders gives realpath's answer, links at any level."""

from __future__ import annotations

import os
from pathlib import Path

from governance.inputs import _real_file, confined


def tree(root: Path) -> list[str]:
    """Files reached through plain folders, folder links (absolute and relative, chained), file links,
    `..` and `.` components, and relative paths."""
    (root / "real" / "site" / "pkg.dist-info").mkdir(parents=True)
    (root / "real" / "site" / "pkg.dist-info" / "METADATA").write_text("Name: pkg\n")
    (root / "elsewhere" / "deep").mkdir(parents=True)
    (root / "elsewhere" / "deep" / "secret").write_text("x")
    (root / "venv").symlink_to(root / "real")  # an absolute folder link
    (root / "real" / "site" / "link.dist-info").symlink_to("../../elsewhere/deep")  # a relative one
    (root / "chain").symlink_to("venv")  # a link to a link
    (root / "real" / "site" / "pkg.dist-info" / "INSTALLER").symlink_to(root / "elsewhere" / "deep" / "secret")
    paths = ["real/site/pkg.dist-info/METADATA", "venv/site/pkg.dist-info/METADATA",
             "chain/site/pkg.dist-info/METADATA", "venv/site/link.dist-info/secret",
             "real/site/pkg.dist-info/INSTALLER", "real/site/../site/pkg.dist-info/METADATA",
             "real/./site/pkg.dist-info/METADATA", "venv/site/pkg.dist-info/missing",
             "venv/missing-folder/file", "real/site/link.dist-info/../deep/secret"]
    return [str(root / p) for p in paths] + paths


def test_cached_resolution_is_realpath(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    paths = tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    with confined(tmp_path):
        for _ in range(2):  # a second time from the cache
            for path in paths:
                assert _real_file(path) == os.path.realpath(path), path


def test_a_folder_turned_into_a_link_is_seen_in_the_next_block(tmp_path: Path) -> None:
    paths = tree(tmp_path)
    target = str(tmp_path / "real" / "site" / "pkg.dist-info" / "METADATA")
    with confined(tmp_path):
        assert _real_file(target) == target
    os.rename(tmp_path / "real" / "site" / "pkg.dist-info", tmp_path / "moved")
    (tmp_path / "real" / "site" / "pkg.dist-info").symlink_to(tmp_path / "moved")
    with confined(tmp_path):
        assert _real_file(target) == str(tmp_path / "moved" / "METADATA") == os.path.realpath(target)
    assert paths
