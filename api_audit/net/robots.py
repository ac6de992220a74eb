"""robots.txt (RFC 9309): what a site asks of crawlers, read once per origin per run.

The file is fetched through the same guarded engine as everything else (address guard,
per-host limits, spacing and error budget), with a 5 s deadline and the first 512 KiB
kept (RFC 9309 §2.5 asks crawlers to parse at least 500 KiB), and parsed with protego:
longest match wins and `*`/`$` wildcards work, which `urllib.robotparser` gets wrong
(engineering reference §3.2). Groups are matched on our product token, `api-audit`,
never on the whole User-Agent header (a group for "github" must not match our URL).

What the fetch means (RFC 9309 §2.3.1):
- 2xx: the rules apply;
- 4xx ("unavailable"): no rules, everything may be fetched; so may more than five redirects;
- 5xx and 429 ("unreachable"), or no response at all: nothing may be fetched. 429 is treated
  as 5xx (as Google does): a server asking us to slow down should not see more requests.
  A refusal made because robots.txt could not be fetched keeps the fetch's own error word
  (`connect`, `dns`, `timeout` ...), so an unreachable host is reported as unreachable, not
  as a robots.txt decision; its detail says that the request was therefore not sent.

Not subject to robots.txt's rules: /robots.txt itself, and well-known URIs (/.well-known/...,
RFC 8615). A well-known document (security.txt, RFC 9116; openid-configuration; api-catalog,
RFC 9727) is published at a fixed address precisely so that automated clients fetch it; the
audit asks for each at most once per run, and a site-wide `Disallow: /` written for
crawlers should not hide the contact a site publishes for exactly this kind of reader. They
still wait for robots.txt, though: when the host could not be reached for it at all
(refused, timed out, DNS, TLS), they are not sent either, so an unreachable host costs one
robots.txt deadline rather than one deadline per document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from api_audit import USER_AGENT
from api_audit.models import EXCHANGE_ERROR_WORDS, Exchange, ExchangeError
from api_audit.net.errors import NETWORK_ERRORS, one_line

# RFC 9309 §2.2.1: groups match the product token ("api-audit": letters, "-" and "_" only)
ROBOTS_PRODUCT = USER_AGENT.split("/", 1)[0]
ROBOTS_DEADLINE = 5.0
ROBOTS_MAX_BYTES = 512 * 1024
WELL_KNOWN_PREFIX = "/.well-known/"

# Errors after which there is no usable answer, reported with their own word (see above).
_NETWORK_WORDS: frozenset[ExchangeError] = NETWORK_ERRORS | {"blocked_address", "host_budget"}


@dataclass(frozen=True)
class Refusal:
    """Why a request is not sent: an Exchange error word and one line of detail."""

    error: ExchangeError
    detail: str


@dataclass(frozen=True)
class Unreachable:
    """robots.txt could not be had, so nothing may be fetched (RFC 9309 §2.3.1.4)."""

    error: ExchangeError  # the word every refused request carries
    reason: str  # what happened to robots.txt, e.g. "robots.txt answered 503 ..."
    cause: str = ""  # the fetch's own error line, when there was one


@dataclass(frozen=True)
class RobotsRules:
    """What one origin's robots.txt means for our requests."""

    parser: Protego | None = None  # the parsed file, when it was fetched (2xx)
    unreachable: Unreachable | None = None  # set when nothing is allowed

    @property
    def crawl_delay(self) -> float | None:
        """The Crawl-delay of the group that applies to us (non-standard, widely used)."""
        return None if self.parser is None else self.parser.crawl_delay(ROBOTS_PRODUCT)

    def refusal(self, url: str) -> Refusal | None:
        """None when `url` may be fetched; else why not."""
        path = _path_of(url)
        exempt = is_exempt(path)
        gone = self.unreachable
        # A host that could not be reached for robots.txt is not tried again for anything,
        # exempt paths included: a dead or dripping host then costs one robots.txt deadline.
        if gone is not None and (gone.error in _NETWORK_WORDS or not exempt):
            if gone.error == "host_budget":  # robots.txt was never asked: say why
                return Refusal(gone.error, gone.cause)
            # What happened comes first: a long error line may be cut when it is shown.
            cause = f": {gone.cause}" if gone.cause else ""
            return Refusal(gone.error, f"{gone.reason}, so {path} was not requested{cause}")
        if exempt or self.parser is None or self.parser.can_fetch(url, ROBOTS_PRODUCT):
            return None
        return Refusal("robots", f"robots.txt disallows {path} for {ROBOTS_PRODUCT}")


ALLOW_ALL = RobotsRules()


def is_exempt(path: str) -> bool:
    """Paths robots.txt does not govern for us: itself and the RFC 8615 well-known URIs."""
    return path == "/robots.txt" or path.startswith(WELL_KNOWN_PREFIX)


def robots_url(origin: str) -> str:
    return origin.rstrip("/") + "/robots.txt"


def rules_from_exchange(exchange: Exchange) -> RobotsRules:
    """Map a robots.txt fetch to rules per RFC 9309 §2.3.1 (see the module docstring)."""
    status = exchange.status
    if exchange.error == "too_many_redirects":
        return ALLOW_ALL  # §2.3.1.2: after five redirects it MAY be taken as unavailable
    if exchange.error is not None or status is None:
        error = exchange.error or "robots"
        if error in _NETWORK_WORDS:
            gone = Unreachable(error, "robots.txt could not be fetched", exchange.error_detail)
        else:
            what = EXCHANGE_ERROR_WORDS[exchange.error] if exchange.error else "no response"
            gone = _unreadable(what, exchange.error_detail)
        return RobotsRules(unreachable=gone)
    if status == 429 or status >= 500:
        reason = f"robots.txt answered {status}, which RFC 9309 reads as disallowing everything"
        return RobotsRules(unreachable=Unreachable("robots", reason))
    if 200 <= status < 300:
        return _parsed(exchange.body)
    return ALLOW_ALL  # 3xx left unfollowed, and 4xx: unavailable, so no rules


def _unreadable(what: str, detail: str = "") -> Unreachable:
    """robots.txt came back in a form we could not make out (a malformed response, an
    encoding we do not decode ...). Its rules are unknown, so, as when it is unreachable
    (RFC 9309 §2.3.1.4), nothing is requested; the words say what was wrong with it."""
    reason = f"robots.txt could not be read ({what})"
    return Unreachable("robots", reason, detail)


def _parsed(body: bytes) -> RobotsRules:
    """The rules of a fetched robots.txt. Its text is the server's: whatever in it trips
    the parser becomes an unreadable file, never an exception that stops the run."""
    try:
        return RobotsRules(parser=Protego.parse(body.decode("utf-8", errors="replace")))
    except Exception as exc:  # hostile text: any parser failure is a finding, not a crash
        detail = one_line(f"{type(exc).__name__}: {exc}")[:160]
        return RobotsRules(unreachable=_unreadable("its rules could not be parsed", detail))


class RobotsCache:
    """robots.txt rules by origin: fetched once, shared by concurrent askers, and let go
    when the engine says no planned request for the origin is left (`forget`)."""

    def __init__(self, fetch: Callable[[str], Awaitable[Exchange]]) -> None:
        self._fetch = fetch
        self._rules: dict[str, RobotsRules] = {}
        self._loading: dict[str, asyncio.Task[RobotsRules]] = {}

    async def rules_for(self, origin: str) -> RobotsRules:
        rules = self._rules.get(origin)
        if rules is not None:
            return rules
        task = self._loading.get(origin)
        if task is None:
            task = asyncio.create_task(self._load(origin))
            self._loading[origin] = task
        # shield: one cancelled asker must not cancel the lookup the others wait for
        return await asyncio.shield(task)

    def forget(self, origin: str) -> None:
        self._rules.pop(origin, None)

    async def aclose(self) -> None:
        pending = list(self._loading.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _load(self, origin: str) -> RobotsRules:
        try:
            rules = rules_from_exchange(await self._fetch(robots_url(origin)))
            self._rules[origin] = rules
            return rules
        finally:
            self._loading.pop(origin, None)


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path
