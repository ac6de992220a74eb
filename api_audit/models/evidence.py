"""What the network gave: requests, redirect hops, exchanges and their closed error words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlsplit

# Why an exchange has no usable response: the closed vocabulary of Exchange.error, stored
# as these exact words. The engine (api_audit/net) writes them; findings say them in words.
ExchangeError = Literal[
    "timeout",  # the server went quiet for longer than the read (or connect) timeout
    "deadline",  # no complete response within the fetch's total deadline
    "connect",
    "dns",
    "tls",
    "blocked_address",  # the address guard refused the destination
    "too_many_redirects",
    "too_large",
    "unsupported_encoding",
    "protocol",  # a response that is not valid HTTP, or a connection cut short
    "bad_url",
    "robots",  # robots.txt asks us not to, or could not be read
    "host_budget",  # the host was left alone: too many errors, or too much waiting asked
]
EXCHANGE_ERRORS: tuple[ExchangeError, ...] = get_args(ExchangeError)
EXCHANGE_ERROR_WORDS: Mapping[ExchangeError, str] = {
    "timeout": "timed out",
    "deadline": "no complete response in time",
    "connect": "could not connect",
    "dns": "host name not found",
    "tls": "TLS failed",
    "blocked_address": "address blocked",
    "too_many_redirects": "too many redirects",
    "too_large": "response too large",
    "unsupported_encoding": "compressed in an encoding we do not decode",
    "protocol": "malformed HTTP response",
    "bad_url": "not a fetchable URL",
    "robots": "excluded by robots.txt",
    "host_budget": "host given up after repeated errors or too much waiting",
}


@dataclass(frozen=True)
class FetchRequest:
    """One HTTP request the plan needs. Equal requests are fetched once per run."""

    url: str
    method: Literal["GET", "HEAD"] = "GET"
    accept: str | None = None
    # An Origin header to send (RFC 6454 §7; Fetch standard CORS): some servers answer
    # Access-Control-Allow-Origin only to a request that carries one. None: none sent.
    origin: str | None = None

    @property
    def key(self) -> str:
        # Requests with different headers are different requests (fetched apart); a key
        # without an Origin reads as before, so runs stored earlier still resume.
        sent = f" origin={self.origin}" if self.origin else ""
        return f"{self.method} {self.url} accept={self.accept or '*/*'}{sent}"


# The Origin a probe sends when it asks for one: `.invalid` never resolves (RFC 6761 §6.4),
# so it names no real site, and a server that allows it allows any origin.
PROBE_ORIGIN = "https://api-audit.invalid"
ROBOTS_ACCEPT = "text/plain"
# Every refusal made on robots.txt's account says so first (net/robots.py).
ROBOTS_REFUSAL_PREFIX = "robots.txt "


def robots_request(url: str) -> FetchRequest | None:
    """The robots.txt request whose rules govern `url`: one file per scheme, host and port
    (RFC 9309 §2.3), spelt as the engine fetches it (scheme://host:port/robots.txt, the
    host in lower case and, like httpx's `URL.host`, not IDNA-encoded).
    None when `url` has no http(s) origin."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
        if scheme not in ("http", "https") or not host:
            return None
    except ValueError:  # a port that is no number
        return None
    shown = f"[{host}]" if ":" in host else host
    port = port or (443 if scheme == "https" else 80)
    return FetchRequest(f"{scheme}://{shown}:{port}/robots.txt", accept=ROBOTS_ACCEPT)


def obeyed_robots(exchange: Exchange) -> FetchRequest | None:
    """The robots.txt request whose answer kept `exchange` from being sent, or None when
    robots.txt did not stop it (so a finding can link to the robots.txt it obeyed)."""
    refused = exchange.status is None and exchange.error is not None
    if not refused or not exchange.error_detail.startswith(ROBOTS_REFUSAL_PREFIX):
        return None
    return robots_request(exchange.final_url)


@dataclass(frozen=True)
class Hop:
    status: int
    url: str
    location: str


@dataclass(frozen=True)
class Exchange:
    """One request and its response (or the error that stopped it), kept as evidence.

    `error` is one word of ExchangeError and `error_detail` one human line. Headers are
    the final response's, lower-cased names.
    """

    request: FetchRequest
    final_url: str
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: float = 0.0
    error: ExchangeError | None = None
    error_detail: str = ""
    started_at: str = ""
    # The negotiated TLS version ("TLSv1.3"), when the engine reports it; None otherwise.
    tls_version: str | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key == lname:
                return value
        return None

    @property
    def content_type(self) -> str:
        """Media type without parameters, lower case ('' when absent)."""
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class EvidenceRef:
    """Where a finding's evidence can be checked: one stored exchange, without its body.

    `sha256` names the stored body (the bodies table, an export's file) so a third party
    can check that the body the verdict rests on is the one kept."""

    url: str
    final_url: str
    status: int | None
    sha256: str | None  # of the body as stored; None when there was no body
    fetched_at: str  # ISO time the request was sent ("" when not known)
    error: ExchangeError | None = None


@dataclass(frozen=True)
class ExchangeDetail:
    """One stored exchange as `explain` shows it: where it can be checked (`ref`) and how
    it went, without its body (read apart, and only when asked for)."""

    ref: EvidenceRef
    method: str
    content_type: str  # media type without parameters, lower case ('' when absent)
    charset: str | None  # the Content-Type's charset parameter, when given
    size: int  # bytes of the body as received (decoded, after redaction)
    elapsed_ms: float
    tls_version: str | None
    redirects: tuple[Hop, ...] = ()
    error_detail: str = ""


@dataclass(frozen=True)
class StoredBody:
    """The start of one stored body: `head` is its first bytes (up to what was asked),
    `size` the body's length as received, `stored_size` what the store kept of it."""

    sha256: str
    size: int
    stored_size: int
    head: bytes
