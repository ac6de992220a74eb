"""The HTTP engine against real misbehaving servers on 127.0.0.1, and its pure helpers."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpcore
import pytest

from api_audit.http import (
    FetchOptions,
    GuardedBackend,
    HttpEngine,
    check_address,
    parse_retry_after,
)
from api_audit.models import Exchange, FetchRequest

T = TypeVar("T")

BOMB_BYTES = 100 * 1024 * 1024


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def _gzip_of_zeros(size: int) -> bytes:
    """Gzip `size` zero bytes without ever holding them all in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


GZIP_BOMB = _gzip_of_zeros(BOMB_BYTES)


# --- the test servers ----------------------------------------------------------------------


@dataclass
class ServerState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: Counter[str] = field(default_factory=Counter)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    in_flight: Counter[int] = field(default_factory=Counter)  # by server port
    peak: Counter[int] = field(default_factory=Counter)
    total_in_flight: int = 0
    total_peak: int = 0

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()
            self.headers.clear()
            self.in_flight.clear()
            self.peak.clear()
            self.total_in_flight = self.total_peak = 0


class Handler(BaseHTTPRequestHandler):
    state: ServerState  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        with self.state.lock:
            self.state.hits[self.path] += 1
            self.state.headers[self.path] = {k.lower(): v for k, v in self.headers.items()}
        name = "route_" + path.strip("/").split("/", 1)[0].replace("-", "_")
        getattr(self, name, self.route_ok)()

    def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        if "Content_Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route_ok(self) -> None:
        self.reply(200, b"hello", Content_Type="text/plain")

    def route_set_cookie(self) -> None:
        self.reply(200, b"cookie", Set_Cookie="session=abc; Path=/")

    def route_redirect(self) -> None:  # /redirect/N -> /redirect/N-1 (relative) ... -> 200
        left = int(self.path.rsplit("/", 1)[1])
        if left == 0:
            self.reply(200, b"arrived")
        else:
            self.reply(302, Location=f"{left - 1}")

    def route_loop(self) -> None:
        self.reply(302, Location="/loop")

    def route_to_metadata(self) -> None:
        self.reply(302, Location="http://169.254.169.254/latest/meta-data/")

    def route_to_file(self) -> None:
        self.reply(302, Location="file:///etc/passwd")

    def route_gzip(self) -> None:
        packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        body = packer.compress(b"hello gzip") + packer.flush()
        self.reply(200, body, Content_Encoding="gzip")

    def route_deflate(self) -> None:
        self.reply(200, zlib.compress(b"hello deflate"), Content_Encoding="deflate")

    def route_bomb(self) -> None:
        self.reply(200, GZIP_BOMB, Content_Encoding="gzip")

    def route_brotli(self) -> None:
        self.reply(200, b"\x1b\x03\x00\xf8\x8d\x94n\xde", Content_Encoding="br")

    def route_compress(self) -> None:
        self.reply(200, b"\x1f\x9d\x90", Content_Encoding="compress")

    def route_declared_big(self) -> None:  # promises 10 MB and sends nothing: must not be read
        self.send_response(200)
        self.send_header("Content-Length", str(10_000_000))
        self.end_headers()
        self.wfile.flush()
        time.sleep(3)

    def route_endless(self) -> None:
        self.send_response(200)
        self.end_headers()
        block = b"x" * 65536
        for _ in range(4000):  # 250 MB at most, should the client never stop
            self.wfile.write(block)

    def route_drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.2)

    def route_hang(self) -> None:
        time.sleep(1.5)
        self.reply(200, b"late")

    def route_garbage(self) -> None:
        self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
        self.close_connection = True

    def route_reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def route_slow(self) -> None:
        port = int(self.connection.getsockname()[1])
        state = self.state
        with state.lock:
            state.in_flight[port] += 1
            state.total_in_flight += 1
            state.peak[port] = max(state.peak[port], state.in_flight[port])
            state.total_peak = max(state.total_peak, state.total_in_flight)
        time.sleep(0.15)
        with state.lock:
            state.in_flight[port] -= 1
            state.total_in_flight -= 1
        self.reply(200, b"slow")

    def route_retry(self) -> None:  # 429 with Retry-After: 1 the first time, then 200
        if self.state.hits[self.path] == 1:
            self.reply(429, Retry_After="1")
        else:
            self.reply(200, b"second time lucky")

    def route_retry_later(self) -> None:
        self.reply(503, b"busy", Retry_After="3600")


@dataclass
class Servers:
    state: ServerState
    urls: list[str]

    @property
    def url(self) -> str:
        return self.urls[0]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on endless or dripping bodies is the point of those tests


@pytest.fixture(scope="module")
def _running_servers() -> Iterator[Servers]:
    state = ServerState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    servers = [QuietServer(("127.0.0.1", 0), handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Servers(state, [f"http://127.0.0.1:{s.server_address[1]}" for s in servers])
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def servers(_running_servers: Servers) -> Servers:
    _running_servers.state.reset()
    return _running_servers


def fetch(url: str, **options: Any) -> Exchange:
    options.setdefault("allow_private", True)
    backend = options.pop("network_backend", None)

    async def go() -> Exchange:
        async with HttpEngine(FetchOptions(**options), network_backend=backend) as engine:
            return await engine.fetch(FetchRequest(url))

    return run(go())


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """The real backend, noting every address a socket is opened to."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connects: list[str] = []

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.connects.append(host)
        return await self.inner.connect_tcp(host, port, *args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# --- normal fetches and redirects ----------------------------------------------------------


def test_plain_fetch_sends_identifying_headers(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/ok")
    assert exchange.error is None
    assert (exchange.status, exchange.body) == (200, b"hello")
    assert exchange.content_type == "text/plain"
    assert all(name == name.lower() for name, _ in exchange.headers)
    assert exchange.final_url == f"{servers.url}/ok"
    assert exchange.started_at.endswith("+00:00")
    seen = servers.state.headers["/ok"]
    assert seen["user-agent"].startswith("api-audit/")
    assert seen["accept"] == "*/*"
    assert seen["accept-encoding"] == "gzip, deflate"


def test_accept_comes_from_the_request(servers: Servers) -> None:
    async def go() -> Exchange:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            return await engine.fetch(FetchRequest(f"{servers.url}/ok", accept="application/json"))

    assert run(go()).status == 200
    assert servers.state.headers["/ok"]["accept"] == "application/json"


def test_head_reads_no_body(servers: Servers) -> None:
    async def go() -> Exchange:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            return await engine.fetch(FetchRequest(f"{servers.url}/declared-big", method="HEAD"))

    exchange = run(go())
    assert (exchange.status, exchange.error, exchange.body) == (200, None, b"")


def test_cookies_are_not_kept_between_requests(servers: Servers) -> None:
    async def go() -> None:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            await engine.fetch(FetchRequest(f"{servers.url}/set-cookie"))
            await engine.fetch(FetchRequest(f"{servers.url}/ok?after"))

    run(go())
    assert "cookie" not in servers.state.headers["/ok?after"]


@pytest.mark.parametrize(
    ("path", "body"), [("/gzip", b"hello gzip"), ("/deflate", b"hello deflate")]
)
def test_compressed_bodies_are_decoded(servers: Servers, path: str, body: bytes) -> None:
    exchange = fetch(servers.url + path)
    assert (exchange.error, exchange.body) == (None, body)


def test_redirect_chain_is_recorded_and_followed(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/redirect/3")
    assert (exchange.status, exchange.body, exchange.error) == (200, b"arrived", None)
    assert exchange.final_url == f"{servers.url}/redirect/0"
    assert [(hop.status, hop.url, hop.location) for hop in exchange.redirects] == [
        (302, f"{servers.url}/redirect/3", "2"),
        (302, f"{servers.url}/redirect/2", "1"),
        (302, f"{servers.url}/redirect/1", "0"),
    ]


def test_redirect_loop_is_too_many_redirects(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/loop", max_redirects=5)
    assert exchange.error == "too_many_redirects"
    assert len(exchange.redirects) == 6
    assert servers.state.hits["/loop"] == 6


def test_redirect_to_a_file_url_is_bad_url(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/to-file")
    assert exchange.error == "bad_url"
    assert exchange.final_url.startswith("file:")
    assert exchange.redirects[0].location == "file:///etc/passwd"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "http://user:pw@example.com/", "http:///nohost", "not a url"]
)
def test_bad_urls_are_refused_before_any_io(url: str) -> None:
    backend = RecordingBackend()
    assert fetch(url, network_backend=backend).error == "bad_url"
    assert backend.connects == []


# --- the address guard ---------------------------------------------------------------------


def test_redirect_to_metadata_is_blocked_without_a_connect(servers: Servers) -> None:
    backend = RecordingBackend()
    exchange = fetch(f"{servers.url}/to-metadata", allow_private=True, network_backend=backend)
    assert exchange.error == "blocked_address"
    assert "169.254.169.254" in exchange.error_detail
    assert exchange.final_url == "http://169.254.169.254/latest/meta-data/"
    assert [hop.status for hop in exchange.redirects] == [302]
    assert backend.connects == ["127.0.0.1"]  # the first hop only


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_blocked_by_default(servers: Servers, host: str) -> None:
    url = servers.url.replace("127.0.0.1", host) + "/ok"
    exchange = fetch(url, allow_private=False)
    assert exchange.error == "blocked_address"
    assert "127.0.0.1" in exchange.error_detail or "::1" in exchange.error_detail
    assert exchange.status is None
    assert sum(servers.state.hits.values()) == 0


def test_guard_is_installed_under_httpx() -> None:
    """httpx has no public hook for the backend; this breaks loudly if its pool changes."""

    async def go() -> object:
        async with HttpEngine(FetchOptions()) as engine:
            return engine._client._transport._pool._network_backend  # type: ignore[union-attr]

    assert isinstance(run(go()), GuardedBackend)


@pytest.mark.parametrize(
    ("ip", "strict", "private"),
    [
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("10.0.0.1", False, True),
        ("192.168.1.1", False, True),
        ("172.16.5.4", False, True),
        ("fd00::1", False, True),
        ("100.64.0.1", False, False),
        ("169.254.169.254", False, False),
        ("169.254.1.1", False, False),
        ("::ffff:a9fe:a9fe", False, False),
        ("64:ff9b::a9fe:a9fe", False, False),
        ("2002:a9fe:a9fe::1", False, False),
        ("fd00:ec2::254", False, False),
        ("100.100.100.200", False, False),
        ("fec0::1", False, False),
        ("fe80::1", False, False),
        ("fe80::1%eth0", False, False),
        ("0.0.0.0", False, False),
        ("::", False, False),
        ("224.0.0.1", False, False),
        ("198.18.0.1", False, False),
        ("not-an-ip", False, False),
        ("8.8.8.8", True, True),
        ("2606:4700::1111", True, True),
    ],
)
def test_check_address(ip: str, strict: bool, private: bool) -> None:
    assert (check_address(ip, allow_private=False) is None) is strict
    assert (check_address(ip, allow_private=True) is None) is private


def test_check_address_names_the_embedded_address() -> None:
    reason = check_address("64:ff9b::a9fe:a9fe", allow_private=True)
    assert reason is not None
    assert "169.254.169.254" in reason


# --- caps ----------------------------------------------------------------------------------


def test_gzip_bomb_is_too_large_and_memory_stays_small(servers: Servers) -> None:
    tracemalloc.start()
    try:
        exchange = fetch(f"{servers.url}/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exchange.error == "too_large"
    assert str(20 * 1024 * 1024) in exchange.error_detail
    assert (exchange.status, exchange.body) == (200, b"")
    assert exchange.header("content-encoding") == "gzip"
    assert peak < 100 * 1024 * 1024


@pytest.mark.parametrize("path", ["/brotli", "/compress"])
def test_unknown_encodings_are_refused(servers: Servers, path: str) -> None:
    exchange = fetch(servers.url + path)
    assert (exchange.error, exchange.status, exchange.body) == ("unsupported_encoding", 200, b"")


def test_declared_length_over_cap_is_refused_without_reading(servers: Servers) -> None:
    began = time.perf_counter()
    exchange = fetch(f"{servers.url}/declared-big", max_wire_bytes=1024 * 1024)
    assert exchange.error == "too_large"
    assert "10000000" in exchange.error_detail
    assert time.perf_counter() - began < 1.5  # the server would hang a reader for 3 s


def test_endless_body_is_too_large(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/endless", max_wire_bytes=1024 * 1024)
    assert (exchange.error, exchange.status, exchange.body) == ("too_large", 200, b"")
    assert str(1024 * 1024) in exchange.error_detail


# --- time ----------------------------------------------------------------------------------


def test_slow_drip_hits_the_deadline(servers: Servers) -> None:
    began = time.perf_counter()
    exchange = fetch(f"{servers.url}/drip", deadline=1.0, read_timeout=5.0)
    assert exchange.error == "deadline"
    assert time.perf_counter() - began < 3


def test_silent_server_hits_the_read_timeout(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/hang", read_timeout=0.3)
    assert exchange.error == "timeout"


# --- network trouble -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_is_connect() -> None:
    exchange = fetch(f"http://127.0.0.1:{_closed_port()}/")
    assert exchange.error == "connect"
    assert exchange.error_detail


def test_unresolvable_name_is_dns() -> None:
    exchange = fetch("http://no-such-host.invalid/")
    assert exchange.error == "dns"
    assert "no-such-host.invalid" in exchange.error_detail


def test_tls_to_a_plain_server_is_tls(servers: Servers) -> None:
    exchange = fetch(servers.url.replace("http:", "https:") + "/ok")
    assert exchange.error == "tls"


@pytest.mark.parametrize("path", ["/garbage", "/reset"])
def test_broken_responses_are_protocol_or_connect(servers: Servers, path: str) -> None:
    exchange = fetch(servers.url + path)
    assert exchange.error in ("protocol", "connect")
    assert exchange.status is None
    assert all(ch.isprintable() for ch in exchange.error_detail)


# --- sharing, limits and politeness --------------------------------------------------------


def test_equal_requests_are_fetched_once(servers: Servers) -> None:
    async def go() -> tuple[list[Exchange], int]:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            request = FetchRequest(f"{servers.url}/slow?dedupe")
            first = await asyncio.gather(*(engine.fetch(request) for _ in range(20)))
            later = await engine.fetch(FetchRequest(request.url, accept="*/*"))
            return [*first, later], engine.requests_sent

    exchanges, sent = run(go())
    assert {e.status for e in exchanges} == {200}
    assert servers.state.hits["/slow?dedupe"] == 1
    assert sent == 1


def test_per_host_limit_holds_while_global_allows_more(servers: Servers) -> None:
    async def go() -> list[Exchange]:
        async with HttpEngine(FetchOptions(allow_private=True, concurrency=16)) as engine:
            requests = [FetchRequest(f"{url}/slow?{i}") for url in servers.urls for i in range(6)]
            return await asyncio.gather(*(engine.fetch(r) for r in requests))

    assert all(e.status == 200 for e in run(go()))
    assert set(servers.state.peak.values()) == {2}  # two hosts (ports), never more than 2 each
    assert servers.state.total_peak > 2


def test_min_interval_spaces_starts_on_one_host(servers: Servers) -> None:
    async def go() -> float:
        options = FetchOptions(allow_private=True, min_interval=0.2)
        async with HttpEngine(options) as engine:
            began = time.perf_counter()
            await asyncio.gather(
                *(engine.fetch(FetchRequest(f"{servers.url}/ok?{i}")) for i in range(3))
            )
            return time.perf_counter() - began

    assert run(go()) >= 0.4


def test_retry_after_is_honoured_once(servers: Servers) -> None:
    began = time.perf_counter()
    exchange = fetch(f"{servers.url}/retry")
    assert (exchange.status, exchange.body, exchange.error) == (200, b"second time lucky", None)
    assert servers.state.hits["/retry"] == 2
    assert time.perf_counter() - began >= 0.9


def test_retry_after_beyond_the_cap_returns_the_response(servers: Servers) -> None:
    exchange = fetch(f"{servers.url}/retry-later")
    assert (exchange.status, exchange.body, exchange.error) == (503, b"busy", None)
    assert exchange.header("retry-after") == "3600"
    assert servers.state.hits["/retry-later"] == 1


NOW = datetime(2025, 1, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("1", 1.0),
        (" 120 ", 120.0),
        ("-5", None),
        ("1.5", None),
        ("1e9", None),
        ("abc", None),
        ("", None),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("Thursday, 02-Jan-25 12:00:10 GMT", 10.0),  # RFC 850, obsolete but allowed
        ("Thu Jan  2 12:00:05 2025", 5.0),  # asctime
        ("Thu, 32 Jan 2025 12:00:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds
