"""Test support: a market of raw asyncio servers on 127.0.0.1, audited through the real CLI.

Each `Site` is a server of its own port, answering each path with a `Handler` written on
raw asyncio streams, so it can send what no well-behaved HTTP library would. `Market`
serves them from one loop in a thread and writes their catalogue; `audit` runs
`api_audit.cli.main(["run", ...])` against it under a socket recorder that refuses
anything but loopback. Shared by the hostile suites (test_hostile.py, test_unbreakable.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import sqlite3
import ssl
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from loopback import RecordingSockets, self_signed

from api_audit.cli import main
from api_audit.net import guard

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

DEADLINE = 1.5  # --deadline for every run here, so a drip costs 1.5 s, not 20
PUBLIC = "8.8.8.8"  # stands for a vendor on the internet; mapped to 127.0.0.1, never contacted
LOOPBACK = frozenset({"127.0.0.1", "::1"})
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # ESC, BEL, CSI (\x9b) ...

# --- raw responses ---------------------------------------------------------------------------


def head(status: int, headers: dict[str, str] | list[tuple[str, str]]) -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in items), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def static(status: int, body: bytes = b"", **headers: str) -> Handler:
    named = {k.replace("_", "-"): v for k, v in headers.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, {**named, "Content-Length": str(len(body))}) + body)
        await writer.drain()

    return handle


def raw(data: bytes) -> Handler:
    """Bytes exactly as given: headers no well-behaved server library would send."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return handle


def redirect(location: str) -> Handler:
    return static(302, Location=location)


@dataclass
class Site:
    name: str
    routes: dict[str, Handler]
    endpoints: dict[str, str]  # catalogue endpoint kind -> path
    expect: str | None  # a finding's message must match this (re.search), when given
    tls: bool = False
    system_name: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    port: int = 0
    default: Handler | None = None  # the answer to any path not in `routes` (else a 404)

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"


NOT_FOUND = static(404, b"not found", Content_Type="text/plain")


# --- the market ------------------------------------------------------------------------------


class Market:
    """Every site on its own port of 127.0.0.1, served by one asyncio loop in a thread."""

    def __init__(self, sites: list[Site], tls_context: ssl.SSLContext | None) -> None:
        self.sites = {site.name: site for site in sites}
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, context: None)  # failed handshakes
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers = [self._call(self._start(site, tls_context)) for site in sites]

    def _call(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    async def _start(self, site: Site, tls_context: ssl.SSLContext | None) -> asyncio.Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                path = head.split(b" ", 2)[1].decode("latin-1").split("?", 1)[0]
                site.hits[path] += 1
                handler = site.routes.get(path) or site.default or NOT_FOUND
                await handler(reader, writer)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                pass  # clients hanging up on bombs and drips is the point
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        server = await asyncio.start_server(
            serve, "127.0.0.1", 0, ssl=tls_context if site.tls else None
        )
        site.port = server.sockets[0].getsockname()[1]
        return server

    def catalogue(self, path: Path, host: str = "127.0.0.1") -> Path:
        vendors = [
            {
                "id": f"v-{site.name}",
                "name": f"Vendor {site.name}",
                "systems": [
                    {
                        "id": site.name,
                        "name": site.system_name or f"Hostile {site.name}",
                        "service_areas": ["waste"],
                        "endpoints": {
                            kind: site.origin.replace("127.0.0.1", host) + p
                            for kind, p in site.endpoints.items()
                        },
                    }
                ],
            }
            for site in self.sites.values()
        ]
        path.write_text(yaml.safe_dump({"schema_version": 1, "vendors": vendors}), "utf-8")
        return path

    def close(self) -> None:
        async def stop() -> None:
            for server in self.servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def self_signed_context(folder: Path) -> ssl.SSLContext | None:
    """A certificate no client trusts, made with the openssl command when there is one."""
    made = self_signed(folder)
    if made is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*made)
    return context


@contextlib.contextmanager
def recorded_connections(public_to_loopback: bool = False) -> Iterator[list[str]]:
    """Every address the guard lets through to open a socket, in order; anything but loopback
    (and PUBLIC, which is dialled on loopback) is refused here, so nothing leaves."""
    sockets = RecordingSockets(stand_ins=[PUBLIC] if public_to_loopback else [])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(guard, "open_socket", sockets)
        yield sockets.connects


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_bytes: int
    connects: list[str]
    db: Path

    def document(self) -> dict[str, Any]:
        return json.loads(self.out)  # type: ignore[no-any-return]

    def db_text(self) -> list[str]:
        """Every text value stored in the database (bodies are compressed blobs)."""
        texts: list[str] = []
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    texts.extend(v for v in row if isinstance(v, str))
        return texts


def audit(market: Market, folder: Path, *flags: str, host: str = "127.0.0.1") -> Run:
    catalogue = market.catalogue(folder / f"vendors-{len(list(folder.iterdir()))}.yaml", host)
    db = folder / f"audit-{len(list(folder.iterdir()))}.db"
    argv = ["run", "-c", str(catalogue), "--db", str(db), "--min-interval", "0",
            "--deadline", str(DEADLINE), *flags]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    with recorded_connections(public_to_loopback=host == PUBLIC) as connects:
        tracemalloc.start()
        began = time.monotonic()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
        finally:
            seconds = time.monotonic() - began
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    return Run(code, out.getvalue(), err.getvalue(), seconds, peak, list(connects), db)
