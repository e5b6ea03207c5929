from __future__ import annotations

import pytest

from governance.model import Package
from governance.vulns import osv
from governance.vulns.match import match, merge, upgrade_hint
from governance.model import Vulnerability
from tests.osv_helpers import advisory


def record(**kwargs):
    return osv.normalise(advisory("OSV-1", **kwargs))


# Each case: the events of one range, versions in it, versions outside it.
RANGES = [
    pytest.param([{"introduced": "0"}, {"fixed": "1.2"}], ["0.1", "1.0", "1.1.9", "1.2rc1"], ["1.2", "1.2.1", "2"],
                 id="introduced-0-fixed"),
    pytest.param([{"introduced": "1.0"}, {"fixed": "1.5"}], ["1.0", "1.4.99"], ["0.9", "1.0rc1", "1.5", "1.6"],
                 id="introduced-fixed"),
    pytest.param([{"introduced": "1.0"}, {"last_affected": "1.5"}], ["1.0", "1.5"], ["0.9", "1.5.1", "1.6"],
                 id="last-affected-inclusive"),
    pytest.param([{"introduced": "1.0"}], ["1.0", "99"], ["0.9"], id="introduced-open-ended"),
    pytest.param([{"introduced": "0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"fixed": "2.3"}],
                 ["1.1", "2.0", "2.2.9"], ["1.2", "1.9", "2.3", "3.0"], id="two-intervals"),
    pytest.param([{"introduced": "2.0"}, {"fixed": "2.3"}, {"introduced": "0"}, {"fixed": "1.2"}],
                 ["1.1", "2.2"], ["1.5", "2.3"], id="events-out-of-order"),
    pytest.param([{"introduced": "0"}, {"limit": "2.0"}], ["1.9"], ["2.0", "3.0"], id="limit"),
    pytest.param([{"introduced": "0"}, {"limit": "*"}], ["1.9", "3.0"], [], id="limit-star"),
    pytest.param([{"introduced": "1.0"}, {"fixed": "1.0"}], [], ["0.9", "1.0", "1.1"], id="empty-interval"),
    pytest.param([{"introduced": "1.0"}, {"fixed": "not a version"}], ["1.0", "5"], ["0.9"],
                 id="unparsable-event-ignored"),
]


@pytest.mark.parametrize(("events", "inside", "outside"), RANGES)
def test_range_events(events, inside, outside) -> None:
    rec = record(ranges=[events])
    for version in inside:
        assert osv.affects(rec, "demo", version), version
    for version in outside:
        assert not osv.affects(rec, "demo", version), version


def test_ranges_of_one_entry_are_a_union() -> None:
    rec = record(ranges=[[{"introduced": "0"}, {"fixed": "1.0"}], [{"introduced": "3.0"}, {"fixed": "3.1"}]])
    assert [v for v in ("0.5", "1.0", "2.0", "3.0", "3.1") if osv.affects(rec, "demo", v)] == ["0.5", "3.0"]


def test_versions_list_alone() -> None:
    rec = record(versions=["1.0", "1.1"])
    assert osv.affects(rec, "demo", "1.1") and osv.affects(rec, "demo", "1.1.0")  # PEP 440 equality
    assert not osv.affects(rec, "demo", "1.2")


@pytest.mark.parametrize(("version", "hit"), [("2.5.1+cu124", True), ("2.5.1+cpu", True), ("2.5.2+cu124", False),
                                              ("2.5.1", True)])
def test_local_version_is_its_public_version(version: str, hit: bool) -> None:
    by_range = record(ranges=[[{"introduced": "2.0"}, {"fixed": "2.5.2"}]])
    by_list = record(versions=["2.5.1"])
    assert osv.affects(by_range, "demo", version) is hit
    assert osv.affects(by_list, "demo", version) is (version.startswith("2.5.1"))


def test_git_ranges_are_ignored() -> None:
    data = advisory("OSV-2", ranges=[])
    data["affected"][0]["ranges"] = [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"},
                                                                                      {"fixed": "abc123"}]}]
    assert osv.normalise(data) is None  # nothing left to match against


def test_withdrawn_and_other_ecosystems_are_skipped() -> None:
    assert osv.normalise(advisory("OSV-3", versions=["1.0"], withdrawn="2024-02-01T00:00:00Z")) is None
    assert osv.normalise(advisory("OSV-4", versions=["1.0"], ecosystem="npm")) is None


@pytest.mark.parametrize("bad", [[], "x", {"affected": []}, {"id": ""}])
def test_not_an_advisory(bad) -> None:
    with pytest.raises(osv.InvalidAdvisory):
        osv.normalise(bad)


def test_names_are_pep503_normalised() -> None:
    rec = osv.normalise(advisory("OSV-5", package="Foo_Bar.baz", versions=["1.0"]))
    found = match([Package("foo-bar-baz", "1.0")], {"foo-bar-baz": [rec]}, "test")
    assert [v.package for v in found] == ["foo-bar-baz"]


def test_aliases_merge_into_one_vulnerability_with_the_preferred_id() -> None:
    records = [osv.normalise(advisory("PYSEC-2022-1", versions=["1.0"], aliases=["CVE-2022-9"])),
               osv.normalise(advisory("GHSA-aaaa-bbbb-cccc", versions=["1.0"], aliases=["CVE-2022-9"])),
               osv.normalise(advisory("PYSEC-2022-2", versions=["1.0"]))]
    found = match([Package("demo", "1.0")], {"demo": records}, "test")
    assert [(v.id, v.aliases) for v in found] == [("CVE-2022-9", ("GHSA-aaaa-bbbb-cccc", "PYSEC-2022-1")),
                                                  ("PYSEC-2022-2", ())]


def test_fix_versions_skip_a_fix_another_interval_still_affects() -> None:
    rec = record(ranges=[[{"introduced": "0"}, {"fixed": "1.2"}], [{"introduced": "1.1"}, {"fixed": "1.4"}]])
    found = match([Package("demo", "1.0")], {"demo": [rec]}, "test")
    assert found[0].fixed_versions == ("1.4",)
    assert upgrade_hint(found[0]) == "upgrade demo to 1.4"


def test_fix_versions_of_several_branches_lowest_first() -> None:
    rec = record(ranges=[[{"introduced": "0"}, {"fixed": "2.4.3"}, {"introduced": "2.5"}, {"fixed": "2.5.1"}]])
    found = match([Package("demo", "2.4.0")], {"demo": [rec]}, "test")
    assert found[0].fixed_versions == ("2.4.3", "2.5.1")


def test_no_fix_when_only_last_affected() -> None:
    rec = record(ranges=[[{"introduced": "0"}, {"last_affected": "3.0"}]])
    found = match([Package("demo", "2.0")], {"demo": [rec]}, "test")
    assert found[0].fixed_versions == () and upgrade_hint(found[0]) is None


def test_unpinned_and_unparsable_versions() -> None:
    rec = record(ranges=[[{"introduced": "0"}]], versions=["weird-1"])
    assert match([Package("demo", None)], {"demo": [rec]}, "t") == ()
    assert [v.version for v in match([Package("demo", "weird-1")], {"demo": [rec]}, "t")] == ["weird-1"]


def test_merge_joins_a_service_result_with_the_database_record() -> None:
    db = Vulnerability(id="CVE-1", package="demo", version="1.0", aliases=("PYSEC-1",), severity="high", score=7.5,
                       fixed_versions=("1.1",), source="osv-db:x.zip")
    online = Vulnerability(id="GHSA-x", package="demo", version="1.0", aliases=("PYSEC-1",), source="osv")
    (joined,) = merge([online, db])
    assert joined.id == "CVE-1" and joined.aliases == ("GHSA-x", "PYSEC-1")
    assert joined.severity == "high" and joined.fixed_versions == ("1.1",) and joined.source == "osv,osv-db:x.zip"


@pytest.mark.parametrize(("advisory", "what"), [
    ({"id": "X-1", "affected": 5}, "`affected` is a int"),
    ({"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": True}]},
     "`affected[].ranges` is a bool"),
    ({"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                                 "ranges": [{"type": "ECOSYSTEM", "events": "0"}]}]}, "events` is a str"),
    ({"id": "X-1", "references": {"url": "x"},
      "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": ["1.0"]}]}, "`references` is a dict"),
])
def test_an_array_of_another_type_is_an_invalid_advisory_not_a_crash(advisory: dict[str, object], what: str) -> None:
    # Each was a TypeError (iterating a number) inside the reader: "unexpected content, report this as a bug".
    from governance.vulns import osv

    import re

    with pytest.raises(osv.InvalidAdvisory, match=re.escape(what)):
        osv.normalise(advisory)
