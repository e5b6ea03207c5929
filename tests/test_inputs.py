"""governance.inputs: the JSON reader's refusal of lone UTF-16 surrogates."""

from __future__ import annotations

import json

import pytest

from governance.errors import InputError
from governance.inputs import refuse_lone_surrogates


@pytest.mark.parametrize("text", [
    r'{"name": "\ud800"}',             # a high half alone
    r'{"name": "\udc00"}',             # a low half alone
    r'{"name": "\udc00\ud800"}',       # the halves in the wrong order
    r'{"name": "\\\ud800"}',           # an escaped backslash, then a real lone escape
])
def test_a_lone_surrogate_escape_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(InputError) as caught:
        refuse_lone_surrogates("{\n" + text + "\n}", "x.json")
    assert caught.value.line == 2


@pytest.mark.parametrize("text", [
    r'{"name": "\ud83d\ude00"}',       # a pair: one character (an emoji)
    r'{"path": "C:\\ud800"}',          # a backslash, then the text "ud800"
    r'{"path": "\\\\ud800"}',          # two backslashes, then text
    r'{"name": "\u00e9"}',
])
def test_valid_json_text_is_accepted(text: str) -> None:
    refuse_lone_surrogates(text, "x.json")
    json.loads(text).popitem()[1].encode("utf-8")  # and it really is encodable text
