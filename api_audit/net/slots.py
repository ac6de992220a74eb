"""Request slots that go to the oldest work first: the engine's global and per-host limits."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Slots:
    """A semaphore whose freed slot goes to the waiter with the lowest ticket (first come,
    first served among equal tickets).

    Per-host slots use the ticket of the system that asked (`priority`); the global slots
    use when each fetch's turn came (engine.py `_send_in_turn`), so no host starves.
    The engine gives every fetch the ticket of the system that asked for it (`priority`),
    and the fetch's redirect hops, retries and robots.txt inherit it. So work already
    started is finished first: a login wall's second hop or a docs page's follow-up does
    not queue behind every request of every system started after it. With a plain FIFO
    semaphore such hops waited ~1 s behind hundreds of fresh requests, their systems held
    their places in the audit's window meanwhile, and throughput sagged (bench/README.md).
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def free(self) -> int:
        """Slots no one holds (when there are any, no one is waiting for one)."""
        return self._free

    @asynccontextmanager
    async def hold(self, ticket: float) -> AsyncIterator[None]:
        await self._acquire(ticket)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, ticket: float) -> None:
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
