"""The async HTTP engine: limits, politeness, caps and address guard; turns requests into exchanges.

Vendors' servers are untrusted. Every fetch runs under a total deadline (slow-drip servers
never trip httpx's per-read timeout, encode/httpx#1450); bodies are streamed raw and decoded
here with bounded decompressors (httpx decodes without an output bound, so one brotli chunk
can expand to 1 GiB, engineering reference §4.2); redirects are followed by hand so every hop
is re-validated; and the transport under httpx (transport.py) checks every resolved address
before a socket is opened (guard.py, reference §4.1). Network and server trouble never
raises: it comes back as an `Exchange` whose `error` is one short word.

Politeness (reference §3) is per origin: a few requests in flight, starts spaced, robots.txt
asked first (robots.py), Retry-After honoured, and a host that keeps failing left alone.

One host cannot hold the run (issue 9). The pauses a host asks for as it answers (Retry-After
on a 429 or 503) are charged to its `host_wait_budget` before they are waited, and a pause
that would overspend it is not waited; `host_error_budget` errors in a row (network errors,
429s, 503s with Retry-After) also end it. Either way every request still planned there ends
at once as `host_budget`, and those already on the wire end within their deadline. A
robots.txt Crawl-delay is not charged: it is the host's standing, published rule, known
before the first request and capped at `crawl_delay_cap` per request, so honouring it in
full costs a known spacing, never a surprise. So the run waits on one host for at most

    host_wait_budget + (requests sent to it) x (spacing + deadline)

(spacing: the larger of min_interval and the capped Crawl-delay), and a host that only ever
errs is sent at most host_error_budget + per_host - 1 requests, robots.txt included. With
`api-audit run`'s defaults that is 30 + 4 x 20.5 = 112 s if every answer drips until its
deadline, and about 6 s for a host that answers every request at once with 429 and
Retry-After: 5 (it was 121 s before the budgets).

Memory stays flat on a long run: an exchange is kept only until the last caller that said
it would ask for it (`HttpEngine.expect`) has it.
"""

from __future__ import annotations

import asyncio
import heapq
import ipaddress
import itertools
import ssl
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from api_audit import USER_AGENT
from api_audit.models import Exchange, FetchRequest, Hop
from api_audit.net.guard import BlockedAddressError, NameResolutionError, SocketFactory
from api_audit.net.robots import ROBOTS_DEADLINE, ROBOTS_MAX_BYTES, RobotsCache
from api_audit.net.transport import AiohttpTransport

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 503})
DNS_THREADS = 32  # the default executor has cpu+4 threads and serialises lookups (§2.5)
DETAIL_CHARS = 300


POLITE_MIN_INTERVAL = 0.5  # seconds between request starts on one host: `run`'s default (§3.1)


@dataclass(frozen=True)
class FetchOptions:
    concurrency: int = 32  # global in-flight limit, equal to the pool size so nothing queues there
    per_host: int = 2  # in-flight limit per scheme://host:port
    # Minimum seconds between request starts on one host. 0 here, for tests and the demo;
    # `api-audit run` uses POLITE_MIN_INTERVAL unless told otherwise.
    min_interval: float = 0.0
    allow_private: bool = False  # permit loopback and private ranges (never link-local/metadata)
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # The server's time for the whole fetch, from its first request on the wire: every hop
    # and the body. Waits for our own limits (queues, spacing, robots.txt, a Retry-After
    # pause, itself capped) do not count.
    deadline: float = 20.0
    max_redirects: int = 5
    max_wire_bytes: int = 5 * 1024 * 1024
    max_decoded_bytes: int = 20 * 1024 * 1024
    retry_after_cap: float = 10.0  # honour Retry-After on 429/503 up to this: pause, retry once
    # Errors in a row before a host is left alone (0: never): network errors, and answers
    # that ask us to come back later (a 429, or a 503 with Retry-After).
    host_error_budget: int = 3
    # Seconds of pausing one host may ask for in a run (Retry-After on 429/503; a robots.txt
    # Crawl-delay is a standing rule, not charged). A pause that would go past it is not
    # waited: the host is left alone instead. math.inf: no budget.
    host_wait_budget: float = 30.0
    respect_robots: bool = True  # ask each origin's robots.txt first (robots.py)
    crawl_delay_cap: float = 10.0  # a robots.txt Crawl-delay stretches spacing up to this
    user_agent: str = USER_AGENT


# --- Retry-After ---------------------------------------------------------------------------


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (RFC 9110 §10.2.3: delay-seconds or an
    HTTP-date), or None when it is neither. A date in the past means 0."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    if not text or text[0].isdigit() or text[0] in "+-":
        return None  # "1e9", "-5", "1.5": not delay-seconds, and not a date either
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime form carries no zone; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- bounded body decoding -----------------------------------------------------------------


class _Failure(Exception):
    """Ends one fetch with an error word; status and headers are kept when we have them."""

    def __init__(
        self,
        error: str,
        detail: str,
        status: int | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.status = status
        self.headers = headers


# RFC 1952 §2.2: a gzip body is a series of members, each decoded in full. Each member is
# its own zlib stream, so the number of members bounds the decoder's setup work; a real
# multi-member body has a few (BGZF blocks hold 64 KiB each: 20 MiB is 320 of them), while
# 5 MiB of empty 20-byte members would be 260,000. Past this many the body is `too_large`.
MAX_GZIP_MEMBERS = 1000
GZIP_MAGIC = b"\x1f\x8b"
# zlib copies the input left after a member's end (`unused_data`); feeding it at most this
# much at a time keeps that copying to MAX_GZIP_MEMBERS x 64 KiB, however large the chunk.
_INFLATE_BYTES = 64 * 1024


class _BoundedDecoder:
    """Decodes identity/gzip/deflate bodies without ever producing more than `limit` bytes:
    each call asks zlib for at most what is left plus one byte. Past the limit it raises
    `too_large`, or, with `truncate`, keeps the first `limit` bytes and sets `full`.

    gzip: every member is decoded, up to MAX_GZIP_MEMBERS, the limit counting them all.
    Bytes after a complete member that do not start another (no 1f 8b) are trailing
    garbage and are ignored, as gzip(1), browsers and Node's gunzip ignore them; bytes that
    do start one must be a valid member (a `protocol` error otherwise, as in Node).
    deflate: one zlib stream (RFC 9110 §8.4.1.2), or raw deflate without the zlib header,
    which some servers send (httpx allows it too); which one is read from the first two
    bytes, however the body is chunked. Bytes after the stream's end are ignored.
    """

    def __init__(self, coding: str, limit: int, *, truncate: bool = False) -> None:
        self._coding = coding
        self._limit = limit
        self._truncate = truncate
        self._size = 0
        self.full = False
        self._zlib: zlib._Decompress | None = None  # the member (stream) being decoded
        self._members = 0
        self._held = b""  # too few bytes yet to tell how the next stream starts
        self._done = False  # the last member has ended: the rest is ignored

    def feed(self, data: bytes) -> bytes:
        if self._coding == "identity":
            return self._counted(data)
        view = memoryview(data)
        out: list[bytes] = []
        for start in range(0, len(view), _INFLATE_BYTES):
            if self.full or self._done:
                break
            out.append(self._inflate(bytes(view[start : start + _INFLATE_BYTES])))
        return b"".join(out)

    def finish(self) -> bytes:
        # All input is consumed by now (zlib keeps input back only once the output is over
        # the limit, which has raised or set `full`), so flush returns what zlib holds.
        if self._zlib is None or self._done:
            return b""
        return self._counted(self._zlib.flush(self._room()))

    def _inflate(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data and not self.full and not self._done:
            if self._zlib is None or self._zlib.eof:
                data, self._held = self._held + data, b""
                if len(data) < 2:
                    self._held = data
                    break
                self._zlib = self._next_stream(data[:2])
                if self._zlib is None:
                    break
            stream = self._zlib
            out.append(self._counted(stream.decompress(data, self._room())))
            data = stream.unused_data if stream.eof else b""
        return b"".join(out)

    def _next_stream(self, head: bytes) -> zlib._Decompress | None:
        """A decompressor for the stream that starts with `head`; None when the rest of the
        body is to be ignored (trailing garbage, or members past the cap with `truncate`)."""
        if self._coding == "deflate":
            if self._members:
                self._done = True  # one stream only: the rest is trailing garbage
                return None
            self._members = 1
            cmf, flg = head[0], head[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self._members and head != GZIP_MAGIC:
            self._done = True
            return None
        if self._members >= MAX_GZIP_MEMBERS:
            self._over(f"gzip body has more than {MAX_GZIP_MEMBERS} members")
            return None
        self._members += 1
        return zlib.decompressobj(zlib.MAX_WBITS | 16)

    def _room(self) -> int:
        return self._limit - self._size + 1  # never 0: zlib reads max_length=0 as unbounded

    def _counted(self, out: bytes) -> bytes:
        self._size += len(out)
        if self._size > self._limit:
            out = out[: len(out) - (self._size - self._limit)]
            self._size = self._limit
            self._over(f"decoded body is over {self._limit} bytes")
        return out

    def _over(self, detail: str) -> None:
        if not self._truncate:
            raise _Failure("too_large", detail)
        self.full = True


def _content_coding(value: str) -> str | None:
    """identity, gzip or deflate for a Content-Encoding value; None when we cannot decode it
    (br and zstd are refused: their decoders in httpx have no output bound)."""
    codings = [c.strip().lower() for c in value.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    return None


# --- the engine ----------------------------------------------------------------------------

# A host that fails like this `host_error_budget` times in a row is left alone for the run.
NETWORK_ERRORS = frozenset({"connect", "timeout", "deadline", "dns", "tls"})


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
    deadline: asyncio.Timeout
    hops: list[Hop] = field(default_factory=list)
    origin: str | None = None  # of the last request put on the wire
    sent_at: float | None = None  # perf_counter when the first request was put on the wire
    started_at: str = ""
    retried: bool = False
    busy: bool = False  # the last answer asked us to come back later (see _note_busy)
    asked: str = ""  # that answer, in words: "429 with Retry-After: 5"
    left: float = 0.0  # deadline seconds left while the clock is held

    # The deadline measures the server's time: it starts with the first request on the wire
    # and is held while a hop waits for our own limits (robots.txt, the per-host and global
    # slots, spacing, a Retry-After pause), so a queue of our making never ends as `deadline`.

    def hold_clock(self) -> None:
        when = self.deadline.when()
        if when is not None and not self.deadline.expired():
            self.left = max(0.0, when - asyncio.get_running_loop().time())
            self.deadline.reschedule(None)

    def run_clock(self, seconds: float) -> None:
        """Start the deadline (at the first request on the wire) or let it run on."""
        if self.sent_at is None:
            self.sent_at = time.perf_counter()
            self.started_at = _utc_now()
            self.left = seconds
        if not self.deadline.expired():
            self.deadline.reschedule(asyncio.get_running_loop().time() + self.left)


class _Slots:
    """A semaphore whose freed slot goes to the waiter with the lowest ticket (first come,
    first served among equal tickets).

    The engine gives every fetch the ticket of the system that asked for it (`priority`),
    and the fetch's redirect hops, retries and robots.txt inherit it. So work already
    started is finished first: a login wall's second hop or a docs page's follow-up does
    not queue behind every request of every system started after it. With a plain FIFO
    semaphore such hops waited ~1 s behind hundreds of fresh requests, their systems held
    their places in the audit's window meanwhile, and throughput sagged (bench/README.md).
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def free(self) -> int:
        """Slots no one holds (when there are any, no one is waiting for one)."""
        return self._free

    @asynccontextmanager
    async def hold(self, ticket: int) -> AsyncIterator[None]:
        await self._acquire(ticket)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, ticket: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (ticket, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot just as we were cancelled: pass it on
            raise  # an unserved waiter stays in the heap, done, and is skipped later

    def _release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to this waiter
                return
        self._free += 1


# The ticket of the fetch running in this task (see _Slots); robots.txt lookups started by
# a fetch run in tasks that copy this context, so they inherit it.
_TICKET: ContextVar[int | None] = ContextVar("api_audit_fetch_ticket", default=None)


_loops_with_executor: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


class HttpEngine:
    """Fetches FetchRequests into Exchanges for one run, each distinct request once.

    Politeness, per origin (scheme://host:port): at most `per_host` requests in flight,
    starts at least `min_interval` apart (stretched by a robots.txt Crawl-delay and by a
    Retry-After, each up to a cap), robots.txt asked first, and after `host_error_budget`
    errors in a row, or once waiting would overspend `host_wait_budget`, nothing more is
    sent (those requests end as `host_budget`; see the module docstring for the bound).
    """

    def __init__(
        self,
        options: FetchOptions,
        *,
        socket_factory: SocketFactory | None = None,
        transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._options = options
        self._socket_factory = socket_factory  # tests record connections; None: plain sockets
        # What makes the transport, inside the running loop; tests and benchmarks may swap it.
        self._make_transport = transport or self._guarded_transport
        self._transport: httpx.AsyncBaseTransport | None = None
        self._timeout = httpx.Timeout(
            options.read_timeout, connect=options.connect_timeout, pool=None
        ).as_dict()
        self._global = _Slots(options.concurrency)
        self._per_host: dict[str, _Slots] = {}
        self._tickets = itertools.count(1 << 40)  # fetches given no priority: after all given
        self._next_start: dict[str, float] = {}
        self._own_next: dict[str, float] = {}  # origin -> next start by spacing alone
        self._intervals: dict[str, float] = {}  # origin -> spacing a Crawl-delay asked for
        self._waited: dict[str, float] = {}  # origin -> seconds of its host_wait_budget spent
        self._asked: dict[str, str] = {}  # origin -> what last asked us to wait
        self._failures: dict[str, int] = {}  # origin -> errors in a row
        self._given_up: dict[str, str] = {}  # origin -> why nothing more is sent there
        self._out_of_time: set[str] = set()  # origins given up for their wait budget
        self._fetches: dict[str, asyncio.Task[Exchange]] = {}
        self._running: set[asyncio.Task[Exchange]] = set()
        self._demand: dict[str, int] = {}  # request key -> fetch() calls still expected
        self._origin_demand: dict[str, int] = {}  # origin -> declared keys not yet let go
        self._key_origin: dict[str, str | None] = {}  # declared request key -> its origin
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
        for request in requests:
            key = request.key
            if key in self._demand:
                self._demand[key] += 1
                continue
            self._demand[key] = 1
            origin = self._key_origin[key] = _origin_of_text(request.url)
            if origin is not None:
                self._origin_demand[origin] = self._origin_demand.get(origin, 0) + 1

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
        left = self._demand.get(request.key)
        if left is None:
            return  # never declared: kept for the run
        if left > 1:
            self._demand[request.key] = left - 1
            return
        del self._demand[request.key]
        self._fetches.pop(request.key, None)
        origin = self._key_origin.pop(request.key, None)
        if origin is None or origin not in self._origin_demand:
            return
        self._origin_demand[origin] -= 1
        if self._origin_demand[origin] <= 0:
            del self._origin_demand[origin]
            if self._robots is not None:
                self._robots.forget(origin)

    # -- one fetch ----------------------------------------------------------------------

    async def _fetch_robots(self, url: str) -> Exchange:
        return await self._fetch_once(FetchRequest(url, accept="text/plain"), self._robots_limits)

    async def _fetch_once(
        self, request: FetchRequest, limits: _Limits, priority: int | None = None
    ) -> Exchange:
        ticket = priority if priority is not None else _TICKET.get()
        if ticket is None:
            ticket = next(self._tickets)  # first come, first served after all given ones
        _TICKET.set(ticket)  # this task's own context: its hops and robots.txt inherit it
        created_at = _utc_now()
        began = time.perf_counter()
        deadline = asyncio.timeout(None)  # started by the first request on the wire
        trail = _Trail(request.url, deadline)
        response: _Response | None = None
        error = detail = None
        status: int | None = None
        headers: tuple[tuple[str, str], ...] = ()
        from_network = False  # the error came from the wire, not from one of our limits
        try:
            async with deadline:
                response = await self._follow(request, trail, limits)
        except _Failure as failure:
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
        self._account(
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
            elapsed_ms=round((time.perf_counter() - (trail.sent_at or began)) * 1000, 1),
            error=error,
            error_detail=_one_line(detail or ""),
            started_at=trail.started_at or created_at,
            tls_version=response.tls_version if response is not None else None,
        )

    async def _follow(self, request: FetchRequest, trail: _Trail, limits: _Limits) -> _Response:
        accept = request.accept or "*/*"
        asked_to_wait: _Response | None = None  # the 429/503 a retry is planned after
        while True:
            url = _checked_url(trail.url)
            trail.hold_clock()
            if limits.robots:
                await self._check_robots(url)
            try:
                response = await self._send_limited(request.method, url, accept, trail, limits)
            except _Failure as failure:
                if asked_to_wait is None or failure.error != "host_budget":
                    raise
                # The host was left alone before the retry: the answer we had is the evidence
                # (its status and headers; a body is not read before a retry).
                return replace(asked_to_wait, retry=False)
            if response.location is not None:
                trail.hops.append(Hop(response.status, trail.url, response.location))
                if len(trail.hops) > self._options.max_redirects:
                    raise _Failure(
                        "too_many_redirects",
                        f"more than {self._options.max_redirects} redirects",
                        response.status,
                        response.headers,
                    )
                trail.url = _resolve_location(url, response.location)
                continue
            if response.retry:
                trail.retried = True
                asked_to_wait = response
                continue  # _send_limited paused the host for the Retry-After; the retry waits
            return response

    async def _check_robots(self, url: httpx.URL) -> None:
        if self._robots is None:
            return
        origin = _origin(url)
        rules = await self._robots.rules_for(origin)
        delay = rules.crawl_delay
        if delay:
            self._intervals[origin] = min(delay, self._options.crawl_delay_cap)
        refusal = rules.refusal(str(url))
        if refusal is not None:
            raise _Failure(refusal.error, refusal.detail)

    # -- politeness ---------------------------------------------------------------------

    async def _send_limited(
        self, method: str, url: httpx.URL, accept: str, trail: _Trail, limits: _Limits
    ) -> _Response:
        origin = trail.origin = _origin(url)
        self._check_budget(origin)
        host_limit = self._per_host.get(origin)
        if host_limit is None:
            host_limit = self._per_host[origin] = _Slots(self._options.per_host)
        ticket = _TICKET.get()
        assert ticket is not None, "set by _fetch_once"
        # Host slot first, then the global one, so a busy host never holds global slots idle.
        async with host_limit.hold(ticket):
            self._check_budget(origin)  # it may have run out while this request queued
            if await self._wait_turn(origin) and origin not in self._out_of_time:
                self._check_budget(origin)  # errors while it waited: do not send another
            async with self._global.hold(ticket):
                trail.run_clock(limits.deadline)
                response = await self._send(method, url, accept, trail, limits)
        if response.pause > 0:
            self._pause_host(origin, response.pause, trail.asked)
        return response

    async def _wait_turn(self, origin: str) -> bool:
        """Wait until `origin` may get its next request, and book the one after; True if
        there was a wait.

        The part of the wait the server asked for as it answered (a Retry-After pause) is
        the time past when the spacing (min_interval, or a Crawl-delay) would have let this
        request start; it is charged to the host's wait budget before it is waited, so a
        request that waited has paid and is sent even if the budget runs out meanwhile."""
        interval = max(self._options.min_interval, self._intervals.get(origin, 0.0))
        now = asyncio.get_running_loop().time()
        start = max(now, self._next_start.get(origin, 0.0))
        self._charge_wait(origin, start - max(now, self._own_next.get(origin, 0.0)))
        if interval > 0 or origin in self._next_start:
            self._next_start[origin] = start + interval
            self._own_next[origin] = start + interval
        if start <= now:
            return False
        await asyncio.sleep(start - now)
        return True

    def _pause_host(self, origin: str, seconds: float, asked: str) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._next_start[origin] = max(self._next_start.get(origin, 0.0), until)
        self._asked[origin] = asked

    def _wait_left(self, origin: str) -> float:
        return self._options.host_wait_budget - self._waited.get(origin, 0.0)

    def _charge_wait(self, origin: str, seconds: float) -> None:
        """Spend `seconds` of the host's wait budget, or leave the host alone if too few are
        left: the wait is then not waited, so a host never costs more than its budget."""
        if seconds <= 0:
            return
        if seconds > self._wait_left(origin):
            budget = self._options.host_wait_budget
            asked = self._asked.get(origin, "the server")
            self._given_up[origin] = (
                f"not sent: api-audit stopped sending to {origin}: it asked for more than "
                f"{budget:g} s of waiting in all this run (the last ask: {asked})"
            )
            self._out_of_time.add(origin)
            raise _Failure("host_budget", self._given_up[origin])
        self._waited[origin] = self._waited.get(origin, 0.0) + seconds

    def _check_budget(self, origin: str) -> None:
        reason = self._given_up.get(origin)
        if reason is not None:
            raise _Failure("host_budget", reason)

    def _account(
        self, origin: str | None, *, answered: bool, error: str | None, detail: str
    ) -> None:
        """At the end of a fetch: an answer clears the origin's errors in a row (unless it
        asked us to come back later: those count as they arrive, see _count_error); a
        network error counts."""
        if origin is None or origin in self._given_up:
            return
        if answered:
            self._failures.pop(origin, None)
        elif error in NETWORK_ERRORS:
            self._count_error(origin, f"{error}, {_one_line(detail)[:120]}")

    def _count_error(self, origin: str, last: str) -> None:
        """One more error in a row for `origin`; at `host_error_budget` it is left alone."""
        if origin in self._given_up:
            return
        count = self._failures.get(origin, 0) + 1
        self._failures[origin] = count
        budget = self._options.host_error_budget
        if budget and count >= budget:
            self._given_up[origin] = (
                f"not sent: api-audit stopped sending to {origin} after {count} errors "
                f"in a row (the last: {last})"
            )

    # -- the wire -----------------------------------------------------------------------

    async def _send(
        self, method: str, url: httpx.URL, accept: str, trail: _Trail, limits: _Limits
    ) -> _Response:
        assert self._transport is not None, "use HttpEngine inside 'async with'"
        request = httpx.Request(
            method,
            url,
            headers={
                "User-Agent": self._options.user_agent,
                "Accept": accept,
                "Accept-Encoding": "gzip, deflate",  # what the bounded decoder reads (§4.2)
            },
            extensions={"timeout": self._timeout},
        )
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
            body = await self._read_body(response, headers, limits)
            return _Response(status, headers, body, pause=pause, tls_version=tls_version)
        finally:
            await response.aclose()

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("retry-after")
        return None if value is None else parse_retry_after(value, datetime.now(UTC))

    def _note_busy(self, trail: _Trail, response: httpx.Response) -> None:
        """A 429, or a 503 with Retry-After, counts as an error in a row as it arrives (a
        retry that is answered the same way counts again): a host that only ever asks us
        to come back later is left alone like one that cannot be reached."""
        status = response.status_code
        retry_after = response.headers.get("retry-after")
        trail.busy = status == 429 or (status == 503 and retry_after is not None)
        said = f" with Retry-After: {_one_line(retry_after)[:60]}" if retry_after else ""
        trail.asked = f"{status}{said}"
        if trail.busy and trail.origin is not None:
            self._count_error(trail.origin, trail.asked)

    def _may_retry(self, trail: _Trail, delay: float, pause: float) -> bool:
        """One retry, only when the wait is within the cap and the host's wait budget, and
        the host has not just been left alone (then the answer we have is the evidence)."""
        origin = trail.origin
        return (
            not trail.retried
            and delay <= self._options.retry_after_cap
            and origin is not None
            and origin not in self._given_up
            and pause <= self._wait_left(origin)
        )

    async def _read_body(
        self, response: httpx.Response, headers: tuple[tuple[str, str], ...], limits: _Limits
    ) -> bytes:
        status = response.status_code
        declared = response.headers.get("content-length", "").strip()
        if not limits.truncate and declared.isdigit() and int(declared) > limits.max_wire_bytes:
            raise _Failure(
                "too_large",
                f"Content-Length {declared} is over {limits.max_wire_bytes} bytes",
                status,
                headers,
            )
        encoding = response.headers.get("content-encoding", "")
        coding = _content_coding(encoding)
        if coding is None:
            # Refused before a byte of the body is read: nothing is decoded (§4.2).
            raise _Failure(
                "unsupported_encoding",
                f"Content-Encoding {encoding!r} is not supported",
                status,
                headers,
            )
        try:
            return await self._bounded_body(response, coding, limits)
        except _Failure as failure:
            raise _Failure(failure.error, failure.detail, status, headers) from None
        except zlib.error as exc:
            raise _Failure("protocol", f"invalid {coding} body: {exc}", status, headers) from None

    @staticmethod
    async def _bounded_body(response: httpx.Response, coding: str, limits: _Limits) -> bytes:
        decoder = _BoundedDecoder(coding, limits.max_decoded_bytes, truncate=limits.truncate)
        chunks: list[bytes] = []
        wire = 0
        async for raw in response.aiter_raw():
            wire += len(raw)
            if wire > limits.max_wire_bytes:
                if not limits.truncate:
                    raise _Failure("too_large", f"body is over {limits.max_wire_bytes} bytes")
                chunks.append(decoder.feed(raw[: len(raw) - (wire - limits.max_wire_bytes)]))
                return b"".join(chunks)
            chunks.append(decoder.feed(raw))
            if decoder.full:
                return b"".join(chunks)
        chunks.append(decoder.finish())
        return b"".join(chunks)


# --- URLs and errors -----------------------------------------------------------------------


def _checked_url(text: str) -> httpx.URL:
    """The URL if we may request it: http(s), a host, and no credentials in it."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise _Failure("bad_url", f"invalid URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise _Failure("bad_url", f"scheme {url.scheme!r} is not http or https")
    if not url.host:
        raise _Failure("bad_url", "URL has no host")
    if url.userinfo:
        raise _Failure("bad_url", "URL carries credentials")
    numeric = _numeric_ipv4(url.host)
    if numeric is not None and numeric != url.host:
        url = url.copy_with(host=numeric)
    return url


def _numeric_ipv4(host: str) -> str | None:
    """The dotted-quad form of a host written as an IPv4 number in any of the forms browsers
    accept (WHATWG URL "IPv4 parser": 2130706433, 0x7f000001, 0177.0.0.1, 127.1), so the
    guard judges, and the request goes to, the address a browser would use. None for a
    host name; bad_url for a numeric host that is no address (999.1.1.1). (httpx already
    refuses a four-part host with leading zeros, such as 0177.0.0.1, as an invalid URL.)"""
    if ":" in host:
        return None  # an IPv6 literal (which may end in a dotted quad)
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()  # a trailing dot is allowed
    if not parts or not _is_ipv4_number(parts[-1]):
        return None  # a host name (WHATWG: the host does not "end in a number")
    numbers = [n for n in map(_ipv4_number, parts) if n is not None]
    if len(numbers) != len(parts) or len(numbers) > 4:
        raise _Failure("bad_url", f"host {host!r} is not a valid IPv4 address")
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise _Failure("bad_url", f"host {host!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return str(ipaddress.IPv4Address(value))


def _is_ipv4_number(label: str) -> bool:
    lowered = label.lower()
    if lowered.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lowered[2:])
    return label.isascii() and label.isdigit()


def _ipv4_number(label: str) -> int | None:
    lowered = label.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:] or "0", 16)
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered[1:], 8)
        return int(lowered, 10)
    except ValueError:
        return None


def _resolve_location(base: httpx.URL, location: str) -> str:
    try:
        return str(base.join(location.strip()))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise _Failure("bad_url", f"invalid redirect Location: {exc}") from None


def _origin(url: httpx.URL) -> str:
    """scheme://host:port, the unit of politeness (as nuclei keys its per-host limits)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _origin_of_text(text: str) -> str | None:
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    return _origin(url) if url.host and url.scheme in ("http", "https") else None


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: BaseException | None = exc
    for _ in range(10):  # chains are short; the bound only guards against cycles
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def classify_error(exc: BaseException) -> tuple[str, str]:
    """The Exchange error word and a detail line for an exception from httpx or the guard."""
    # httpx's ReadError for a reset has no text of its own; its cause says "Connection
    # reset by peer", which is what the finding should say.
    message = next((str(c) for c in _causes(exc) if str(c)), "") or type(exc).__name__
    for cause in _causes(exc):  # httpx re-raises the guard's and ssl's errors `from` them
        for kind, word in _CAUSE_WORDS:
            if isinstance(cause, kind):
                return word, str(cause) or message
    if isinstance(exc, httpx.ConnectError) and any(
        word in message for word in ("SSL", "TLS", "certificate")
    ):
        return "tls", message
    for kind, word in _ERROR_WORDS:
        if isinstance(exc, kind):
            return word, message
    return "protocol", message


_CAUSE_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (BlockedAddressError, "blocked_address"),
    (NameResolutionError, "dns"),
    (ssl.SSLError, "tls"),
)
_ERROR_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (httpx.TimeoutException, "timeout"),
    (httpx.UnsupportedProtocol, "bad_url"),
    (httpx.NetworkError, "connect"),  # refused, reset, unreachable
    (OSError, "connect"),
)


def _one_line(text: str) -> str:
    """Control characters from a server or an OS message must not reach a terminal."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())[:DETAIL_CHARS]
