"""The HTTP engine against real misbehaving servers on 127.0.0.1, and its pure helpers."""

from __future__ import annotations

import asyncio
import gzip
import json
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

import pytest
from loopback import RecordingSockets, Route, closed_port, fetch_all, fetch_one
from virtual_time import VirtualSite, VirtualSites

from api_audit.models import Exchange, FetchRequest
from api_audit.net import FetchOptions, HttpEngine, parse_retry_after

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
SPEC = {"openapi": "3.0.3", "info": {"title": "Planning", "version": "1"}, "paths": {}}
SPEC_BYTES = json.dumps(SPEC).encode()
SPLIT_SPEC = (SPEC_BYTES[:37], SPEC_BYTES[37:])
BIG_BODY = b"b" * (1024 * 1024)


# --- the test servers ----------------------------------------------------------------------


@dataclass
class ServerState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: Counter[str] = field(default_factory=Counter)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()
            self.headers.clear()


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

    def route_gzip_members(self) -> None:  # a JSON spec as two gzip members (RFC 1952 §2.2)
        first, second = (gzip.compress(part, mtime=0) for part in SPLIT_SPEC)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(first) + len(second)))
        self.end_headers()
        for piece in (first + second[:4], second[4:]):  # the second header split on the wire
            self.wfile.write(piece)
            self.wfile.flush()
            time.sleep(0.05)

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

    def route_big(self) -> None:
        self.reply(200, BIG_BODY, Content_Type="application/octet-stream")

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

    def route_slow(self) -> None:  # long enough for concurrent callers to share the fetch
        time.sleep(0.15)
        self.reply(200, b"slow")

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


# --- normal fetches and redirects ----------------------------------------------------------


def test_plain_fetch_sends_identifying_headers(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/ok")
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
    exchange = fetch_one(servers.url + path)
    assert (exchange.error, exchange.body) == (None, body)


def test_a_spec_sent_as_two_gzip_members_comes_back_whole(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/gzip-members")
    assert (exchange.error, exchange.status) == (None, 200)
    assert exchange.body == SPEC_BYTES
    assert json.loads(exchange.body) == SPEC


def test_redirect_chain_is_recorded_and_followed(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/redirect/3")
    assert (exchange.status, exchange.body, exchange.error) == (200, b"arrived", None)
    assert exchange.final_url == f"{servers.url}/redirect/0"
    assert [(hop.status, hop.url, hop.location) for hop in exchange.redirects] == [
        (302, f"{servers.url}/redirect/3", "2"),
        (302, f"{servers.url}/redirect/2", "1"),
        (302, f"{servers.url}/redirect/1", "0"),
    ]


def test_redirect_loop_is_too_many_redirects(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/loop", max_redirects=5)
    assert exchange.error == "too_many_redirects"
    assert len(exchange.redirects) == 6
    assert servers.state.hits["/loop"] == 6


def test_redirect_to_a_file_url_is_bad_url(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/to-file")
    assert exchange.error == "bad_url"
    assert exchange.final_url.startswith("file:")
    assert exchange.redirects[0].location == "file:///etc/passwd"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "http://user:pw@example.com/", "http:///nohost", "not a url"]
)
def test_bad_urls_are_refused_before_any_io(url: str) -> None:
    backend = RecordingSockets()
    assert fetch_one(url, socket_factory=backend).error == "bad_url"
    assert backend.connects == []


# --- caps ----------------------------------------------------------------------------------


def test_gzip_bomb_is_too_large_and_memory_stays_small(servers: Servers) -> None:
    tracemalloc.start()
    try:
        exchange = fetch_one(f"{servers.url}/bomb")
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
    exchange = fetch_one(servers.url + path)
    assert (exchange.error, exchange.status, exchange.body) == ("unsupported_encoding", 200, b"")


def test_declared_length_over_cap_is_refused_without_reading(servers: Servers) -> None:
    began = time.perf_counter()
    exchange = fetch_one(f"{servers.url}/declared-big", max_wire_bytes=1024 * 1024)
    assert exchange.error == "too_large"
    assert "10000000" in exchange.error_detail
    assert time.perf_counter() - began < 1.5  # the server would hang a reader for 3 s


def test_endless_body_is_too_large(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/endless", max_wire_bytes=1024 * 1024)
    assert (exchange.error, exchange.status, exchange.body) == ("too_large", 200, b"")
    assert str(1024 * 1024) in exchange.error_detail


# --- time ----------------------------------------------------------------------------------


def test_slow_drip_hits_the_deadline(servers: Servers) -> None:
    began = time.perf_counter()
    exchange = fetch_one(f"{servers.url}/drip", deadline=1.0, read_timeout=5.0)
    assert exchange.error == "deadline"
    assert time.perf_counter() - began < 3


def test_silent_server_hits_the_read_timeout(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/hang", read_timeout=0.3)
    assert exchange.error == "timeout"


# --- network trouble -----------------------------------------------------------------------


def test_refused_connection_is_connect() -> None:
    exchange = fetch_one(f"http://127.0.0.1:{closed_port()}/")
    assert exchange.error == "connect"
    assert exchange.error_detail


def test_unresolvable_name_is_dns() -> None:
    exchange = fetch_one("http://no-such-host.invalid/")
    assert exchange.error == "dns"
    assert "no-such-host.invalid" in exchange.error_detail


def test_tls_to_a_plain_server_is_tls(servers: Servers) -> None:
    exchange = fetch_one(servers.url.replace("http:", "https:") + "/ok")
    assert exchange.error == "tls"


@pytest.mark.parametrize("path", ["/garbage", "/reset"])
def test_broken_responses_are_protocol_or_connect(servers: Servers, path: str) -> None:
    exchange = fetch_one(servers.url + path)
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
    assert servers.state.hits["/robots.txt"] == 1  # asked once for the origin, first
    assert sent == 2


# Scheduling runs on virtual time (tests/virtual_time.py): these servers answer inside the
# event loop, `/slow` taking 0.15 virtual seconds, and each test checks exactly when every
# request was sent. What needs a real wire (drips, timeouts, caps) is tested above.

# Virtual seconds the server takes; others are answered at once. /busy/short takes a round
# trip, so that two requests sent together are both on the wire when the first answer comes.
SLOW_PATHS = {"/slow": 0.15, "/slow-redirect": 0.2, "/busy/short": 0.01}


def virtual_server(sites: VirtualSites, host: str = "vendor.test") -> VirtualSite:
    """Handler's routes that scheduling tests use, answered on the sites' virtual clock."""

    def respond(path: str) -> Route:
        route = path.split("?", 1)[0]
        if route == "/slow-redirect":
            return 302, {"Location": "/ok?after-slow-redirect"}, b""
        if route == "/retry":  # 429 with Retry-After: 1 the first time, then 200
            if site.hits[path] == 1:
                return 429, {"Retry-After": "1"}, b""
            return 200, {}, b"second time lucky"
        if route.startswith("/busy/"):  # /busy/{seconds,date,503,short}: never anything else
            form = route.rsplit("/", 1)[1]
            if form == "date":
                later = sites.clock.utc_now() + timedelta(seconds=5)
                return 429, {"Retry-After": format_datetime(later, usegmt=True)}, b"slow down"
            wait = "1" if form == "short" else "5"
            return 503 if form == "503" else 429, {"Retry-After": wait}, b"slow down"
        return 200, {"Content-Type": "text/plain"}, b"hello"  # /ok, /slow, /robots.txt

    site = sites.site(
        host, respond=respond, latency=lambda path: SLOW_PATHS.get(path.split("?", 1)[0], 0.0)
    )
    return site


def sent_at(site: VirtualSite, prefix: str) -> list[float]:
    """When the requests for paths starting with `prefix` arrived, in virtual seconds."""
    return sorted(t for path, times in site.times.items() if path.startswith(prefix) for t in times)


def test_per_host_limit_holds_while_global_allows_more() -> None:
    sites = VirtualSites()
    hosts = [virtual_server(sites, f"vendor{n}.test") for n in range(2)]
    requests = [f"{host.origin}/slow?{i}" for host in hosts for i in range(6)]
    exchanges = sites.fetch_together(requests, concurrency=16)
    assert all(e.status == 200 for e in exchanges)
    assert [host.peak for host in hosts] == [2, 2]
    assert sites.peak == 4  # both hosts at once
    # robots.txt at once, then six requests of 0.15 s two at a time
    assert sent_at(hosts[0], "/slow") == pytest.approx([0.0, 0.0, 0.15, 0.15, 0.3, 0.3])
    assert sites.clock.now == pytest.approx(0.45)


def test_min_interval_spaces_starts_on_one_host() -> None:
    sites = VirtualSites()
    site = virtual_server(sites)
    sites.fetch_together([f"{site.origin}/ok?{i}" for i in range(3)], min_interval=0.2)
    assert sent_at(site, "/robots.txt") == [0.0]
    assert sent_at(site, "/ok") == pytest.approx([0.2, 0.4, 0.6])


def test_retry_after_is_honoured_once() -> None:
    sites = VirtualSites()
    site = virtual_server(sites)
    (exchange,) = sites.fetch_together([f"{site.origin}/retry"])
    assert (exchange.status, exchange.body, exchange.error) == (200, b"second time lucky", None)
    assert sent_at(site, "/retry") == [0.0, 1.0]  # Retry-After: 1


def test_retry_after_beyond_the_cap_returns_the_response(servers: Servers) -> None:
    exchange = fetch_one(f"{servers.url}/retry-later")
    assert (exchange.status, exchange.body, exchange.error) == (503, b"busy", None)
    assert exchange.header("retry-after") == "3600"
    assert servers.state.hits["/retry-later"] == 1


def test_retry_after_pauses_the_whole_host() -> None:
    sites = VirtualSites()
    site = virtual_server(sites)

    async def go() -> tuple[Exchange, Exchange]:
        async with sites.engine(respect_robots=False) as engine:
            first = asyncio.create_task(engine.fetch(FetchRequest(f"{site.origin}/retry?pause")))
            await sites.clock.sleep(0.3)  # the 429 with Retry-After: 1 came back at 0
            other = await engine.fetch(FetchRequest(f"{site.origin}/ok?during-pause"))
            return await first, other

    first, other = sites.clock.run(go())
    assert (first.status, other.status) == (200, 200)
    assert sent_at(site, "/retry?pause") == [0.0, 1.0]
    assert sent_at(site, "/ok?during-pause") == [1.0]  # asked for at 0.3, held with the host


def test_the_deadline_starts_when_the_request_is_sent() -> None:
    """Ten 0.15 s requests through one per-host slot take 1.5 s; each has 0.5 s. Time
    spent queueing for our own limits must not turn into a `deadline` for the server."""
    sites = VirtualSites()
    site = virtual_server(sites)
    urls = [f"{site.origin}/slow?queued{i}" for i in range(10)]
    exchanges = sites.fetch_together(urls, per_host=1, deadline=0.5)
    assert [e.error for e in exchanges] == [None] * 10
    assert [e.elapsed_ms for e in exchanges] == [150.0] * 10  # measured from the send, too
    assert sites.clock.now == pytest.approx(1.5)


def test_a_redirect_hop_queueing_behind_others_keeps_its_deadline() -> None:
    sites = VirtualSites()
    site = virtual_server(sites)

    async def go() -> list[Exchange]:
        async with sites.engine(per_host=1, deadline=0.5) as engine:
            first = asyncio.create_task(
                engine.fetch(FetchRequest(f"{site.origin}/slow-redirect"), priority=9)
            )
            await sites.clock.sleep(0.1)  # its first hop is out; these go before its second
            slow = [
                asyncio.create_task(
                    engine.fetch(FetchRequest(f"{site.origin}/slow?r{i}"), priority=1)
                )
                for i in range(6)
            ]
            return [await first, *await asyncio.gather(*slow)]

    exchanges = sites.clock.run(go())
    assert [e.error for e in exchanges] == [None] * 7
    assert exchanges[0].final_url.endswith("/ok?after-slow-redirect")
    # the second hop waited behind all six (0.9 s), which the deadline does not count
    assert sent_at(site, "/ok?after-slow-redirect") == pytest.approx([0.2 + 6 * 0.15])


def test_a_retry_after_wait_is_not_counted_against_the_deadline() -> None:
    sites = VirtualSites()
    site = virtual_server(sites)
    (exchange,) = sites.fetch_together([f"{site.origin}/retry?short-deadline"], deadline=0.5)
    assert (exchange.status, exchange.error) == (200, None)
    assert sent_at(site, "/retry?short-deadline") == [0.0, 1.0]


def test_a_slow_answer_ends_at_the_deadline_on_the_clock() -> None:
    """The deadline is the engine's clock's: a virtual server too slow for it ends the
    fetch as `deadline` at the deadline, which is what the tests above rely on."""
    sites = VirtualSites()
    site = sites.site(latency=30.0)
    (exchange,) = sites.fetch_in_turn([f"{site.origin}/docs"], respect_robots=False)
    assert (exchange.error, exchange.status) == ("deadline", None)
    assert exchange.error_detail == "no complete response within 20 s"
    assert sites.clock.now == pytest.approx(20.0)


# --- the per-host error budget -------------------------------------------------------------


def test_a_host_that_keeps_failing_is_left_alone() -> None:
    origin = f"http://127.0.0.1:{closed_port()}"
    backend = RecordingSockets()

    urls = [f"{origin}/p{i}" for i in range(6)]
    exchanges = fetch_all(
        urls, in_turn=True, respect_robots=False, host_error_budget=3, socket_factory=backend
    )
    assert [e.error for e in exchanges] == ["connect"] * 3 + ["host_budget"] * 3
    assert exchanges[3].error_detail.startswith(
        f"not sent: api-audit stopped sending to {origin} after 3 errors in a row "
        "(the last: connect, "
    )
    assert len(backend.connects) == 3  # nothing more was tried


def test_the_budget_holds_for_concurrent_requests_too() -> None:
    origin = f"http://127.0.0.1:{closed_port()}"
    backend = RecordingSockets()

    urls = [f"{origin}/p{i}" for i in range(40)]
    exchanges = fetch_all(urls, per_host=2, host_error_budget=3, socket_factory=backend)
    assert len(backend.connects) <= 3 + 2 - 1  # the budget, plus what was already in flight
    assert {e.error for e in exchanges} <= {"connect", "host_budget"}


def test_with_no_budget_every_request_is_tried() -> None:
    origin = f"http://127.0.0.1:{closed_port()}"
    backend = RecordingSockets()

    urls = [f"{origin}/p{i}" for i in range(5)]
    exchanges = fetch_all(
        urls, in_turn=True, respect_robots=False, host_error_budget=0, socket_factory=backend
    )
    assert {e.error for e in exchanges} == {"connect"}
    assert len(backend.connects) == 5


def test_an_answer_resets_the_count(servers: Servers) -> None:
    paths = ["/hang?1", "/hang?2", "/ok?between", "/hang?3", "/hang?4", "/ok?after"]

    exchanges = fetch_all(
        [servers.url + p for p in paths],
        in_turn=True,
        respect_robots=False,
        host_error_budget=3,
        read_timeout=0.2,
    )
    errors = [e.error for e in exchanges]
    assert errors == ["timeout", "timeout", None, "timeout", "timeout", None]


def test_errors_that_are_not_the_network_do_not_spend_the_budget(servers: Servers) -> None:
    urls = [f"{servers.url}/endless?{i}" for i in range(3)] + [f"{servers.url}/ok?end"]
    exchanges = fetch_all(urls, in_turn=True, host_error_budget=2, max_wire_bytes=1024)
    assert [e.error for e in exchanges] == ["too_large"] * 3 + [None]


# --- one host cannot hold the run (issue 9) -----------------------------------------------


def fetch_busy_and_honest(
    form: str, count: int, **options: Any
) -> tuple[list[Exchange], list[Exchange], VirtualSites, VirtualSite]:
    """`count` requests to a host answering /busy/`form` and to an honest one, all at once,
    on virtual time: the exchanges, the sites and the busy site."""
    sites = VirtualSites()
    busy, honest = virtual_server(sites, "busy.test"), virtual_server(sites, "honest.test")
    urls = [f"{busy.origin}/busy/{form}?{i}" for i in range(count)]
    urls += [f"{honest.origin}/ok?{i}" for i in range(count)]
    done = sites.fetch_together(urls, **options)
    return done[:count], done[count:], sites, busy


def busy_hits(site: VirtualSite) -> int:
    return sum(n for path, n in site.hits.items() if path.startswith("/busy/"))


@pytest.mark.parametrize("form", ["seconds", "date", "503"])
def test_a_host_that_only_asks_to_wait_spends_its_wait_budget(form: str) -> None:
    """429 (or 503) with Retry-After: 5, in either form, to everything: the first answers
    show the host would cost more than its 1 s budget, so the 5 s pause is never waited."""
    hostile, others, sites, busy = fetch_busy_and_honest(
        form, 8, host_wait_budget=1, host_error_budget=0
    )
    assert sites.clock.now == 0.0  # no pause was waited at all
    answered = [e for e in hostile if e.error is None]
    assert answered, "the first requests are answered"
    assert {e.status for e in answered} == {503 if form == "503" else 429}
    assert busy_hits(busy) == len(answered) <= 2  # the two sent before the pause
    left_alone = [e for e in hostile if e.error is not None]
    assert {e.error for e in left_alone} == {"host_budget"}
    assert left_alone[0].error_detail.startswith(
        "not sent: api-audit stopped sending to https://busy.test:443: it asked for more than "
        "1 s of waiting in all this run (the last ask: "
    )
    assert "with Retry-After: " in left_alone[0].error_detail
    assert [(e.status, e.error) for e in others] == [(200, None)] * 8


def test_the_wait_budget_counts_every_pause_waited() -> None:
    """Pauses of 0.5 s (Retry-After: 5 held to the cap) against a 0.75 s budget: one is
    waited; the next would overspend the budget, so it and the rest are never sent."""
    sites = VirtualSites()
    site = virtual_server(sites)
    exchanges = sites.fetch_in_turn(
        [f"{site.origin}/busy/seconds?{i}" for i in range(5)],
        host_error_budget=0,
        retry_after_cap=0.5,
        host_wait_budget=0.75,
    )
    assert [(e.status, e.error) for e in exchanges] == [(429, None)] * 2 + [
        (None, "host_budget")
    ] * 3
    assert sent_at(site, "/busy/") == [0.0, 0.5]  # the one pause waited, and no other
    assert sites.clock.now == 0.5


def test_answers_asking_to_wait_count_as_errors_in_a_row() -> None:
    """With the pause held to 0.05 s, the wait budget is no limit: the error budget is."""
    hostile, others, _, busy = fetch_busy_and_honest(
        "seconds", 8, host_error_budget=3, retry_after_cap=0.05
    )
    statuses = [e.status for e in hostile if e.error is None]
    assert statuses == [429] * len(statuses)
    # the third 429 stops it; at most one more was already on its way (per_host=2)
    assert 3 <= busy_hits(busy) == len(statuses) <= 3 + 2 - 1
    refused = [e for e in hostile if e.error is not None]
    assert {e.error for e in refused} == {"host_budget"}
    assert refused[0].error_detail == (
        "not sent: api-audit stopped sending to https://busy.test:443 after 3 errors in a row "
        "(the last: 429 with Retry-After: 5)"
    )
    assert [(e.status, e.error) for e in others] == [(200, None)] * 8


def test_a_retry_the_host_is_left_alone_before_keeps_the_answer() -> None:
    """Both get 429 with Retry-After: 1 and would retry; the second 429 uses up the error
    budget, so neither retry is sent and each exchange is the 429 it had."""
    sites = VirtualSites()
    site = virtual_server(sites)
    exchanges = sites.fetch_together(
        [f"{site.origin}/busy/short?{i}" for i in range(2)],
        respect_robots=False,
        host_error_budget=2,
    )
    assert [(e.status, e.error) for e in exchanges] == [(429, None)] * 2
    assert busy_hits(site) == 2


def test_an_answer_between_429s_resets_the_count() -> None:
    sites = VirtualSites()
    site = virtual_server(sites)
    paths = ["/busy/seconds?1", "/ok?between", "/busy/seconds?2", "/ok?after"]
    exchanges = sites.fetch_in_turn(
        [site.origin + p for p in paths], host_error_budget=2, retry_after_cap=0.05
    )
    assert [(e.status, e.error) for e in exchanges] == [(429, None), (200, None)] * 2


# --- memory: exchanges are let go after their last caller ----------------------------------


def test_a_declared_request_is_let_go_after_its_last_caller(servers: Servers) -> None:
    async def go() -> None:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            request = FetchRequest(f"{servers.url}/ok?declared")
            engine.expect([request, request])  # two callers will ask
            await asyncio.gather(engine.fetch(request), engine.fetch(request))
            assert servers.state.hits["/ok?declared"] == 1
            await engine.fetch(request)  # a third, undeclared caller: fetched again

    run(go())
    assert servers.state.hits["/ok?declared"] == 2


def test_bodies_are_not_held_once_every_caller_has_them(servers: Servers) -> None:
    count = 24  # 24 distinct 1 MiB bodies: an engine that kept them would hold 24 MiB

    async def go(declare: bool) -> int:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            before = tracemalloc.get_traced_memory()[0]
            requests = [FetchRequest(f"{servers.url}/big?{declare}{i}") for i in range(count)]
            if declare:
                engine.expect(requests)
            for request in requests:
                assert len((await engine.fetch(request)).body) == len(BIG_BODY)
            return tracemalloc.get_traced_memory()[0] - before

    tracemalloc.start()
    try:
        held_when_declared = run(go(declare=True))
        held_when_not = run(go(declare=False))
    finally:
        tracemalloc.stop()
    assert held_when_declared < 3 * len(BIG_BODY)
    assert held_when_not > (count - 2) * len(BIG_BODY)  # the contrast: what expect() saves


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
