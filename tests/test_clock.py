"""The engine's clocks: the real one, the virtual one tests use, and the held deadline."""

from __future__ import annotations

import asyncio
from datetime import UTC

import pytest
from virtual_time import UTC_START, FakeClock

from api_audit.net.clock import Deadline, SystemClock


def test_the_system_clock_sleeps_for_real() -> None:
    clock = SystemClock()

    async def go() -> float:
        began = clock.monotonic()
        await clock.sleep(0.02)
        return clock.monotonic() - began

    assert asyncio.run(go()) >= 0.02
    assert clock.utc_now().tzinfo is UTC


def test_the_fake_clock_wakes_sleepers_in_order_at_their_virtual_times() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    async def go() -> None:
        await asyncio.gather(nap("long", 3600.0), nap("short", 0.5), nap("also-short", 0.5))

    clock.run(go())
    assert woke == [("short", 0.5), ("also-short", 0.5), ("long", 3600.0)]
    assert clock.utc_now() == UTC_START.replace(hour=10)


def test_a_cancelled_timer_never_fires() -> None:
    clock = FakeClock()
    fired: list[str] = []

    async def go() -> None:
        clock.call_later(1.0, lambda: fired.append("kept")).cancel()
        clock.call_later(2.0, lambda: fired.append("second"))
        await clock.sleep(5.0)

    clock.run(go())
    assert (fired, clock.monotonic()) == (["second"], 5.0)


def guarded(clock: FakeClock, seconds: float, steps: list[tuple[str, float]]) -> tuple[bool, float]:
    """Run `steps` ("run"/"hold" the deadline, then sleep) under a deadline; whether it
    expired, and when the task ended."""

    async def go() -> bool:
        deadline = Deadline(clock, seconds)
        try:
            async with deadline:
                for action, nap in steps:
                    if action == "run":
                        deadline.run()
                    else:
                        deadline.hold()
                    await clock.sleep(nap)
        except TimeoutError:
            assert deadline.expired()
            return True
        return False

    expired = clock.run(go())
    return expired, clock.monotonic()


def test_a_deadline_counts_only_the_time_it_runs() -> None:
    # 0.6 s running, 10 s held, then it runs out 0.4 s later
    expired, ended = guarded(FakeClock(), 1.0, [("run", 0.6), ("hold", 10.0), ("run", 5.0)])
    assert expired
    assert ended == pytest.approx(11.0)


def test_a_deadline_that_is_never_started_never_expires() -> None:
    expired, ended = guarded(FakeClock(), 1.0, [("hold", 30.0)])
    assert (expired, ended) == (False, 30.0)


def test_a_deadline_held_in_time_does_not_expire() -> None:
    expired, _ = guarded(FakeClock(), 1.0, [("run", 0.9), ("hold", 60.0)])
    assert not expired
