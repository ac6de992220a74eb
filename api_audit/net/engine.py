"""The engine: turns FetchRequests into Exchanges, each distinct request once per run.

Vendors' servers are untrusted. Every fetch runs under a total deadline (slow-drip servers
never trip httpx's per-read timeout, encode/httpx#1450); bodies are streamed raw and decoded
with bounded decompressors (decoding.py); redirects are followed by hand so every hop is
re-checked (urls.py); and the transport under httpx (transport.py) checks every resolved
address before a socket is opened (guard.py, reference §4.1). Network and server trouble
never raises: it comes back as an `Exchange` whose `error` is one short word (errors.py).

Each origin is treated politely (politeness.py): a few requests in flight, starts spaced,
robots.txt asked first (robots.py), Retry-After honoured, and a host that keeps failing, or
asks for too much waiting, left alone.

Memory stays flat on a long run: an exchange is kept only until the last caller that said
it would ask for it (`HttpEngine.expect`) has it (demand.py).
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from types import TracebackType

import httpx

from api_audit.models import ROBOTS_ACCEPT, Exchange, ExchangeError, FetchRequest, Hop
from api_audit.net.clock import Clock, Deadline, SystemClock
from api_audit.net.decoding import ACCEPT_ENCODING, read_body
from api_audit.net.demand import Demand
from api_audit.net.errors import Failure, classify_error, one_line
from api_audit.net.guard import SocketFactory
from api_audit.net.options import FetchOptions
from api_audit.net.politeness import HostPolicy, parse_retry_after
from api_audit.net.robots import ROBOTS_DEADLINE, ROBOTS_MAX_BYTES, RobotsCache
from api_audit.net.slots import Slots
from api_audit.net.transport import AiohttpTransport
from api_audit.net.urls import checked_url, origin_of, resolve_location

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 503})
DNS_THREADS = 32  # the default executor has cpu+4 threads and serialises lookups (§2.5)


@dataclass(frozen=True)
class _Limits:
    """What bounds one fetch: a probed page or document, or a robots.txt."""

    deadline: float
    max_wire_bytes: int
    max_decoded_bytes: int
    truncate: bool = False  # keep the first bytes of an over-long body instead of failing
    robots: bool = True  # ask robots.txt before every hop


@dataclass(frozen=True)
class _Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    location: str | None = None  # set on a redirect that should be followed
    retry: bool = False  # a 429/503 whose Retry-After we wait out and retry once
    pause: float = 0.0  # seconds the server asked the whole host to wait (Retry-After, capped)
    tls_version: str | None = None  # as negotiated, e.g. "TLSv1.3"; None over plain http


@dataclass
class _Trail:
    """Where one fetch has got to, so an error part-way still reports the hops so far."""

    url: str
    clock: Clock
    # The server's time: it starts with the first request on the wire and is held while a
    # hop waits for our own limits (robots.txt, slots, spacing, a Retry-After pause).
    deadline: Deadline
    hops: list[Hop] = field(default_factory=list)
    origin: str | None = None  # of the last request put on the wire
    sent_at: float | None = None  # clock time when the first request was put on the wire
    started_at: str = ""
    retried: bool = False
    busy: bool = False  # the last answer asked us to come back later (see _note_busy)
    asked: str = ""  # that answer, in words: "429 with Retry-After: 5"
    queued_at: float | None = None  # when its turn first came: its place for a global slot

    def hold_clock(self) -> None:
        self.deadline.hold()

    def run_clock(self) -> None:
        """Start the deadline (at the first request on the wire) or let it run on."""
        if self.sent_at is None:
            self.sent_at = self.clock.monotonic()
            self.started_at = _timestamp(self.clock)
        self.deadline.run()


# The ticket of the fetch running in this task (see Slots); robots.txt lookups started by
# a fetch run in tasks that copy this context, so they inherit it.
_TICKET: ContextVar[int | None] = ContextVar("api_audit_fetch_ticket", default=None)


_loops_with_executor: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


class HttpEngine:
    """Fetches FetchRequests into Exchanges for one run, each distinct request once.

    Politeness, per origin (scheme://host:port): at most `per_host` requests in flight,
    starts at least `min_interval` apart (stretched by a robots.txt Crawl-delay and by a
    Retry-After, each up to a cap), robots.txt asked first, and after `host_error_budget`
    errors in a row, or once waiting would overspend `host_wait_budget`, nothing more is
    sent (those requests end as `host_budget`; politeness.py gives the bound).
    """

    def __init__(
        self,
        options: FetchOptions,
        *,
        socket_factory: SocketFactory | None = None,
        transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
        clock: Clock | None = None,
        on_robots: Callable[[Exchange], None] | None = None,
        stored_robots: Callable[[FetchRequest], Exchange | None] | None = None,
    ) -> None:
        self._options = options
        # Each robots.txt exchange is handed here as it arrives (the audit stores it), so a
        # request refused on its account can cite the robots.txt it obeyed (issue 15).
        self._on_robots = on_robots
        # A resumed run's robots.txt, as stored: its rules are the ones the stored refusals
        # obeyed, and the host is not asked again (None: fetch every robots.txt).
        self._stored_robots = stored_robots
        self._clock = clock or SystemClock()  # tests pass virtual time
        self._socket_factory = socket_factory  # tests record connections; None: plain sockets
        # What makes the transport, inside the running loop; tests and benchmarks may swap it.
        self._make_transport = transport or self._guarded_transport
        self._transport: httpx.AsyncBaseTransport | None = None
        self._timeout = httpx.Timeout(
            options.read_timeout, connect=options.connect_timeout, pool=None
        ).as_dict()
        self._global = Slots(options.concurrency)
        self._hosts = HostPolicy(options, self._clock)
        self._tickets = itertools.count(1 << 40)  # fetches given no priority: after all given
        self._fetches: dict[str, asyncio.Task[Exchange]] = {}
        self._running: set[asyncio.Task[Exchange]] = set()
        self._demand = Demand()
        self._robots = RobotsCache(self._fetch_robots) if options.respect_robots else None
        self._page = _Limits(options.deadline, options.max_wire_bytes, options.max_decoded_bytes)
        self._robots_limits = _Limits(
            min(ROBOTS_DEADLINE, options.deadline),
            ROBOTS_MAX_BYTES,
            ROBOTS_MAX_BYTES,
            truncate=True,
            robots=False,
        )
        self._sent = 0

    @property
    def spare_slots(self) -> int:
        """Global request slots idle right now: nothing is queued for them."""
        return self._global.free

    @property
    def requests_sent(self) -> int:
        """Requests that got a response head back: redirect hops, retries and robots.txt
        fetches included."""
        return self._sent

    async def __aenter__(self) -> HttpEngine:
        loop = asyncio.get_running_loop()
        if loop not in _loops_with_executor:
            loop.set_default_executor(
                ThreadPoolExecutor(DNS_THREADS, thread_name_prefix="api-audit-dns")
            )
            _loops_with_executor.add(loop)
        self._transport = self._make_transport()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pending = [task for task in self._running if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._robots is not None:
            await self._robots.aclose()
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

    def _guarded_transport(self) -> httpx.AsyncBaseTransport:
        """One connection pool for the run, every connection through the address guard.

        The engine speaks httpx's transport API (httpx.Request in, streamed httpx.Response
        out) without an httpx.AsyncClient on top: everything the client adds is something
        evidence must not have (a cookie jar, redirect following, auth, proxies from the
        environment), and it cost ~0.2 ms per request, mostly in building cookie-jar
        wrappers for every response (bench/README.md, profile)."""
        options = self._options
        return AiohttpTransport(
            allow_private=options.allow_private,
            max_connections=options.concurrency,
            dns_timeout=options.connect_timeout,
            socket_factory=self._socket_factory,
        )

    # -- sharing ------------------------------------------------------------------------

    def expect(self, requests: Iterable[FetchRequest]) -> None:
        """Declare `fetch()` calls to come: one per item, so list a request once for each
        caller that will ask for it.

        A declared request's exchange (and its body) is let go as soon as its last
        declared caller has it, and an origin's robots.txt rules with its last declared
        request, so a long run holds only what is still needed. A request that was never
        declared is kept for the whole run, as every request was before `expect` existed.
        """
        self._demand.expect(requests)

    async def fetch(self, request: FetchRequest, *, priority: int | None = None) -> Exchange:
        """Never raises for network/server trouble: returns an Exchange with `error` set.
        Concurrent or later calls with an equal `request.key` share one fetch (see expect).

        `priority`: lower goes first when requests queue for a slot (the audit passes each
        system's place in its queue, so systems started first finish first); fetches given
        none queue after all that were, first come first served."""
        task = self._fetches.get(request.key)
        if task is None:
            task = asyncio.create_task(self._fetch_once(request, self._page, priority))
            self._fetches[request.key] = task
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        try:
            # shield: one cancelled caller must not cancel the fetch the others wait on
            return await asyncio.shield(task)
        finally:
            self._release(request)

    def _release(self, request: FetchRequest) -> None:
        last_caller, origin_done = self._demand.served(request)
        if last_caller:
            self._fetches.pop(request.key, None)
        if origin_done is not None and self._robots is not None:
            self._robots.forget(origin_done)

    # -- one fetch ----------------------------------------------------------------------

    async def _fetch_robots(self, url: str) -> Exchange:
        request = FetchRequest(url, accept=ROBOTS_ACCEPT)
        stored = self._stored_robots(request) if self._stored_robots is not None else None
        if stored is not None:
            return stored
        exchange = await self._fetch_once(request, self._robots_limits)
        if self._on_robots is not None:
            self._on_robots(exchange)
        return exchange

    async def _fetch_once(
        self, request: FetchRequest, limits: _Limits, priority: int | None = None
    ) -> Exchange:
        ticket = priority if priority is not None else _TICKET.get()
        if ticket is None:
            ticket = next(self._tickets)  # first come, first served after all given ones
        _TICKET.set(ticket)  # this task's own context: its hops and robots.txt inherit it
        created_at = _timestamp(self._clock)
        began = self._clock.monotonic()
        deadline = Deadline(self._clock, limits.deadline)  # started by the first request sent
        trail = _Trail(request.url, self._clock, deadline)
        response: _Response | None = None
        error: ExchangeError | None = None
        detail: str | None = None
        status: int | None = None
        headers: tuple[tuple[str, str], ...] = ()
        from_network = False  # the error came from the wire, not from one of our limits
        try:
            async with deadline:
                response = await self._follow(request, trail, limits)
        except Failure as failure:
            error, detail = failure.error, failure.detail
            status, headers = failure.status, failure.headers
        except TimeoutError as exc:  # before OSError, its base class
            from_network = True
            if deadline.expired():
                error = "deadline"
                detail = f"no complete response within {limits.deadline:g} s"
            else:
                error, detail = "timeout", str(exc) or "timed out"
        except (httpx.HTTPError, OSError) as exc:
            from_network = True
            error, detail = classify_error(exc)
        if response is not None:
            status, headers = response.status, response.headers
        self._hosts.account(
            trail.origin,
            answered=status is not None and not trail.busy,
            error=error if from_network else None,
            detail=detail or "",
        )
        return Exchange(
            request=request,
            final_url=trail.url,
            status=status,
            headers=headers,
            body=response.body if response is not None else b"",
            redirects=tuple(trail.hops),
            elapsed_ms=round((self._clock.monotonic() - (trail.sent_at or began)) * 1000, 1),
            error=error,
            error_detail=one_line(detail or ""),
            started_at=trail.started_at or created_at,
            tls_version=response.tls_version if response is not None else None,
        )

    async def _follow(self, request: FetchRequest, trail: _Trail, limits: _Limits) -> _Response:
        asked_to_wait: _Response | None = None  # the 429/503 a retry is planned after
        while True:
            url = checked_url(trail.url)
            trail.hold_clock()
            if limits.robots:
                await self._check_robots(url)
            try:
                response = await self._send_limited(request, url, trail, limits)
            except Failure as failure:
                if asked_to_wait is None or failure.error != "host_budget":
                    raise
                # The host was left alone before the retry: the answer we had is the evidence
                # (its status and headers; a body is not read before a retry).
                return replace(asked_to_wait, retry=False)
            if response.location is not None:
                trail.hops.append(Hop(response.status, trail.url, response.location))
                if len(trail.hops) > self._options.max_redirects:
                    raise Failure(
                        "too_many_redirects",
                        f"more than {self._options.max_redirects} redirects",
                        response.status,
                        response.headers,
                    )
                trail.url = resolve_location(url, response.location)
                continue
            if response.retry:
                trail.retried = True
                asked_to_wait = response
                continue  # _send_limited paused the host for the Retry-After; the retry waits
            return response

    async def _check_robots(self, url: httpx.URL) -> None:
        if self._robots is None:
            return
        origin = origin_of(url)
        rules = await self._robots.rules_for(origin)
        delay = rules.crawl_delay
        if delay:
            self._hosts.crawl_delay(origin, delay)
        refusal = rules.refusal(str(url))
        if refusal is not None:
            raise Failure(refusal.error, refusal.detail)

    # -- our limits, then the wire ------------------------------------------------------

    async def _send_limited(
        self, request: FetchRequest, url: httpx.URL, trail: _Trail, limits: _Limits
    ) -> _Response:
        origin = trail.origin = origin_of(url)
        self._hosts.check_budget(origin)
        ticket = _TICKET.get()
        assert ticket is not None, "set by _fetch_once"
        # Host slot first, then the global one, so a busy host never holds global slots idle.
        async with self._hosts.slots(origin).hold(ticket):
            response = await self._send_in_turn(request, url, trail, limits, origin)
        if response.pause > 0:
            self._hosts.pause(origin, response.pause, trail.asked)
        return response

    async def _send_in_turn(
        self, request: FetchRequest, url: httpx.URL, trail: _Trail, limits: _Limits, origin: str
    ) -> _Response:
        """Wait for the host's turn, then a global slot, then send, booking the host's
        spacing from that moment (HostPolicy.claim).

        Global slots go first come, first served by when each fetch's turn first came, not
        by the system's place: a host whose turn has come never waits behind the hosts of
        systems started before it (by place, the last ~70 of 200 hosts sat ~6 s behind the
        others' requests and then ran their whole spaced chain late: 1.64x the ideal,
        bench/README.md "Issue 15 targets"). A redirect's next hop and a retry keep the
        place their fetch first took, so work under way goes before fresh work."""
        while True:
            await self._hosts.take_turn(origin)
            if trail.queued_at is None:
                trail.queued_at = self._clock.monotonic()
            async with self._global.hold(trail.queued_at):
                if self._hosts.claim(origin):
                    trail.run_clock()
                    return await self._send(request, url, trail, limits)
            # the other request holding this host's slot took the turn: wait for the next

    async def _send(
        self, wanted: FetchRequest, url: httpx.URL, trail: _Trail, limits: _Limits
    ) -> _Response:
        assert self._transport is not None, "use HttpEngine inside 'async with'"
        method = wanted.method
        sent = {
            "User-Agent": self._options.user_agent,
            "Accept": wanted.accept or "*/*",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if wanted.origin:  # sent on every hop, as a browser's CORS request would be
            sent["Origin"] = wanted.origin
        request = httpx.Request(method, url, headers=sent, extensions={"timeout": self._timeout})
        response = await self._transport.handle_async_request(request)
        self._sent += 1
        try:
            status = response.status_code
            headers = tuple(response.headers.multi_items())
            self._note_busy(trail, response)
            location = response.headers.get("location")
            if status in REDIRECT_STATUSES and location is not None:
                return _Response(status, headers, location=location)
            pause = 0.0
            tls = response.extensions.get("tls_version")
            tls_version = tls if isinstance(tls, str) else None
            if status in RETRY_STATUSES:
                delay = self._retry_after(response)
                if delay is not None:
                    pause = min(delay, self._options.retry_after_cap)
                    if self._may_retry(trail, delay, pause):
                        return _Response(status, headers, retry=True, pause=pause)
            if method == "HEAD":
                return _Response(status, headers, pause=pause, tls_version=tls_version)
            body = await read_body(
                response,
                headers,
                max_wire_bytes=limits.max_wire_bytes,
                max_decoded_bytes=limits.max_decoded_bytes,
                truncate=limits.truncate,
            )
            return _Response(status, headers, body, pause=pause, tls_version=tls_version)
        finally:
            await response.aclose()

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        return None if value is None else parse_retry_after(value, self._clock.utc_now())

    def _note_busy(self, trail: _Trail, response: httpx.Response) -> None:
        """A 429, or a 503 with Retry-After, counts as an error in a row as it arrives (a
        retry that is answered the same way counts again): a host that only ever asks us
        to come back later is left alone like one that cannot be reached."""
        status = response.status_code
        retry_after = response.headers.get("retry-after")
        trail.busy = status == 429 or (status == 503 and retry_after is not None)
        said = f" with Retry-After: {one_line(retry_after)[:60]}" if retry_after else ""
        trail.asked = f"{status}{said}"
        if trail.busy and trail.origin is not None:
            self._hosts.count_error(trail.origin, trail.asked)

    def _may_retry(self, trail: _Trail, delay: float, pause: float) -> bool:
        """One retry, only when the wait is within the cap and the host's wait budget, and
        the host has not just been left alone (then the answer we have is the evidence)."""
        origin = trail.origin
        return (
            not trail.retried
            and delay <= self._options.retry_after_cap
            and origin is not None
            and not self._hosts.given_up(origin)
            and pause <= self._hosts.wait_left(origin)
        )


def _timestamp(clock: Clock) -> str:
    return clock.utc_now().isoformat(timespec="milliseconds")
