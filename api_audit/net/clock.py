"""Time for the engine: the one place it reads clocks, sleeps and sets timers.

Spacing, Retry-After pauses, the wait budget, deadlines (`Deadline`), elapsed times and
evidence timestamps all go through a `Clock`, so a test can hand the engine virtual time and check
when things happen without waiting for them (tests/virtual_time.py). Timeouts inside the
transport and the resolver (connect, read, DNS) are the network's and stay on real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol


class Timer(Protocol):
    """A callback set to run later; `cancel` stops it if it has not run yet."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""
        ...

    def utc_now(self) -> datetime:
        """The time of day, in UTC: for evidence timestamps and Retry-After dates."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds` have passed on this clock."""
        ...

    def call_later(self, seconds: float, callback: Callable[[], object]) -> Timer:
        """Run `callback` once `seconds` have passed on this clock, unless cancelled."""
        ...


class SystemClock:
    """The real clocks: perf_counter for durations (the finest monotonic clock), the
    running event loop for sleeps and timers, and the system's time of day."""

    def monotonic(self) -> float:
        return time.perf_counter()

    def utc_now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[[], object]) -> Timer:
        return asyncio.get_running_loop().call_later(seconds, callback)


class Deadline:
    """A fetch's total deadline on a `Clock`, which runs only while the server has the turn.

    The engine starts it with the first request on the wire and holds it while a hop waits
    for our own limits (robots.txt, slots, spacing, a Retry-After pause), so a queue of our
    making never ends as `deadline`. When its seconds are used up it ends the task it
    guards as `asyncio.timeout` does (TimeoutError, and `expired()` is True).
    """

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._left = seconds
        self._timeout = asyncio.timeout(None)
        self._timer: Timer | None = None  # set while the deadline runs
        self._due = 0.0  # when it ends, on the clock, while it runs

    async def __aenter__(self) -> Deadline:
        await self._timeout.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.hold()
        await self._timeout.__aexit__(exc_type, exc, tb)

    def expired(self) -> bool:
        return self._timeout.expired()

    def run(self) -> None:
        """Let the deadline run (from where it was held)."""
        if self._timer is None and not self.expired():
            self._due = self._clock.monotonic() + self._left
            self._timer = self._clock.call_later(self._left, self._expire)

    def hold(self) -> None:
        """Stop the deadline, keeping the seconds it has left."""
        if self._timer is None:
            return
        self._timer.cancel()
        self._timer = None
        self._left = max(0.0, self._due - self._clock.monotonic())
        if not self.expired():
            self._timeout.reschedule(None)  # an expiry already on its way is called off

    def _expire(self) -> None:
        if not self.expired():
            self._timeout.reschedule(asyncio.get_running_loop().time())  # ends the task now
