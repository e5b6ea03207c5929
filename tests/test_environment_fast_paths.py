"""Shortcuts in reading an installed environment give the answers of the slow way they replace.

Reading a 300-distribution environment walks every RECORD and every Requires-Dist line; the
shortcuts (RECORD counted without the csv module when it has no quotes, a marker's verdict
cached per environment) are held here to csv and to packaging's own Requirement and Marker.
"""

from __future__ import annotations

import csv
import io
import site
import sysconfig
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from governance.collect.environment import _count_record, _quick_name, _requires, parse_metadata

_PIECES = ["a/b.py", ",", "sha256=x", "12", "\n", "\r\n", "\r", '"', '"a,b"', " ", "\x00", "\u2028", "\x0c",
           "é", ",,", "\n\n"]


def csv_count(text: str) -> object:
    try:
        return sum(1 for row in csv.reader(io.StringIO(text)) if row and row[0])
    except csv.Error as exc:
        return type(exc)


def ours(text: str) -> object:
    try:
        return _count_record(text)
    except csv.Error as exc:
        return type(exc)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_record_rows_are_counted_as_csv_counts_them(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert ours(text) == csv_count(text)


def test_real_records_are_counted_as_csv_counts_them() -> None:
    records = [p for folder in _site_folders() for p in sorted(folder.glob("*.dist-info/RECORD"))]
    assert len(records) > 20
    for path in records:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert ours(text) == csv_count(text), path


def reference_requires(lines: list[str], markers: dict[str, str]) -> tuple[str, ...]:
    """_requires as it was before its markers' verdicts were cached: each marker evaluated on its own."""
    names = set()
    for line in lines:
        head, _, marker_text = line.partition(";")
        quick = _quick_name(head)
        if quick is not None:
            name = quick
            marker = Marker(marker_text.strip()) if marker_text.strip() and _parses(marker_text.strip()) else None
            if marker_text.strip() and marker is None:
                continue
        else:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            name, marker = requirement.name, requirement.marker
        if marker is not None:
            try:
                if not marker.evaluate({**markers, "extra": ""}):
                    continue
            except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker):
                continue
        names.add(canonicalize_name(name))
    return tuple(sorted(names))


def _parses(text: str) -> bool:
    try:
        Marker(text)
    except InvalidMarker:
        return False
    return True


ENVIRONMENTS = [
    {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux", "platform_system": "Linux",
     "platform_machine": "x86_64", "os_name": "posix", "implementation_name": "cpython",
     "platform_python_implementation": "CPython", "implementation_version": "3.11.7", "platform_release": "6.1",
     "platform_version": "#1", "extra": ""},
    {"python_version": "3.9", "python_full_version": "3.9.18", "sys_platform": "win32", "platform_system": "Windows",
     "platform_machine": "AMD64", "os_name": "nt", "implementation_name": "cpython",
     "platform_python_implementation": "CPython", "implementation_version": "3.9.18", "platform_release": "10",
     "platform_version": "10.0", "extra": ""},
]


def test_requires_dist_of_real_distributions_as_packaging_reads_them() -> None:
    lines = []
    for folder in _site_folders():
        for path in sorted(folder.glob("*.dist-info/METADATA")):
            headers, _ = parse_metadata(path.read_text(encoding="utf-8", errors="replace"))
            lines.extend(headers.get("requires-dist", []))
    lines += ['a ; python_version < "3.10"', 'b; sys_platform == "win32" and extra == "x"', "c ; bogus marker",
              'd ; platform_machine == "x86_64" or os_name == "nt"', "e[x] >=1 ; python_version >= '3'",
              "f @ https://example.org/f.whl ; os_name == 'posix'", 'g ; extra == ""', "h;", "Foo_Bar.baz"]
    assert len(lines) > 50
    for markers in ENVIRONMENTS:
        for line in lines:  # one by one (the cache sees each marker under both environments), then all together
            assert _requires([line], markers) == reference_requires([line], markers), line
        assert _requires(lines, markers) == reference_requires(lines, markers)
    # the two environments do judge some of these lines differently
    assert reference_requires(lines, ENVIRONMENTS[0]) != reference_requires(lines, ENVIRONMENTS[1])


def _site_folders() -> list[Path]:
    return sorted({Path(p) for p in (*site.getsitepackages(), sysconfig.get_path("purelib")) if Path(p).is_dir()})


def test_marker_texts_are_those_packaging_parses() -> None:
    # a marker the quick path cannot parse is dropped, as packaging's Requirement drops the line
    for text in ['python_version < "3.10"', "bogus marker", 'extra == "x" and']:
        try:
            Marker(text)
            parses = True
        except InvalidMarker:
            parses = False
        assert bool(_requires([f"x ; {text}"], ENVIRONMENTS[0])) == (
            parses and Marker(text).evaluate({**ENVIRONMENTS[0], "extra": ""}))
