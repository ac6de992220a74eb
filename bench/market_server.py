"""A fast simulated supplier market for benchmarks: one asyncio process, many loopback hosts.

Every supplier is one loopback address (127.0.0.2, 127.0.0.3, ... 127.0.x.y), all on the
same port, each bound separately, so the client sees distinct hosts and its per-host limit
applies. The server speaks minimal HTTP/1.1 with keep-alive, waits `--latency-ms` before
each response (a timer per request, no thread, no task), and answers by the host's
archetype:

    open        docs page, OpenAPI 3.1 JSON, JSON api_base, the three well-knowns, robots.txt
    docs-only   a docs page, 404 for everything else
    login-wall  docs -> 302 to /login (a password form), spec and api 401
    shell       200 with the same HTML app shell for every path (soft-200)
    down        the address is simply not bound: connection refused

Systems that share a host live under distinct path prefixes (/s0/, /s1/, ...), so every
system's URLs stay distinct; the well-knowns and robots.txt are per host, as on the web.

It counts requests served (per host and per status), connections, and the peak number of
requests in flight per host, and prints those counters as JSON on SIGTERM/SIGINT or when
`--duration` runs out (it always stops by itself); `--stats PATH` writes them to a file,
and SIGUSR1 writes the file without stopping. Only 127.0.0.0/8 addresses are ever bound.

    python bench/market_server.py --hosts 200 --port 8080 --latency-ms 50 --stats /tmp/s.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import resource
import signal
import socket
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field

FIRST_HOST = ipaddress.IPv4Address("127.0.0.2")
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
MAX_HEAD = 16 * 1024  # bytes of request head accepted before the connection is dropped

# Archetype shares (percent of reachable hosts); `down` is set separately by --down-share.
ARCHETYPES = ("open", "docs-only", "login-wall", "shell")
WEIGHTS = (40, 20, 20, 20)


# --- the market layout, shared with make_catalogue.py -------------------------------------


def host_address(index: int) -> str:
    """The loopback address of host `index` (0-based): 127.0.0.2, 127.0.0.3, ..."""
    address = FIRST_HOST + index
    if address not in LOOPBACK or address == LOOPBACK.broadcast_address:
        raise ValueError(f"host {index} falls outside 127.0.0.0/8")
    return str(address)


def archetype(index: int, down_share: float = 0.05) -> str:
    """The archetype of host `index`: deterministic, and well spread over the indices."""
    spread = (index * 7919 + 200) % 1000 / 1000  # a fixed permutation-like scramble
    if spread < down_share:
        return "down"
    spread = (spread - down_share) / (1 - down_share) * 100
    bound = 0
    for name, weight in zip(ARCHETYPES, WEIGHTS, strict=True):
        bound += weight
        if spread < bound:
            return name
    return ARCHETYPES[-1]


# --- responses ----------------------------------------------------------------------------


def _html(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
    ).encode()


HTML = "text/html; charset=utf-8"
JSON = "application/json"
DOCS = _html(
    "API reference",
    "<h1>API reference</h1><p>Authenticate with OAuth 2. List collections with "
    "<code>GET /api/v1/collections?uprn=</code>.</p>",
)
LOGIN = _html(
    "Sign in",
    '<form method="post" action="/login"><input name="email">'
    '<input type="password" name="password"><button>Sign in</button></form>',
)
SHELL = _html("Customer portal", '<div id="root"></div><script src="/static/app.js"></script>')
OPENAPI = json.dumps(
    {
        "openapi": "3.1.0",
        "info": {
            "title": "Waste collections API",
            "version": "1.4.0",
            "license": {"name": "OGL-3.0"},
        },
        "servers": [{"url": "/api"}],
        "paths": {
            "/collections": {
                "get": {
                    "summary": "Bin collection days for a UPRN",
                    "responses": {"200": {"description": "Collection days"}},
                }
            }
        },
    }
).encode()
API_ROOT = json.dumps({"collections": "/api/collections"}).encode()
API_CATALOG = json.dumps(
    {
        "linkset": [
            {
                "anchor": "/s0/api",
                "service-desc": [{"href": "/s0/openapi.json"}],
                "service-doc": [{"href": "/s0/docs"}],
            }
        ]
    }
).encode()
OIDC = json.dumps(
    {
        "issuer": "/",
        "authorization_endpoint": "/oauth/authorize",
        "token_endpoint": "/oauth/token",
        "jwks_uri": "/oauth/jwks",
    }
).encode()
SECURITY_TXT = b"Contact: mailto:security@example.org\nExpires: 2099-01-01T00:00:00Z\n"
ROBOTS = b"User-agent: *\nAllow: /\n"

REASONS = {200: "OK", 302: "Found", 401: "Unauthorized", 404: "Not Found", 400: "Bad Request"}


def _response(
    status: int,
    content_type: str | None,
    body: bytes,
    extra: tuple[tuple[str, str], ...] = (),
    *,
    close: bool = False,
) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", "Server: bench-market/1"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.extend(f"{name}: {value}" for name, value in extra)
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


NOT_FOUND = (404, _response(404, "text/plain", b"Not found"))
BAD_REQUEST = _response(400, "text/plain", b"Bad request", close=True)

# Per archetype: routes on the part of the path after the /sN prefix, and host-level routes.
SYSTEM_ROUTES: dict[str, dict[str, tuple[int, bytes]]] = {
    "open": {
        "/docs": (200, _response(200, HTML, DOCS)),
        "/openapi.json": (200, _response(200, JSON, OPENAPI)),
        "/api": (200, _response(200, JSON, API_ROOT)),
    },
    "docs-only": {"/docs": (200, _response(200, HTML, DOCS))},
    "login-wall": {
        # the Location is filled per system prefix in _route()
        "/openapi.json": (
            401,
            _response(401, "text/plain", b"Unauthorized", (("WWW-Authenticate", "Bearer"),)),
        ),
        "/api": (
            401,
            _response(401, "text/plain", b"Unauthorized", (("WWW-Authenticate", "Bearer"),)),
        ),
    },
    "shell": {},
}
HOST_ROUTES: dict[str, dict[str, tuple[int, bytes]]] = {
    "open": {
        "/.well-known/api-catalog": (
            200,
            _response(
                200,
                'application/linkset+json; profile="https://www.rfc-editor.org/info/rfc9727"',
                API_CATALOG,
            ),
        ),
        "/.well-known/openid-configuration": (200, _response(200, JSON, OIDC)),
        "/.well-known/security.txt": (
            200,
            _response(200, "text/plain; charset=utf-8", SECURITY_TXT),
        ),
        "/robots.txt": (200, _response(200, "text/plain", ROBOTS)),
    },
    "docs-only": {"/robots.txt": (200, _response(200, "text/plain", ROBOTS))},
    "login-wall": {"/login": (200, _response(200, HTML, LOGIN))},
    "shell": {},
}
SHELL_RESPONSE = (200, _response(200, HTML, SHELL))
_REDIRECTS: dict[str, tuple[int, bytes]] = {}


def _route(kind: str, path: str) -> tuple[int, bytes]:
    """(status, full response bytes) for a GET of `path` on a host of archetype `kind`."""
    path = path.split("?", 1)[0]
    if kind == "shell":
        return SHELL_RESPONSE
    found = HOST_ROUTES[kind].get(path)
    if found is not None:
        return found
    if path.startswith("/s"):
        slash = path.find("/", 2)
        if slash > 2 and path[2:slash].isdigit():
            sub = path[slash:]
            if kind == "login-wall" and sub == "/docs":
                cached = _REDIRECTS.get(path)
                if cached is None:
                    cached = _REDIRECTS[path] = (
                        302,
                        _response(302, "text/plain", b"", (("Location", f"/login?next={path}"),)),
                    )
                return cached
            found = SYSTEM_ROUTES[kind].get(sub)
            if found is not None:
                return found
    return NOT_FOUND


def _head_only(response: bytes) -> bytes:
    return response[: response.index(b"\r\n\r\n") + 4]


# --- the server ---------------------------------------------------------------------------


@dataclass
class HostStats:
    address: str
    kind: str
    served: int = 0
    robots: int = 0  # robots.txt requests served
    in_flight: int = 0
    peak_in_flight: int = 0
    connections: int = 0
    open_connections: int = 0
    peak_connections: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


class HttpProtocol(asyncio.Protocol):
    """One keep-alive connection: requests are answered in order, each after the latency."""

    __slots__ = ("buffer", "busy", "closed", "host", "latency", "loop", "pending", "transport")

    def __init__(self, host: HostStats, latency: float, loop: asyncio.AbstractEventLoop) -> None:
        self.host = host
        self.latency = latency
        self.loop = loop
        self.buffer = b""
        self.pending: deque[tuple[bytes, bool, bool]] = deque()
        self.busy = False
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        host = self.host
        host.connections += 1
        host.open_connections += 1
        host.peak_connections = max(host.peak_connections, host.open_connections)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.host.open_connections -= 1

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            buffer = buffer[end + 4 :]
            line_end = head.find(b"\r\n")
            request_line = head if line_end < 0 else head[:line_end]
            parts = request_line.split(b" ")
            if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
                self._fail()
                return
            lowered = head.lower()
            close = b"\r\nconnection: close" in lowered or parts[2] == b"HTTP/1.0"
            if b"\r\ncontent-length:" in lowered or b"\r\ntransfer-encoding:" in lowered:
                self._fail()  # GET/HEAD only: a request body is not expected here
                return
            self.pending.append((parts[1], parts[0] == b"HEAD", close))
        if len(buffer) > MAX_HEAD:
            self._fail()
            return
        self.buffer = buffer
        if not self.busy:
            self._start_next()

    def _fail(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(BAD_REQUEST)
            self.transport.close()
        self.pending.clear()
        self.buffer = b""

    def _start_next(self) -> None:
        if not self.pending or self.closed:
            return
        target, head_only, close = self.pending.popleft()
        self.busy = True
        host = self.host
        host.in_flight += 1
        if host.in_flight > host.peak_in_flight:
            host.peak_in_flight = host.in_flight
        if self.latency > 0:
            self.loop.call_later(self.latency, self._respond, target, head_only, close)
        else:
            self._respond(target, head_only, close)

    def _respond(self, target: bytes, head_only: bool, close: bool) -> None:
        host = self.host
        host.in_flight -= 1
        self.busy = False
        if self.closed:
            return  # the client gave up; not counted as served
        status, response = _route(host.kind, target.decode("latin-1"))
        if head_only:
            response = _head_only(response)
        host.served += 1
        if target.startswith(b"/robots.txt"):
            host.robots += 1
        host.statuses[status] += 1
        assert self.transport is not None
        self.transport.write(response)
        if close:
            self.transport.close()
            self.closed = True
            return
        self._start_next()


class Market:
    def __init__(self, hosts: int, port: int, latency: float, down_share: float) -> None:
        self.latency = latency
        self.port = port
        self.hosts = [HostStats(host_address(i), archetype(i, down_share)) for i in range(hosts)]
        self.servers: list[asyncio.AbstractServer] = []
        self.started = time.monotonic()
        self.cpu_started = _cpu()
        self.stopped_by = ""

    async def bind(self) -> int:
        """Bind every reachable host on one port; port 0 picks one free on all of them."""
        loop = asyncio.get_running_loop()
        reachable = [h for h in self.hosts if h.kind != "down"]
        if not reachable:
            raise SystemExit("every host is down: nothing to serve")
        for attempt in range(20):
            port = self.port or _free_port(reachable[0].address)
            try:
                for host in reachable:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    try:
                        sock.bind((host.address, port))
                    except OSError:
                        sock.close()
                        raise
                    sock.listen(1024)
                    sock.setblocking(False)
                    self.servers.append(
                        await loop.create_server(
                            lambda h=host: HttpProtocol(h, self.latency, loop), sock=sock
                        )
                    )
            except OSError as exc:
                await self.close()
                if self.port or attempt == 19:
                    raise SystemExit(f"cannot bind {host.address}:{port}: {exc}") from None
                continue
            self.port = port
            return port
        raise AssertionError("unreachable")

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self.servers = []

    def stats(self) -> dict[str, object]:
        served = [h.served for h in self.hosts]
        wall = time.monotonic() - self.started
        cpu = _cpu() - self.cpu_started
        statuses: Counter[int] = Counter()
        for h in self.hosts:
            statuses.update(h.statuses)
        return {
            "port": self.port,
            "latency_ms": self.latency * 1000,
            "hosts": len(self.hosts),
            "hosts_by_archetype": dict(Counter(h.kind for h in self.hosts)),
            "served": sum(served),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "connections": sum(h.connections for h in self.hosts),
            "peak_in_flight_per_host": max((h.peak_in_flight for h in self.hosts), default=0),
            "peak_connections_per_host": max((h.peak_connections for h in self.hosts), default=0),
            "uptime_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "cpu_per_request_ms": round(cpu / sum(served) * 1000, 4) if sum(served) else None,
            "stopped_by": self.stopped_by,
            "per_host": {
                h.address: {
                    "kind": h.kind,
                    "served": h.served,
                    "robots": h.robots,
                    "peak": h.peak_in_flight,
                    "connections": h.connections,
                }
                for h in self.hosts
                if h.kind != "down"
            },
        }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _write_stats(market: Market, path: str | None) -> dict[str, object]:
    stats = market.stats()
    if path:
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(stats, fh, indent=1)
        os.replace(tmp, path)
    return stats


async def serve(args: argparse.Namespace) -> int:
    _raise_fd_limit()
    market = Market(args.hosts, args.port, args.latency_ms / 1000, args.down_share)
    port = await market.bind()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_stop(name: str) -> None:
        market.stopped_by = name
        stop.set()

    loop.add_signal_handler(signal.SIGTERM, on_stop, "SIGTERM")
    loop.add_signal_handler(signal.SIGINT, on_stop, "SIGINT")
    loop.add_signal_handler(signal.SIGUSR1, _write_stats, market, args.stats)
    reachable = sum(h.kind != "down" for h in market.hosts)
    print(
        f"READY port={port} hosts={args.hosts} reachable={reachable} "
        f"first={market.hosts[0].address} last={market.hosts[-1].address} "
        f"latency_ms={args.latency_ms} pid={os.getpid()}",
        flush=True,
    )
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.duration)
    except TimeoutError:
        market.stopped_by = "duration"
    await market.close()
    stats = _write_stats(market, args.stats)
    summary = {k: v for k, v in stats.items() if k != "per_host"}
    print(json.dumps(summary), file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=200, help="number of hosts (default 200)")
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port on every host (default 8080; 0 = pick one free on all)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="delay before each response (default 50)"
    )
    parser.add_argument(
        "--down-share",
        type=float,
        default=0.05,
        help="share of hosts left unbound, i.e. unreachable (default 0.05)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=900.0,
        help="stop by itself after this many seconds (default 900)",
    )
    parser.add_argument("--stats", help="write the counters as JSON here on exit (and SIGUSR1)")
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= 60000:
        parser.error("--hosts must be 1..60000")
    host_address(args.hosts - 1)  # fail early if the range leaves 127/8
    return asyncio.run(serve(args))


if __name__ == "__main__":
    raise SystemExit(main())
