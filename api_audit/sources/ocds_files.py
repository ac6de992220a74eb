"""OCDS files on disk to releases, one at a time: packages, records, JSON lines, gzipped or not.

Every shape the services and the Open Contracting Partnership's registry publish is one
or more JSON values one after another: a release package or record package (one value,
however large: its `releases` or `records` array is read item by item), JSON lines of
packages, of records or of releases, or a JSON array of any of these; gzipped or not
(found by its magic bytes, not its name). A broken value is reported with its line and
reading goes on from the next line; nothing here raises on what a file holds.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from api_audit.loading.files import InputFileError, require_regular
from api_audit.sources.json_stream import BrokenJson, JsonStream, decode_text
from api_audit.sources.ocds import NotANotice, releases_in

_GZIP_MAGIC = b"\x1f\x8b"
# A gzip member inflating past this ratio (and past MIN_BOMB_BYTES) is a bomb, not notices:
# OCDS JSON compresses ~10-20x.
MAX_GZIP_RATIO = 200
MIN_BOMB_BYTES = 1 << 30
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
CHUNK_BYTES = 1 << 16
# A line up to this long is tried as a value of its own (JSON lines); a longer one (a whole
# package on one line) is streamed instead.
LINE_CHARS = 8 * 1024 * 1024
_STREAMED = ("releases", "records")  # the arrays of a package, read item by item


@dataclass(frozen=True)
class ReleaseRead:
    release: Mapping[str, Any]
    line: int  # where its value starts


@dataclass(frozen=True)
class BrokenRead:
    reason: str
    line: int


Read = ReleaseRead | BrokenRead


def check_notice_file(path: str | Path) -> None:
    """Raise InputFileError ("PATH: reason") unless `path` is a regular file we may read."""
    try:
        require_regular(os.stat(path))
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    except InputFileError as exc:
        raise InputFileError(f"{path}: {exc}") from None
    if not os.access(path, os.R_OK):
        raise InputFileError(f"{path}: Permission denied")


def open_notices(path: str | Path) -> TextIO:
    """The text of a regular file, ungzipped when it is gzip; raises InputFileError when it
    cannot be opened at all (missing, unreadable, a directory, a FIFO, a device)."""
    try:
        require_regular(os.stat(path))
        raw: BinaryIO = os.fdopen(os.open(path, _OPEN_FLAGS), "rb")
        require_regular(os.fstat(raw.fileno()))  # the path may have changed since the stat
        magic = raw.read(2)
        raw.seek(0)
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    except InputFileError as exc:
        raise InputFileError(f"{path}: {exc}") from None
    if magic == _GZIP_MAGIC:
        limit = max(MIN_BOMB_BYTES, os.fstat(raw.fileno()).st_size * MAX_GZIP_RATIO)
        inflated = cast(BinaryIO, _Gunzip(raw, limit))  # a BufferedIOBase, as TextIOWrapper needs
        return io.TextIOWrapper(inflated, encoding="utf-8-sig", errors="replace")
    # utf-8-sig drops a byte order mark; undecodable bytes become U+FFFD, never an error
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace")


class _Gunzip(io.BufferedIOBase):
    """Gzip inflated as it is read, every member, at most `limit` bytes (a bomb stops).

    Not gzip.GzipFile: it raises EOFError on a truncated file and drops what that read had
    already inflated (and so would TextIOWrapper above it); here everything before the cut
    is given, then the end, and `problem` says what was wrong."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
        self._pending = b""
        self._left = limit
        self._done = False
        self.problem: str | None = None

    def readable(self) -> bool:
        return True

    def read1(self, size: int | None = -1) -> bytes:
        """What is inflated so far (one chunk); b"" at the end or at a break."""
        while not self._pending and not self._done:
            try:
                self._pending = self._inflate()
            except OSError as exc:
                self.problem = str(exc)
        wanted = len(self._pending) if size is None or size < 0 else size
        given, self._pending = self._pending[:wanted], self._pending[wanted:]
        return given

    def read(self, size: int | None = -1) -> bytes:
        return self.read1(size)

    def _inflate(self) -> bytes:
        if self._inflater.eof:  # a member ended: another may follow (RFC 1952 §2.2)
            rest = self._inflater.unused_data or self._raw.read(CHUNK_BYTES)
            if not rest.strip(b"\0"):
                self._done = True
                return b""
            self._inflater = zlib.decompressobj(wbits=31)
            return self._feed(rest)
        data = self._inflater.unconsumed_tail or self._raw.read(CHUNK_BYTES)
        if not data:
            self._done = True
            raise OSError("the gzip data ends early (the file is truncated)")
        return self._feed(data)

    def _feed(self, data: bytes) -> bytes:
        try:
            out = self._inflater.decompress(data, CHUNK_BYTES)
        except zlib.error as exc:
            self._done = True
            raise OSError(f"broken gzip data ({exc})") from None
        self._left -= len(out)
        if self._left < 0:
            self._done = True
            raise OSError("the gzip data inflates past the ratio limit (a bomb?)")
        return out

    def close(self) -> None:
        self._raw.close()
        super().close()


def read_releases(text: TextIO) -> Iterator[Read]:
    """Every release in a text stream (see the module docstring), or why a part is broken.

    JSON lines are read a line at a time, each bad line reported. In any other layout, after
    a broken value reading starts again at the next line that parses; that broken stretch
    is reported once, and what lies in it that is not a notice (the inner objects of a
    pretty-printed release, the brackets that closed it) is passed over in silence."""
    reader = _Reader(JsonStream(text))
    yield from reader.reads()
    problem = getattr(getattr(text, "buffer", None), "problem", None)
    if isinstance(problem, str):  # a gzip cut short, or a bomb, after its last value
        yield BrokenRead(problem, reader.stream.line())


class _Reader:
    """Where reading a stream has got to: its layout so far, and whether it is recovering."""

    def __init__(self, stream: JsonStream) -> None:
        self.stream = stream
        self.lines: bool | None = None  # JSON lines? None: not known yet
        self.recovering = False  # inside a broken stretch: report nothing until a release
        self.resynced = False  # a break was passed: stray closing brackets are expected

    def reads(self) -> Iterator[Read]:
        while True:
            try:
                char = self.stream.peek()
                if char is None:
                    return
                if self.resynced and char in ",]}":
                    self.stream.take(char)
                    continue
                yield from self._next()
            except BrokenJson as broken:
                if not self.recovering:
                    yield BrokenRead(broken.reason, broken.line)
                self.recovering = self.resynced = True
                try:
                    self.stream.skip_line()
                except BrokenJson as lost:
                    yield BrokenRead(lost.reason, lost.line)
                    return

    def _next(self) -> Iterator[Read]:
        """The reads of the next top-level value: a line of its own when it is one."""
        if self.lines is not False:
            line = self.stream.next_line(LINE_CHARS)
            if line is not None:
                number = self.stream.line()
                try:
                    value = decode_text(line, number)
                except BrokenJson as broken:
                    if self.lines or not broken.incomplete:
                        self.stream.skip_line()  # a bad line: the next one starts afresh
                        yield BrokenRead(broken.reason, number)
                        return
                else:
                    self.lines = True
                    self.stream.skip_line()
                    items = value if isinstance(value, list) else [value]
                    for item in items:
                        yield from self._noting(_classified(item, None, number, self.recovering))
                    return
        start = self.stream.line()
        yield from self._noting(_top_level(self.stream, self.recovering))
        if self.stream.line() > start:
            self.lines = False

    def _noting(self, reads: Iterator[Read]) -> Iterator[Read]:
        for read in reads:
            if isinstance(read, ReleaseRead):
                self.recovering = False
            yield read


def _top_level(stream: JsonStream, recovering: bool) -> Iterator[Read]:
    """The reads of the next top-level value, streamed."""
    char = stream.peek()
    if char == "[":
        stream.take("[")
        yield from _array_items(stream, None, recovering)
    elif char == "{":
        yield from _object(stream, recovering)
    else:
        raise BrokenJson(f"expected a JSON object, found {char!r}", stream.line())


def _object(stream: JsonStream, recovering: bool) -> Iterator[Read]:
    """A top-level object, key by key: a package's arrays streamed, other keys kept whole."""
    line = stream.line()
    stream.take("{")
    kept: dict[str, object] = {}
    streamed = False
    if stream.peek() == "}":
        stream.take("}")
    else:
        while True:
            key = stream.value()
            if not isinstance(key, str):
                raise BrokenJson("expected a key", stream.line())
            stream.take(":")
            # A record has an ocid and its own releases: only a package's arrays stream.
            if key in _STREAMED and stream.peek() == "[" and "ocid" not in kept:
                stream.take("[")
                streamed = True
                yield from _array_items(stream, key, recovering)
            else:
                kept[key] = stream.value()
            if stream.take(",}") == "}":
                break
    if not streamed:
        yield from _classified(kept, None, line, recovering)


def _array_items(stream: JsonStream, within: str | None, recovering: bool) -> Iterator[Read]:
    if stream.peek() == "]":
        stream.take("]")
        return
    while True:
        line = stream.line()
        yield from _classified(stream.value(), within, line, recovering)
        if stream.take(",]") == "]":
            return


def _classified(value: object, within: str | None, line: int, recovering: bool) -> Iterator[Read]:
    try:
        releases = list(releases_in(value, within))
    except NotANotice as not_one:
        if not recovering:
            yield BrokenRead(str(not_one), line)
        return
    for release in releases:
        yield ReleaseRead(release, line)
