"""Error classification: what ended a fetch, as one Exchange error word and one line of detail.

Network and server trouble never raises out of the engine: inside it, `Failure` carries the
word (models.ExchangeError) to where the Exchange is made, and `classify_error` names the
exceptions httpx, the transport and the address guard raise. The detail is one printable
line, since it comes from a server or the OS and is shown to people.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import httpx

from api_audit.models import ExchangeError
from api_audit.net.guard import BlockedAddressError, NameResolutionError

DETAIL_CHARS = 300

# The words for errors on the wire, not of our limits' making. A host that fails like this
# `host_error_budget` times in a row is left alone for the run.
NETWORK_ERRORS: frozenset[ExchangeError] = frozenset(
    {"connect", "timeout", "deadline", "dns", "tls"}
)


class Failure(Exception):
    """Ends one fetch with an error word; status and headers are kept when we have them."""

    def __init__(
        self,
        error: ExchangeError,
        detail: str,
        status: int | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.status = status
        self.headers = headers


def classify_error(exc: BaseException) -> tuple[ExchangeError, str]:
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
    for kind, word in _EXCEPTION_WORDS:
        if isinstance(exc, kind):
            return word, message
    return "protocol", message


_CAUSE_WORDS: tuple[tuple[type[BaseException], ExchangeError], ...] = (
    (BlockedAddressError, "blocked_address"),
    (NameResolutionError, "dns"),
    (ssl.SSLError, "tls"),
)
_EXCEPTION_WORDS: tuple[tuple[type[BaseException], ExchangeError], ...] = (
    (httpx.TimeoutException, "timeout"),
    (httpx.UnsupportedProtocol, "bad_url"),
    (httpx.NetworkError, "connect"),  # refused, reset, unreachable
    (OSError, "connect"),
)


def _causes(exc: BaseException) -> Iterable[BaseException]:
    seen: BaseException | None = exc
    for _ in range(10):  # chains are short; the bound only guards against cycles
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def one_line(text: str) -> str:
    """Control characters from a server or an OS message must not reach a terminal."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(cleaned.split())[:DETAIL_CHARS]
