"""Licences from core metadata, mapped to SPDX where that can be done honestly.

Order of trust (PEP 639): License-Expression, else the free-text License field
when it is a known name, else the Trove classifiers. What cannot be mapped is
kept as text so that a rule can say "unknown licence" rather than guess.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

# Trove classifiers that name exactly one SPDX licence. Ambiguous ones
# ("BSD License", "Apache Software License" without a version) map to the
# identifier most projects mean by them, as cyclonedx-py and pip-licenses do,
# except where the difference matters for policy (GPL/LGPL without version).
CLASSIFIERS: dict[str, str] = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: BSD License": "BSD-3-Clause",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: Academic Free License (AFL)": "AFL-3.0",
    "License :: OSI Approved :: Artistic License": "Artistic-2.0",
    "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: Public Domain": "LicenseRef-Public-Domain",
}

# Free-text License fields seen in the wild, lower-cased, to their SPDX id.
NAMES: dict[str, str] = {
    "mit": "MIT", "mit license": "MIT", "the mit license": "MIT", "mit-0": "MIT-0",
    "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause", "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause", "bsd-3-clause": "BSD-3-Clause", "3-clause bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause", "bsd 3-clause license": "BSD-3-Clause", "modified bsd": "BSD-3-Clause",
    "bsd-2-clause": "BSD-2-Clause", "simplified bsd": "BSD-2-Clause", "bsd 2-clause": "BSD-2-Clause",
    "apache": "Apache-2.0", "apache 2": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache-2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0", "apache license, version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0", "apache license version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0", "apache 2.0 license": "Apache-2.0",
    "isc": "ISC", "isc license": "ISC", "psf": "PSF-2.0", "psf-2.0": "PSF-2.0",
    "python software foundation license": "PSF-2.0", "mpl-2.0": "MPL-2.0", "mpl 2.0": "MPL-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0", "lgpl-3.0": "LGPL-3.0-only",
    "gpl-3.0": "GPL-3.0-only", "gplv3": "GPL-3.0-only", "gpl-2.0": "GPL-2.0-only", "gplv2": "GPL-2.0-only",
    "gpl-3.0-only": "GPL-3.0-only", "gpl-3.0-or-later": "GPL-3.0-or-later",
    "gpl-2.0-only": "GPL-2.0-only", "gpl-2.0-or-later": "GPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1-or-later": "LGPL-2.1-or-later", "lgplv3": "LGPL-3.0-only",
    "agpl-3.0": "AGPL-3.0-only", "agpl-3.0-only": "AGPL-3.0-only", "unlicense": "Unlicense",
    "the unlicense": "Unlicense", "zlib": "Zlib", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0",
    "hpnd": "HPND", "epl-2.0": "EPL-2.0", "bsl-1.0": "BSL-1.0", "0bsd": "0BSD",
    "python-2.0": "Python-2.0", "upl-1.0": "UPL-1.0",
}


def license_from_metadata(expression: str | None, license_field: str | None,
                          classifiers: list[str]) -> tuple[str | None, str | None]:
    """Return (spdx_expression, text) for one distribution.

    text is set when the metadata said something that could not be mapped,
    so that the SBOM keeps it as a named licence and a rule can flag it.
    """
    if expression and expression.strip():
        return expression.strip(), None
    text = (license_field or "").strip()
    if text:
        mapped = NAMES.get(text.lower()) or _spdx_expression(text)
        if mapped:
            return mapped, None
    mapped_ids = sorted({CLASSIFIERS[c] for c in classifiers if c in CLASSIFIERS})
    if mapped_ids:
        return " OR ".join(mapped_ids) if len(mapped_ids) > 1 else mapped_ids[0], None
    # The License field sometimes holds the whole licence text: keep its first line.
    if text:
        first = text.splitlines()[0].strip()
        return None, first[:200] if first else None
    unmapped = [c.rsplit("::", 1)[-1].strip() for c in classifiers if c.startswith("License ::")]
    if unmapped:
        return None, unmapped[0]
    return None, None


_EXPRESSION_TOKENS = re.compile(r"^[A-Za-z0-9.+\-() ]+$")
# How license-expression's tokenizer cuts an expression into words (lower-cased): at spaces and parens.
_WORDS = re.compile(r"[^\s()]+|[()]")
_KEYWORDS = frozenset({"and", "or", "with", "(", ")"})
_INDEX = ("data", "scancode-licensedb-index.json")


@lru_cache(maxsize=1024)
def _spdx_expression(text: str) -> str | None:
    """The License field when it is itself a valid SPDX expression of known ids (tqdm:
    `MPL-2.0 AND MIT`), normalised; None for prose, names (`BSD`) and unknown ids."""
    if "\n" in text or len(text) > 200 or not _EXPRESSION_TOKENS.match(text):
        return None
    words = [word.lower() for word in _WORDS.findall(text)]
    known = _spdx_words()
    if known is not None:
        # license-expression's answer, without building its Licensing (~0.08 s of CPU a process)
        # when the words alone decide: its tokenizer matches keys and aliases as whole words, so
        # a word that is in none of them becomes an unknown symbol (invalid under validate), and
        # one word that is a key or an alias is that symbol, whose text is its key.
        single, vocabulary = known
        if len(words) == 1:
            return single.get(words[0])
        if any(word not in vocabulary and word not in _KEYWORDS for word in words):
            return None
    try:
        info = spdx_licensing().validate(text, strict=True)
    except Exception:  # noqa: BLE001 - its parser fails on some malformed input ("MIT AND", "()") with
        return None  # IndexError/AttributeError instead of reporting an error: not an expression either
    return str(info.normalized_expression) if not info.errors and info.normalized_expression else None


@lru_cache(maxsize=1)
def spdx_licensing() -> Any:
    """license-expression's SPDX Licensing, built once a process (it costs ~0.08 s of CPU)."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@lru_cache(maxsize=1)
def _spdx_words() -> tuple[dict[str, str], frozenset[str]] | None:
    """From the licence index license-expression ships (the one get_spdx_licensing() reads, read
    here without importing the library): one-word keys and aliases of licences (not exceptions),
    lower-cased, to their key; and every word of every key and alias. None when the index is not
    where this version keeps it (the library then answers every question)."""
    spec = importlib.util.find_spec("license_expression")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        index = json.loads(Path(spec.submodule_search_locations[0], *_INDEX).read_bytes())
    except (OSError, ValueError):
        return None
    single: dict[str, str] = {}
    vocabulary: set[str] = set()
    # As build_spdx_licensing(): entries with an SPDX key; that key, then its other SPDX keys as aliases.
    for entry in index:
        key = entry.get("spdx_license_key") if isinstance(entry, dict) else None
        if not key:
            continue
        for name in (key, *(entry.get("other_spdx_license_keys") or ())):
            words = _WORDS.findall(name.lower())
            vocabulary.update(words)
            if len(words) == 1 and not entry.get("is_exception"):  # alone, an exception is invalid (strict)
                single.setdefault(words[0], key)
    return single, frozenset(vocabulary)
