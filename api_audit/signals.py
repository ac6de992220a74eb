"""SIGINT and SIGTERM stop a command cleanly: raised as `Interrupted` where it is safe.

CI cancelling a job and `docker stop` send SIGTERM; Ctrl-C sends SIGINT. Both must leave
what was gathered stored and the run marked `interrupted`, then exit 128 + the signal
number (130, 143), with a line on stderr. Python's default SIGTERM kills the process with
no cleanup, and Typer turns KeyboardInterrupt into a silent exit 130, so the command line
handles both itself:

- `stop_signals_raise()` (around a whole command): a signal raises `Interrupted` in the main
  thread, which the CLI reports in one line;
- `stop_signals_cancel(task)` (inside the audit's event loop): a signal cancels the audit's
  task instead, so it stops at an `await` — never halfway through writing a batch — and
  `Interrupted` is raised from there;
- `stop_signals_deferred()` (around the run's last write): a signal, a second Ctrl-C say,
  waits until the run is marked, then raises.

Both only act in the main thread (signal handlers can be set nowhere else), and restore the
handlers they replaced.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from api_audit.errors import Interrupted

if TYPE_CHECKING:  # only the audit, which already runs asyncio, hands us a task
    import asyncio

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


Handler = Callable[[int, FrameType | None], None]


@contextmanager
def _stop_signals_handled_by(handler: Handler) -> Iterator[None]:
    """`handler` for SIGINT and SIGTERM while inside (main thread only); the old ones after."""
    if not _in_main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise `Interrupted`."""
    with _stop_signals_handled_by(_raise_interrupted):
        yield


@contextmanager
def stop_signals_deferred(*, raise_after: bool = True) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM are noted, not acted on; on leaving, the first one
    noted raises `Interrupted` (unless `raise_after` is False: an exception is on its way)."""
    received: list[int] = []
    with _stop_signals_handled_by(lambda signum, frame: received.append(signum)):
        yield
    if received and raise_after:
        raise Interrupted(received[0])


@contextmanager
def stop_signals_cancel(task: asyncio.Task[Any]) -> Iterator[list[int]]:
    """While inside, SIGINT and SIGTERM cancel `task`; the list says which arrived."""
    received: list[int] = []
    if not _in_main_thread():
        yield received
        return
    loop = task.get_loop()

    def cancel(signum: int) -> None:
        received.append(signum)
        task.cancel()

    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, cancel, sig)
    try:
        yield received
    finally:
        for sig, old in previous.items():
            loop.remove_signal_handler(sig)  # sets SIG_DFL: put back what was there
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
