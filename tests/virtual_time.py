"""Test support: virtual time for the engine, and sites that answer on it inside the event loop.

`FakeClock` is an `api_audit.net.clock.Clock` whose time moves only when nothing else can
happen: `clock.run(main)` runs a coroutine on an event loop that, whenever it would wait
with no socket ready and no callback due, jumps the clock to its next timer instead. A 5 s
Retry-After pause then takes no real time, and a test checks exactly when, in virtual
seconds, each request was sent.

Virtual time and real sockets do not mix: while a request is on a real wire the loop has
nothing to do, so the clock would jump past the request's deadline. `VirtualSites` serves
the engine instead, inside the loop, through httpx's transport API and on the same clock
(answers can take virtual time). Tests of the real network use loopback.py.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import selectors
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from loopback import NOT_HERE, Route

from api_audit.models import Exchange, FetchRequest
from api_audit.net import FetchOptions, HttpEngine

T = TypeVar("T")

UTC_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # what utc_now() says at virtual time 0


class FakeTimer:
    def __init__(self, callback: Callable[[], object]) -> None:
        self._callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._callback()


class FakeClock:
    """Virtual time from 0.0: sleeps and timers never wait; see the module docstring."""

    def __init__(self, utc_start: datetime = UTC_START) -> None:
        self.now = 0.0
        self._utc_start = utc_start
        self._timers: list[tuple[float, int, FakeTimer]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def utc_now(self) -> datetime:
        return self._utc_start + timedelta(seconds=self.now)

    def call_later(self, seconds: float, callback: Callable[[], object]) -> FakeTimer:
        timer = FakeTimer(callback)
        heapq.heappush(self._timers, (self.now + max(0.0, seconds), next(self._order), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await woken
        finally:
            timer.cancel()

    def advance(self) -> bool:
        """Move to the next timer's time and run every timer due then; False if none is set."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return False
        self.now = max(self.now, self._timers[0][0])
        loop = asyncio.get_running_loop()
        while self._timers and self._timers[0][0] <= self.now:
            loop.call_soon(heapq.heappop(self._timers)[2].fire)
        return True

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run `main` to the end on an event loop that jumps this clock when it is idle."""

        def loop() -> asyncio.AbstractEventLoop:
            return asyncio.SelectorEventLoop(_JumpWhenIdle(self))

        with asyncio.Runner(loop_factory=loop) as runner:
            return runner.run(main)


class _JumpWhenIdle(selectors.DefaultSelector):
    """The loop asks its selector to wait only when no callback is ready: that is when
    nothing but time can move things on, so the clock moves instead of the loop waiting."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is not None and timeout <= 0:
            return list(super().select(timeout))  # callbacks are ready: the loop only polls
        ready = list(super().select(0))
        if ready or self._clock.advance():
            return ready
        return list(super().select(timeout))  # no virtual timer left: wait for real events


class VirtualSite:
    """One host answering on a FakeClock: from `routes` (exact path, query included), else
    `respond(path)`, else `fallback`, after `latency` virtual seconds (a number, or one per
    path). Notes when each path was asked and how many requests it held at once."""

    def __init__(
        self,
        clock: FakeClock,
        origin: str,
        *,
        routes: dict[str, Route] | None = None,
        respond: Callable[[str], Route] | None = None,
        fallback: Route = NOT_HERE,
        latency: float | Callable[[str], float] = 0.0,
    ) -> None:
        self.clock = clock
        self.origin = origin
        self.routes: dict[str, Route] = dict(routes or {})
        self._respond = respond
        self._fallback = fallback
        self._latency = latency
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}  # virtual time each request for a path arrived
        self.arrivals: list[str] = []  # every path asked, in order
        self.in_flight = 0
        self.peak = 0

    def robots(self, text: str) -> None:
        self.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, text.encode())

    async def answer(self, path: str) -> Route:
        self.hits[path] += 1
        self.times.setdefault(path, []).append(self.clock.now)
        self.arrivals.append(path)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            delay = self._latency(path) if callable(self._latency) else self._latency
            if delay:
                await self.clock.sleep(delay)
            if path in self.routes:
                return self.routes[path]
            return self._respond(path) if self._respond is not None else self._fallback
        finally:
            self.in_flight -= 1


class VirtualSites:
    """Hosts on one FakeClock behind one httpx transport: `HttpEngine(transport=sites.transport,
    clock=sites.clock)`, or `sites.engine(...)`. No socket is ever opened."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self._sites: dict[str, VirtualSite] = {}
        self.in_flight = 0
        self.peak = 0  # requests in flight at once, across every site

    def site(self, host: str = "vendor.test", **answers: Any) -> VirtualSite:
        made = VirtualSite(self.clock, f"https://{host}", **answers)
        self._sites[host] = made
        return made

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.MockTransport(self._answer)

    def engine(self, **options: Any) -> HttpEngine:
        return HttpEngine(FetchOptions(**options), transport=self.transport, clock=self.clock)

    def fetch_together(self, urls: list[str], **options: Any) -> list[Exchange]:
        """Fetch every URL at once through one engine; the exchanges in the same order."""

        async def go() -> list[Exchange]:
            async with self.engine(**options) as engine:
                return list(await asyncio.gather(*(engine.fetch(FetchRequest(u)) for u in urls)))

        return self.clock.run(go())

    def fetch_in_turn(self, urls: list[str], **options: Any) -> list[Exchange]:
        """Fetch the URLs one after another through one engine."""

        async def go() -> list[Exchange]:
            async with self.engine(**options) as engine:
                return [await engine.fetch(FetchRequest(u)) for u in urls]

        return self.clock.run(go())

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        site = self._sites.get(request.url.host)
        if site is None:
            raise httpx.ConnectError(f"no virtual site {request.url.host}", request=request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            status, headers, body = await site.answer(request.url.raw_path.decode("ascii"))
        finally:
            self.in_flight -= 1
        headers = {"Content-Length": str(len(body)), **headers}
        # streamed, as a real transport's body is (httpx reads `content=` at once)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))
