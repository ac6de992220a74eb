"""The network edge: FetchRequests in, Exchanges out, politely, within caps, behind the guard."""

from api_audit.net.engine import (
    POLITE_MIN_INTERVAL,
    FetchOptions,
    HttpEngine,
    classify_error,
    parse_retry_after,
)
from api_audit.net.guard import (
    BlockedAddressError,
    GuardedResolver,
    NameResolutionError,
    SocketFactory,
    check_address,
    guarded_socket_factory,
)
from api_audit.net.robots import RobotsRules, rules_from_exchange
from api_audit.net.transport import AiohttpTransport

__all__ = [
    "POLITE_MIN_INTERVAL",
    "AiohttpTransport",
    "BlockedAddressError",
    "FetchOptions",
    "GuardedResolver",
    "HttpEngine",
    "NameResolutionError",
    "RobotsRules",
    "SocketFactory",
    "check_address",
    "classify_error",
    "guarded_socket_factory",
    "parse_retry_after",
    "rules_from_exchange",
]
