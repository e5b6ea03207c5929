"""Making strings from scanned files inert wherever mlgov prints them.

Every name, version, reason, host name or file name in a report may have been
written by the author of a pull request, and the job that prints it often
holds secrets. A terminal obeys escape sequences; a CI log obeys lines that
start with `::` (GitHub's `::add-mask::`, `::error file=...::`); a Markdown
comment renders links, HTML and @mentions. One function per medium:

- `terminal(text)`: newline, CR, tab and every other C0 control, DEL, C1
  controls, Unicode line/paragraph separators, bidi controls and lone
  surrogates are shown as `\\n`, `\\x1b`, `\\u202e`... so an input can neither
  start a line of its own nor rewrite what is on screen.
- `markdown(text)`: the terminal form, then Markdown's punctuation escaped,
  no HTML, no autolinks (`://`, `www.`) and no mentions (`@`).
- `xml_text(text)`: only what XML 1.0 can carry (JUnit, SBOM XML).
"""

from __future__ import annotations

from typing import Any

import re

# Bidi formatting characters (Trojan Source, CVE-2021-42574) and the invisible
# marks that reorder text, plus the Unicode line and paragraph separators.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# One character class, no quantifier over a group: linear in the text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff\ufeff\ufff9-\ufffb]")


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: object) -> str:
    """The text with every control character shown, never obeyed."""
    return _UNSAFE.sub(_visible, str(text))


def clip(text: str, limit: int = 200) -> str:
    """At most `limit` characters of a quote, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(text: object, limit: int = 200) -> str:
    """A short, inert quote of input text for an error message: 'text'."""
    return "'" + clip(terminal(text), limit) + "'"


# Markdown punctuation that can start or end markup inside running text.
# Cells and list items never start a line (mlgov writes "| " or "- " first), so
# the characters that matter only there (#, -, +, =) stay as they are. `<`, `>`
# and `&` become entities below instead: a backslash before them would make
# CommonMark show "&gt;" literally (`\&` is an escaped ampersand).
_MD_SPECIAL = re.compile(r"([\\`*\[\]|~])")


def markdown(text: object, limit: int | None = None) -> str:
    """Inert Markdown text: no HTML, no links, no mentions, no table breaks, no emphasis."""
    shown = terminal(text)
    if limit is not None:
        shown = clip(shown, limit)
    shown = _MD_SPECIAL.sub(r"\\\1", shown)
    shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width space breaks GitHub's autolinks and @mentions without
    # changing what a reader sees.
    return shown.replace("@", "@\u200b").replace("://", ":\u200b//").replace("www.", "www\u200b.")


_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _BIDI + "\ud800-\udfff\ufffe\uffff]")


def xml_text(text: object) -> str:
    """Text XML 1.0 can carry, with controls and bidi marks shown rather than obeyed."""
    return _XML_UNSAFE.sub(_visible, str(text))


def repo_uri(path: object) -> str | None:
    """A SARIF artifact URI: a normalised relative path inside the repository, else None.

    A finding's file or host name may be `javascript:...`, `/etc/passwd` or
    `../../x`; code scanning would turn it into a link. Only a plain relative
    path survives, percent-encoded.
    """
    from posixpath import normpath
    from urllib.parse import quote as percent

    text = str(path).replace("\\", "/")
    if not text or _UNSAFE.search(text) or text.startswith("/") or ":" in text.split("/", 1)[0]:
        return None
    normal = normpath(text)
    if normal == ".." or normal.startswith("../") or normal.startswith("/"):
        return None
    return percent(normal, safe="/._-~+@")


_JSON_INVISIBLE = re.compile("[\x7f-\x9f" + _BIDI + "\ud800-\udfff\ufeff\ufff9-\ufffb]")


def json_text(text: str) -> str:
    r"""Serialised JSON with C1, bidi and separator characters as \uXXXX escapes.

    Valid JSON with the same data (these characters can only occur inside
    strings), but a terminal or log showing it cannot be reordered or split.
    """
    return _JSON_INVISIBLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def json_document(data: dict[str, Any], expand_objects: bool = False) -> str:
    """A JSON document with one line per top-level key and per item of a top-level list
    (and, with expand_objects, per key of a top-level object), then json_text().

    Readable and diffable, and written by json's C encoder: indent= uses the
    pure-Python one, which was most of the time of a large SBOM or fleet report.
    """
    import json

    def compact(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key, value in data.items():
        if expand_objects and isinstance(value, dict) and value:
            inner = ",\n".join(f"    {compact(k)}: {compact(v)}" for k, v in value.items())
            lines.append(f"  {compact(key)}: {{\n{inner}\n  }}")
        elif isinstance(value, list) and value:
            items = ",\n".join(f"    {compact(item)}" for item in value)
            lines.append(f"  {compact(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}")
    return json_text("{\n" + ",\n".join(lines) + "\n}") + "\n"
