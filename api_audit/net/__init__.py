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
"""

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
