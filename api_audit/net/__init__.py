"""The network edge: FetchRequests in, Exchanges out, politely, within caps, behind the guard.

One module per job:

    engine      HttpEngine: fetch each distinct request once, follow redirects, retry once
    options     FetchOptions, the engine's limits for one run (imports no HTTP library)
    demand      who still needs each request, so exchanges are let go after their last caller
    politeness  per host: slots, spacing, Retry-After pauses, the error and wait budgets
    slots       request slots that go to the oldest work first
    clock       time, injectable: monotonic, time of day, sleeps, timers; the held deadline
    decoding    response bodies read and decoded within their caps
    urls        which URLs may be requested; numeric hosts; Location; origins
    errors      what ended a fetch, as one Exchange error word and one line
    guard       which addresses may be connected to, checked where sockets are made
    transport   httpx's transport API over aiohttp's connections, guarded
    robots      robots.txt (RFC 9309), read once per origin

Names are imported from their module on first use (PEP 562), so `api_audit.net.options`
(or `FetchOptions` from here) costs no HTTP library: commands that never fetch start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api_audit.net.clock import Clock, SystemClock
    from api_audit.net.engine import HttpEngine
    from api_audit.net.errors import classify_error
    from api_audit.net.guard import (
        BlockedAddressError,
        GuardedResolver,
        NameResolutionError,
        SocketFactory,
        check_address,
        guarded_socket_factory,
    )
    from api_audit.net.options import POLITE_MIN_INTERVAL, FetchOptions
    from api_audit.net.politeness import parse_retry_after
    from api_audit.net.robots import RobotsRules, rules_from_exchange
    from api_audit.net.transport import AiohttpTransport

_HOMES = {
    "Clock": "clock",
    "SystemClock": "clock",
    "HttpEngine": "engine",
    "classify_error": "errors",
    "BlockedAddressError": "guard",
    "GuardedResolver": "guard",
    "NameResolutionError": "guard",
    "SocketFactory": "guard",
    "check_address": "guard",
    "guarded_socket_factory": "guard",
    "POLITE_MIN_INTERVAL": "options",
    "FetchOptions": "options",
    "parse_retry_after": "politeness",
    "RobotsRules": "robots",
    "rules_from_exchange": "robots",
    "AiohttpTransport": "transport",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once found, a plain module attribute
    return value


__all__ = [
    "POLITE_MIN_INTERVAL",
    "AiohttpTransport",
    "BlockedAddressError",
    "Clock",
    "FetchOptions",
    "GuardedResolver",
    "HttpEngine",
    "NameResolutionError",
    "RobotsRules",
    "SocketFactory",
    "SystemClock",
    "check_address",
    "classify_error",
    "guarded_socket_factory",
    "parse_retry_after",
    "rules_from_exchange",
]
