"""The License field read as an SPDX expression: the same answer as license-expression's validate().

collect/licenses.py answers from the library's licence index alone when the words decide (one
word that is a key or an alias; a word that is in no key or alias), so that reading an
environment does not build the library's Licensing (~0.08 s a process). These tests hold that
shortcut to the library's own answer on every key and alias and on generated expressions.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from license_expression import get_spdx_licensing

from governance.collect import licenses
from governance.collect.licenses import license_from_metadata


def library(text: str) -> str | None:
    try:
        info = get_spdx_licensing_once().validate(text, strict=True)
    except Exception:  # noqa: BLE001 - see licenses._spdx_expression
        return None
    return str(info.normalized_expression) if not info.errors and info.normalized_expression else None


_LICENSING: list[object] = []


def get_spdx_licensing_once():  # type: ignore[no-untyped-def]
    if not _LICENSING:
        _LICENSING.append(get_spdx_licensing())
    return _LICENSING[0]


def ours(text: str) -> str | None:
    return licenses._spdx_expression.__wrapped__(text)  # type: ignore[attr-defined]


def corpus() -> list[str]:
    words = licenses._spdx_words()
    assert words is not None, "license-expression's index was not found where get_spdx_licensing() reads it"
    single, vocabulary = words
    texts: set[str] = set()
    for symbol in get_spdx_licensing_once().known_symbols.values():  # type: ignore[attr-defined]
        for name in (symbol.key, *symbol.aliases):
            texts.update({name, name.upper(), name.lower(), f"{name}+", f"x{name}", f"({name})", f"{name})"})
    rng = random.Random(17)
    keys, pool = sorted(single), sorted(vocabulary) + ["and", "OR", "With", "(", ")", "Proprietary", "UNKNOWN"]
    for _ in range(1500):
        texts.add(" ".join(rng.choice(pool) for _ in range(rng.randint(2, 5))))
        a, b, c = rng.choice(keys), rng.choice(keys), rng.choice(keys)
        texts.add(f"{a} {rng.choice(['AND', 'or', 'WITH', 'with'])} {b}")
        texts.add(f"({a} OR {b}) AND {c}")
    texts.update({"UNKNOWN", "Proprietary", "Apache Software License", "GPL-2.0 or later", "Public Domain",
                  "GNU GPL v3", "MPL-2.0 AND MIT", "mit and apache-2.0", "()", "MIT AND", "MIT AND ()", "and"})
    return sorted(text for text in texts if licenses._EXPRESSION_TOKENS.match(text) and len(text) <= 200)


def test_the_shortcut_gives_the_librarys_answer() -> None:
    texts = corpus()
    assert len(texts) > 10000
    answers = [(text, ours(text), library(text)) for text in texts]
    differ = [answer for answer in answers if answer[1] != answer[2]]
    assert not differ, differ[:20]
    # the corpus exercises both answers
    assert sum(theirs is not None for _, _, theirs in answers) > 5000
    assert sum(theirs is None for _, _, theirs in answers) > 2000


@pytest.mark.parametrize("text", ["MIT AND", "()", "MIT AND ()", "(MIT OR"])
def test_malformed_expressions_are_kept_as_text_not_a_crash(text: str) -> None:
    # license-expression raises IndexError/AttributeError on some of these instead of reporting them
    assert license_from_metadata(None, text, []) == (None, text)


def test_reading_licences_does_not_build_the_library_for_single_words() -> None:
    code = ("import sys\nfrom governance.collect.licenses import license_from_metadata as f\n"
            "assert f(None, 'LGPL-3.0-or-later', []) == ('LGPL-3.0-or-later', None)\n"
            "assert f(None, 'UNKNOWN', []) == (None, 'UNKNOWN')\n"
            "assert f(None, 'Free for non-commercial use', []) == (None, 'Free for non-commercial use')\n"
            "assert 'license_expression' not in sys.modules, 'the library was imported'\n"
            "assert f(None, 'MPL-2.0 AND MIT', []) == ('MPL-2.0 AND MIT', None)\n"
            "assert 'license_expression' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
