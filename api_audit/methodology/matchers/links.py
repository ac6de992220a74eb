"""Link extractors for two-stage probes: each finds the one URL a response points at.

A probe's `follow: {link: ...}` names one of these: the spec a Swagger UI / Redoc page
loads, or the calendar feed a page links to. The URL found is fetched in a second round
and judged by the follow's own expectations. Only absolute http(s) URLs of bounded length
come out; the patterns are bounded so a hostile page is scanned in linear time.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

from api_audit.methodology.matchers.context import MatchContext
from api_audit.methodology.matchers.registry import FoundLink, link
from api_audit.text import quote

MAX_LINK_CHARS = 2000
_URL_CHARS = r"""[^"'<>\s`]{1,2000}"""
_DOC_UIS = (  # (name, marker in the lower-cased page)
    ("Swagger UI", "swaggeruibundle("),
    ("Swagger UI", "swagger-ui"),
    ("Redoc", "<redoc"),
    ("Redoc", "redoc.standalone.js"),
    ("RapiDoc", "<rapi-doc"),
    ("Stoplight Elements", "<elements-api"),
    ("Scalar", 'id="api-reference"'),
)
_SPEC_URL_PATTERNS = (
    re.compile(rf"""\bspec-url\s*=\s*["']({_URL_CHARS})["']""", re.I),  # Redoc, RapiDoc
    re.compile(rf"""\bapiDescriptionUrl\s*=\s*["']({_URL_CHARS})["']""", re.I),  # Elements
    re.compile(rf"""\bdata-url\s*=\s*["']({_URL_CHARS})["']""", re.I),  # Scalar
    re.compile(rf"""\bRedoc\.init\(\s*["']({_URL_CHARS})["']""", re.I),
    re.compile(rf"""["']?\burl["']?\s*:\s*["']({_URL_CHARS})["']""", re.I),  # Swagger UI
)
_HREF = re.compile(rf"""\bhref\s*=\s*["']({_URL_CHARS})["']""", re.I)
_SERVICE_DESC = re.compile(r"""<link\b[^<>]*\brel\s*=\s*["']?service-desc\b[^<>]*>""", re.I)
_SPEC_FILE = re.compile(r"(openapi|swagger|api-docs)[^/]*\.(json|ya?ml)$|/v[23]/api-docs$")
_PLACEHOLDER_HOSTS = ("petstore.swagger.io", "petstore3.swagger.io")


def _absolute_link(ctx: MatchContext, raw: str) -> tuple[str | None, str]:
    """(absolute http(s) URL, "") or (None, why it cannot be followed)."""
    text = html.unescape(raw).replace("\\/", "/").strip()
    if text.lower().startswith("webcal://"):  # RFC 5545 feeds: webcal is http(s)
        text = urlsplit(ctx.exchange.final_url).scheme + text[6:]
    try:
        url = urljoin(ctx.exchange.final_url, text)
        parts = urlsplit(url)
    except ValueError:
        return None, f"{quote(text, 80)!r} is not a URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None, f"{quote(text, 80)!r} is not an http(s) URL"
    if len(url) > MAX_LINK_CHARS:
        return None, "the link is too long to follow"
    return url.split("#", 1)[0], ""


@link(
    "api_description",
    doc="The spec URL a Swagger UI, Redoc, RapiDoc, Elements or Scalar page loads "
    '(`url:`, `spec-url`, `apiDescriptionUrl`, `data-url`), else a `rel="service-desc"` '
    "link, else a link to an openapi/swagger .json or .yaml file.",
)
def extract_api_description(ctx: MatchContext) -> FoundLink:
    """The spec URL a Swagger UI / Redoc / RapiDoc / Elements / Scalar page loads, else a
    `<link rel="service-desc">`, else a link to an OpenAPI/Swagger file."""
    page = ctx.text()
    lower = page.lower()
    ui = next((name for name, marker in _DOC_UIS if marker in lower), None)
    candidates: list[str] = []
    if ui is not None:
        candidates += [m.group(1) for p in _SPEC_URL_PATTERNS for m in [p.search(page)] if m]
    for tag in _SERVICE_DESC.finditer(page):
        href = _HREF.search(tag.group(0))
        if href:
            candidates.append(href.group(1))
    candidates += [
        m.group(1)
        for m in _HREF.finditer(page)
        if _SPEC_FILE.search(urlsplit(html.unescape(m.group(1))).path.lower())
    ][:3]
    what = f"{ui} page" if ui else "page"
    for raw in candidates:
        url, problem = _absolute_link(ctx, raw)
        if url is None:
            return FoundLink(None, f"the {what} points at {problem}", wrong=True)
        if (urlsplit(url).hostname or "").lower() in _PLACEHOLDER_HOSTS:
            message = f"the {what} still loads the Petstore example, not this API"
            return FoundLink(None, message, wrong=True)
        return FoundLink(url, f"the {what} loads {quote(url)}")
    if ui:
        return FoundLink(None, f"a {ui} page, but no spec URL found in it")
    return FoundLink(None, "no Swagger UI, Redoc, RapiDoc or Elements page and no spec link")


_CALENDAR_LINK = re.compile(rf"""\b(?:href|src)\s*=\s*["']({_URL_CHARS})["']""", re.I)


@link(
    "calendar_feed",
    doc="The first link to an iCalendar feed: a `.ics` path or a `webcal:` URL.",
)
def extract_calendar_feed(ctx: MatchContext) -> FoundLink:
    """The first link to an iCalendar feed: a .ics path or a webcal: URL."""
    for match in _CALENDAR_LINK.finditer(ctx.text()):
        raw = html.unescape(match.group(1))
        path = urlsplit(raw).path.lower()
        if not (raw.lower().startswith("webcal:") or path.endswith(".ics")):
            continue
        url, problem = _absolute_link(ctx, raw)
        if url is None:
            return FoundLink(None, f"a calendar link that is {problem}", wrong=True)
        return FoundLink(url, f"links to the calendar {quote(url)}")
    return FoundLink(None, "links to no iCalendar feed (.ics or webcal: URL)")
