"""What a matcher may look at: one exchange, its baseline and a clock, the body parsed once.

The body is read into text, JSON, XML or an API description at most once per exchange, however
many matchers ask; the helpers below read it as a typed document or say why they cannot.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from api_audit.methodology.documents import SpecInfo, UnsafeDocument, parse_json, parse_spec
from api_audit.methodology.matchers.markup import looks_like_html
from api_audit.methodology.matchers.prose import SCAN_BYTES, Prose, read_html, read_text
from api_audit.methodology.matchers.verdict import Verdict, failed
from api_audit.methodology.openapi import OpenApiReport, check_openapi
from api_audit.methodology.xml_reader import XmlElement, parse_xml
from api_audit.models import Exchange
from api_audit.text import quote

JSON_MEDIA = ("application/json", "*/*+json")
XML_MEDIA = ("application/xml", "text/xml", "*/*+xml")


@dataclass(frozen=True)
class MatchContext:
    """What a matcher may look at: the target exchange, the random-path baseline, a clock,
    and which catalogue endpoint kind the target URL came from (None for a path).

    `cache` holds parsed bodies so several matchers on one exchange parse it once.
    """

    exchange: Exchange
    baseline: Exchange | None
    now: datetime
    endpoint_kind: str | None = None
    cache: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def json_body(self) -> object:
        """The body parsed as JSON; raises UnsafeDocument (also cached)."""
        return self._cached("json", lambda: parse_json(self.exchange.body))

    def xml_body(self) -> XmlElement:
        """The body parsed as XML, with limits; raises UnsafeDocument (also cached)."""
        return cast(XmlElement, self._cached("xml", lambda: parse_xml(self.exchange.body)))

    def spec(self) -> SpecInfo:
        """The body parsed as an API description; raises UnsafeDocument (also cached)."""
        body, media = self.exchange.body, self.exchange.content_type
        return cast(SpecInfo, self._cached("spec", lambda: parse_spec(body, media)))

    def text(self) -> str:
        cached = self.cache.get("text")
        if not isinstance(cached, str):
            cached = self.exchange.body[:SCAN_BYTES].decode("utf-8", "replace")
            self.cache["text"] = cached
        return cached

    def prose(self) -> Prose:
        """The page's content as sentences under their headings, site chrome left out
        (prose.py); read from the first SCAN_BYTES of the body, once (cached)."""
        cached = self.cache.get("prose")
        if not isinstance(cached, Prose):
            text = self.text()
            html_like = looks_like_html(self.exchange) or text.lstrip()[:1] == "<"
            cached = read_html(text) if html_like else read_text(text)
            self.cache["prose"] = cached
        return cached

    def openapi_report(self) -> OpenApiReport:
        """The structure check of the parsed description; raises UnsafeDocument (cached)."""
        spec = self.spec()
        return cast(OpenApiReport, self._cached("report", lambda: check_openapi(spec.document)))

    def _cached(self, key: str, parse: Callable[[], object]) -> object:
        if key not in self.cache:
            try:
                self.cache[key] = parse()
            except UnsafeDocument as exc:
                self.cache[key] = exc
        value = self.cache[key]
        if isinstance(value, UnsafeDocument):
            raise value
        return value


# --- reading the body as a typed document -------------------------------------------------


def served_as(exchange: Exchange) -> str:
    return quote(exchange.content_type, 80) or "no Content-Type"


def media_is(exchange: Exchange, patterns: Sequence[str]) -> bool:
    media = exchange.content_type
    return bool(media) and any(fnmatch.fnmatchcase(media, p) for p in patterns)


def json_or_failure(ctx: MatchContext) -> object | Verdict:
    """The parsed JSON body, or a failing Verdict that says why there is none."""
    if looks_like_html(ctx.exchange):
        return failed(f"served as {served_as(ctx.exchange)}: a web page, not JSON")
    try:
        return ctx.json_body()
    except UnsafeDocument as exc:
        return failed(exc.reason)


def typed_json(ctx: MatchContext, media: Sequence[str] = JSON_MEDIA) -> object | Verdict:
    """The JSON body when it is served as JSON; else a failing Verdict saying why not.

    A standard's document served as text/html (an app shell at the right path) or with
    the wrong media type is not credited, whatever its body says.
    """
    if looks_like_html(ctx.exchange):
        return failed(f"served as {served_as(ctx.exchange)}: a web page, not JSON")
    if not media_is(ctx.exchange, media):
        return failed(f"served as {served_as(ctx.exchange)} (expected {' or '.join(media)})")
    try:
        return ctx.json_body()
    except UnsafeDocument as exc:
        return failed(exc.reason)
