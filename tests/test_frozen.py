"""@frozen beside @dataclass(frozen=True): the same class, the same behaviour."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.frozen import frozen

# One field's options: (compare, hash, repr); hash None is dataclasses' default (follow compare).
OPTIONS = st.tuples(st.booleans(), st.sampled_from([None, True, False]), st.booleans())
VALUES = st.one_of(st.none(), st.integers(-3, 3), st.text(max_size=3), st.just(math.nan), st.just(0.0),
                   st.tuples(st.integers(0, 2), st.text(max_size=1)))


def twins(options: list[tuple[bool, bool | None, bool]]) -> tuple[type, type]:
    """The same class body, made by dataclasses and by @frozen."""
    made = []
    for decorate in (dataclasses.dataclass(frozen=True), frozen):
        body: dict[str, Any] = {"__annotations__": {f"f{i}": "Any" for i in range(len(options))},
                                "__module__": __name__, "__qualname__": "Twin"}
        for i, (compare, hash_, repr_) in enumerate(options):
            body[f"f{i}"] = dataclasses.field(default=None, compare=compare, hash=hash_, repr=repr_)
        made.append(decorate(type("Twin", (), body)))
    return made[0], made[1]


def same(a: Any, b: Any) -> bool:
    """Equal, or the same exception type (hashing an unhashable value raises in both)."""
    return type(a) is type(b) and (a == b or a is b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)))


def outcome(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(options=st.lists(OPTIONS, max_size=4), data=st.data())
def test_frozen_behaves_as_the_generated_methods(options: list[tuple[bool, bool | None, bool]],
                                                 data: st.DataObject) -> None:
    real, ours = twins(options)
    left = data.draw(st.lists(VALUES, min_size=len(options), max_size=len(options)))
    right = data.draw(st.one_of(st.just(left), st.lists(VALUES, min_size=len(options), max_size=len(options))))
    r1, r2 = real(*left), real(*right)
    o1, o2 = ours(*left), ours(*right)
    assert (r1 == r2) == (o1 == o2)
    assert (r1 != r2) == (o1 != o2)
    assert same(outcome(lambda: hash(r1) == hash(r2)), outcome(lambda: hash(o1) == hash(o2)))
    assert repr(r1) == repr(o1)
    assert (r1 == o1) is False and r1.__eq__(o1) is NotImplemented and o1.__eq__(r1) is NotImplemented
    assert [f.name for f in dataclasses.fields(ours)] == [f.name for f in dataclasses.fields(real)]
    assert dataclasses.asdict(o1) == dataclasses.asdict(r1)
    if options:
        assert outcome(lambda: setattr(o1, "f0", 1)) is dataclasses.FrozenInstanceError
        assert outcome(lambda: delattr(o1, "f0")) is dataclasses.FrozenInstanceError
        assert dataclasses.replace(o1, f0=5).f0 == 5 and isinstance(dataclasses.replace(o1, f0=5), ours)


def test_the_hash_is_consistent_with_equality_and_usable_in_sets() -> None:
    @frozen
    class Point:
        x: int
        y: int = 0
        note: str = dataclasses.field(default="", compare=False)

    assert Point(1, 2) == Point(1, 2, note="other") and hash(Point(1, 2)) == hash(Point(1, 2, note="x"))
    assert len({Point(1, 2), Point(1, 2, "n"), Point(2, 1)}) == 2
    assert repr(Point(1)).endswith(".Point(x=1, y=0, note='')")  # the qualname, as dataclasses writes it
    with pytest.raises(dataclasses.FrozenInstanceError):
        Point(1).x = 2  # type: ignore[misc]


def test_methods_the_class_defines_are_kept() -> None:
    @frozen
    class Named:
        name: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named) and self.name.lower() == other.name.lower()

        def __repr__(self) -> str:
            return f"<{self.name}>"

    # Python sets __hash__ = None beside an __eq__ of the body; dataclasses (frozen, eq) still adds
    # its hash of the compared fields, and so does @frozen.
    assert Named("A") == Named("a") and repr(Named("A")) == "<A>"
    assert hash(Named("A")) == hash(("A",))

    @frozen
    class Keyed:
        key: str

        def __hash__(self) -> int:
            return 7

    assert hash(Keyed("x")) == 7 and Keyed("x") == Keyed("x") and repr(Keyed("x")).endswith("Keyed(key='x')")


def test_a_recursive_value_shows_dots_as_dataclasses_does() -> None:
    @frozen
    class Box:
        items: list[Any]

    box = Box([])
    box.items.append(box)
    assert repr(box) == f"{Box.__qualname__}(items=[...])"


def test_options_that_would_change_the_methods_are_refused() -> None:
    with pytest.raises(TypeError, match="use @dataclass"):
        frozen(order=True)
