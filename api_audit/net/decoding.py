"""Bounded body decoding: a response body read off the wire and decoded without outgrowing a cap.

Bodies are streamed raw and decoded here, never by httpx: httpx decodes without an output
bound, so one brotli chunk can expand to 1 GiB (engineering reference §4.2). Only the
codings this module can bound are asked for (`ACCEPT_ENCODING`) or accepted.
"""

from __future__ import annotations

import zlib

import httpx

from api_audit.net.errors import Failure

ACCEPT_ENCODING = "gzip, deflate"  # what the bounded decoder reads (§4.2)

# RFC 1952 §2.2: a gzip body is a series of members, each decoded in full. Each member is
# its own zlib stream, so the number of members bounds the decoder's setup work; a real
# multi-member body has a few (BGZF blocks hold 64 KiB each: 20 MiB is 320 of them), while
# 5 MiB of empty 20-byte members would be 260,000. Past this many the body is `too_large`.
MAX_GZIP_MEMBERS = 1000
GZIP_MAGIC = b"\x1f\x8b"
# zlib copies the input left after a member's end (`unused_data`); feeding it at most this
# much at a time keeps that copying to MAX_GZIP_MEMBERS x 64 KiB, however large the chunk.
_INFLATE_BYTES = 64 * 1024


async def read_body(
    response: httpx.Response,
    headers: tuple[tuple[str, str], ...],
    *,
    max_wire_bytes: int,
    max_decoded_bytes: int,
    truncate: bool,
) -> bytes:
    """The decoded body of `response`, within both caps. Past a cap it fails `too_large`,
    or, with `truncate`, keeps what fits; a coding it cannot bound is refused before a
    byte is read. A failure keeps the response's status and `headers`."""
    status = response.status_code
    declared = response.headers.get("content-length", "").strip()
    if not truncate and declared.isdigit() and int(declared) > max_wire_bytes:
        raise Failure(
            "too_large",
            f"Content-Length {declared} is over {max_wire_bytes} bytes",
            status,
            headers,
        )
    encoding = response.headers.get("content-encoding", "")
    coding = content_coding(encoding)
    if coding is None:
        # Refused before a byte of the body is read: nothing is decoded (§4.2).
        raise Failure(
            "unsupported_encoding",
            f"Content-Encoding {encoding!r} is not supported",
            status,
            headers,
        )
    decoder = BoundedDecoder(coding, max_decoded_bytes, truncate=truncate)
    try:
        return await _bounded_body(response, decoder, max_wire_bytes, truncate=truncate)
    except Failure as failure:
        raise Failure(failure.error, failure.detail, status, headers) from None
    except zlib.error as exc:
        raise Failure("protocol", f"invalid {coding} body: {exc}", status, headers) from None


async def _bounded_body(
    response: httpx.Response, decoder: BoundedDecoder, max_wire_bytes: int, *, truncate: bool
) -> bytes:
    chunks: list[bytes] = []
    wire = 0
    async for raw in response.aiter_raw():
        wire += len(raw)
        if wire > max_wire_bytes:
            if not truncate:
                raise Failure("too_large", f"body is over {max_wire_bytes} bytes")
            chunks.append(decoder.feed(raw[: len(raw) - (wire - max_wire_bytes)]))
            return b"".join(chunks)
        chunks.append(decoder.feed(raw))
        if decoder.full:
            return b"".join(chunks)
    chunks.append(decoder.finish())
    return b"".join(chunks)


def content_coding(value: str) -> str | None:
    """identity, gzip or deflate for a Content-Encoding value; None when we cannot decode it
    (br and zstd are refused: their decoders in httpx have no output bound)."""
    codings = [c.strip().lower() for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    return None


class BoundedDecoder:
    """Decodes identity/gzip/deflate bodies without ever producing more than `limit` bytes:
    each call asks zlib for at most what is left plus one byte. Past the limit it raises
    `too_large`, or, with `truncate`, keeps the first `limit` bytes and sets `full`.

    gzip: every member is decoded, up to MAX_GZIP_MEMBERS, the limit counting them all.
    Bytes after a complete member that do not start another (no 1f 8b) are trailing
    garbage and are ignored, as gzip(1), browsers and Node's gunzip ignore them; bytes that
    do start one must be a valid member (a `protocol` error otherwise, as in Node).
    deflate: one zlib stream (RFC 9110 §8.4.1.2), or raw deflate without the zlib header,
    which some servers send (httpx allows it too); which one is read from the first two
    bytes, however the body is chunked. Bytes after the stream's end are ignored.
    """

    def __init__(self, coding: str, limit: int, *, truncate: bool = False) -> None:
        self._coding = coding
        self._limit = limit
        self._truncate = truncate
        self._size = 0
        self.full = False
        self._zlib: zlib._Decompress | None = None  # the member (stream) being decoded
        self._members = 0
        self._held = b""  # too few bytes yet to tell how the next stream starts
        self._done = False  # the last member has ended: the rest is ignored

    def feed(self, data: bytes) -> bytes:
        if self._coding == "identity":
            return self._counted(data)
        view = memoryview(data)
        out: list[bytes] = []
        for start in range(0, len(view), _INFLATE_BYTES):
            if self.full or self._done:
                break
            out.append(self._inflate(bytes(view[start : start + _INFLATE_BYTES])))
        return b"".join(out)

    def finish(self) -> bytes:
        # All input is consumed by now (zlib keeps input back only once the output is over
        # the limit, which has raised or set `full`), so flush returns what zlib holds.
        if self._zlib is None or self._done:
            return b""
        return self._counted(self._zlib.flush(self._room()))

    def _inflate(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data and not self.full and not self._done:
            if self._zlib is None or self._zlib.eof:
                data, self._held = self._held + data, b""
                if len(data) < 2:
                    self._held = data
                    break
                self._zlib = self._next_stream(data[:2])
                if self._zlib is None:
                    break
            stream = self._zlib
            out.append(self._counted(stream.decompress(data, self._room())))
            data = stream.unused_data if stream.eof else b""
        return b"".join(out)

    def _next_stream(self, head: bytes) -> zlib._Decompress | None:
        """A decompressor for the stream that starts with `head`; None when the rest of the
        body is to be ignored (trailing garbage, or members past the cap with `truncate`)."""
        if self._coding == "deflate":
            if self._members:
                self._done = True  # one stream only: the rest is trailing garbage
                return None
            self._members = 1
            cmf, flg = head[0], head[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self._members and head != GZIP_MAGIC:
            self._done = True
            return None
        if self._members >= MAX_GZIP_MEMBERS:
            self._over(f"gzip body has more than {MAX_GZIP_MEMBERS} members")
            return None
        self._members += 1
        return zlib.decompressobj(zlib.MAX_WBITS | 16)

    def _room(self) -> int:
        return self._limit - self._size + 1  # never 0: zlib reads max_length=0 as unbounded

    def _counted(self, out: bytes) -> bytes:
        self._size += len(out)
        if self._size > self._limit:
            out = out[: len(out) - (self._size - self._limit)]
            self._size = self._limit
            self._over(f"decoded body is over {self._limit} bytes")
        return out

    def _over(self, detail: str) -> None:
        if not self._truncate:
            raise Failure("too_large", detail)
        self.full = True
