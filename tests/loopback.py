"""Test support: small HTTP servers on loopback and a network backend that counts connects.

Shared by the tests that need a real server they can steer (routes set per test, or computed
from the path) and inspect afterwards (which paths were asked, when). The demo's simulated
market (api_audit/demo/market.py) serves fixed supplier archetypes; this serves whatever a
test needs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore

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

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.origin = f"http://{host}:{self.port}"
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


class CountingBackend(httpcore.AsyncNetworkBackend):
    """Passes connections through to httpcore's own backend, noting each (host, port)."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connects: list[tuple[str, int]] = []

    @property
    def ports(self) -> Counter[int]:
        return Counter(port for _, port in self.connects)

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.connects.append((host, port))
        return await self.inner.connect_tcp(host, port, *args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
