"""OCDS files on disk to releases, one at a time: packages, records, JSON lines, gzipped or not.

Every shape the services and the Open Contracting Partnership's registry publish is one
or more JSON values one after another: a release package or record package (one value,
however large: its `releases` or `records` array is read item by item), JSON lines of
packages, of records or of releases, or a JSON array of any of these; gzipped or not
(found by its magic bytes, not its name). A broken value is reported with its line and
reading goes on from the next line; nothing here raises on what a file holds.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO

from api_audit.loading.files import InputFileError, require_regular
from api_audit.sources.json_stream import BrokenJson, JsonStream
from api_audit.sources.ocds import NotANotice, releases_in

_GZIP_MAGIC = b"\x1f\x8b"
# A gzip member inflating past this ratio (and past MIN_BOMB_BYTES) is a bomb, not notices:
# OCDS JSON compresses ~10-20x.
MAX_GZIP_RATIO = 200
MIN_BOMB_BYTES = 1 << 30
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
CHUNK_BYTES = 1 << 16
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
    binary: IO[bytes] = raw
    if magic == _GZIP_MAGIC:
        size = os.fstat(raw.fileno()).st_size
        limit = max(MIN_BOMB_BYTES, size * MAX_GZIP_RATIO)
        capped = _Capped(gzip.GzipFile(fileobj=raw, mode="rb"), limit)
        binary = io.BufferedReader(capped, CHUNK_BYTES)
    # utf-8-sig drops a byte order mark; undecodable bytes become U+FFFD, never an error
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace")


class _Capped(io.RawIOBase):
    """A reader that fails (as a truncated file does) once it has given `limit` bytes."""

    def __init__(self, inner: gzip.GzipFile, limit: int) -> None:
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise OSError("decompresses to more than the gzip ratio limit allows")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def read_releases(text: TextIO) -> Iterator[Read]:
    """Every release in a text stream (see the module docstring), or why a part is broken.

    After a broken value, reading starts again at the next line that parses; the broken
    stretch is reported once, and what lies in it that is not a notice (the inner objects
    of a pretty-printed release) is passed over in silence."""
    stream = JsonStream(text)
    recovering = False
    while True:
        try:
            for read in _top_level(stream, recovering):
                if isinstance(read, ReleaseRead) or not recovering:
                    yield read
                if isinstance(read, ReleaseRead):
                    recovering = False
            if stream.peek() is None:
                return
        except BrokenJson as broken:
            if not recovering:
                yield BrokenRead(broken.reason, broken.line)
            recovering = True
            try:
                stream.skip_line()
            except BrokenJson as lost:
                yield BrokenRead(lost.reason, lost.line)
                return


def _top_level(stream: JsonStream, recovering: bool) -> Iterator[Read]:
    """The reads of the next top-level value; stray `,` `]` `}` are skipped when recovering."""
    char = stream.peek()
    if char is None:
        return
    if recovering and char in ",]}":
        stream.take(char)
        return
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
