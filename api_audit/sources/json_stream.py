"""Read JSON values one at a time from a text stream of any length, in bounded memory.

A year of OCDS notices is one multi-GB release package or millions of lines; `json.load`
would hold all of it. `JsonStream` keeps a buffer of the stream and decodes one value at a
time with `json.JSONDecoder.raw_decode` (the C scanner, ~100 MB/s), so the caller walks the
outer object and array by hand and decodes only the items whole. No dependency is needed:
ijson would stream a single array too, but its pure-Python backend is ~10x slower than the
C scanner, and its C backend needs yajl, which is not always installed.

Limits (hostile input, engineering reference §4.6): one value may be at most
`MAX_VALUE_CHARS` long and `MAX_DEPTH` deep; skipping a broken line stops after
`MAX_SKIP_CHARS`. Every problem is a `BrokenJson` carrying its 1-based line number.
"""

from __future__ import annotations

import json
from typing import TextIO

MAX_VALUE_CHARS = 64 * 1024 * 1024  # one release or record; real ones are kilobytes
MAX_DEPTH = 64  # containers nested; OCDS releases reach ~6
MAX_SKIP_CHARS = 64 * 1024 * 1024  # looking for the end of a broken line
CHUNK_CHARS = 1 << 16
_WHITESPACE = " \t\r\n"
# raw_decode failing this close to the end of the buffer may only lack the rest of the value
_NEAR_END = 8


class BrokenJson(ValueError):
    """The stream holds something that is not the JSON expected here."""

    def __init__(self, reason: str, line: int, *, incomplete: bool = False) -> None:
        self.reason = reason
        self.line = line
        self.incomplete = incomplete  # the text ended inside the value: more might finish it
        super().__init__(f"line {line}: {reason}")


class JsonStream:
    """A cursor over a text stream: look at the next character, decode the next value."""

    def __init__(
        self,
        source: TextIO,
        *,
        chunk_chars: int = CHUNK_CHARS,
        max_value_chars: int = MAX_VALUE_CHARS,
    ) -> None:
        self._source = source
        self._chunk = chunk_chars
        self._max_value = max_value_chars
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._line_base = 1  # the line number of self._buffer[0]
        self._eof = False

    def line(self, pos: int | None = None) -> int:
        """The 1-based line of a buffer position (default: the next character)."""
        at = self._pos if pos is None else pos
        return self._line_base + self._buffer.count("\n", 0, at)

    def peek(self) -> str | None:
        """The next character that is not whitespace (None at the end), not consumed."""
        while True:
            buffer, pos = self._buffer, self._pos
            while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < len(buffer):
                return buffer[pos]
            if not self._fill(self._chunk):
                return None

    def take(self, expected: str) -> str:
        """Consume the next character, which must be one of `expected`, and return it."""
        found = self.peek()
        if found is None or found not in expected:
            what = "the end" if found is None else repr(found)
            wanted = " or ".join(repr(c) for c in expected)
            raise BrokenJson(f"expected {wanted}, found {what}", self.line())
        self._pos += 1
        return found

    def value(self) -> object:
        """Decode the next JSON value whole (within the size and depth limits)."""
        if self.peek() is None:
            raise BrokenJson("expected a value, found the end", self.line())
        want = self._chunk
        while True:
            start = self._pos
            try:
                found, end = self._decoder.raw_decode(self._buffer, start)
            except json.JSONDecodeError as exc:
                if not self._may_be_incomplete(exc) or not self._grow(want):
                    raise BrokenJson(exc.msg, self.line(exc.pos)) from None
            except RecursionError:
                raise BrokenJson("nested too deeply", self.line()) from None
            except ValueError as exc:  # e.g. an integer longer than Python converts
                raise BrokenJson(str(exc)[:120], self.line()) from None
            else:
                # A number or literal that ends where the buffer does may go on after it.
                if end < len(self._buffer) or not self._grow(want):
                    self._pos = end
                    _check_depth(found, self.line(start))
                    return found
            want *= 2  # read geometrically more, so a long value is decoded O(n) times total

    def next_line(self, limit: int) -> str | None:
        """The rest of the current line (without its newline), not consumed; None when it
        runs past `limit` characters."""
        scanned, want = 0, self._chunk
        while True:
            at = self._buffer.find("\n", self._pos + scanned)
            if at >= 0:
                return self._buffer[self._pos : at] if at - self._pos <= limit else None
            scanned = len(self._buffer) - self._pos
            if scanned > limit:
                return None
            if not self._fill(want):
                return self._buffer[self._pos :]
            want *= 2

    def skip_line(self) -> None:
        """Move past the next newline (or to the end), to start again after a broken line."""
        skipped = 0
        while True:
            at = self._buffer.find("\n", self._pos)
            if at >= 0:
                self._pos = at + 1
                return
            skipped += len(self._buffer) - self._pos
            self._pos = len(self._buffer)
            if skipped > MAX_SKIP_CHARS:
                raise BrokenJson(f"no line break in {MAX_SKIP_CHARS} characters", self.line())
            if not self._fill(self._chunk):
                return

    # -- the buffer ---------------------------------------------------------------------

    def _may_be_incomplete(self, exc: json.JSONDecodeError) -> bool:
        if self._eof:
            return False
        return exc.pos >= len(self._buffer) - _NEAR_END or exc.msg.startswith("Unterminated")

    def _grow(self, want: int) -> bool:
        """Read more for the value at the cursor; False at the end of the stream."""
        if len(self._buffer) - self._pos > self._max_value:
            raise BrokenJson(f"a value longer than {self._max_value} characters", self.line())
        return self._fill(want)

    def _fill(self, want: int) -> bool:
        """Append up to `want` more characters; False when the stream has ended."""
        if self._eof:
            return False
        if self._pos > self._chunk and self._pos * 2 > len(self._buffer):
            self._line_base += self._buffer.count("\n", 0, self._pos)
            self._buffer = self._buffer[self._pos :]
            self._pos = 0
        try:
            more = self._source.read(want)
        except (OSError, EOFError, ValueError) as exc:  # a truncated gzip, a bad CRC
            self._eof = True
            raise BrokenJson(f"the file cannot be read on: {exc}", self.line()) from None
        if not more:
            self._eof = True
            return False
        self._buffer += more
        return True


def decode_text(text: str, line: int) -> object:
    """One JSON value that is the whole of `text` (a line of JSON lines); BrokenJson, with
    `incomplete` set when the text ends inside the value, otherwise."""
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    try:
        found, end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - _NEAR_END or exc.msg.startswith("Unterminated")
        raise BrokenJson(exc.msg, line, incomplete=cut) from None
    except RecursionError:
        raise BrokenJson("nested too deeply", line) from None
    except ValueError as exc:
        raise BrokenJson(str(exc)[:120], line) from None
    if text[end:].strip():
        raise BrokenJson("more after the value on the same line", line, incomplete=True)
    _check_depth(found, line)
    return found


def _check_depth(value: object, line: int) -> None:
    """Reject values nested deeper than MAX_DEPTH (iteratively: the check cannot recurse)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BrokenJson(f"nested deeper than {MAX_DEPTH} levels", line)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
