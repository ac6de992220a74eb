"""Test support: small HTTP servers on loopback, a socket factory that notes every connect,
a closed port, and fetching through a real engine.

Shared by the tests that need a real server they can steer (routes set per test, or computed
from the path) and inspect afterwards (which paths were asked, when). The demo's simulated
market (api_audit/demo/market.py) serves fixed supplier archetypes; this serves whatever a
test needs. Tests of scheduling use virtual_time.py instead.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from api_audit.demo.market import QuietHTTPServer
from api_audit.models import Exchange, FetchRequest
from api_audit.net import FetchOptions, HttpEngine, SocketFactory

Route = tuple[int, dict[str, str], bytes]
NOT_HERE: Route = (404, {}, b"not here")


class LoopbackSite:
    """One HTTP/1.1 server on `host`: answers from `routes` (exact path, query included),
    else from `respond(path)` when given, else `fallback`; counts and times every path."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        routes: dict[str, Route] | None = None,
        respond: Callable[[str], Route] | None = None,
        fallback: Route = NOT_HERE,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path
                site.hits[path] += 1
                site.times.setdefault(path, []).append(time.monotonic())
                if path in site.routes:
                    status, headers, body = site.routes[path]
                elif respond is not None:
                    status, headers, body = respond(path)
                else:
                    status, headers, body = fallback
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietHTTPServer((host, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.origin = f"{'https' if tls else 'http'}://{host}:{self.port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def paths(self) -> list[str]:
        """Every path asked, once each, in no particular order."""
        return list(self.hits)

    def robots(self, text: str | bytes, **headers: str) -> None:
        body = text.encode() if isinstance(text, str) else text
        self.routes["/robots.txt"] = (200, {"Content-Type": "text/plain", **headers}, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RecordingSockets:
    """A socket factory for `HttpEngine(socket_factory=...)`, called for every socket the
    address guard lets through: notes each (address, port), and keeps tests off the
    internet. Loopback is dialled as asked; a `stand_ins` address (a "public" vendor in a
    test) is dialled on 127.0.0.1 instead; anything else is refused before a socket exists."""

    def __init__(self, stand_ins: Iterable[str] = ()) -> None:
        self.stand_ins = frozenset(stand_ins)
        self.addresses: list[tuple[str, int]] = []
        self.connects: list[str] = []  # the addresses alone, in order

    @property
    def ports(self) -> Counter[int]:
        return Counter(port for _, port in self.addresses)

    def __call__(self, addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        host, port = str(sockaddr[0]), int(sockaddr[1])
        self.addresses.append((host, port))
        self.connects.append(host)
        if host in self.stand_ins:
            return _DialsLoopback(family, type_, proto)
        address = ipaddress.ip_address(host)
        mapped = getattr(address, "ipv4_mapped", None)
        if not (address.is_loopback or (mapped is not None and mapped.is_loopback)):
            raise ConnectionRefusedError(f"test sockets: {host} is not loopback")
        return socket.socket(family, type_, proto)


class _DialsLoopback(socket.socket):
    """Connects to 127.0.0.1 whatever IPv4 address it is asked for (same port)."""

    def connect(self, address: Any) -> None:
        super().connect(("127.0.0.1", address[1]))

    def connect_ex(self, address: Any) -> int:
        return super().connect_ex(("127.0.0.1", address[1]))


def self_signed(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 and its key, made with the openssl command (None when
    there is none): no client trusts it unless told to."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch_all(
    urls: Iterable[str],
    *,
    in_turn: bool = False,
    options: FetchOptions | None = None,
    socket_factory: SocketFactory | None = None,
    transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
    **fields: Any,
) -> list[Exchange]:
    """Fetch `urls` through one real HttpEngine: all at once, or one after another with
    `in_turn`; the exchanges in the order of `urls`. The options are `options` (default:
    loopback allowed) with any FetchOptions `fields` given over them."""
    chosen = replace(options or FetchOptions(allow_private=True), **fields)
    requests = [FetchRequest(url) for url in urls]

    async def go() -> list[Exchange]:
        async with HttpEngine(chosen, socket_factory=socket_factory, transport=transport) as http:
            if in_turn:
                return [await http.fetch(request) for request in requests]
            return list(await asyncio.gather(*(http.fetch(request) for request in requests)))

    return asyncio.run(go())


def fetch_one(url: str, **options: Any) -> Exchange:
    """One fetch through a real HttpEngine (see fetch_all for the options)."""
    (exchange,) = fetch_all([url], **options)
    return exchange
