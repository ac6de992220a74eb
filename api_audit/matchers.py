"""The closed vocabulary a probe's expectations may use; pure functions.

A probe's `expect:` list names matchers from `MATCHERS` with a YAML argument. Each matcher
is a pure function `(argument, MatchContext) -> Verdict`: it looks at one exchange (and,
for `not_soft_200`, the response to a random path on the same origin) and says pass, fail
or inconclusive with a specific message. A new kind of check is a new function here plus
a test; probe files never hold code (DESIGN.md §4).

Messages may quote what a server sent; `quote` strips control characters and truncates,
and renderers escape markup later.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from types import MappingProxyType
from typing import Literal, cast
from urllib.parse import urljoin, urlsplit

from api_audit.models import Exchange, Hop
from api_audit.parsing import SpecInfo, UnsafeDocument, parse_json, parse_spec

VerdictOutcome = Literal["pass", "fail", "inconclusive"]

QUOTE_CHARS = 200
SOFT_200_SIMILARITY = 0.9  # token overlap at or above this = "the same page"
_SCAN_BYTES = 512 * 1024  # HTML and text heuristics look at the start of a body only
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")


@dataclass(frozen=True)
class Verdict:
    outcome: VerdictOutcome
    message: str
    credit: float = 1.0  # share of the probe's weight a pass earns


@dataclass(frozen=True)
class MatchContext:
    """What a matcher may look at: the target exchange, the random-path baseline, a clock.

    `cache` holds parsed bodies so several matchers on one exchange parse it once.
    """

    exchange: Exchange
    baseline: Exchange | None
    now: datetime
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


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Server text made safe to put in a message: no control or format characters,
    whitespace collapsed, at most `limit` characters."""
    text = _ANSI_ESCAPE.sub("", text[: limit * 4])  # whole terminal escapes, not just ESC
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def describe_status(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _count(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {noun if number == 1 else plural}"


def _pass(message: str, credit: float = 1.0) -> Verdict:
    return Verdict("pass", message, credit)


def _fail(message: str) -> Verdict:
    return Verdict("fail", message)


def _unsure(message: str) -> Verdict:
    return Verdict("inconclusive", message)


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
    }
)
