"""A hostile market, audited through the real command line.

Every supplier here is a server on 127.0.0.1, started by these tests and written with raw
asyncio streams where a well-behaved HTTP server could not misbehave enough: it drips,
bombs, never ends, loops, points at the cloud metadata address, resets, lies about its
length, charset and certificate, and serves documents built to hurt parsers and terminals.
The whole market is audited by `api_audit.cli.main(["run", ...])`, in JSON and as a table,
with a network backend under the address guard that records every socket asked for and
refuses anything but loopback. For each supplier: the run ends in bounded time and memory,
exits 0, gives the system findings that say what happened, and nothing it sent reaches the
output (stdout, stderr, the database's text) as a terminal control character.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hostile_market import (
    CONTROL,
    DEADLINE,
    LOOPBACK,
    PUBLIC,
    Handler,
    Market,
    Run,
    Site,
    audit,
    head,
    raw,
    redirect,
    self_signed_context,
    static,
)

PAYLOAD = "[bold red]pwn[/] \x1b]0;pwned\x07\x1b[31mred\x1b[0m\x9b2J <script>alert(1)</script>"
MARKUP_NAME = "[bold red]Markup Co[/] <script>alert(1)</script>"


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    return b"".join([*(packer.compress(block) for _ in range(size // len(block))), packer.flush()])


GZIP_BOMB = _gzip_of_zeros(100 * 1024 * 1024)  # ~100 KB on the wire, 100 MiB decoded


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One byte every 50 ms: never trips a read timeout, only the whole-fetch deadline."""
    writer.write(head(200, {"Content-Type": "text/html", "Content-Length": "100000"}))
    for _ in range(1200):  # a minute at most, should the client never give up
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.05)


async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(head(200, {"Content-Type": "text/html"}))  # no length: until we close
    block = b"x" * 65536
    for _ in range(5000):  # 320 MB at most
        writer.write(block)
        await writer.drain()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # RST, not FIN


async def short_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(head(200, {"Content-Type": "text/html", "Content-Length": "5000"}) + b"x" * 100)
    await writer.drain()


def brotli_refusal(site: Site) -> Handler:
    """Declares `Content-Encoding: br` and holds the body back until the client hangs up:
    the engine must refuse on the header alone, so not one byte of it is read or decoded."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            head(
                200,
                {"Content-Encoding": "br", "Content-Type": "text/html", "Content-Length": "1617"},
            )
        )
        await writer.drain()
        try:
            closed = await asyncio.wait_for(reader.read(1), 5) == b""
        except TimeoutError:
            closed = False
        site.notes.append("closed before the body" if closed else "waited for the body")
        writer.write(b"\x1b" + b"\xff" * 1616)  # what a 1 GiB brotli bomb weighs

    return handle


def to_localhost(site: Site) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await redirect(f"http://localhost:{site.port}/landing")(reader, writer)

    return handle


# --- the documents ---------------------------------------------------------------------------

HTML = "text/html; charset=utf-8"
JSON = "application/json"
_BOMB_LEVELS = 9
YAML_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, _BOMB_LEVELS)
)
REF_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Refs", "version": "1"},
    "paths": {
        "/a": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {JSON: {"schema": {"$ref": "#/components/schemas/A"}}},
                    },
                    "400": {"$ref": "http://169.254.169.254/latest/meta-data/iam/info"},
                    "500": {"$ref": "file:///etc/passwd"},
                }
            }
        }
    },
    "components": {
        "schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"$ref": "#/components/schemas/A"},
        }
    },
}
MARKUP_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": PAYLOAD, "version": PAYLOAD, "description": PAYLOAD},
    "paths": {"/x": {"get": {"summary": PAYLOAD, "responses": {"200": {"description": PAYLOAD}}}}},
}
MARKUP_PAGE = f"<html><head><title>{PAYLOAD}</title></head><body><h1>{PAYLOAD}</h1></body></html>"
SECURITY_TXT = f"Contact: mailto:\x1b]0;pwn\x07sec@example.org {PAYLOAD}\nExpires: {PAYLOAD}\n"


def build_sites(tls: bool) -> list[Site]:
    sites = [
        Site("drip", {"/docs": drip}, {"docs": "/docs"}, r"no complete response"),
        Site(
            "gzip-bomb",
            {"/docs": static(200, GZIP_BOMB, Content_Type=HTML, Content_Encoding="gzip")},
            {"docs": "/docs"},
            r"decoded body is over 20971520 bytes",
        ),
        Site("brotli-bomb", {}, {"docs": "/docs"}, r"Content-Encoding 'br' is not supported"),
        Site("endless", {"/docs": endless}, {"docs": "/docs"}, r"body is over 5242880 bytes"),
        Site(
            "redirect-loop", {"/docs": redirect("/docs")}, {"docs": "/docs"}, r"too many redirects"
        ),
        Site(
            "to-metadata",
            {"/docs": redirect("http://169.254.169.254/latest/meta-data/")},
            {"docs": "/docs"},
            r"169\.254\.169\.254 is a cloud metadata address",
        ),
        Site(
            "to-localhost",
            {"/landing": static(200, b"<h1>Docs</h1>", Content_Type=HTML)},
            {"docs": "/docs"},
            None,
        ),
        Site(
            "reset",
            {"/docs": reset},
            {"docs": "/docs"},
            r"[Cc]onnection reset by peer|disconnected",
        ),
        Site(
            "bad-charset",
            {
                "/docs": static(200, "<h1>Café – naïve</h1>".encode("cp1252"), Content_Type=HTML),
                "/openapi.json": static(
                    200,
                    '{"openapi": "3.0.3", "info": {"title": "Café"}}'.encode("latin-1"),
                    Content_Type="application/json; charset=utf-8",
                ),
                "/api": static(
                    200, b'{"ok": true}', Content_Type="application/json; charset=klingon-42"
                ),
            },
            {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api"},
            r"not valid UTF-8",
        ),
        Site(
            "truncated-json",
            {
                "/openapi.json": static(
                    200, b'{"openapi": "3.0.3", "info": {"tit', Content_Type=JSON
                )
            },
            {"spec": "/openapi.json"},
            r"not valid JSON",
        ),
        Site("short-body", {"/docs": short_body}, {"docs": "/docs"}, r"incomplete body: .* 100 of"),
        Site(
            "yaml-bomb",
            {"/openapi.yaml": static(200, YAML_BOMB.encode(), Content_Type="application/yaml")},
            {"spec": "/openapi.yaml"},
            r"aliases expand to more than",
        ),
        Site(
            "refs",
            {"/openapi.json": static(200, json.dumps(REF_SPEC).encode(), Content_Type=JSON)},
            {"spec": "/openapi.json"},
            r"169\.254\.169\.254/latest/meta-data|file:///etc/passwd",
        ),
        Site(
            "deep-json",
            {"/openapi.json": static(200, b"[" * 100_000 + b"]" * 100_000, Content_Type=JSON)},
            {"spec": "/openapi.json"},
            r"nested deeper than",
        ),
        Site(
            "robots-bomb",
            {
                "/robots.txt": static(
                    200, GZIP_BOMB, Content_Type="text/plain", Content_Encoding="gzip"
                ),
                "/docs": static(200, b"<h1>Docs</h1>", Content_Type=HTML),
            },
            {"docs": "/docs"},
            None,
        ),
        Site(
            "markup",
            {
                "/robots.txt": static(200, f"User-agent: *\nAllow: /\n# {PAYLOAD}\n".encode()),
                "/docs": static(
                    200, MARKUP_PAGE.encode(), Content_Type=HTML, X_Note="[bold]x[/] <script>"
                ),
                "/openapi.json": static(200, json.dumps(MARKUP_SPEC).encode(), Content_Type=JSON),
                "/.well-known/security.txt": static(
                    200, SECURITY_TXT.encode(), Content_Type="text/plain"
                ),
                # A raw ESC and BEL in a header value: h11 refuses the response itself.
                "/api": raw(
                    b"HTTP/1.1 200 OK\r\nX-Title: \x1b]0;pwn\x07[bold]x[/]\r\n"
                    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                ),
            },
            {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api"},
            None,
            system_name=MARKUP_NAME,
        ),
    ]
    by_name = {site.name: site for site in sites}
    by_name["brotli-bomb"].routes["/docs"] = brotli_refusal(by_name["brotli-bomb"])
    by_name["to-localhost"].routes["/docs"] = to_localhost(by_name["to-localhost"])
    if tls:
        page = static(200, b"<h1>Docs</h1>", Content_Type=HTML)
        sites.append(
            Site(
                "bad-tls",
                {"/docs": page},
                {"docs": "/docs"},
                r"certificate verify failed",
                tls=True,
            )
        )
    return sites


# --- the runs, once per module ---------------------------------------------------------------


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    folder = tmp_path_factory.mktemp("tls")
    context = self_signed_context(folder)
    made = Market(build_sites(tls=context is not None), context)
    yield made
    made.close()


@pytest.fixture(scope="module")
def json_run(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return audit(market, tmp_path_factory.mktemp("json"), "--allow-private", "-f", "json")


@pytest.fixture(scope="module")
def table_run(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Run:
    # Wide enough that each name is printed on one line, so the test reads it whole.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "240")
        return audit(market, tmp_path_factory.mktemp("table"), "--allow-private", "-f", "table")


def findings_of(run: Run, system: str) -> list[dict[str, Any]]:
    rows = {row["system"]: row for row in run.document()["systems"]}
    return rows[system]["findings"]  # type: ignore[no-any-return]


# --- what every run must show ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["json_run", "table_run"])
def test_the_run_ends_in_bounded_time_and_memory(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    assert run.code == 0, run.err
    assert run.seconds < 30  # generous: the slowest supplier costs about one deadline
    assert run.peak_bytes < 150 * 1024 * 1024  # a 100 MiB bomb and endless bodies included


@pytest.mark.parametrize("which", ["json_run", "table_run"])
def test_no_control_character_reaches_any_output(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    assert not CONTROL.search(run.out.replace("\n", ""))
    assert not CONTROL.search(run.err.replace("\n", ""))
    for text in run.db_text():
        assert not CONTROL.search(text.replace("\n", "")), text[:200]


def test_json_findings_carry_no_control_characters_once_decoded(json_run: Run) -> None:
    for row in json_run.document()["systems"]:
        for finding in row["findings"]:
            assert not CONTROL.search(finding["message"]), finding


def test_the_table_shows_markup_as_text_and_every_system(table_run: Run, market: Market) -> None:
    assert MARKUP_NAME in table_run.out  # escaped: printed as written, not rendered
    for site in market.sites.values():
        if not site.system_name:
            assert f"Hostile {site.name}" in table_run.out


@pytest.mark.parametrize("which", ["json_run", "table_run"])
def test_the_metadata_address_is_never_contacted(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    assert run.connects  # the market was reached
    assert set(run.connects) <= LOOPBACK


def test_every_hostile_system_gets_findings(json_run: Run, market: Market) -> None:
    systems = {row["system"] for row in json_run.document()["systems"]}
    assert systems == set(market.sites)
    for name in market.sites:
        assert findings_of(json_run, name), name


@pytest.mark.parametrize(
    "name",
    [
        "drip", "gzip-bomb", "brotli-bomb", "endless", "redirect-loop", "to-metadata", "reset",
        "bad-charset", "truncated-json", "short-body", "yaml-bomb", "refs", "deep-json", "bad-tls",
    ],
)  # fmt: skip
def test_the_finding_says_what_happened(json_run: Run, market: Market, name: str) -> None:
    if name not in market.sites:
        pytest.skip("no openssl command to make a self-signed certificate")
    expected = market.sites[name].expect
    assert expected is not None
    messages = [f["message"] for f in findings_of(json_run, name)]
    assert any(re.search(expected, m) for m in messages), messages


def test_brotli_is_refused_on_the_header_without_reading_the_body(
    json_run: Run, table_run: Run, market: Market
) -> None:
    notes = market.sites["brotli-bomb"].notes
    assert notes  # the docs page was asked for, in each run
    assert set(notes) == {"closed before the body"}


def test_a_dripping_server_costs_one_deadline(json_run: Run) -> None:
    drip = [f for f in findings_of(json_run, "drip") if "no complete response" in f["message"]]
    assert all(f["outcome"] == "inconclusive" for f in drip)
    assert f"within {DEADLINE:g} s" in drip[0]["message"]


def test_with_allow_private_a_redirect_to_localhost_is_followed(
    json_run: Run, market: Market
) -> None:
    assert market.sites["to-localhost"].hits["/landing"] >= 1
    messages = [f["message"] for f in findings_of(json_run, "to-localhost")]
    assert not any("blocked" in m for m in messages), messages


def test_a_huge_robots_txt_does_not_stop_the_audit(json_run: Run) -> None:
    findings = findings_of(json_run, "robots-bomb")
    assert any(f["outcome"] == "pass" for f in findings), findings


def test_refs_that_leave_the_document_are_never_followed(json_run: Run) -> None:
    assert "169.254.169.254" not in json_run.connects


def test_markup_in_documents_is_quoted_plainly(json_run: Run) -> None:
    messages = " ".join(f["message"] for f in findings_of(json_run, "markup"))
    assert "\x1b" not in messages
    assert "\x07" not in messages
    assert "\x9b" not in messages


# --- without --allow-private: the market stands on a public address --------------------------


@pytest.fixture(scope="module")
def public_run(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The market as if on the internet: PUBLIC is mapped to 127.0.0.1 under the guard."""
    return audit(market, tmp_path_factory.mktemp("public"), "-f", "json", host=PUBLIC)


def test_without_allow_private_a_redirect_to_localhost_is_blocked(public_run: Run) -> None:
    assert public_run.code == 0, public_run.err
    messages = [f["message"] for f in findings_of(public_run, "to-localhost")]
    assert any(
        "address blocked" in m and "localhost resolves to" in m and "not a public address" in m
        for m in messages
    ), messages


def test_without_allow_private_the_metadata_redirect_is_blocked(public_run: Run) -> None:
    messages = [f["message"] for f in findings_of(public_run, "to-metadata")]
    assert any("169.254.169.254 is a cloud metadata address" in m for m in messages), messages


def test_without_allow_private_only_the_public_address_is_contacted(public_run: Run) -> None:
    assert set(public_run.connects) == {PUBLIC}  # never loopback, never metadata
    assert public_run.seconds < 30
