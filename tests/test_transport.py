"""The engine's transport (aiohttp under httpx's API) and the engine's slot order.

Real HTTP against servers on 127.0.0.1; the socket factory notes every connection made.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from loopback import LoopbackSite, RecordingSockets, fetch_all, fetch_one, self_signed

from api_audit.models import Exchange, FetchRequest
from api_audit.net import FetchOptions, HttpEngine
from api_audit.net.slots import Slots
from api_audit.net.transport import AiohttpTransport
from api_audit.net.urls import numeric_ipv4

OPTIONS = FetchOptions(allow_private=True, respect_robots=False)


def _endless(path: str) -> tuple[int, dict[str, str], bytes]:
    if path == "/big":
        return 200, {}, b"x" * (256 * 1024)
    return 200, {"Content-Type": "text/plain"}, b"ok"


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    server = LoopbackSite(respond=_endless)
    yield server
    server.close()


# --- connections ---------------------------------------------------------------------------


def test_connections_are_kept_alive_for_the_next_request(site: LoopbackSite) -> None:
    sockets = RecordingSockets()
    urls = [f"{site.origin}/a{i}" for i in range(4)]
    exchanges = fetch_all(urls, in_turn=True, options=OPTIONS, socket_factory=sockets)
    assert [e.status for e in exchanges] == [200] * 4
    assert len(sockets.connects) == 1


def test_a_body_abandoned_part_way_closes_its_connection(site: LoopbackSite) -> None:
    sockets = RecordingSockets()
    small = FetchOptions(allow_private=True, respect_robots=False, max_wire_bytes=1024)
    big, after = fetch_all(
        [f"{site.origin}/big", f"{site.origin}/after"],
        in_turn=True,
        options=small,
        socket_factory=sockets,
    )
    assert big.error == "too_large"
    assert (after.status, after.body) == (200, b"ok")
    assert len(sockets.connects) == 2  # the unread rest of /big never reaches the next request


def test_the_transport_leaves_bodies_compressed(site: LoopbackSite) -> None:
    """Decoding is the engine's (bounded); the transport hands over what came off the wire."""
    gzip_site = LoopbackSite(
        routes={"/z": (200, {"Content-Encoding": "gzip"}, b"\x1f\x8b not really gzip")}
    )

    async def go() -> bytes:
        transport = AiohttpTransport(allow_private=True, max_connections=2, dns_timeout=2)
        try:
            response = await transport.handle_async_request(
                httpx.Request("GET", f"{gzip_site.origin}/z")
            )
            return b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await transport.aclose()

    try:
        assert asyncio.run(go()) == b"\x1f\x8b not really gzip"
    finally:
        gzip_site.close()


# --- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = self_signed(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("no openssl command to make a certificate")
    return made


def test_the_negotiated_tls_version_reaches_the_exchange(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    tls_site = LoopbackSite(routes={"/": (200, {}, b"secure")}, tls=server_side)
    trusting = ssl.create_default_context(cafile=str(cert))

    def transport() -> httpx.AsyncBaseTransport:
        return AiohttpTransport(
            allow_private=True, max_connections=2, dns_timeout=2, ssl_context=trusting
        )

    try:
        exchange = fetch_one(f"{tls_site.origin}/", options=OPTIONS, transport=transport)
    finally:
        tls_site.close()
    assert (exchange.status, exchange.body) == (200, b"secure")
    assert exchange.tls_version in ("TLSv1.2", "TLSv1.3")


def test_plain_http_reports_no_tls_version(site: LoopbackSite) -> None:
    exchange = fetch_one(f"{site.origin}/plain", options=OPTIONS)
    assert exchange.tls_version is None


# --- numeric hosts, as browsers read them --------------------------------------------------


@pytest.mark.parametrize(
    ("host", "dotted"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("169.254.43518", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("93.184.215.14", "93.184.215.14"),
        ("93.184.215.14.", "93.184.215.14"),
        ("vendor.test", None),
        ("::ffff:127.0.0.1", None),  # an IPv6 literal
        ("123.vendor.test", None),
    ],
)
def test_numeric_hosts_become_dotted_quads(host: str, dotted: str | None) -> None:
    assert numeric_ipv4(host) == dotted


@pytest.mark.parametrize(
    "host",
    # WHATWG: "api.0x" ends in a number ("0x" is 0), so it must be an address, and is not
    ["999.1.1.1", "1.2.3.4.5", "4294967296", "1.2.65536", "09.1.1.1", "api.0x"],
)
def test_numeric_hosts_that_are_no_address_are_bad_urls(host: str) -> None:
    exchange = fetch_one(f"http://{host}/", options=OPTIONS)
    assert exchange.error == "bad_url"


# --- slot order ----------------------------------------------------------------------------


def test_slots_go_to_the_lowest_ticket_first_come_first_served_among_equals() -> None:
    async def go() -> list[str]:
        slots = Slots(1)
        order: list[str] = []

        async def take(name: str, ticket: int) -> None:
            async with slots.hold(ticket):
                order.append(name)
                await asyncio.sleep(0.01)

        holder = asyncio.create_task(take("first", 9))
        await asyncio.sleep(0)  # it holds the only slot; the rest queue in this order
        waiting = [
            asyncio.create_task(take(name, ticket))
            for name, ticket in [("late-a", 5), ("early", 1), ("late-b", 5), ("latest", 7)]
        ]
        await asyncio.gather(holder, *waiting)
        return order

    assert asyncio.run(go()) == ["first", "early", "late-a", "late-b", "latest"]


def test_a_cancelled_waiter_does_not_lose_the_slot() -> None:
    async def go() -> list[str]:
        slots = Slots(1)
        order: list[str] = []

        async def take(name: str) -> None:
            async with slots.hold(0):
                order.append(name)
                await asyncio.sleep(0.01)

        holder = asyncio.create_task(take("holder"))
        await asyncio.sleep(0)
        doomed = asyncio.create_task(take("doomed"))
        survivor = asyncio.create_task(take("survivor"))
        await asyncio.sleep(0)
        doomed.cancel()
        await asyncio.gather(holder, survivor)
        with pytest.raises(asyncio.CancelledError):
            await doomed
        # and the slot is free again afterwards
        await asyncio.wait_for(take("after"), 1)
        return order

    assert asyncio.run(go()) == ["holder", "survivor", "after"]


def test_a_slot_handed_to_a_waiter_cancelled_at_that_moment_passes_on() -> None:
    async def go() -> list[str]:
        slots = Slots(1)
        order: list[str] = []

        async def take(name: str) -> None:
            async with slots.hold(1):
                order.append(name)

        await slots._acquire(0)  # this task holds the only slot
        doomed = asyncio.create_task(take("doomed"))
        survivor = asyncio.create_task(take("survivor"))
        await asyncio.sleep(0)  # both wait
        slots._release()  # the slot is handed to `doomed`, which has not run yet ...
        doomed.cancel()  # ... and is cancelled before it does
        await survivor
        with pytest.raises(asyncio.CancelledError):
            await doomed
        await asyncio.wait_for(take("after"), 1)  # and nothing leaked
        return order

    assert asyncio.run(go()) == ["survivor", "after"]


def test_an_earlier_fetchs_redirect_hop_goes_ahead_of_later_requests() -> None:
    """Work already started finishes first: the second hop of a redirect does not queue
    behind requests made after its fetch began."""
    site = LoopbackSite(
        routes={"/start": (302, {"Location": "/landing"}, b""), "/landing": (200, {}, b"ok")},
        fallback=(200, {}, b"other"),
    )
    options = FetchOptions(allow_private=True, respect_robots=False, per_host=1, concurrency=1)

    async def go() -> None:
        async with HttpEngine(options) as http:
            first = asyncio.create_task(http.fetch(FetchRequest(f"{site.origin}/start")))
            await asyncio.sleep(0)
            later = [
                asyncio.create_task(http.fetch(FetchRequest(f"{site.origin}/other{i}")))
                for i in range(5)
            ]
            await asyncio.gather(first, *later)

    try:
        asyncio.run(go())
    finally:
        site.close()
    landing = site.times["/landing"][0]
    # The host's slot went to the next waiter while the hop was on its way back; after
    # that one, the hop goes first (a plain queue would put it behind all five).
    assert sum(site.times[f"/other{i}"][0] < landing for i in range(5)) <= 1


def test_a_lower_priority_goes_first() -> None:
    site = LoopbackSite(fallback=(200, {}, b"ok"))
    options = FetchOptions(allow_private=True, respect_robots=False, per_host=1, concurrency=1)

    async def go() -> None:
        async with HttpEngine(options) as http:
            blocker = asyncio.create_task(http.fetch(FetchRequest(f"{site.origin}/blocker")))
            await asyncio.sleep(0)
            queued = [
                asyncio.create_task(http.fetch(FetchRequest(f"{site.origin}/p{p}"), priority=p))
                for p in (3, 1, 2)
            ]
            await asyncio.gather(blocker, *queued)

    try:
        asyncio.run(go())
    finally:
        site.close()
    starts = sorted((site.times[f"/p{p}"][0], p) for p in (1, 2, 3))
    assert [p for _, p in starts] == [1, 2, 3]


# --- responses aiohttp's parser refuses, and slow heads --------------------------------------

HEAD_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"


def _raw(reply: bytes, *, drip: float = 0.0) -> Exchange:
    """Fetch once from a server that sends `reply` (byte by byte, `drip` s apart, if set)."""

    async def go() -> Exchange:
        stop = asyncio.Event()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                if drip:
                    for i in range(len(reply)):
                        if stop.is_set():
                            break
                        writer.write(reply[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(drip)
                else:
                    writer.write(reply)
                    await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        options = FetchOptions(allow_private=True, respect_robots=False, deadline=1.0)
        try:
            async with HttpEngine(options) as http:
                return await http.fetch(FetchRequest(f"http://127.0.0.1:{port}/"))
        finally:
            stop.set()
            server.close()
            await asyncio.sleep(drip * 2)  # the dripping handler sees `stop` and ends

    return asyncio.run(go())


CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
REFUSED = {
    "too many headers": HEAD_OK + b"".join(b"X-%d: y\r\n" % i for i in range(500)) + b"\r\nok",
    "one huge header": HEAD_OK + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\nok",
    "length and chunked": HEAD_OK + b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "bad chunk size": CHUNKED + b"\r\nzz\r\nok\r\n",
    "no status line": b"\x00\x01\x02 garbage\r\n\r\n",
    "NUL in a header": HEAD_OK + b"X-Nul: a\x00b\r\n\r\nok",
    "length not a number": b"HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_responses_the_parser_refuses_are_protocol_errors(name: str) -> None:
    exchange = _raw(REFUSED[name])
    assert exchange.error == "protocol", (exchange.error, exchange.error_detail)
    assert exchange.status is None
    assert "\n" not in exchange.error_detail and len(exchange.error_detail) <= 300


def test_an_early_hint_before_the_response_is_skipped() -> None:
    exchange = _raw(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + HEAD_OK + b"\r\nok")
    assert (exchange.error, exchange.status, exchange.body) == (None, 200, b"ok")


def test_a_head_dripped_a_byte_at_a_time_hits_the_deadline() -> None:
    exchange = _raw(HEAD_OK + b"X-Slow: " + b"z" * 200 + b"\r\n\r\nok", drip=0.02)
    assert exchange.error == "deadline"


def test_header_bytes_that_are_not_ascii_are_kept_decoded() -> None:
    exchange = _raw(HEAD_OK + "X-Name: Gwasanaethau Cymraeg – ŵ\r\n".encode() + b"\r\nok")
    assert exchange.error is None
    assert exchange.header("x-name") is not None


def test_any_httpx_transport_can_stand_in_for_the_network() -> None:
    """The engine speaks httpx's transport API, so a test can hand it httpx.MockTransport
    and see requests exactly as they would be sent: no socket is opened. (Bodies are
    streamed, as a real transport's are: `stream=`, not `content=`, which httpx reads.)"""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/robots.txt":
            return httpx.Response(404, stream=httpx.ByteStream(b""))
        return httpx.Response(200, stream=httpx.ByteStream(b"mocked"))

    sockets = RecordingSockets()
    exchange = fetch_one(
        "https://vendor.example/docs",
        options=FetchOptions(),
        transport=lambda: httpx.MockTransport(answer),
        socket_factory=sockets,
    )
    assert (exchange.status, exchange.body, exchange.error) == (200, b"mocked", None)
    assert [r.url.path for r in seen] == ["/robots.txt", "/docs"]
    assert seen[1].headers["user-agent"].startswith("api-audit/")
    assert sockets.connects == []
