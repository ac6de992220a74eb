"""Matchers on a response's HTTP envelope: status, media type, headers, scheme, TLS, charset.

The same checks any probe may combine: what status and media type came back, whether a
header is there, whether the final URL is https (and an http:// request redirects there
at once), which TLS version was negotiated, and whether text is honest UTF-8.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from api_audit.methodology.documents import UnsafeDocument
from api_audit.methodology.matchers.arguments import (
    Always,
    BadArgument,
    only_keys,
    read_true,
    share_option,
    string_list,
)
from api_audit.methodology.matchers.context import (
    JSON_MEDIA,
    MatchContext,
    media_is,
    served_as,
)
from api_audit.methodology.matchers.markup import looks_like_html
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    describe_status,
    failed,
    not_applicable,
    passed,
    unsure,
)
from api_audit.text import quote

# --- status --------------------------------------------------------------------------------

_STATUS_CLASS = re.compile(r"^[1-5]xx$")

Statuses = tuple[int | str, ...]  # codes (200) and classes ("2xx"), in the order written


def read_statuses(argument: object) -> Statuses:
    items = argument if isinstance(argument, list) else [argument]
    if not items:
        raise BadArgument("give at least one status")
    for item in items:
        if isinstance(item, bool):
            raise BadArgument(f"{item!r} is not a status")
        if isinstance(item, int) and 100 <= item <= 599:
            continue
        if isinstance(item, str) and _STATUS_CLASS.match(item):
            continue
        raise BadArgument(
            f"{item!r} is not a status: use a code such as 200 or a class such as 2xx"
        )
    return tuple(items)


@matcher(
    "status",
    read=read_statuses,
    argument="a code (200), a class (2xx), or a list of them",
    doc="The final response status is one of these (after redirects).",
)
def match_status(items: Statuses, ctx: MatchContext) -> Verdict:
    status = ctx.exchange.status
    if status is None:
        return unsure("no response status")
    for item in items:
        if status == item or (isinstance(item, str) and str(status)[0] == item[0]):
            return passed(describe_status(status))
    wanted = " or ".join(str(i) for i in items)
    return failed(f"{describe_status(status)} (expected {wanted})")


# --- content type --------------------------------------------------------------------------

_MEDIA_PATTERN = re.compile(r"^(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)/([a-z0-9!#$&^_.+*-]+)$")


def read_media_patterns(argument: object) -> tuple[str, ...]:
    items = string_list(argument)
    if items is None:
        raise BadArgument(
            "give a media type or a list of them, e.g. [application/json, '*/*+json']"
        )
    for item in items:
        if not _MEDIA_PATTERN.match(item):
            raise BadArgument(
                f"{item!r} is not a media type pattern (type/subtype, lower case, * allowed)"
            )
    return items


@matcher(
    "content_type",
    read=read_media_patterns,
    argument="a media type or list; `*` wildcards, e.g. `*/*+json`",
    doc="The media type (without parameters) matches one of these patterns.",
)
def match_content_type(patterns: tuple[str, ...], ctx: MatchContext) -> Verdict:
    media = ctx.exchange.content_type
    wanted = " or ".join(patterns)
    if not media:
        return failed(f"no Content-Type header (expected {wanted})")
    if any(fnmatch.fnmatchcase(media, p) for p in patterns):
        return passed(f"served as {quote(media)}")
    return failed(f"served as {quote(media)} (expected {wanted})")


# --- documentation_format ------------------------------------------------------------------

# Documentation as suppliers publish it (methodology 2027.01, issue 11 item 3). A web page
# is what the GDS standards ask for; a machine-readable API description documents the API
# for tools and people alike; an office or text document is public documentation too, but
# one a council cannot link to a section of or read with tools, so it earns partial credit.
_WEB_PAGE = ("text/html", "application/xhtml+xml")
_DOCUMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("application/pdf", "a PDF document"),
    ("application/x-pdf", "a PDF document"),
    ("application/msword", "a Word document"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a Word document"),
    ("application/vnd.oasis.opendocument.text", "an OpenDocument text"),
    ("application/rtf", "a rich-text document"),
    ("text/rtf", "a rich-text document"),
    ("text/markdown", "a Markdown document"),
    ("text/x-markdown", "a Markdown document"),
    ("text/plain", "a plain-text document"),
)
# A document served with a generic type is known by its first bytes or its file name.
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream", "application/download")
_DOCUMENT_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".pdf", "a PDF document"),
    (".docx", "a Word document"),
    (".doc", "a Word document"),
    (".odt", "an OpenDocument text"),
    (".rtf", "a rich-text document"),
    (".md", "a Markdown document"),
    (".txt", "a plain-text document"),
)


@matcher(
    "documentation_format",
    read=share_option("document_credit", 0.5),
    argument="`true` or {document_credit: 0.5}",
    doc="The response is documentation a reader can open: a web page or an OpenAPI/Swagger "
    "description earns full credit; a PDF, Word, OpenDocument, RTF, Markdown or plain-text "
    "document earns `document_credit` (default 0.5: public, but not a web page or "
    "machine-readable); anything else fails.",
)
def match_documentation_format(document_credit: float, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    media = ex.content_type
    if media in _WEB_PAGE:
        return passed(f"served as {media}")
    if not media and looks_like_html(ex):
        return passed("a web page (no Content-Type)")
    described = _api_description(ctx)
    if described:
        return passed(described)
    document = _document_kind(media, ex.body[:8], ex.final_url)
    if document:
        return passed(
            f"{document}: public, but not a web page or machine-readable "
            f"({document_credit:g} credit)",
            document_credit,
        )
    if not media:
        return failed("no Content-Type header, and not documentation a reader can open")
    return failed(f"served as {quote(media)}, which is not documentation a reader can open")


def _api_description(ctx: MatchContext) -> str:
    """ "an OpenAPI 3.x description" when the body is one (Swagger 2.0 too), else ""."""
    try:
        kind = ctx.spec().kind
    except UnsafeDocument:
        return ""
    return {"openapi3": "an OpenAPI 3.x description", "swagger2": "a Swagger 2.0 description"}.get(
        kind or "", ""
    )


def _document_kind(media: str, head: bytes, url: str) -> str:
    """What kind of published document this is ("a PDF document"), or ""."""
    for document_type, kind in _DOCUMENT_TYPES:
        if media == document_type:
            return kind
    if media not in _GENERIC_TYPES:
        return ""
    if head.startswith(b"%PDF-"):
        return "a PDF document"
    path = urlsplit(url).path.lower()
    return next((kind for suffix, kind in _DOCUMENT_SUFFIXES if path.endswith(suffix)), "")


# --- header --------------------------------------------------------------------------------

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class HeaderRule:
    name: str
    pattern: re.Pattern[str] | None  # compiled to ignore case; None: any value


def read_header_rule(argument: object) -> HeaderRule:
    if not isinstance(argument, dict):
        raise BadArgument("give {name: Header-Name} and optionally pattern: a regular expression")
    only_keys(argument, ("name", "pattern"))
    name = argument.get("name")
    if not isinstance(name, str) or not _HEADER_NAME.match(name):
        raise BadArgument("name must be an HTTP header name")
    pattern = argument.get("pattern")
    if pattern is None:
        return HeaderRule(name, None)
    if not isinstance(pattern, str):
        raise BadArgument("pattern must be a string")
    try:
        return HeaderRule(name, re.compile(pattern, re.IGNORECASE))
    except re.error as exc:
        raise BadArgument(f"pattern is not a regular expression: {exc}") from None


@matcher(
    "header",
    read=read_header_rule,
    argument="{name: Header-Name, pattern: regex}",
    doc="A response header is present and, if a pattern is given, matches it (any case).",
)
def match_header(rule: HeaderRule, ctx: MatchContext) -> Verdict:
    value = ctx.exchange.header(rule.name)
    if value is None:
        return failed(f"no {rule.name} header")
    if rule.pattern is not None and not rule.pattern.search(value):
        return failed(f"{rule.name}: {quote(value)} does not match {rule.pattern.pattern}")
    return passed(f"{rule.name}: {quote(value)}")


# --- final_scheme --------------------------------------------------------------------------


def read_https(argument: object) -> str:
    if argument != "https":
        raise BadArgument("the only argument is `https`")
    return "https"


@matcher(
    "final_scheme",
    read=read_https,
    argument="https",
    doc="The final URL after redirects uses this scheme.",
)
def match_final_scheme(wanted: str, ctx: MatchContext) -> Verdict:
    url = ctx.exchange.final_url
    scheme = urlsplit(url).scheme.lower() if url else ""
    if not scheme:
        return unsure("no final URL")
    if scheme == wanted:
        return passed(f"served over {scheme} at {quote(url)}")
    return failed(f"final URL {quote(url)} is not {wanted}")


# --- redirects_to_https --------------------------------------------------------------------


@matcher(
    "redirects_to_https",
    read=share_option("temporary_credit", 0.5),
    argument="true, or {temporary_credit: 0.5}",
    doc="The http:// request is redirected to https at once: 301 or 308 for full credit, "
    "302/303/307 for `temporary_credit` (default 0.5).",
)
def match_redirects_to_https(temporary_credit: float, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if urlsplit(ex.request.url).scheme.lower() != "http":
        return not_applicable("the request was not made over http")
    if not ex.redirects:
        return failed(
            f"http answers {describe_status(ex.status or 0)} without redirecting to https"
        )
    first = ex.redirects[0]
    target = urljoin(first.url, first.location)
    if urlsplit(target).scheme.lower() != "https":
        return failed(f"http redirects to {quote(target)}, not to https")
    if first.status in (301, 308):
        return passed(f"http redirects permanently ({first.status}) to {quote(target)}")
    return passed(
        f"http redirects to https, but with a temporary {first.status} "
        f"({temporary_credit:g} credit; use 301 or 308)",
        temporary_credit,
    )


# --- tls_version ---------------------------------------------------------------------------

_TLS_VERSIONS = {
    "SSLv2": 0.2,
    "SSLv3": 0.3,
    "TLSv1": 1.0,
    "TLSv1.1": 1.1,
    "TLSv1.2": 1.2,
    "TLSv1.3": 1.3,
}


def read_tls_minimum(argument: object) -> float:
    if not isinstance(argument, dict) or set(map(str, argument)) != {"min"}:
        raise BadArgument("give {min: '1.2'} or {min: '1.3'}")
    if argument["min"] not in ("1.2", "1.3"):
        raise BadArgument("min must be '1.2' or '1.3'")
    return float(argument["min"])


@matcher(
    "tls_version",
    read=read_tls_minimum,
    argument="{min: '1.2'}",
    doc="The engine negotiated at least this TLS version; not_applicable over plain "
    "http; inconclusive when the engine does not report it.",
)
def match_tls_version(minimum: float, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if urlsplit(ex.final_url).scheme.lower() != "https":
        return not_applicable("served over plain http, so no TLS (the https probe covers it)")
    if ex.tls_version is None:
        return unsure("the HTTP engine did not report the TLS version")
    version = _TLS_VERSIONS.get(ex.tls_version)
    if version is None:
        return unsure(f"unknown TLS version {quote(ex.tls_version, 20)!r}")
    if version < minimum:
        return failed(f"negotiated {ex.tls_version} (TLS {minimum:g} or later is required)")
    return passed(f"negotiated {ex.tls_version}")


# --- utf8 ----------------------------------------------------------------------------------

_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_TEXTUAL = (
    "text/*",
    "application/json",
    "*/*+json",
    "application/xml",
    "*/*+xml",
    "application/yaml",
    "application/x-yaml",
    "application/javascript",
)


@matcher(
    "utf8",
    read=read_true,
    argument="true",
    doc="A textual body is valid UTF-8 and declares no other charset (JSON needs none); "
    "not_applicable for web pages, binary media and empty bodies.",
)
def match_utf8(_: Always, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    ex = ctx.exchange
    if looks_like_html(ex):
        return not_applicable("a web page, not API data")
    if not media_is(ex, _TEXTUAL):
        return not_applicable(f"served as {served_as(ex)}: not labelled as text")
    if not ex.body.strip():
        return not_applicable("an empty body: no text to check")
    declared = _CHARSET.search(ex.header("content-type") or "")
    charset = declared.group(1).lower() if declared else ""
    if charset and charset not in ("utf-8", "utf8"):
        return failed(f"declares charset={quote(charset, 30)}, not UTF-8")
    try:
        ex.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = ex.body[exc.start]
        return failed(f"not valid UTF-8 (byte 0x{bad:02X} at offset {exc.start})")
    if charset:
        return passed("charset=utf-8, and the body is valid UTF-8")
    if media_is(ex, JSON_MEDIA):
        return passed("JSON, valid UTF-8 (JSON needs no charset: RFC 8259 §8.1)")
    return passed("valid UTF-8 (no charset declared)")
