"""Where each key of a TOML document is written: ``tomllib`` parses but keeps no positions.

A message about a plan file has to name the line an admin opens in an editor, so this
module scans the text once more and records, for every key path, the line and column of
the key and of its value. It understands what people write in such files: table headers
(``[teams]``, ``[[x]]``), bare, quoted and dotted keys (``teams.Sales``, ``"Customer
Support"``), inline tables, arrays over several lines, every string form and comments.

It is meant for text ``tomllib`` has already accepted, and it never raises: on anything it
does not follow it stops and returns what it found, and a caller without a position falls
back to the nearest known one (see :meth:`KeyPositions.nearest`). The first place a path
appears wins (a table header, or the first dotted key that opens it).
"""

from __future__ import annotations

import bisect
import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

KeyPath = tuple[str | int, ...]  # table keys, and array indexes for elements
_SegmentHook = Callable[[KeyPath, int], None]  # a key prefix, and where its segment starts

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"'}
_ESCAPES["\\"] = "\\"
_SCALAR_END = re.compile(r"[,\]}#\n]|\r\n")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based, in characters


@dataclass(frozen=True)
class KeyPlace:
    key: Position  # where the key (its last segment) is written; an element's value
    value: Position  # where its value starts; a table header's own position


@dataclass(frozen=True)
class KeyPositions:
    places: Mapping[KeyPath, KeyPlace]

    def nearest(self, path: KeyPath) -> KeyPlace | None:
        """The place of ``path``, else of its closest parent that has one."""
        for end in range(len(path), 0, -1):
            place = self.places.get(path[:end])
            if place is not None:
                return place
        return None


def locate_keys(text: str) -> KeyPositions:
    """Every key path of ``text`` (a TOML document) and where it is written."""
    scanner = _Scanner(text)
    # On text tomllib would refuse, a form we do not follow, or nesting deeper than the
    # stack (the scanner recurses per level, like tomllib): keep what was found.
    with contextlib.suppress(_Stop, RecursionError):
        scanner.document()
    return KeyPositions(scanner.places)


class _Stop(Exception):
    """The scanner cannot follow the text any further."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.places: dict[KeyPath, KeyPlace] = {}
        self.table: KeyPath = ()
        self.array_tables: dict[KeyPath, int] = {}

    # -- positions and characters -----------------------------------------------------

    def position(self, offset: int) -> Position:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return Position(index + 1, offset - self.line_starts[index] + 1)

    def record(self, path: KeyPath, key_at: int, value_at: int) -> None:
        if path not in self.places:
            self.places[path] = KeyPlace(self.position(key_at), self.position(value_at))

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def expect(self, literal: str) -> None:
        if not self.text.startswith(literal, self.pos):
            raise _Stop
        self.pos += len(literal)

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def skip_blank(self) -> None:
        """Whitespace, newlines and comments (between statements and inside arrays)."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in (" ", "\t", "\r", "\n"):
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    # -- statements -------------------------------------------------------------------

    def document(self) -> None:
        while True:
            self.skip_blank()
            if self.pos >= len(self.text):
                return
            if self.peek(2) == "[[":
                self.array_table_header()
            elif self.peek() == "[":
                self.table_header()
            else:
                self.key_value(self.table)

    def table_header(self) -> None:
        start = self.pos
        self.expect("[")
        path = self.header_path(start)
        self.expect("]")
        self.table = path

    def array_table_header(self) -> None:
        start = self.pos
        self.expect("[[")
        path = self.header_path(start)
        self.expect("]]")
        index = self.array_tables.get(path, 0)
        self.array_tables[path] = index + 1
        self.record((*path, index), start, start)
        self.table = (*path, index)

    def header_path(self, start: int) -> KeyPath:
        """A header's key; its parents are implied where they are first named."""
        segments: list[tuple[KeyPath, int]] = []
        path = self.key_parts(lambda prefix, at: segments.append((prefix, at)))
        for parent, at in segments[:-1]:
            self.record(parent, at, at)
        self.record(path, start, start)
        self.skip_spaces()
        return path

    def key_value(self, table: KeyPath) -> None:
        segments: list[tuple[KeyPath, int]] = []
        relative = self.key_parts(lambda prefix, at: segments.append((prefix, at)))
        self.skip_spaces()
        self.expect("=")
        self.skip_spaces()
        # The last segment is the key itself; the others are tables the dotted key opens.
        for parent, at in segments[:-1]:
            self.record((*table, *parent), at, at)
        self.record((*table, *relative), segments[-1][1], self.pos)
        self.value((*table, *relative))

    def key_parts(self, on_segment: _SegmentHook) -> KeyPath:
        """A dotted key; ``on_segment`` learns each prefix and where its segment starts."""
        parts: list[str | int] = []
        while True:
            self.skip_spaces()
            at = self.pos
            parts.append(self.key_segment())
            on_segment(tuple(parts), at)
            self.skip_spaces()
            if self.peek() != ".":
                return tuple(parts)
            self.pos += 1

    def key_segment(self) -> str:
        char = self.peek()
        if char == '"':
            return self.basic_string()
        if char == "'":
            return self.literal_string()
        match = _BARE_KEY.match(self.text, self.pos)
        if match is None:
            raise _Stop
        self.pos = match.end()
        return match.group()

    # -- values -----------------------------------------------------------------------

    def value(self, path: KeyPath) -> None:
        char = self.peek()
        if self.peek(3) in ('"""', "'''"):
            self.multiline_string(self.peek(3))
        elif char == '"':
            self.basic_string()
        elif char == "'":
            self.literal_string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        else:
            self.scalar()

    def array(self, path: KeyPath) -> None:
        self.expect("[")
        index = 0
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.pos += 1
                return
            self.record((*path, index), self.pos, self.pos)
            self.value((*path, index))
            index += 1
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise _Stop

    def inline_table(self, path: KeyPath) -> None:
        self.expect("{")
        while True:
            self.skip_blank()  # newlines are only allowed here from TOML 1.1 on
            if self.peek() == "}":
                self.pos += 1
                return
            self.key_value(path)
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                raise _Stop

    def scalar(self) -> None:
        """A number, boolean or date: up to the next separator (a date may hold a space)."""
        match = _SCALAR_END.search(self.text, self.pos)
        end = len(self.text) if match is None else match.start()
        if end == self.pos:
            raise _Stop
        self.pos = end

    # -- strings ----------------------------------------------------------------------

    def basic_string(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            char = self.peek()
            if char in ("", "\n"):
                raise _Stop
            self.pos += 1
            if char == '"':
                return "".join(out)
            out.append(self.escape() if char == "\\" else char)

    def escape(self) -> str:
        char = self.peek()
        self.pos += 1
        if char in _ESCAPES:
            return _ESCAPES[char]
        digits = {"x": 2, "u": 4, "U": 8}.get(char)
        if digits is None:
            raise _Stop
        code = self.text[self.pos : self.pos + digits]
        self.pos += digits
        try:
            return chr(int(code, 16))
        except ValueError:
            raise _Stop from None

    def literal_string(self) -> str:
        self.expect("'")
        end = self.text.find("'", self.pos)
        if end < 0 or "\n" in self.text[self.pos : end]:
            raise _Stop
        value = self.text[self.pos : end]
        self.pos = end + 1
        return value

    def multiline_string(self, quote: str) -> None:
        self.pos += 3
        while True:
            end = self.text.find(quote, self.pos)
            if end < 0:
                raise _Stop
            if quote == '"""' and _escaped(self.text, end):
                self.pos = end + 1
                continue
            # The closing delimiter is the last three quotes of a run of up to five.
            while self.text.startswith(quote[0], end + 3):
                end += 1
            self.pos = end + 3
            return


def _escaped(text: str, index: int) -> bool:
    """Whether the character at ``index`` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1
