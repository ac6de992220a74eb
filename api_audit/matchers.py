"""The closed vocabulary a probe's expectations may use; pure functions.

A probe's `expect:` list names matchers from `MATCHERS` with a YAML argument. Each matcher
is a pure function `(argument, MatchContext) -> Verdict`: it looks at one exchange (and,
for `not_soft_200`, the response to a random path on the same origin) and says pass, fail
or inconclusive with a specific message. A new kind of check is a new function here plus
a test; probe files never hold code (DESIGN.md §4). A matcher may also answer
not_applicable (e.g. `deprecation_signals` when nothing is being retired).

`LINKS` is the closed vocabulary of a two-stage probe's `follow: {link: ...}`: each
extractor finds one URL in a response (the spec a Swagger UI page loads, a calendar feed a
page links to) for the second request.

Messages may quote what a server sent; `quote` strips control characters and truncates,
and renderers escape markup later.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import MappingProxyType
from typing import Literal, cast
from urllib.parse import urljoin, urlsplit

from api_audit.methodology.documents import SpecInfo, UnsafeDocument, parse_json, parse_spec
from api_audit.methodology.openapi import (
    CheckBudgetExceeded,
    OpenApiReport,
    check_openapi,
    local_ref_problems,
)
from api_audit.models import Exchange, Hop
from api_audit.text import quote

VerdictOutcome = Literal["pass", "fail", "inconclusive", "not_applicable"]

SOFT_200_SIMILARITY = 0.9  # token overlap at or above this = "the same page"
_SCAN_BYTES = 512 * 1024  # HTML and text heuristics look at the start of a body only


@dataclass(frozen=True)
class Verdict:
    outcome: VerdictOutcome
    message: str
    credit: float = 1.0  # share of the probe's weight a pass earns


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

    def spec(self) -> SpecInfo:
        """The body parsed as an API description; raises UnsafeDocument (also cached)."""
        body, media = self.exchange.body, self.exchange.content_type
        return cast(SpecInfo, self._cached("spec", lambda: parse_spec(body, media)))

    def text(self) -> str:
        cached = self.cache.get("text")
        if not isinstance(cached, str):
            cached = self.exchange.body[:_SCAN_BYTES].decode("utf-8", "replace")
            self.cache["text"] = cached
        return cached

    def visible_text(self) -> str:
        """The words a reader sees: for a web page, text outside tags, scripts, styles and
        comments, entities decoded; otherwise the text. Lower case, whitespace collapsed."""
        cached = self.cache.get("visible")
        if not isinstance(cached, str):
            lower = self.text().lower()
            if _looks_like_html(self.exchange) or lower.lstrip()[:1] == "<":
                shown, _ = _cut_blocks(lower, _HIDDEN_START, "script")
                lower = html.unescape(_TAG.sub(" ", shown))
            cached = " ".join(lower.split())
            self.cache["visible"] = cached
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


Matcher = Callable[[object, MatchContext], Verdict]
Validator = Callable[[object], "str | None"]


@dataclass(frozen=True)
class MatcherSpec:
    match: Matcher
    validate: Validator  # returns a problem with the YAML argument, or None
    doc: str  # one line for generated docs
    argument: str  # what the YAML argument looks like, for generated docs


# --- helpers -------------------------------------------------------------------------------


def describe_status(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _count(number: int, noun: str) -> str:
    if noun.endswith("y"):
        plural = noun[:-1] + "ies"
    else:
        plural = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{number} {noun if number == 1 else plural}"


def _pass(message: str, credit: float = 1.0) -> Verdict:
    return Verdict("pass", message, credit)


def _fail(message: str) -> Verdict:
    return Verdict("fail", message)


def _unsure(message: str) -> Verdict:
    return Verdict("inconclusive", message)


def _not_applicable(message: str) -> Verdict:
    return Verdict("not_applicable", message)


def _served_as(exchange: Exchange) -> str:
    return quote(exchange.content_type, 80) or "no Content-Type"


def _looks_like_html(exchange: Exchange) -> bool:
    if exchange.content_type in ("text/html", "application/xhtml+xml"):
        return True
    head = exchange.body.lstrip(b" \t\r\n\xef\xbb\xbf")[:15].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _validate_true(argument: object) -> str | None:
    return None if argument is True else "the only argument is `true`"


def _string_list(argument: object) -> list[str] | None:
    """A non-empty string or list of non-empty strings, as a list; else None."""
    items = [argument] if isinstance(argument, str) else argument
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(i, str) and i.strip() for i in items):
        return None
    return cast(list[str], items)


# --- status --------------------------------------------------------------------------------

_STATUS_CLASS = re.compile(r"^[1-5]xx$")


def _status_items(argument: object) -> list[int | str]:
    return cast(list[int | str], argument if isinstance(argument, list) else [argument])


def _validate_status(argument: object) -> str | None:
    items = argument if isinstance(argument, list) else [argument]
    if not items:
        return "give at least one status"
    for item in items:
        if isinstance(item, bool):
            return f"{item!r} is not a status"
        if isinstance(item, int) and 100 <= item <= 599:
            continue
        if isinstance(item, str) and _STATUS_CLASS.match(item):
            continue
        return f"{item!r} is not a status: use a code such as 200 or a class such as 2xx"
    return None


def match_status(argument: object, ctx: MatchContext) -> Verdict:
    status = ctx.exchange.status
    if status is None:
        return _unsure("no response status")
    items = _status_items(argument)
    for item in items:
        if status == item or (isinstance(item, str) and str(status)[0] == item[0]):
            return _pass(describe_status(status))
    wanted = " or ".join(str(i) for i in items)
    return _fail(f"{describe_status(status)} (expected {wanted})")


# --- content type --------------------------------------------------------------------------

_MEDIA_PATTERN = re.compile(r"^(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)/([a-z0-9!#$&^_.+*-]+)$")


def _validate_content_type(argument: object) -> str | None:
    items = _string_list(argument)
    if items is None:
        return "give a media type or a list of them, e.g. [application/json, '*/*+json']"
    for item in items:
        if not _MEDIA_PATTERN.match(item):
            return f"{item!r} is not a media type pattern (type/subtype, lower case, * allowed)"
    return None


def match_content_type(argument: object, ctx: MatchContext) -> Verdict:
    patterns = _string_list(argument) or []
    media = ctx.exchange.content_type
    wanted = " or ".join(patterns)
    if not media:
        return _fail(f"no Content-Type header (expected {wanted})")
    if any(fnmatch.fnmatchcase(media, p) for p in patterns):
        return _pass(f"served as {quote(media)}")
    return _fail(f"served as {quote(media)} (expected {wanted})")


# --- header --------------------------------------------------------------------------------

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def _validate_header(argument: object) -> str | None:
    if not isinstance(argument, dict):
        return "give {name: Header-Name} and optionally pattern: a regular expression"
    unknown = sorted(set(map(str, argument)) - {"name", "pattern"})
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: name, pattern)"
    name = argument.get("name")
    if not isinstance(name, str) or not _HEADER_NAME.match(name):
        return "name must be an HTTP header name"
    pattern = argument.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            return "pattern must be a string"
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"pattern is not a regular expression: {exc}"
    return None


def match_header(argument: object, ctx: MatchContext) -> Verdict:
    spec = cast(Mapping[str, str], argument)
    name = spec["name"]
    value = ctx.exchange.header(name)
    if value is None:
        return _fail(f"no {name} header")
    pattern = spec.get("pattern")
    if pattern is not None and not re.search(pattern, value, re.IGNORECASE):
        return _fail(f"{name}: {quote(value)} does not match {pattern}")
    return _pass(f"{name}: {quote(value)}")


# --- body_contains -------------------------------------------------------------------------


def _body_terms(argument: object) -> tuple[Literal["any", "all"], list[str]] | None:
    if isinstance(argument, dict) and len(argument) == 1:
        ((mode, terms),) = argument.items()
        items = _string_list(terms)
        if mode in ("any", "all") and items is not None:
            return cast(Literal["any", "all"], mode), items
        return None
    items = _string_list(argument)
    return ("all", items) if items is not None else None


def _validate_body_contains(argument: object) -> str | None:
    if _body_terms(argument) is None:
        return "give a string, a list (all must appear), or {any: [...]} / {all: [...]}"
    return None


def match_body_contains(argument: object, ctx: MatchContext) -> Verdict:
    mode, terms = _body_terms(argument) or ("all", [])
    text = ctx.text().casefold()
    found = [t for t in terms if t.casefold() in text]
    shown = ", ".join(repr(t) for t in terms)
    if mode == "any":
        if found:
            return _pass(f"body mentions {found[0]!r}")
        return _fail(f"body mentions none of {shown}")
    missing = [t for t in terms if t not in found]
    if missing:
        return _fail(f"body does not mention {missing[0]!r}")
    return _pass(f"body mentions {shown}")


# --- json_fields ---------------------------------------------------------------------------


def _validate_json_fields(argument: object) -> str | None:
    items = _string_list(argument)
    if items is None:
        return "give a dotted path or a list of them, e.g. [info.title, paths]"
    for item in items:
        if any(not part for part in item.split(".")):
            return f"{item!r} is not a dotted path"
    return None


def _lookup(data: object, path: str) -> bool:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _json_or_failure(ctx: MatchContext) -> object | Verdict:
    """The parsed JSON body, or a failing Verdict that says why there is none."""
    if _looks_like_html(ctx.exchange):
        return _fail(f"served as {_served_as(ctx.exchange)}: a web page, not JSON")
    try:
        return ctx.json_body()
    except UnsafeDocument as exc:
        return _fail(exc.reason)


def match_json_fields(argument: object, ctx: MatchContext) -> Verdict:
    data = _json_or_failure(ctx)
    if isinstance(data, Verdict):
        return data
    paths = _string_list(argument) or []
    for path in paths:
        if not _lookup(data, path):
            return _fail(f"JSON has no {path}")
    return _pass(f"JSON has {', '.join(paths)}")


# --- not_login_wall ------------------------------------------------------------------------

# Path segments (extension dropped, lower case) that name a sign-in step.
_SIGN_IN_SEGMENTS = frozenset(
    {
        "login",
        "log-in",
        "log_in",
        "logon",
        "signin",
        "sign-in",
        "sign_in",
        "wp-login",
        "sso",
        "saml",
        "saml2",
        "adfs",
        "authorize",
    }
)
# Identity-provider hosts (exact, or a suffix after a dot).
_SIGN_IN_HOSTS = (
    "login.microsoftonline.com",
    "login.live.com",
    "login.windows.net",
    "accounts.google.com",
    "login.salesforce.com",
)
_SIGN_IN_HOST_SUFFIXES = (
    ".okta.com",
    ".oktapreview.com",
    ".okta-emea.com",
    ".auth0.com",
    ".b2clogin.com",
    ".onelogin.com",
    ".amazoncognito.com",
)
# First DNS label of a host that is only a sign-in service.
_SIGN_IN_LABELS = frozenset({"login", "signin", "sso", "auth", "idp", "adfs", "accounts"})
_PAGE_TEXT_LIMIT = 1500  # a page with this little text besides a password form is a sign-in page


def sign_in_url(url: str) -> bool:
    """Whether a URL looks like a sign-in page (DESIGN.md §4 "Login walls")."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if host in _SIGN_IN_HOSTS or host.endswith(_SIGN_IN_HOST_SUFFIXES):
        return True
    if host.split(".", 1)[0] in _SIGN_IN_LABELS and host.count(".") >= 2:
        return True
    segments = [s.lower().split(".", 1)[0] for s in parts.path.split("/") if s]
    if segments and segments[0] == "auth":  # /auth, /auth/realms/... (Keycloak)
        return True
    return any(s in _SIGN_IN_SEGMENTS for s in segments)


def sign_in_redirect(redirects: Sequence[Hop]) -> str | None:
    """The first redirect target that looks like a sign-in page, as an absolute URL."""
    for hop in redirects:
        target = urljoin(hop.url, hop.location)
        if sign_in_url(target):
            return target
    return None


# Markup is scanned with forward-only searches and regexes bounded by the next "<" or ">",
# so the work is linear in the body size: html.parser is quadratic on some hostile input
# (130,000 unclosed "<!--" take minutes on Python 3.11).
_HIDDEN_START = re.compile(r"<!--|<(script|style|template|noscript)\b")
_FORM_START = re.compile(r"<form\b")
_PASSWORD_INPUT = re.compile(r"<input\b[^<>]*?\btype\s*=\s*[\"']?password\b")
_TAG = re.compile(r"<[^<>]*>")


def _cut_blocks(html: str, start: re.Pattern[str], default_end: str) -> tuple[str, str]:
    """(html outside the blocks that `start` opens, html inside them); lower-case input."""
    outside: list[str] = []
    inside: list[str] = []
    pos = 0
    while True:
        opening = start.search(html, pos)
        if opening is None:
            outside.append(html[pos:])
            break
        outside.append(html[pos : opening.start()])
        name = opening.group(1) if opening.re.groups else None
        closing = "-->" if opening.group(0) == "<!--" else f"</{name or default_end}"
        end = html.find(closing, opening.end())
        stop = len(html) if end < 0 else html.find(">", end) + 1 or len(html)
        inside.append(html[opening.start() : stop])
        pos = stop
    return "".join(outside), "".join(inside)


def _password_form_is_main(ctx: MatchContext) -> bool:
    """An HTML page whose main content is a password form (a sign-in page)."""
    lower = ctx.text().lower()
    if "password" not in lower or not (_looks_like_html(ctx.exchange) or lower.lstrip()[:1] == "<"):
        return False
    shown, _ = _cut_blocks(lower, _HIDDEN_START, "script")
    if not _PASSWORD_INPUT.search(shown):
        return False
    outside_forms, _ = _cut_blocks(shown, _FORM_START, "form")
    text = " ".join(_TAG.sub(" ", outside_forms).split())
    return len(text) < _PAGE_TEXT_LIMIT


def match_not_login_wall(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    if ex.status in (401, 403, 407):
        return _fail(f"{describe_status(ex.status)}: needs an account")
    target = sign_in_redirect(ex.redirects)
    if target is not None:
        return _fail(f"redirected to a sign-in page at {quote(target)}")
    if ex.final_url and sign_in_url(ex.final_url):
        return _fail(f"the page is a sign-in page at {quote(ex.final_url)}")
    if _password_form_is_main(ctx):
        return _fail("the page is a sign-in form (it asks for a password)")
    return _pass("no sign-in page or password form")


# --- not_soft_200 --------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+|[^\w\s]")


def page_similarity(a: bytes, b: bytes) -> float:
    """0-1 overlap of two bodies' tokens (difflib quick_ratio on the token multisets).

    Token overlap is linear in the body size and ignores a request id or path echoed
    into an otherwise identical app shell.
    """
    ta = _TOKEN.findall(a[:_SCAN_BYTES].decode("utf-8", "replace").lower())
    tb = _TOKEN.findall(b[:_SCAN_BYTES].decode("utf-8", "replace").lower())
    if ta == tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    return difflib.SequenceMatcher(None, ta, tb, autojunk=False).quick_ratio()


def match_not_soft_200(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    base = ctx.baseline
    if base is None:
        return _unsure("no random-path response to compare with")
    if base.error is not None or base.status is None:
        return _unsure(f"could not fetch a random path to compare with: {quote(base.error_detail)}")
    if not 200 <= base.status < 300:
        return _pass(f"a random path answers {describe_status(base.status)}")
    status = ctx.exchange.status
    if status is None or not 200 <= status < 300:
        return _pass("not a 2xx response, so not a soft-200")
    if page_similarity(ctx.exchange.body, base.body) >= SOFT_200_SIMILARITY:
        return _fail("same page as a random path: a soft-200 app shell")
    return _pass("differs from a random path on the same host")


# --- openapi -------------------------------------------------------------------------------


def _validate_openapi(argument: object) -> str | None:
    if argument is True:
        return None
    if not isinstance(argument, dict):
        return "give `true` or {swagger2_credit: 0.5}"
    unknown = sorted(set(map(str, argument)) - {"swagger2_credit"})
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: swagger2_credit)"
    credit = argument.get("swagger2_credit")
    if isinstance(credit, bool) or not isinstance(credit, int | float) or not 0 <= credit <= 1:
        return "swagger2_credit must be a number from 0 to 1"
    return None


def match_openapi(argument: object, ctx: MatchContext) -> Verdict:
    swagger2_credit = 0.0
    if isinstance(argument, dict):
        swagger2_credit = float(argument.get("swagger2_credit", 0.0))
    if _looks_like_html(ctx.exchange):
        return _fail(f"served as {_served_as(ctx.exchange)}: a web page, not an OpenAPI document")
    try:
        spec = ctx.spec()
    except UnsafeDocument as exc:
        return _fail(f"not a usable API description: {exc.reason}")
    if spec.external_refs:
        return _fail(
            f"refers to external documents ($ref {quote(spec.external_refs[0])}), "
            "which are never fetched"
        )
    try:
        ref_problems = local_ref_problems(spec.document)
    except CheckBudgetExceeded as exc:
        return _unsure(f"could not check its $refs: {exc.reason}")
    if ref_problems and spec.kind is not None:
        return _fail(f"not a usable API description: {quote(ref_problems[0])}")
    return _spec_verdict(spec, swagger2_credit)


def _spec_verdict(spec: SpecInfo, swagger2_credit: float) -> Verdict:  # noqa: PLR0911 - one return per kind of document, in reading order
    title = f" {quote(spec.title)!r}" if spec.title else ""
    version = quote(spec.version, 20)
    if spec.kind == "openapi3":
        if not spec.has_info:
            return _fail(f"OpenAPI {version} document without info")
        if not (spec.has_paths or spec.has_webhooks or spec.has_components):
            return _fail(f"OpenAPI {version} document{title} describes no paths")
        return _pass(f"OpenAPI {version} document{title}, {_count(spec.path_count, 'path')}")
    if spec.kind == "swagger2":
        if not (spec.has_info and spec.has_paths):
            return _fail("Swagger 2.0 document without info or paths")
        return _pass(
            f"Swagger 2.0 document{title}, {_count(spec.path_count, 'path')} "
            f"(OpenAPI 2.0: {swagger2_credit:g} credit)",
            swagger2_credit,
        )
    if spec.version:
        return _fail(f"version {version!r} is neither OpenAPI 3.x nor Swagger 2.0")
    return _fail("parses, but is not an OpenAPI or Swagger document (no openapi or swagger field)")


# --- linkset (RFC 9727 api-catalog) --------------------------------------------------------

_CATALOG_RELATIONS = ("service-desc", "service-doc", "service-meta", "item")


def _linkset_problem(data: object) -> tuple[str, list[str]]:
    """('', relations found) for a usable API catalog linkset, else (problem, [])."""
    linkset = data.get("linkset") if isinstance(data, dict) else None
    if not isinstance(linkset, list):
        return "no linkset array", []
    if not linkset:
        return "the linkset is empty", []
    found: set[str] = set()
    for number, entry in enumerate(linkset, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("anchor"), str):
            return f"linkset entry {number} has no anchor", []
        for rel in _CATALOG_RELATIONS:
            targets = entry.get(rel)
            if isinstance(targets, list) and any(
                isinstance(t, dict) and isinstance(t.get("href"), str) for t in targets
            ):
                found.add(rel)
    if not found:
        return "no service-desc, service-doc, service-meta or item links", []
    return "", sorted(found)


def match_linkset(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    # RFC 9727 §4.2: the catalog MUST be a linkset in application/linkset+json.
    if ctx.exchange.content_type != "application/linkset+json":
        return _fail(f"served as {_served_as(ctx.exchange)}, not application/linkset+json")
    data = _json_or_failure(ctx)
    if isinstance(data, Verdict):
        return data
    problem, relations = _linkset_problem(data)
    if problem:
        return _fail(problem)
    entries = len(cast(Sequence[object], cast(dict[str, object], data)["linkset"]))
    return _pass(f"API catalog linkset, {_count(entries, 'entry')} ({', '.join(relations)})")


# --- security_txt (RFC 9116) ---------------------------------------------------------------


def _security_fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, value = line.split(":", 1)
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _parse_expires(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def match_security_txt(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    if ctx.exchange.content_type != "text/plain":
        return _fail(f"served as {_served_as(ctx.exchange)}, not text/plain")
    fields = _security_fields(ctx.text())
    contacts = fields.get("contact", [])
    if not contacts:
        return _fail("no Contact: line")
    expires = _single_expires(fields.get("expires", []))
    if isinstance(expires, Verdict):
        return expires
    shown = expires.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if expires <= ctx.now:
        return _fail(f"expired on {shown}")
    return _pass(f"Contact {quote(contacts[0])}, expires {shown}")


def _single_expires(values: list[str]) -> datetime | Verdict:
    """RFC 9116 §2.5.5: Expires MUST be present, at most once, as an RFC 3339 date-time."""
    if not values:
        return _fail("no Expires: line")
    if len(values) > 1:
        return _fail("more than one Expires: line")
    moment = _parse_expires(values[0])
    if moment is None:
        return _fail(f"Expires: {quote(values[0])!r} is not an ISO 8601 date-time")
    return moment


# --- final_scheme --------------------------------------------------------------------------


def _validate_final_scheme(argument: object) -> str | None:
    return None if argument == "https" else "the only argument is `https`"


def match_final_scheme(argument: object, ctx: MatchContext) -> Verdict:
    url = ctx.exchange.final_url
    scheme = urlsplit(url).scheme.lower() if url else ""
    if not scheme:
        return _unsure("no final URL")
    if scheme == argument:
        return _pass(f"served over {scheme} at {quote(url)}")
    return _fail(f"final URL {quote(url)} is not {argument}")


# --- oidc_discovery ------------------------------------------------------------------------


def match_oidc_discovery(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _json_or_failure(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict):
        return _fail("not a JSON object")
    issuer = data.get("issuer")
    if not isinstance(issuer, str) or not issuer.strip():
        return _fail("no issuer")
    if not isinstance(data.get("token_endpoint"), str):
        return _fail("no token_endpoint")
    if not any(isinstance(data.get(k), str) for k in ("authorization_endpoint", "jwks_uri")):
        return _fail("neither authorization_endpoint nor jwks_uri")
    return _pass(f"authorization server metadata for issuer {quote(issuer)}")


# --- shared helpers for typed documents ----------------------------------------------------

_JSON_MEDIA = ("application/json", "*/*+json")
_XML_MEDIA = ("application/xml", "text/xml", "*/*+xml")


def _media_is(exchange: Exchange, patterns: Sequence[str]) -> bool:
    media = exchange.content_type
    return bool(media) and any(fnmatch.fnmatchcase(media, p) for p in patterns)


def _typed_json(ctx: MatchContext, media: Sequence[str] = _JSON_MEDIA) -> object | Verdict:
    """The JSON body when it is served as JSON; else a failing Verdict saying why not.

    A standard's document served as text/html (an app shell at the right path) or with
    the wrong media type is not credited, whatever its body says.
    """
    if _looks_like_html(ctx.exchange):
        return _fail(f"served as {_served_as(ctx.exchange)}: a web page, not JSON")
    if not _media_is(ctx.exchange, media):
        return _fail(f"served as {_served_as(ctx.exchange)} (expected {' or '.join(media)})")
    try:
        return ctx.json_body()
    except UnsafeDocument as exc:
        return _fail(exc.reason)


def _bounded_number(argument: object, key: str) -> str | None:
    value = argument.get(key) if isinstance(argument, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return f"{key} must be a number from 0 to 1"
    return None


def _validate_options(argument: object, allowed: Mapping[str, str]) -> str | None:
    """`true`, or a mapping whose keys are in `allowed` (key -> 'share' for 0-1 numbers)."""
    if argument is True:
        return None
    if not isinstance(argument, dict):
        keys = ", ".join(f"{k}: ..." for k in allowed)
        return f"give `true` or {{{keys}}}"
    unknown = sorted(set(map(str, argument)) - set(allowed))
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})"
    for key in allowed:
        problem = _bounded_number(argument, key)
        if problem:
            return problem
    return None


def _option(argument: object, key: str, default: float) -> float:
    value = argument.get(key, default) if isinstance(argument, dict) else default
    return float(cast(float, value))


# --- spec_quality --------------------------------------------------------------------------

QUALITY_SUMMARY_SHARE = 0.8  # operations with a summary or description (DISC-03)
QUALITY_ERROR_SHARE = 0.5  # operations that document a 4xx, 5xx or default response


def _quality_marks(report: OpenApiReport) -> list[tuple[str, bool]]:
    """(what, met) for each quality mark that applies to this document."""
    marks = [
        ("info.title and info.version", report.has_title and report.has_version),
        ("servers", report.has_servers),
        ("info.contact", report.has_contact),
        ("info.license or termsOfService", report.has_licence),
        ("a valid structure", report.problem_count == 0 and not report.ref_problems),
    ]
    if report.security_used:  # only an API that requires auth must describe it
        defined = set(report.security_schemes)
        marks.append(
            ("security schemes for its security", all(n in defined for n in report.security_used))
        )
    if report.operations:
        summarised = report.described / report.operations
        errors = report.with_error_responses / report.operations
        marks.append(
            (
                f"summaries on {QUALITY_SUMMARY_SHARE:.0%} of operations",
                summarised >= QUALITY_SUMMARY_SHARE,
            )
        )
        marks.append(
            (
                f"error responses on {QUALITY_ERROR_SHARE:.0%} of operations",
                errors >= QUALITY_ERROR_SHARE,
            )
        )
    return marks


def match_spec_quality(argument: object, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    minimum = _option(argument, "min_share", 0.5)
    if _looks_like_html(ctx.exchange):
        return _fail(f"served as {_served_as(ctx.exchange)}: a web page, not an OpenAPI document")
    try:
        spec = ctx.spec()
        if spec.external_refs:
            return _fail(f"refers to external documents ($ref {quote(spec.external_refs[0])})")
        if spec.kind is None:
            return _fail("not an OpenAPI 3.x or Swagger 2.0 document")
        report = ctx.openapi_report()
    except CheckBudgetExceeded as exc:
        return _unsure(f"could not check the description: {exc.reason}")
    except UnsafeDocument as exc:
        return _fail(f"not a usable API description: {exc.reason}")
    marks = _quality_marks(report)
    met = sum(1 for _, ok in marks if ok)
    share = met / len(marks)
    missing = [what for what, ok in marks if not ok]
    lacking = f" (lacks {', '.join(missing)})" if missing else ""
    if report.problems:
        lacking += f"; first problem: {quote(report.problems[0], 100)}"
    elif report.ref_problems:
        lacking += f"; {quote(report.ref_problems[0], 100)}"
    summary = f"{met} of {len(marks)} quality marks{lacking}"
    if share < minimum:
        return _fail(f"only {summary}")
    return _pass(summary, round(share, 2))


# --- problem_details (RFC 9457) ------------------------------------------------------------


def match_problem_details(argument: object, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    json_credit = _option(argument, "json_error_credit", 0.0)
    ex = ctx.exchange
    status = ex.status or 0
    if not 400 <= status < 500:
        return _fail(f"{describe_status(status)} for a path that does not exist (expected a 4xx)")
    if ex.content_type == "application/problem+json":
        data = _json_or_failure(ctx)
        if isinstance(data, Verdict):
            return data
        if not isinstance(data, dict) or not any(
            isinstance(data.get(k), str) for k in ("type", "title")
        ):
            return _fail("application/problem+json without a type or title")
        if "status" in data and data["status"] != status:
            return _fail(f"problem status {quote(str(data['status']), 10)} is not {status}")
        title = data.get("title") or data.get("type")
        return _pass(f"{status} as application/problem+json: {quote(str(title), 80)!r}")
    if json_credit > 0 and _media_is(ex, _JSON_MEDIA):
        data = _json_or_failure(ctx)
        if not isinstance(data, Verdict) and isinstance(data, dict):
            return _pass(
                f"{status} with a JSON error body, not application/problem+json "
                f"({json_credit:g} credit)",
                json_credit,
            )
    return _fail(f"{status} served as {_served_as(ex)}, not application/problem+json")


# --- redirects_to_https --------------------------------------------------------------------


def match_redirects_to_https(argument: object, ctx: MatchContext) -> Verdict:
    temporary_credit = _option(argument, "temporary_credit", 0.5)
    ex = ctx.exchange
    if urlsplit(ex.request.url).scheme.lower() != "http":
        return _not_applicable("the request was not made over http")
    if not ex.redirects:
        return _fail(f"http answers {describe_status(ex.status or 0)} without redirecting to https")
    first = ex.redirects[0]
    target = urljoin(first.url, first.location)
    if urlsplit(target).scheme.lower() != "https":
        return _fail(f"http redirects to {quote(target)}, not to https")
    if first.status in (301, 308):
        return _pass(f"http redirects permanently ({first.status}) to {quote(target)}")
    return _pass(
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


def _validate_tls_version(argument: object) -> str | None:
    if not isinstance(argument, dict) or set(map(str, argument)) != {"min"}:
        return "give {min: '1.2'} or {min: '1.3'}"
    return None if argument["min"] in ("1.2", "1.3") else "min must be '1.2' or '1.3'"


def match_tls_version(argument: object, ctx: MatchContext) -> Verdict:
    minimum = float(cast(Mapping[str, str], argument)["min"])
    ex = ctx.exchange
    if urlsplit(ex.final_url).scheme.lower() != "https":
        return _not_applicable("served over plain http, so no TLS (the https probe covers it)")
    if ex.tls_version is None:
        return _unsure("the HTTP engine did not report the TLS version")
    version = _TLS_VERSIONS.get(ex.tls_version)
    if version is None:
        return _unsure(f"unknown TLS version {quote(ex.tls_version, 20)!r}")
    if version < minimum:
        return _fail(f"negotiated {ex.tls_version} (TLS {minimum:g} or later is required)")
    return _pass(f"negotiated {ex.tls_version}")


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


def match_utf8(argument: object, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    del argument  # always true
    ex = ctx.exchange
    if _looks_like_html(ex):
        return _not_applicable("a web page, not API data")
    if not _media_is(ex, _TEXTUAL):
        return _not_applicable(f"served as {_served_as(ex)}: not labelled as text")
    if not ex.body.strip():
        return _not_applicable("an empty body: no text to check")
    declared = _CHARSET.search(ex.header("content-type") or "")
    charset = declared.group(1).lower() if declared else ""
    if charset and charset not in ("utf-8", "utf8"):
        return _fail(f"declares charset={quote(charset, 30)}, not UTF-8")
    try:
        ex.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = ex.body[exc.start]
        return _fail(f"not valid UTF-8 (byte 0x{bad:02X} at offset {exc.start})")
    if charset:
        return _pass("charset=utf-8, and the body is valid UTF-8")
    if _media_is(ex, _JSON_MEDIA):
        return _pass("JSON, valid UTF-8 (JSON needs no charset: RFC 8259 §8.1)")
    return _pass("valid UTF-8 (no charset declared)")


# --- wording -------------------------------------------------------------------------------

_WORDING_KEYS = ("pass", "fail", "otherwise", "mixed_credit")
_OTHERWISE = ("inconclusive", "fail", "not_applicable")


def _validate_wording(argument: object) -> str | None:
    if not isinstance(argument, dict):
        return "give {pass: [phrases], fail: [phrases], otherwise: inconclusive}"
    unknown = sorted(set(map(str, argument)) - set(_WORDING_KEYS))
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: {', '.join(_WORDING_KEYS)})"
    for key in ("pass", "fail"):
        if key in argument and _string_list(argument[key]) is None:
            return f"{key} must be a list of phrases"
    if not argument.get("pass") and not argument.get("fail"):
        return "give pass or fail phrases (or both)"
    if argument.get("otherwise", "inconclusive") not in _OTHERWISE:
        return f"otherwise must be one of {', '.join(_OTHERWISE)}"
    return _bounded_number(argument, "mixed_credit")


@functools.lru_cache(maxsize=256)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words in any case and spacing: 'sign up' finds 'Sign  up' only."""
    words = [re.escape(w) for w in phrase.casefold().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _first_phrase(text: str, phrases: Sequence[str]) -> str | None:
    return next((p for p in phrases if _phrase_pattern(p).search(text)), None)


def match_wording(argument: object, ctx: MatchContext) -> Verdict:
    spec = cast(Mapping[str, object], argument)
    good = _string_list(spec.get("pass")) or []
    bad = _string_list(spec.get("fail")) or []
    text = ctx.visible_text()
    found_good, found_bad = _first_phrase(text, good), _first_phrase(text, bad)
    if found_good and found_bad:
        credit = _option(spec, "mixed_credit", 0.5)
        return _pass(f"says {found_good!r} but also {found_bad!r} ({credit:g} credit)", credit)
    if found_good:
        return _pass(f"says {found_good!r}")
    if found_bad:
        return _fail(f"says {found_bad!r}" + (f", and nothing like {good[0]!r}" if good else ""))
    shown = ", ".join(repr(p) for p in (good or bad)[:3])
    said = (
        f"says nothing either way (such as {good[0]!r} or {bad[0]!r})"
        if good and bad
        else f"mentions none of {shown} ..."
    )
    return Verdict(cast(VerdictOutcome, spec.get("otherwise", "inconclusive")), said)


# --- open_licence --------------------------------------------------------------------------

# (licence, pattern) pairs; acronyms are matched in their usual case, names in any case.
_OPEN_LICENCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Open Government Licence", re.compile(r"(?i:open[ -]government[ -]licen[cs]e)")),
    ("Open Government Licence", re.compile(r"(?i:nationalarchives\.gov\.uk/doc/open-government)")),
    ("Open Government Licence", re.compile(r"\bOGL(?:-UK)?(?:[- ]v?[0-9.]+)?\b")),
    ("CC BY", re.compile(r"(?i:creative\s*commons\s+attribution)")),
    ("CC BY", re.compile(r"(?i:creativecommons\.org/licenses/by)")),
    ("CC BY", re.compile(r"\bCC[- ]BY\b")),
    ("CC0", re.compile(r"\bCC0\b|(?i:creativecommons\.org/publicdomain/zero)")),
    ("ODbL", re.compile(r"\bODbL\b|(?i:open\s+database\s+licen[cs]e)")),
    ("Open Data Commons", re.compile(r"(?i:opendatacommons\.org/licenses/)|\bODC-BY\b|\bPDDL\b")),
)


def _open_licence(text: str) -> str | None:
    return next((name for name, pattern in _OPEN_LICENCES if pattern.search(text)), None)


def _spec_licence(ctx: MatchContext) -> tuple[bool, str] | None:
    """(is open, as written) for an API description's info.license; None when it has none."""
    if _looks_like_html(ctx.exchange):
        return None
    try:
        spec = ctx.spec()
    except UnsafeDocument:
        return None
    document = spec.document
    info = document.get("info") if spec.kind and isinstance(document, dict) else None
    licence = info.get("license") if isinstance(info, dict) else None
    if not isinstance(licence, dict):
        return None
    written = " ".join(str(licence.get(k, "")) for k in ("name", "identifier", "url")).strip()
    return (_open_licence(written) is not None, written) if written else None


def match_open_licence(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    declared = _spec_licence(ctx)
    if declared is not None:
        is_open, written = declared
        if is_open:
            return _pass(f"info.license names an open licence: {quote(written, 80)!r}")
        return _fail(f"info.license {quote(written, 80)!r} is not an open data licence")
    name = _open_licence(ctx.text())
    if name:
        return _pass(f"names an open licence: {name}")
    return _fail("names no open licence (OGL, CC BY, CC0, ODbL)")


# --- sandbox -------------------------------------------------------------------------------

_SANDBOX_PHRASES = (
    "sandbox",
    "test environment",
    "testing environment",
    "test service",
    "staging environment",
    "uat environment",
    "mock server",
    "test api keys",
    "test credentials",
)
_SANDBOX_WORDS = frozenset({"sandbox", "test", "testing", "staging", "uat", "demo", "mock"})


def _test_host(host: str) -> bool:
    """A host name with a sandbox/test/staging/uat label, the top-level domain aside
    (sandbox.api.example.com, api-uat.example.com; not example.test)."""
    labels = host.lower().split(".")[:-1]
    return any(part in _SANDBOX_WORDS for label in labels for part in label.split("-"))


def _sandbox_server(document: object) -> str | None:
    """Why an API description's servers show a test environment; None when they do not."""
    servers = document.get("servers") if isinstance(document, dict) else None
    if not isinstance(servers, list):
        return None
    entries = [s for s in servers if isinstance(s, dict) and isinstance(s.get("url"), str)]
    for entry in entries:
        host = urlsplit(str(entry["url"])).hostname or ""
        words = f"{entry.get('description', '')}".casefold()
        if _test_host(host) or _first_phrase(words, (*_SANDBOX_PHRASES, "test")):
            return f"the spec lists a test server {quote(str(entry['url']), 80)}"
    if len(entries) >= 2:
        return f"the spec lists {len(entries)} servers"
    return None


def match_sandbox(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    if ctx.endpoint_kind == "sandbox":
        if ex.status in (404, 410):
            return _fail(f"the sandbox URL answers {describe_status(ex.status)}")
        return _pass(
            f"a sandbox answers at {quote(ex.request.url)} ({describe_status(ex.status or 0)})"
        )
    if not _looks_like_html(ex):
        try:
            spec = ctx.spec()
            found = _sandbox_server(spec.document) if spec.kind else None
        except UnsafeDocument:
            found = None
        if found:
            return _pass(found)
    phrase = _first_phrase(ctx.visible_text(), _SANDBOX_PHRASES)
    if phrase:
        return _pass(f"mentions {phrase!r}")
    return _fail("advertises no sandbox or test environment")


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


def match_rate_limit_headers(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    names = [n for n in _RATE_LIMIT_HEADERS if ex.header(n) is not None]
    names += [n for n, _ in ex.headers if n.startswith("x-ratelimit-") and n not in names]
    if not names:
        return _fail("no RateLimit-Policy, RateLimit or X-RateLimit-* header")
    first = names[0]
    return _pass(f"{first}: {quote(ex.header(first) or '', 80)}")


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
        return _fail(f"Deprecation: {quote(text, 60)!r} is not @<seconds> (RFC 9745)")
    return moment


def match_deprecation_signals(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    deprecation, sunset = ex.header("deprecation"), ex.header("sunset")
    rels = {
        word.lower()
        for match in _LINK_REL.finditer(ex.header("link") or "")
        for word in (match.group(1) or match.group(2)).split()
    }
    linked = sorted(rels & {"deprecation", "sunset"})
    if deprecation is None and sunset is None and not linked:
        return _not_applicable("no Deprecation, Sunset or deprecation link: nothing is retiring")
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
            return _fail(f"Sunset: {quote(sunset, 60)!r} is not an HTTP-date (RFC 8594)")
        if since is not None and until < since:
            return _fail("Sunset is earlier than Deprecation (RFC 9745 §3)")
        shown.append(f"Sunset: {quote(sunset, 40)}")
    shown.extend(f'Link rel="{rel}"' for rel in linked)
    return _pass("; ".join(shown))


# --- versioned_url -------------------------------------------------------------------------

_VERSION_SEGMENT = re.compile(r"^(?:v[0-9]+(?:\.[0-9]+)*|[0-9]{4}-[0-9]{2}-[0-9]{2})$", re.I)
_VERSION_HEADERS = ("api-version", "x-api-version")


def match_versioned_url(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    for url in (ex.request.url, ex.final_url):
        segments = [s for s in urlsplit(url).path.split("/") if s]
        version = next((s for s in segments if _VERSION_SEGMENT.match(s)), None)
        if version:
            return _pass(f"version {quote(version, 20)!r} in the API's URL")
    for name in _VERSION_HEADERS:
        value = ex.header(name)
        if value:
            return _pass(f"{name}: {quote(value, 40)}")
    return _fail("no version in the API's URL (such as /v1/) or in an API-Version header")


# --- not_soap_only -------------------------------------------------------------------------

_SOAP_MARKERS = (
    ("a WSDL 1.1 description", "schemas.xmlsoap.org/wsdl/"),
    ("a WSDL 2.0 description", "www.w3.org/ns/wsdl"),
    ("a SOAP envelope", "schemas.xmlsoap.org/soap/envelope"),
    ("a SOAP 1.2 envelope", "www.w3.org/2003/05/soap-envelope"),
    ("an ASMX help page", "the following operations are supported"),
    ("a WCF service page", "svcutil.exe"),
)


def _soap_surface(ex: Exchange, text: str) -> str | None:
    for url in (ex.request.url, ex.final_url):
        parts = urlsplit(url)
        path, query = parts.path.lower(), parts.query.lower()
        if path.endswith((".asmx", ".svc")):
            return f"an {path.rsplit('.', 1)[1].upper()} endpoint"
        if query == "wsdl" or query.startswith(("wsdl&", "wsdl=")):
            return "a ?wsdl URL"
    lower = text.lower()
    return next((what for what, marker in _SOAP_MARKERS if marker in lower), None)


_MACHINE_MEDIA = (*_JSON_MEDIA, *_XML_MEDIA, "text/csv", "application/yaml")


def match_not_soap_only(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    surface = _soap_surface(ex, ctx.text())
    if surface:
        return _fail(f"a SOAP web service ({surface}): a legacy surface, not a JSON/REST API")
    if _looks_like_html(ex) or not _media_is(ex, _MACHINE_MEDIA):
        return _not_applicable(f"no machine-readable answer to judge ({_served_as(ex)})")
    return _pass(f"a machine surface that is not SOAP ({_served_as(ex)})")


# --- sector and protocol standards ---------------------------------------------------------


def match_open311(argument: object, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    del argument  # always true
    data = _typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if isinstance(data, dict) and isinstance(data.get("endpoints"), list):
        for endpoint in data["endpoints"]:
            spec = endpoint.get("specification") if isinstance(endpoint, dict) else None
            if isinstance(spec, str) and "georeport_v2" in spec.lower():
                return _pass(f"Open311 discovery document ({quote(spec, 60)})")
        return _fail("a discovery document with no GeoReport v2 endpoint")
    if not isinstance(data, list):
        return _fail("not an Open311 services list (a JSON array of services)")
    if not data:
        return _fail("an empty services list")
    for item in data[:50]:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str | int) for k in ("service_code", "service_name")
        ):
            return _fail("a service without service_code and service_name")
    return _pass(f"Open311 GeoReport v2 services list, {_count(len(data), 'service')}")


_ORUK_SHAPES = (
    ("Open Referral UK v1 page", "totalElements", "content"),
    ("Open Referral UK 3 / HSDS 3 page", "total_items", "contents"),
)


def match_open_referral(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict):
        return _fail("not a JSON object (expected a page of services)")
    for name, total_key, items_key in _ORUK_SHAPES:
        total, items = data.get(total_key), data.get(items_key)
        if isinstance(total, int) and not isinstance(total, bool) and isinstance(items, list):
            for item in items[:50]:
                if not isinstance(item, dict) or "id" not in item or "name" not in item:
                    return _fail(f"{name}, but a service has no id or name")
            return _pass(f"{name}: {_count(total, 'service')}")
    return _fail("no totalElements/content (ORUK v1) or total_items/contents (ORUK 3) page")


OGC_FEATURES_CORE = "ogcapi-features-1/1.0/conf/core"


def match_ogc_features(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    classes = data.get("conformsTo") if isinstance(data, dict) else None
    if not isinstance(classes, list):
        return _fail("no conformsTo list")
    core = [
        c
        for c in classes
        if isinstance(c, str)
        and "opengis.net/spec/" in c
        and c.rstrip("/").endswith(OGC_FEATURES_CORE)
    ]
    if not core:
        return _fail(
            f"conformsTo lists {_count(len(classes), 'class')}, none of them Features core"
        )
    return _pass(f"conforms to OGC API - Features core ({_count(len(classes), 'class')})")


_FHIR_MEDIA = ("application/fhir+json", "application/json", "application/json+fhir")


def match_fhir_capability(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _typed_json(ctx, _FHIR_MEDIA)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or data.get("resourceType") != "CapabilityStatement":
        kind = data.get("resourceType") if isinstance(data, dict) else None
        shown = f" (resourceType {quote(str(kind), 40)!r})" if kind else ""
        return _fail(f"not a FHIR CapabilityStatement{shown}")
    version = data.get("fhirVersion")
    if not isinstance(version, str) or not version:
        return _fail("a CapabilityStatement without fhirVersion")
    return _pass(f"FHIR {quote(version, 20)} CapabilityStatement")


_EDMX_OPEN = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Edmx\b[^<>]*>")
_EDMX_CLOSE = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?Edmx\s*>")
_EDMX_NAMESPACES = (
    "http://docs.oasis-open.org/odata/ns/edmx",  # OData v4
    "http://schemas.microsoft.com/ado/2007/06/edmx",  # OData v2/v3
)
_VERSION_ATTRIBUTE = re.compile(r"""\bVersion\s*=\s*["']([0-9.]{1,10})["']""")


def match_odata_metadata(argument: object, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    del argument  # always true
    ex = ctx.exchange
    if _media_is(ex, _JSON_MEDIA):  # CSDL JSON (OData 4.01)
        data = _json_or_failure(ctx)
        if isinstance(data, Verdict):
            return data
        version = data.get("$Version") if isinstance(data, dict) else None
        if isinstance(version, str):
            return _pass(f"OData CSDL JSON, version {quote(version, 10)}")
        return _fail("JSON without $Version: not CSDL JSON")
    if _looks_like_html(ex) or not _media_is(ex, _XML_MEDIA):
        return _fail(f"served as {_served_as(ex)} (expected application/xml)")
    opening = _EDMX_OPEN.search(ctx.text())
    if opening is None or not any(ns in opening.group(0) for ns in _EDMX_NAMESPACES):
        return _fail("no edmx:Edmx root in the OData namespace")
    tail = ex.body[-4096:].decode("utf-8", "replace")
    if _EDMX_CLOSE.search(tail) is None:
        return _fail("the Edmx document is cut off (no closing </edmx:Edmx>)")
    version = _VERSION_ATTRIBUTE.search(opening.group(0))
    return _pass(f"OData CSDL (Edmx version {version.group(1) if version else '?'})")


_GRAPHQL_MEDIA = ("application/graphql-response+json", "application/json", "*/*+json")


def match_graphql(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _typed_json(ctx, _GRAPHQL_MEDIA)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict):
        return _fail("not a JSON object")
    if isinstance(data.get("data"), dict):
        return _pass("GraphQL answered the query")
    errors = data.get("errors")
    if (
        isinstance(errors, list)
        and errors
        and all(isinstance(e, dict) and isinstance(e.get("message"), str) for e in errors)
    ):
        message = quote(cast(str, errors[0]["message"]), 80)
        return _pass(f"a GraphQL error response: {message!r}")
    return _fail("neither data nor GraphQL errors [{message}]")


def match_ckan_status(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or data.get("success") is not True:
        return _fail("no success: true")
    result = data.get("result")
    version = result.get("ckan_version") if isinstance(result, dict) else None
    if not isinstance(version, str):
        return _fail("no result.ckan_version")
    return _pass(f"CKAN {quote(version, 20)}")


def match_icalendar(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    ex = ctx.exchange
    if ex.content_type != "text/calendar":
        return _fail(f"served as {_served_as(ex)}, not text/calendar")
    text = ex.body.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    lines = {line.strip().upper() for line in text.splitlines()}
    if not text.upper().startswith("BEGIN:VCALENDAR"):
        return _fail("does not start with BEGIN:VCALENDAR")
    if "VERSION:2.0" not in lines:
        return _fail("no VERSION:2.0")
    if not any(line.startswith("PRODID") for line in lines):
        return _fail("no PRODID")
    if "END:VCALENDAR" not in lines:
        return _fail("cut off: no END:VCALENDAR")
    events = sum(1 for line in text.upper().splitlines() if line.strip() == "BEGIN:VEVENT")
    return _pass(f"iCalendar 2.0 with {_count(events, 'event')}")


def match_apis_json(argument: object, ctx: MatchContext) -> Verdict:
    del argument  # always true
    data = _typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return _fail("not an APIs.json document (no name)")
    apis = data.get("apis")
    if not isinstance(apis, list) or not apis:
        return _fail("no apis listed")
    for api in apis:
        if not isinstance(api, dict) or not any(
            isinstance(api.get(k), str) for k in ("baseURL", "humanURL")
        ):
            return _fail("an API entry without baseURL or humanURL")
    return _pass(f"APIs.json {quote(data['name'], 60)!r} listing {_count(len(apis), 'API')}")


# --- links: what a two-stage probe follows -------------------------------------------------


@dataclass(frozen=True)
class FoundLink:
    """A URL found in a response (absolute), or None with the reason in `message`."""

    url: str | None
    message: str


LinkExtractor = Callable[[MatchContext], FoundLink]


@dataclass(frozen=True)
class LinkSpec:
    extract: LinkExtractor
    doc: str  # one line for generated docs


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
            return FoundLink(None, f"the {what} points at {problem}")
        if (urlsplit(url).hostname or "").lower() in _PLACEHOLDER_HOSTS:
            return FoundLink(None, f"the {what} still loads the Petstore example, not this API")
        return FoundLink(url, f"the {what} loads {quote(url)}")
    if ui:
        return FoundLink(None, f"a {ui} page, but no spec URL found in it")
    return FoundLink(None, "no Swagger UI, Redoc, RapiDoc or Elements page and no spec link")


_CALENDAR_LINK = re.compile(rf"""\b(?:href|src)\s*=\s*["']({_URL_CHARS})["']""", re.I)


def extract_calendar_feed(ctx: MatchContext) -> FoundLink:
    """The first link to an iCalendar feed: a .ics path or a webcal: URL."""
    for match in _CALENDAR_LINK.finditer(ctx.text()):
        raw = html.unescape(match.group(1))
        path = urlsplit(raw).path.lower()
        if not (raw.lower().startswith("webcal:") or path.endswith(".ics")):
            continue
        url, problem = _absolute_link(ctx, raw)
        if url is None:
            return FoundLink(None, f"a calendar link that is {problem}")
        return FoundLink(url, f"links to the calendar {quote(url)}")
    return FoundLink(None, "links to no iCalendar feed (.ics or webcal: URL)")


LINKS: Mapping[str, LinkSpec] = MappingProxyType(
    {
        "api_description": LinkSpec(
            extract_api_description,
            "The spec URL a Swagger UI, Redoc, RapiDoc, Elements or Scalar page loads "
            '(`url:`, `spec-url`, `apiDescriptionUrl`, `data-url`), else a `rel="service-desc"` '
            "link, else a link to an openapi/swagger .json or .yaml file.",
        ),
        "calendar_feed": LinkSpec(
            extract_calendar_feed,
            "The first link to an iCalendar feed: a `.ics` path or a `webcal:` URL.",
        ),
    }
)


# --- the registry --------------------------------------------------------------------------

MATCHERS: Mapping[str, MatcherSpec] = MappingProxyType(
    {
        "status": MatcherSpec(
            match_status,
            _validate_status,
            "The final response status is one of these (after redirects).",
            "a code (200), a class (2xx), or a list of them",
        ),
        "content_type": MatcherSpec(
            match_content_type,
            _validate_content_type,
            "The media type (without parameters) matches one of these patterns.",
            "a media type or list; `*` wildcards, e.g. `*/*+json`",
        ),
        "header": MatcherSpec(
            match_header,
            _validate_header,
            "A response header is present and, if a pattern is given, matches it (any case).",
            "{name: Header-Name, pattern: regex}",
        ),
        "body_contains": MatcherSpec(
            match_body_contains,
            _validate_body_contains,
            "The body mentions these words (case-insensitive).",
            "a string, a list (all), or {any: [...]} / {all: [...]}",
        ),
        "json_fields": MatcherSpec(
            match_json_fields,
            _validate_json_fields,
            "The body is JSON and has these dotted paths.",
            "a dotted path or list, e.g. [info.title, paths]",
        ),
        "not_login_wall": MatcherSpec(
            match_not_login_wall,
            _validate_true,
            "Not a login wall: no 401/403, no redirect to or URL of a sign-in page, "
            "no page that is mainly a password form.",
            "true",
        ),
        "not_soft_200": MatcherSpec(
            match_not_soft_200,
            _validate_true,
            "Not the page a random path on the same host also answers with 2xx "
            "(needs `compare_random_path: true`).",
            "true",
        ),
        "openapi": MatcherSpec(
            match_openapi,
            _validate_openapi,
            "Parses as OpenAPI 3.x with info and paths (full credit) or Swagger 2.0 with info and "
            "paths (the given credit); any $ref outside the document fails.",
            "true, or {swagger2_credit: 0.5}",
        ),
        "linkset": MatcherSpec(
            match_linkset,
            _validate_true,
            "An RFC 9727 API catalog: application/linkset+json with anchored entries that link "
            "service-desc, service-doc, service-meta or item.",
            "true",
        ),
        "security_txt": MatcherSpec(
            match_security_txt,
            _validate_true,
            "An RFC 9116 security.txt: text/plain with Contact: and one future Expires:.",
            "true",
        ),
        "final_scheme": MatcherSpec(
            match_final_scheme,
            _validate_final_scheme,
            "The final URL after redirects uses this scheme.",
            "https",
        ),
        "oidc_discovery": MatcherSpec(
            match_oidc_discovery,
            _validate_true,
            "OpenID Connect / RFC 8414 metadata: JSON with issuer, token_endpoint and "
            "authorization_endpoint or jwks_uri.",
            "true",
        ),
        "spec_quality": MatcherSpec(
            match_spec_quality,
            lambda a: _validate_options(a, {"min_share": "share"}),
            "Quality marks of an OpenAPI/Swagger document: info.title and version, servers, "
            "contact, licence, valid structure, security schemes when security is required, "
            f"summaries on {QUALITY_SUMMARY_SHARE:.0%} and error responses on "
            f"{QUALITY_ERROR_SHARE:.0%} of operations. Credit is the share met; below "
            "`min_share` (default 0.5) it fails.",
            "true, or {min_share: 0.5}",
        ),
        "problem_details": MatcherSpec(
            match_problem_details,
            lambda a: _validate_options(a, {"json_error_credit": "share"}),
            "A 4xx answer as RFC 9457 application/problem+json with a type or title (and a "
            "matching status, if given); another JSON error body earns `json_error_credit`.",
            "true, or {json_error_credit: 0.5}",
        ),
        "redirects_to_https": MatcherSpec(
            match_redirects_to_https,
            lambda a: _validate_options(a, {"temporary_credit": "share"}),
            "The http:// request is redirected to https at once: 301 or 308 for full credit, "
            "302/303/307 for `temporary_credit` (default 0.5).",
            "true, or {temporary_credit: 0.5}",
        ),
        "tls_version": MatcherSpec(
            match_tls_version,
            _validate_tls_version,
            "The engine negotiated at least this TLS version; not_applicable over plain "
            "http; inconclusive when the engine does not report it.",
            "{min: '1.2'}",
        ),
        "utf8": MatcherSpec(
            match_utf8,
            _validate_true,
            "A textual body is valid UTF-8 and declares no other charset (JSON needs none); "
            "not_applicable for web pages, binary media and empty bodies.",
            "true",
        ),
        "wording": MatcherSpec(
            match_wording,
            _validate_wording,
            "The visible text says a `pass` phrase (whole words, any case) and no `fail` phrase; "
            "both earn `mixed_credit` (default 0.5); neither gives `otherwise` "
            "(default inconclusive).",
            "{pass: [...], fail: [...], otherwise: inconclusive, mixed_credit: 0.5}",
        ),
        "open_licence": MatcherSpec(
            match_open_licence,
            _validate_true,
            "An open data licence is named: OGL, CC BY, CC0, ODbL or Open Data Commons, in an "
            "API description's info.license or in the text.",
            "true",
        ),
        "sandbox": MatcherSpec(
            match_sandbox,
            _validate_true,
            "A test environment is advertised: the catalogue's sandbox URL answers (not 404), "
            "or the spec lists a test server or two servers, or the text mentions a sandbox.",
            "true",
        ),
        "rate_limit_headers": MatcherSpec(
            match_rate_limit_headers,
            _validate_true,
            "RateLimit-Policy, RateLimit, RateLimit-Limit or X-RateLimit-* headers are sent.",
            "true",
        ),
        "deprecation_signals": MatcherSpec(
            match_deprecation_signals,
            _validate_true,
            "Deprecation (RFC 9745), Sunset (RFC 8594) or a deprecation/sunset Link are "
            "well-formed; not_applicable when there are none.",
            "true",
        ),
        "versioned_url": MatcherSpec(
            match_versioned_url,
            _validate_true,
            "The API's URL has a version segment (/v1/, /v2.1/, /2024-01-01/) or the "
            "response an API-Version header.",
            "true",
        ),
        "not_soap_only": MatcherSpec(
            match_not_soap_only,
            _validate_true,
            "Fails on a SOAP surface (.asmx, .svc, ?wsdl, a WSDL or SOAP document, an ASMX "
            "help page); passes on another machine-readable answer (JSON, XML, CSV, YAML); "
            "not_applicable on a web page, an empty or untyped answer.",
            "true",
        ),
        "open311": MatcherSpec(
            match_open311,
            _validate_true,
            "Open311 GeoReport v2: a JSON array of services with service_code and "
            "service_name, or a discovery document with a GeoReport_v2 endpoint.",
            "true",
        ),
        "open_referral": MatcherSpec(
            match_open_referral,
            _validate_true,
            "An Open Referral UK page of services: totalElements + content (v1) or "
            "total_items + contents (ORUK 3 / HSDS 3), each service with id and name.",
            "true",
        ),
        "ogc_features": MatcherSpec(
            match_ogc_features,
            _validate_true,
            f"An OGC API conformance document whose conformsTo lists `.../{OGC_FEATURES_CORE}`.",
            "true",
        ),
        "fhir_capability": MatcherSpec(
            match_fhir_capability,
            _validate_true,
            "A FHIR CapabilityStatement (resourceType, fhirVersion) as application/fhir+json "
            "or application/json.",
            "true",
        ),
        "odata_metadata": MatcherSpec(
            match_odata_metadata,
            _validate_true,
            "OData service metadata: an edmx:Edmx document in the OData namespace (XML, "
            "complete) or CSDL JSON with $Version.",
            "true",
        ),
        "graphql": MatcherSpec(
            match_graphql,
            _validate_true,
            "A GraphQL-over-HTTP answer: JSON with a data object, or GraphQL-shaped errors "
            "(a list of objects with a message).",
            "true",
        ),
        "ckan_status": MatcherSpec(
            match_ckan_status,
            _validate_true,
            "CKAN's status_show: JSON with success: true and result.ckan_version.",
            "true",
        ),
        "icalendar": MatcherSpec(
            match_icalendar,
            _validate_true,
            "RFC 5545: text/calendar from BEGIN:VCALENDAR to END:VCALENDAR with VERSION:2.0 "
            "and PRODID.",
            "true",
        ),
        "apis_json": MatcherSpec(
            match_apis_json,
            _validate_true,
            "An APIs.json document: JSON with a name and a list of apis, each with a "
            "baseURL or humanURL.",
            "true",
        ),
    }
)
