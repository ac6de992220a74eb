"""The engine's bounded body decoder, on plain bytes: gzip members, deflate, caps, chunking."""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Iterable

import pytest

from api_audit.net.decoding import MAX_GZIP_MEMBERS, BoundedDecoder
from api_audit.net.errors import Failure

SPEC = b'{"openapi": "3.0.3", "info": {"title": "Planning", "version": "1"}, "paths": {}}'
PARTS = (SPEC[:30], SPEC[30:55], SPEC[55:])
TWO = gzip.compress(SPEC[:40], mtime=0) + gzip.compress(SPEC[40:], mtime=0)
THREE = b"".join(gzip.compress(part, mtime=0) for part in PARTS)
HEADER = 10  # RFC 1952 §2.3: a member starts with 10 bytes of header


def decode(
    chunks: Iterable[bytes], coding: str = "gzip", limit: int = 1 << 20, **options: bool
) -> bytes:
    decoder = BoundedDecoder(coding, limit, **options)
    out = [decoder.feed(chunk) for chunk in chunks]
    if not decoder.full:
        out.append(decoder.finish())
    return b"".join(out)


def split(data: bytes, *at: int) -> list[bytes]:
    edges = [0, *at, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def in_pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- gzip members (RFC 1952 §2.2) ----------------------------------------------------------


@pytest.mark.parametrize("body", [TWO, THREE], ids=["two members", "three members"])
def test_every_member_is_decoded(body: bytes) -> None:
    assert decode([body]) == SPEC


@pytest.mark.parametrize("body", [TWO, THREE], ids=["two members", "three members"])
def test_members_decode_whatever_the_chunk_size(body: bytes) -> None:
    for size in range(1, len(body) + 1):
        assert decode(in_pieces(body, size)) == SPEC, f"chunks of {size} bytes"


@pytest.mark.parametrize("body", [TWO, THREE], ids=["two members", "three members"])
def test_members_decode_wherever_one_chunk_ends(body: bytes) -> None:
    for at in range(len(body) + 1):
        assert decode(split(body, at)) == SPEC, f"split at byte {at}"


def test_a_member_boundary_inside_a_chunk() -> None:
    first = len(gzip.compress(PARTS[0], mtime=0))
    # one chunk ends mid-way through the first member and runs into the second
    assert decode(split(THREE, first - 5, first + 5)) == SPEC


@pytest.mark.parametrize("cut", range(1, HEADER))
def test_the_second_members_header_split_across_chunks(cut: int) -> None:
    second = len(gzip.compress(PARTS[0], mtime=0))
    assert decode(split(THREE, second + cut)) == SPEC
    assert decode(split(THREE, second + cut, second + HEADER + 1)) == SPEC


def test_the_magic_bytes_of_the_next_member_split_across_chunks() -> None:
    second = len(gzip.compress(PARTS[0], mtime=0))
    assert decode(split(THREE, second, second + 1, second + 2)) == SPEC


def test_empty_members_are_members() -> None:
    empty = gzip.compress(b"", mtime=0)
    assert decode([empty + gzip.compress(SPEC, mtime=0) + empty]) == SPEC


# --- the caps, across members ------------------------------------------------------------


def test_the_decoded_size_cap_counts_every_member() -> None:
    body = gzip.compress(b"a" * 600, mtime=0) + gzip.compress(b"b" * 600, mtime=0)
    assert decode([body], limit=1200) == b"a" * 600 + b"b" * 600
    with pytest.raises(Failure) as caught:
        decode([body], limit=1000)  # crossed part-way through the second member
    assert (caught.value.error, caught.value.detail) == (
        "too_large",
        "decoded body is over 1000 bytes",
    )


def test_truncating_keeps_the_first_bytes_across_members() -> None:
    body = gzip.compress(b"a" * 600, mtime=0) + gzip.compress(b"b" * 600, mtime=0)
    assert decode(in_pieces(body, 7), limit=1000, truncate=True) == b"a" * 600 + b"b" * 400


def test_the_number_of_members_is_capped() -> None:
    empty = gzip.compress(b"", mtime=0)
    assert decode([empty * MAX_GZIP_MEMBERS]) == b""
    # 5 MiB of empty members would be 260,000 decompressors: refused at the cap instead
    with pytest.raises(Failure) as caught:
        decode(in_pieces(empty * (5 * 1024 * 1024 // len(empty)), 65536))
    assert caught.value.error == "too_large"
    assert caught.value.detail == f"gzip body has more than {MAX_GZIP_MEMBERS} members"


def test_truncating_stops_at_the_member_cap() -> None:
    member = gzip.compress(b"x", mtime=0)
    decoded = decode([member * (MAX_GZIP_MEMBERS + 5)], truncate=True)
    assert decoded == b"x" * MAX_GZIP_MEMBERS


# --- trailing bytes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trailer",
    [bytes(10), b"\n", b"<html>oops</html>", b"\x1f", b"\x00\x1f\x8b" + bytes(20)],
    ids=["zero padding", "newline", "text", "half a magic number", "magic not at the start"],
)
def test_trailing_garbage_after_a_complete_member_is_ignored(trailer: bytes) -> None:
    assert decode([TWO + trailer]) == SPEC
    assert decode(in_pieces(TWO + trailer, 3)) == SPEC


def test_trailing_bytes_that_start_a_member_must_be_one() -> None:
    with pytest.raises(zlib.error):
        decode([TWO + b"\x1f\x8b\x08\x00" + b"not deflate at all"])


def test_a_body_that_is_not_gzip_at_all_is_an_error() -> None:
    with pytest.raises(zlib.error):
        decode([b"plain text, labelled gzip"])


# --- deflate (RFC 9110 §8.4.1.2: zlib format; raw deflate is common too) -----------------


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("body", [zlib.compress(SPEC), _raw_deflate(SPEC)], ids=["zlib", "raw"])
def test_deflate_decodes_whatever_the_chunk_size(body: bytes) -> None:
    for size in range(1, len(body) + 1):
        assert decode(in_pieces(body, size), "deflate") == SPEC, f"chunks of {size} bytes"


@pytest.mark.parametrize("body", [zlib.compress(SPEC), _raw_deflate(SPEC)], ids=["zlib", "raw"])
def test_bytes_after_the_deflate_stream_are_ignored(body: bytes) -> None:
    # Content-Encoding: deflate is one stream; a second is not decoded (no standard has more)
    assert decode([body + zlib.compress(b"more")], "deflate") == SPEC
    assert decode([body + b"garbage"], "deflate") == SPEC


def test_deflate_is_capped_too() -> None:
    with pytest.raises(Failure):
        decode([zlib.compress(bytes(5000))], "deflate", limit=4000)


def test_identity_is_counted_against_the_cap() -> None:
    assert decode([b"abc", b"def"], "identity", limit=6) == b"abcdef"
    assert decode([b"abc", b"def"], "identity", limit=4, truncate=True) == b"abcd"
    with pytest.raises(Failure):
        decode([b"abc", b"def"], "identity", limit=5)
