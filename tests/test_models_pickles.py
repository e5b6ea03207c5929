"""The pickle walker: it reads every pickle the standard pickler writes to its STOP, names what the
stream imports exactly as pickletools sees it, and meets hostile bytes with PickleError only."""

from __future__ import annotations

import io
import pickle
import pickletools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.collect.models import pickles
from governance.collect.models.allowlist import disallowed

data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.lists(inner) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner)
    | st.frozensets(st.integers()) | st.sets(st.text()),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(value=data, protocol=st.integers(0, 5))
def test_plain_data_walks_to_its_stop_and_imports_only_allowed_types(value: object, protocol: int) -> None:
    raw = pickle.dumps(value, protocol=protocol)
    walked = pickles.walk(io.BytesIO(raw))
    assert walked.end == len(raw)
    assert walked.problems == []
    assert disallowed("pickle", tuple(walked.globals)) == []


def _pickletools_globals(raw: bytes) -> set[str]:
    names, strings = set(), []
    for op, arg, _ in pickletools.genops(raw):
        if op.name in ("GLOBAL", "INST"):
            names.add(arg.replace(" ", "."))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            names.add(f"{strings[-2]}.{strings[-1]}")
    return names


class Thing:
    def __init__(self) -> None:
        self.a = [1, 2]


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_globals_match_pickletools_on_a_straight_stream(protocol: int) -> None:
    import collections
    import datetime

    value = {"d": datetime.date(2026, 1, 1), "o": collections.OrderedDict(a=1), "t": Thing()}
    raw = pickle.dumps(value, protocol=protocol)
    assert set(pickles.walk(io.BytesIO(raw)).globals) == _pickletools_globals(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_hostile_bytes_raise_pickle_error_only(raw: bytes) -> None:
    try:
        pickles.walk(io.BytesIO(raw))
    except pickles.PickleError:
        pass


def test_memo_reached_through_binput_is_what_stack_global_imports() -> None:
    # BINPUT 0 holds "os"; a scanner that only follows MEMOIZE thinks memo[0] is "torch._utils".
    raw = (b"\x80\x04\x8c\x02osq\x00\x8c\x06systemq\x01\x8c\x0ctorch._utils\x94\x8c\x12_rebuild_tensor_v2\x94"
           b"0000h\x00h\x01\x93\x8c\x01x\x85R.")
    assert pickles.walk(io.BytesIO(raw)).globals == ["os.system"]


def test_a_computed_import_is_a_problem() -> None:
    # STACK_GLOBAL whose module is the result of a call.
    raw = b"\x80\x04\x8c\x08builtins\x8c\x03str\x93)R\x8c\x01x\x93."
    walked = pickles.walk(io.BytesIO(raw))
    assert any("computed at load time" in p for p in walked.problems)
