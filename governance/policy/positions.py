"""Where each key of a TOML document is set: key path -> line number.

The TOML parser gives values but no positions, and an error message that says
"unknown key" without the line sends the reader hunting. This scanner walks
a document that the parser has already accepted, so it only has to be right on
valid TOML: table headers, arrays of tables (paths carry the index, as in
("waivers", 2, "reason")), dotted keys, quoted keys, inline tables, arrays
(elements carry their index) and multi-line strings that must be skipped.
"""

from __future__ import annotations
from governance import tomlparse


PathKey = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = set(",]}\n#")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[PathKey, int] = {}
        # How many [[x]] entries each concrete array-of-tables path has seen.
        self.arrays: dict[PathKey, int] = {}

    # -- low level -----------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def advance(self, n: int = 1) -> None:
        chunk = self.text[self.pos:self.pos + n]
        self.line += chunk.count("\n")
        self.pos += n

    def skip_space(self, newlines: bool) -> None:
        """Whitespace and comments (and newlines, when inside brackets)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.advance()
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.advance((end if end >= 0 else len(self.text)) - self.pos)
            else:
                return

    def string(self) -> str:
        """Consume one string of any of TOML's four kinds; return its source text."""
        start = self.pos
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                self.advance(3)
                while True:
                    end = self.text.find(quote, self.pos)
                    if end < 0:  # pragma: no cover - the parser accepted the document
                        self.advance(len(self.text) - self.pos)
                        return self.text[start:]
                    if quote == '"""' and _escaped(self.text, end):
                        self.advance(end + 1 - self.pos)
                        continue
                    self.advance(end + 3 - self.pos)
                    # A closing delimiter may be followed by up to two more quotes.
                    while self.peek() == quote[0]:
                        self.advance()
                    return self.text[start:self.pos]
        quote = self.peek()
        self.advance()
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote == '"' and char == "\\":
                self.advance(2)
                continue
            self.advance()
            if char == quote:
                break
        return self.text[start:self.pos]

    # -- grammar -------------------------------------------------------------
    def key(self) -> list[str]:
        """A possibly dotted key, bare or quoted parts."""
        parts: list[str] = []
        while True:
            self.skip_space(newlines=False)
            if self.peek() in ('"', "'"):
                raw = self.string()
                parts.append(next(iter(tomlparse.loads(f"{raw} = 0"))))
            else:
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _BARE:
                    self.advance()
                parts.append(self.text[start:self.pos])
            self.skip_space(newlines=False)
            if self.peek() != ".":
                return parts
            self.advance()

    def record(self, path: PathKey, line: int) -> None:
        self.lines.setdefault(path, line)

    def value(self, path: PathKey) -> None:
        self.skip_space(newlines=False)
        char = self.peek()
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.advance()
            index = 0
            while True:
                self.skip_space(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.record(path + (index,), self.line)
                self.value(path + (index,))
                index += 1
                self.skip_space(newlines=True)
                if self.peek() == ",":
                    self.advance()
        elif char == "{":
            self.advance()
            while True:
                self.skip_space(newlines=True)
                if self.peek() == "}":
                    self.advance()
                    return
                self.key_value(path)
                self.skip_space(newlines=True)
                if self.peek() == ",":
                    self.advance()
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.advance()

    def key_value(self, table: PathKey) -> None:
        line = self.line
        parts = self.key()
        path = table
        for part in parts:
            path = path + (part,)
            self.record(path, line)
        self.skip_space(newlines=False)
        if self.peek() == "=":
            self.advance()
        self.value(path)

    def concrete(self, parts: list[str]) -> PathKey:
        """A header's key path with the current index of each array of tables in it."""
        path: PathKey = ()
        for part in parts:
            path = path + (part,)
            self.record(path, self.line)
            if path in self.arrays:
                path = path + (self.arrays[path] - 1,)
        return path

    def document(self) -> dict[PathKey, int]:
        table: PathKey = ()
        while True:
            self.skip_space(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                parts = self.key()
                self.advance(2)
                base = self.concrete(parts[:-1]) + (parts[-1],)
                self.arrays[base] = self.arrays.get(base, 0) + 1
                self.record(base, line)
                table = base + (self.arrays[base] - 1,)
                self.record(table, line)
            elif self.peek() == "[":
                self.advance()
                parts = self.key()
                self.advance()
                table = self.concrete(parts)
                self.record(table, line)
            else:
                self.key_value(table)


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def key_lines(text: str) -> dict[PathKey, int]:
    """Map every key path (and array element) of a valid TOML document to its line."""
    return _Scanner(text).document()


def line_of(lines: dict[PathKey, int], path: PathKey) -> int | None:
    """The line of a key path, else of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def dotted(path: PathKey) -> str:
    """A key path as a reader writes it: stages.production.rules.PIN001, waivers[2].reason."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if part and all(c in _BARE for c in part) else '"' + part.replace('"', '\\"') + '"'
            out += ("." if out else "") + text
    return out
