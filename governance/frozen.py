"""`@frozen`: a frozen dataclass whose __eq__, __hash__ and __repr__ are shared, not compiled per class.

Every domain value in mlgov is a frozen dataclass. Python 3.11 and 3.12 make
each one by compiling six methods from generated source text at import
(__init__, __eq__, __hash__, __repr__, __setattr__, __delattr__): about 0.9 ms a
class, and `mlgov scan` defines some seventy, a quarter of the command's time.
`@frozen` is `@dataclass(frozen=True)` that compiles only the three that depend
on the class's shape (__init__ and the two that refuse assignment) and gives
it these three shared functions, which behave as the generated ones do:
- equal: same class, and the tuples of the fields with `compare=True` are equal;
  another class: NotImplemented;
- hash: of the tuple of the fields dataclasses hashes (`hash=True`, or
  `compare=True` when hash is not set);
- repr: `Name(field=value, ...)` over the fields with `repr=True`, `...` on recursion.
A method the class body defines itself is kept, as dataclasses keeps it.
tests/test_frozen.py holds the two side by side. `fields`, `replace`, `asdict`
and FrozenInstanceError are those of dataclasses: these are dataclasses.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_COMPARED = "__frozen_compared__"
_HASHED = "__frozen_hashed__"
_SHOWN = "__frozen_shown__"


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving the tuple of these attributes (attrgetter returns a bare value for one name)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        compared = getattr(self.__class__, _COMPARED)
        return compared(self) == compared(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(getattr(self.__class__, _HASHED)(self))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self.__class__, _SHOWN))
    return f"{self.__class__.__qualname__}({shown})"


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: type[T] | None = None, /, **options: Any) -> Any:
    """`@frozen` or `@frozen(kw_only=True, ...)`: `@dataclass(frozen=True, **options)`, quicker to define.

    `eq`, `repr`, `order`, `unsafe_hash` and `frozen` are not options: a class that needs other
    methods than these uses @dataclass itself.
    """
    refused = {"eq", "repr", "order", "unsafe_hash", "frozen"} & set(options)
    if refused:
        raise TypeError(f"@frozen takes no {', '.join(sorted(refused))}: use @dataclass")

    def wrap(klass: type[T]) -> type[T]:
        own = dict(klass.__dict__)
        made = dataclasses.dataclass(frozen=True, eq=False, repr=False, **options)(klass)
        fields = dataclasses.fields(made)  # type: ignore[arg-type]
        setattr(made, _COMPARED, _getter(tuple(f.name for f in fields if f.compare)))
        setattr(made, _HASHED, _getter(tuple(f.name for f in fields
                                             if (f.compare if f.hash is None else f.hash))))
        setattr(made, _SHOWN, tuple(f.name for f in fields if f.repr))
        if "__eq__" not in own:
            made.__eq__ = _eq  # type: ignore[method-assign,assignment]
        # A body that defines __eq__ alone gets __hash__ = None from Python; dataclasses still adds its own.
        if "__hash__" not in own or (own["__hash__"] is None and "__eq__" in own):
            made.__hash__ = _hash  # type: ignore[method-assign,assignment]
        if "__repr__" not in own:
            made.__repr__ = _repr  # type: ignore[method-assign,assignment]
        return made

    return wrap if cls is None else wrap(cls)
