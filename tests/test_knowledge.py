"""governance/knowledge: every fact cites a source, and the tables agree with each other."""

from __future__ import annotations

import pytest

from governance import knowledge


@pytest.mark.parametrize(("table", "entry"), knowledge.entries())
def test_every_entry_cites_a_known_source(table: str, entry: dict[str, object]) -> None:
    cited = entry["source"] if isinstance(entry["source"], list) else [entry["source"]]
    assert cited and all(name in knowledge.sources() for name in cited)


@pytest.mark.parametrize(("cuda", "minimum", "floor"), [
    ("12.4", "550.54.14", "525.60.13"), ("11.8", "520.61.05", "450.80.02"), ("13.0", "580.65.06", "580"),
    ("12", None, "525.60.13"),
])
def test_driver_floor(cuda: str, minimum: str | None, floor: str) -> None:
    found = knowledge.driver_floor(cuda)
    assert found is not None and (found.minimum, found.floor) == (minimum, floor)


def test_every_torch_variant_has_a_driver_row() -> None:
    for table, entry in knowledge.entries():
        if table == "torch":
            for variant in entry["variants"]:  # type: ignore[union-attr]
                assert knowledge.toolkit_minimum(variant) is not None, (entry["series"], variant)


def test_toolkit_minimums_rise_with_the_version() -> None:
    rows = sorted(((knowledge.driver_tuple(e["version"]), knowledge.driver_tuple(e["linux"]))  # type: ignore[arg-type]
                   for t, e in knowledge.entries() if t == "toolkit"))
    drivers = [driver for _, driver in rows]
    assert drivers == sorted(drivers)


def test_the_effective_floor_never_exceeds_the_toolkits_minimum() -> None:
    for table, entry in knowledge.entries():
        if table == "toolkit":
            found = knowledge.driver_floor(str(entry["version"]))
            assert found is not None and found.floor is not None and found.minimum is not None
            assert knowledge.driver_tuple(found.floor) <= knowledge.driver_tuple(found.minimum)


def test_cuda_110_needs_only_its_own_minimum() -> None:
    found = knowledge.driver_floor("11.0")
    assert found is not None and found.floor == "450.36.06"
