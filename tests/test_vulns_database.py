from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from governance.errors import InputError
from governance.vulns import cache, database
from tests.osv_helpers import advisory, write_zip

ADVISORIES = [advisory("PYSEC-1", package="alpha", versions=["1.0"]),
              advisory("PYSEC-2", package="beta", ranges=[[{"introduced": "0"}, {"fixed": "2.0"}]]),
              advisory("PYSEC-3", package="alpha", versions=["1.0"], withdrawn="2024-01-01T00:00:00Z")]


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV, str(home))
    return home


def test_zip_and_folder_give_the_same_records(tmp_path: Path) -> None:
    folder = tmp_path / "osv"
    (folder / "nested").mkdir(parents=True)
    for item in ADVISORIES:
        (folder / "nested" / f"{item['id']}.json").write_text(json.dumps(item))
    from_zip = database.load(write_zip(tmp_path / "all.zip", ADVISORIES))
    from_folder = database.load(folder)
    assert from_zip.all_records() == from_folder.all_records()
    assert [r["id"] for r in from_zip.all_records()] == ["PYSEC-1", "PYSEC-2"]  # withdrawn skipped
    assert sorted(from_zip.lookup(["alpha", "beta", "gamma"])) == ["alpha", "beta"]
    assert from_zip.lookup(["alpha"]) == from_folder.lookup(["alpha"]) and from_zip.label == "osv-db:all.zip"


def test_second_load_comes_from_the_cache_and_a_changed_zip_is_reindexed(tmp_path: Path, cache_home: Path) -> None:
    path = write_zip(tmp_path / "all.zip", ADVISORIES)
    first = database.load(path)
    second = database.load(path)
    assert not first.from_cache and second.from_cache and second.all_records() == first.all_records()
    assert len(list((cache_home / "osv-index").glob("index-*"))) == 1
    write_zip(path, ADVISORIES + [advisory("PYSEC-4", package="gamma", versions=["3"])])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime does not matter: the key is the content
    third = database.load(path)
    assert not third.from_cache and "gamma" in third.lookup(["gamma"])


def test_a_damaged_cache_is_ignored_and_rebuilt(tmp_path: Path, cache_home: Path) -> None:
    path = write_zip(tmp_path / "all.zip", ADVISORIES)
    database.load(path)
    (index,) = (cache_home / "osv-index").glob("index-*")
    intact = index.read_bytes()
    other = database.load(write_zip(tmp_path / "other.zip", ADVISORIES[:1]))  # an index of another zip
    (foreign,) = [p for p in (cache_home / "osv-index").glob("index-*") if p != index]
    for damage in (b"{not sqlite", intact[: len(intact) // 2], foreign.read_bytes()):
        index.write_bytes(damage)
        again = database.load(path)
        assert not again.from_cache and [r["id"] for r in again.all_records()] == ["PYSEC-1", "PYSEC-2"]
        assert sorted(again.lookup(["alpha", "beta"])) == ["alpha", "beta"]
    assert other.from_cache is False


def test_an_index_pointing_at_the_wrong_bytes_is_rebuilt(tmp_path: Path, cache_home: Path) -> None:
    import sqlite3

    path = write_zip(tmp_path / "all.zip", ADVISORIES)
    database.load(path)
    (index,) = (cache_home / "osv-index").glob("index-*")
    with sqlite3.connect(index) as connection:
        connection.execute("UPDATE member SET offset = offset + 3")
    connection.close()
    again = database.load(path)
    assert again.from_cache
    assert [r["id"] for r in again.lookup(["alpha"])["alpha"]] == ["PYSEC-1"] and not again.from_cache


def test_an_unwritable_cache_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv(cache.ENV, str(blocker / "mlgov"))
    notes: list[str] = []
    loaded = database.load(write_zip(tmp_path / "all.zip", ADVISORIES), notes.append)
    assert len(loaded.all_records()) == 2 and any("not writable" in n for n in notes)


def test_cache_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "mlgov"


def test_member_names_are_never_paths(tmp_path: Path) -> None:
    evil = {"../../escape.json": json.dumps(advisory("PYSEC-9", package="alpha", versions=["1"])).encode(),
            "/abs/path.json": json.dumps(advisory("PYSEC-8", package="alpha", versions=["1"])).encode(),
            "README.txt": b"not an advisory"}
    loaded = database.load(write_zip(tmp_path / "all.zip", [], extra=evil))
    assert sorted(r["id"] for r in loaded.all_records()) == ["PYSEC-8", "PYSEC-9"]
    assert not (tmp_path.parent / "escape.json").exists() and not Path("/abs/path.json").exists()


def test_invalid_member_names_the_zip_and_member(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "all.zip", ADVISORIES, extra={"BROKEN.json": b"{\"id\": "})
    with pytest.raises(InputError, match=r"all\.zip:BROKEN\.json"):
        database.load(path)


@pytest.mark.parametrize("content", [b"[]", b"{\"no\": \"id\"}", b"[" * 100000])
def test_members_that_are_not_advisories(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(InputError, match="X.json"):
        database.load(write_zip(tmp_path / "all.zip", [], extra={"X.json": content}))


def test_member_size_is_bounded_even_when_the_header_lies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "MAX_MEMBER_BYTES", 1000)
    big = json.dumps(advisory("PYSEC-7", package="alpha", versions=[str(i) for i in range(500)])).encode()
    with pytest.raises(InputError, match="over the 1000-byte limit"):
        database.load(write_zip(tmp_path / "all.zip", [], extra={"big.json": big}))


def test_member_count_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "MAX_MEMBERS", 2)
    with pytest.raises(InputError, match="3 members, over the limit of 2"):
        database.load(write_zip(tmp_path / "all.zip", ADVISORIES))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.zip", None, "no such vulnerability database"),
    ("junk.zip", b"PK\x03\x04 not really", "not a zip file"),
])
def test_unusable_database(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        database.load(path)


def test_real_database_indexes(shared_dir: Path) -> None:
    loaded = database.load(shared_dir / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip", use_cache=False)
    # 2,661 advisories, 10 of them withdrawn
    assert len(loaded.all_records()) == 2651
    found = loaded.lookup(["tensorflow", "pillow"])
    assert len(found["tensorflow"]) == 242 and len(found["pillow"]) == 51
    ids = {r["id"] for r in loaded.all_records()}
    with zipfile.ZipFile(shared_dir / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip") as archive:
        withdrawn = {json.loads(archive.read(n))["id"] for n in archive.namelist()
                     if json.loads(archive.read(n)).get("withdrawn")}
    assert len(withdrawn) == 10 and not ids & withdrawn


def test_nested_member_names_are_read() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/b/c.json", json.dumps(advisory("PYSEC-5", package="x", versions=["1"])))
    assert [r["id"] for r in database.zip_records(buffer.getvalue(), "mem.zip")] == ["PYSEC-5"]


@pytest.mark.parametrize(("content", "message", "line"), [
    (b'{"id": "X-1",\n "affected": [', "invalid JSON in an advisory", 2),
    (b'[1, 2]', "not an OSV advisory", None),
])
def test_a_broken_advisory_in_a_folder_says_what_is_wrong_at_its_line(tmp_path: Path, content: bytes, message: str,
                                                                       line: int | None) -> None:
    # Both were "unexpected content (JSONDecodeError); ... report this as an mlgov bug": the guard
    # around the parse caught them before the handler that names them.
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "X-1.json").write_bytes(content)
    with pytest.raises(InputError, match=message) as raised:
        list(database.folder_records(tmp_path / "osv"))
    assert raised.value.line == line and "X-1.json" in str(raised.value) and "report this" not in str(raised.value)


def test_an_advisory_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "X-1.json").write_bytes(b'{"id": "X-1",\n"summary": "caf\xe9"}')
    with pytest.raises(InputError, match="not UTF-8") as raised:
        list(database.folder_records(tmp_path / "osv"))
    assert raised.value.line == 2 and "X-1.json" in str(raised.value)


def test_a_zip_member_whose_affected_is_no_array_is_named(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "all.zip", [], extra={"X-1.json": b'{"id": "X-1", "affected": 5}'})
    with pytest.raises(InputError, match=r"all\.zip:X-1\.json: advisory: `affected` is a int"):
        database.load(path, use_cache=False)
