"""Matchers for conventions a well-run API follows: rate limits, deprecation, versions, errors.

RateLimit / X-RateLimit-* headers; Deprecation (RFC 9745) and Sunset (RFC 8594) headers
with their Link relations; a version in the URL (/v1/) or an API-Version header; and
errors as RFC 9457 problem details.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from api_audit.methodology.matchers.arguments import Always, read_true, share_option
from api_audit.methodology.matchers.context import (
    JSON_MEDIA,
    MatchContext,
    json_or_failure,
    media_is,
    served_as,
)
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    describe_status,
    failed,
    not_applicable,
    passed,
)
from api_audit.text import quote

# --- rate_limit_headers --------------------------------------------------------------------

_RATE_LIMIT_HEADERS = (
    "ratelimit-policy",
    "ratelimit",
    "ratelimit-limit",
    "x-ratelimit-limit",
    "x-rate-limit-limit",
    "x-ratelimit-remaining",
    "ratelimit-remaining",
)


@matcher(
    "rate_limit_headers",
    read=read_true,
    argument="true",
    doc="RateLimit-Policy, RateLimit, RateLimit-Limit or X-RateLimit-* headers are sent.",
)
def match_rate_limit_headers(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    names = [n for n in _RATE_LIMIT_HEADERS if ex.header(n) is not None]
    names += [n for n, _ in ex.headers if n.startswith("x-ratelimit-") and n not in names]
    if not names:
        return failed("no RateLimit-Policy, RateLimit or X-RateLimit-* header")
    first = names[0]
    return passed(f"{first}: {quote(ex.header(first) or '', 80)}")


# --- deprecation_signals (RFC 9745, RFC 8594) ----------------------------------------------

_SF_DATE = re.compile(r"^@-?[0-9]{1,12}$")
_LINK_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))""", re.IGNORECASE)


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _deprecation_date(value: str) -> datetime | Verdict | None:
    """RFC 9745 `@<seconds>`; the drafts' `true` or HTTP-date are read too (None: no date)."""
    text = value.strip()
    if _SF_DATE.match(text):
        return datetime.fromtimestamp(int(text[1:]), UTC)
    if text.lower() in ("true", "?1"):
        return None
    moment = _http_date(text)
    if moment is None:
        return failed(f"Deprecation: {quote(text, 60)!r} is not @<seconds> (RFC 9745)")
    return moment


@matcher(
    "deprecation_signals",
    read=read_true,
    argument="true",
    doc="Deprecation (RFC 9745), Sunset (RFC 8594) or a deprecation/sunset Link are "
    "well-formed; not_applicable when there are none.",
)
def match_deprecation_signals(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    deprecation, sunset = ex.header("deprecation"), ex.header("sunset")
    rels = {
        word.lower()
        for match in _LINK_REL.finditer(ex.header("link") or "")
        for word in (match.group(1) or match.group(2)).split()
    }
    linked = sorted(rels & {"deprecation", "sunset"})
    if deprecation is None and sunset is None and not linked:
        return not_applicable("no Deprecation, Sunset or deprecation link: nothing is retiring")
    shown: list[str] = []
    since: datetime | None = None
    if deprecation is not None:
        parsed = _deprecation_date(deprecation)
        if isinstance(parsed, Verdict):
            return parsed
        since = parsed
        shown.append(f"Deprecation: {quote(deprecation, 40)}")
    if sunset is not None:
        until = _http_date(sunset)
        if until is None:
            return failed(f"Sunset: {quote(sunset, 60)!r} is not an HTTP-date (RFC 8594)")
        if since is not None and until < since:
            return failed("Sunset is earlier than Deprecation (RFC 9745 §3)")
        shown.append(f"Sunset: {quote(sunset, 40)}")
    shown.extend(f'Link rel="{rel}"' for rel in linked)
    return passed("; ".join(shown))


# --- versioned_url -------------------------------------------------------------------------

_VERSION_SEGMENT = re.compile(r"^(?:v[0-9]+(?:\.[0-9]+)*|[0-9]{4}-[0-9]{2}-[0-9]{2})$", re.I)
_VERSION_HEADERS = ("api-version", "x-api-version")


@matcher(
    "versioned_url",
    read=read_true,
    argument="true",
    doc="The API's URL has a version segment (/v1/, /v2.1/, /2024-01-01/) or the "
    "response an API-Version header.",
)
def match_versioned_url(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    for url in (ex.request.url, ex.final_url):
        segments = [s for s in urlsplit(url).path.split("/") if s]
        version = next((s for s in segments if _VERSION_SEGMENT.match(s)), None)
        if version:
            return passed(f"version {quote(version, 20)!r} in the API's URL")
    for name in _VERSION_HEADERS:
        value = ex.header(name)
        if value:
            return passed(f"{name}: {quote(value, 40)}")
    return failed("no version in the API's URL (such as /v1/) or in an API-Version header")


# --- problem_details (RFC 9457) ------------------------------------------------------------


@matcher(
    "problem_details",
    read=share_option("json_error_credit", 0.0),
    argument="true, or {json_error_credit: 0.5}",
    doc="A 4xx answer as RFC 9457 application/problem+json with a type or title (and a "
    "matching status, if given); another JSON error body earns `json_error_credit`.",
)
def match_problem_details(json_credit: float, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    ex = ctx.exchange
    status = ex.status or 0
    if not 400 <= status < 500:
        return failed(f"{describe_status(status)} for a path that does not exist (expected a 4xx)")
    if ex.content_type == "application/problem+json":
        data = json_or_failure(ctx)
        if isinstance(data, Verdict):
            return data
        if not isinstance(data, dict) or not any(
            isinstance(data.get(k), str) for k in ("type", "title")
        ):
            return failed("application/problem+json without a type or title")
        if "status" in data and data["status"] != status:
            return failed(f"problem status {quote(str(data['status']), 10)} is not {status}")
        title = data.get("title") or data.get("type")
        return passed(f"{status} as application/problem+json: {quote(str(title), 80)!r}")
    if json_credit > 0 and media_is(ex, JSON_MEDIA):
        data = json_or_failure(ctx)
        if not isinstance(data, Verdict) and isinstance(data, dict):
            return passed(
                f"{status} with a JSON error body, not application/problem+json "
                f"({json_credit:g} credit)",
                json_credit,
            )
    return failed(f"{status} served as {served_as(ex)}, not application/problem+json")
