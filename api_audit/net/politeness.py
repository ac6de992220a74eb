"""Per-host politeness: spacing, slots, Retry-After pauses, and the error and wait budgets.

Politeness (engineering reference §3) is per origin (scheme://host:port): a few requests in
flight, starts spaced, Retry-After honoured, and a host that keeps failing left alone.

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
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from api_audit.models import ExchangeError
from api_audit.net.clock import Clock
from api_audit.net.errors import NETWORK_ERRORS, Failure, one_line
from api_audit.net.options import FetchOptions
from api_audit.net.slots import Slots


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


class HostPolicy:
    """What each origin may have and has spent in one run: its slots, when its next request
    may start, the waiting it asked for, its errors in a row, and whether it is left alone."""

    def __init__(self, options: FetchOptions, clock: Clock) -> None:
        self._options = options
        self._clock = clock
        self._slots: dict[str, Slots] = {}
        self._next_start: dict[str, float] = {}
        self._own_next: dict[str, float] = {}  # origin -> next start by spacing alone
        self._intervals: dict[str, float] = {}  # origin -> spacing a Crawl-delay asked for
        self._waited: dict[str, float] = {}  # origin -> seconds of its host_wait_budget spent
        self._asked: dict[str, str] = {}  # origin -> what last asked us to wait
        self._failures: dict[str, int] = {}  # origin -> errors in a row
        self._given_up: dict[str, str] = {}  # origin -> why nothing more is sent there
        self._out_of_time: set[str] = set()  # origins given up for their wait budget

    def slots(self, origin: str) -> Slots:
        """The origin's in-flight limit (`per_host`)."""
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = Slots(self._options.per_host)
        return slots

    def crawl_delay(self, origin: str, delay: float) -> None:
        """Space the origin's requests by its robots.txt Crawl-delay, up to the cap."""
        self._intervals[origin] = min(delay, self._options.crawl_delay_cap)

    async def take_turn(self, origin: str) -> None:
        """Wait until `origin`'s next request may start (holding its slot), or fail with
        `host_budget` if it is left alone before then. Nothing is booked: the start is
        booked by `claim`, once a global slot is in hand (see there)."""
        self.check_budget(origin)  # it may have run out while this request queued
        if await self._wait_turn(origin) and origin not in self._out_of_time:
            self.check_budget(origin)  # errors while it waited: do not send another

    async def _wait_turn(self, origin: str) -> bool:
        """Wait until `origin`'s next start; True if there was a wait.

        The part of the wait the server asked for as it answered (a Retry-After pause) is
        the time past when the spacing (min_interval, or a Crawl-delay) would have let this
        request start; it is charged to the host's wait budget before it is waited, so a
        request that waited has paid and is sent even if the budget runs out meanwhile.
        The charged part is then booked as the host's own schedule, so a request that
        must wait again (another claimed the turn) is not charged twice."""
        now = self._clock.monotonic()
        start = max(now, self._next_start.get(origin, 0.0))
        self._charge_wait(origin, start - max(now, self._own_next.get(origin, 0.0)))
        if origin in self._own_next or origin in self._next_start:
            self._own_next[origin] = max(self._own_next.get(origin, 0.0), start)
        if start <= now:
            return False
        await self._clock.sleep(start - now)
        return True

    def claim(self, origin: str) -> bool:
        """Book a start for `origin` now, if its turn has come; False if another request
        took the turn first (the caller waits for the next one).

        Called with the global slot in hand, right before the request goes on the wire, so
        the spacing runs from the real start (engineering reference §3: starts spaced): a
        turn booked earlier and then spent queueing for a global slot would let the host's
        next request start right after this one (measured: two starts at the same instant
        after a 6 s queue, bench/README.md "Issue 15 targets")."""
        now = self._clock.monotonic()
        if now < self._next_start.get(origin, 0.0):
            return False
        interval = max(self._options.min_interval, self._intervals.get(origin, 0.0))
        if interval > 0 or origin in self._next_start:
            self._next_start[origin] = now + interval
            self._own_next[origin] = now + interval
        return True

    def pause(self, origin: str, seconds: float, asked: str) -> None:
        """Hold the whole origin for `seconds`, as its answer (`asked`, in words) asked."""
        until = self._clock.monotonic() + seconds
        self._next_start[origin] = max(self._next_start.get(origin, 0.0), until)
        self._asked[origin] = asked

    def wait_left(self, origin: str) -> float:
        """Seconds of waiting the origin may still ask for."""
        return self._options.host_wait_budget - self._waited.get(origin, 0.0)

    def _charge_wait(self, origin: str, seconds: float) -> None:
        """Spend `seconds` of the host's wait budget, or leave the host alone if too few are
        left: the wait is then not waited, so a host never costs more than its budget."""
        if seconds <= 0:
            return
        if seconds > self.wait_left(origin):
            budget = self._options.host_wait_budget
            asked = self._asked.get(origin, "the server")
            self._given_up[origin] = (
                f"not sent: api-audit stopped sending to {origin}: it asked for more than "
                f"{budget:g} s of waiting in all this run (the last ask: {asked})"
            )
            self._out_of_time.add(origin)
            raise Failure("host_budget", self._given_up[origin])
        self._waited[origin] = self._waited.get(origin, 0.0) + seconds

    def given_up(self, origin: str) -> bool:
        """True once nothing more is sent to the origin this run."""
        return origin in self._given_up

    def check_budget(self, origin: str) -> None:
        """Fail with `host_budget` if the origin is left alone."""
        reason = self._given_up.get(origin)
        if reason is not None:
            raise Failure("host_budget", reason)

    def account(
        self, origin: str | None, *, answered: bool, error: ExchangeError | None, detail: str
    ) -> None:
        """At the end of a fetch: an answer clears the origin's errors in a row (unless it
        asked us to come back later: those count as they arrive, see count_error); a
        network error counts."""
        if origin is None or origin in self._given_up:
            return
        if answered:
            self._failures.pop(origin, None)
        elif error in NETWORK_ERRORS:
            self.count_error(origin, f"{error}, {one_line(detail)[:120]}")

    def count_error(self, origin: str, last: str) -> None:
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
