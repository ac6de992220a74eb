"""Matchers that read what a supplier writes: phrases on a page, an open licence, a sandbox.

They read the sentences of a page that are about the API (`MatchContext.prose`, site chrome
left out; see prose.py) and, where a response is an API description, what it declares
(info.license, its servers). The sentence that decided is the verdict's excerpt.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from api_audit.methodology.documents import UnsafeDocument
from api_audit.methodology.matchers.arguments import (
    Always,
    BadArgument,
    only_keys,
    read_share,
    read_true,
    string_list,
)
from api_audit.methodology.matchers.context import MatchContext
from api_audit.methodology.matchers.markup import looks_like_html
from api_audit.methodology.matchers.prose import SCAN_BYTES, Sentence, names_api, plain
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    VerdictOutcome,
    describe_status,
    failed,
    passed,
    unsure,
)
from api_audit.text import quote

# --- wording -------------------------------------------------------------------------------

_WORDING_KEYS = (
    "pass", "fail", "weak_pass", "weak_fail", "off_topic", "otherwise", "mixed_credit",
)  # fmt: skip
_OTHERWISE = ("inconclusive", "fail", "not_applicable")
# Catalogue endpoints that are the API's own pages: all their content is about the API.
API_PAGE_KINDS = frozenset(("docs", "spec", "portal", "sandbox", "api_base"))
# Sentences no probe reads, wherever they are: consent and marketing sign-ups.
_ALWAYS_OFF_TOPIC = ("cookie", "cookies", "newsletter", "newsletters", "mailing list")
EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Wording:
    good: tuple[str, ...]  # phrases that pass, read anywhere about the API
    bad: tuple[str, ...]  # phrases that fail, read anywhere about the API
    otherwise: VerdictOutcome  # when the text says none of them
    mixed_credit: float  # when it says both, with equal weight
    weak_good: tuple[str, ...] = ()  # price-looking words: only in an API section; `bad` wins
    weak_bad: tuple[str, ...] = ()  # their subject is in the sentence: only if it names the API
    off_topic: tuple[str, ...] = ()  # a sentence saying one of these is about something else


def read_wording(argument: object) -> Wording:
    if not isinstance(argument, dict):
        raise BadArgument("give {pass: [phrases], fail: [phrases], otherwise: inconclusive}")
    only_keys(argument, _WORDING_KEYS)
    phrases: dict[str, tuple[str, ...]] = {}
    for key in ("pass", "fail", "weak_pass", "weak_fail", "off_topic"):
        if key in argument:
            listed = string_list(argument[key])
            if listed is None:
                raise BadArgument(f"{key} must be a list of phrases")
            phrases[key] = listed
    if not phrases.keys() - {"off_topic"}:
        raise BadArgument("give pass or fail phrases (or both)")
    otherwise = argument.get("otherwise", "inconclusive")
    if otherwise not in _OTHERWISE:
        raise BadArgument(f"otherwise must be one of {', '.join(_OTHERWISE)}")
    return Wording(
        good=phrases.get("pass", ()),
        bad=phrases.get("fail", ()),
        weak_good=phrases.get("weak_pass", ()),
        weak_bad=phrases.get("weak_fail", ()),
        off_topic=phrases.get("off_topic", ()),
        otherwise=cast(VerdictOutcome, otherwise),
        mixed_credit=read_share(argument, "mixed_credit", 0.5),
    )


@functools.lru_cache(maxsize=256)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words in any case and spacing: 'sign up' finds 'Sign  up' only."""
    words = [re.escape(w) for w in plain(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


@functools.lru_cache(maxsize=64)
def _phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the phrases, as whole words; group `p<i>` says which one matched."""
    words = (r"\s+".join(re.escape(w) for w in plain(p).split()) for p in phrases)
    either = "|".join(f"(?P<p{i}>{w})" for i, w in enumerate(words))
    return re.compile(rf"(?<!\w)(?:{either})(?!\w)")


def _first_phrase(text: str, phrases: Sequence[str]) -> str | None:
    return next((p for p in phrases if _phrase_pattern(p).search(text)), None)


@dataclass(frozen=True)
class Said:
    """A phrase found in a sentence, and whether it weighs fully (a `pass`/`fail` phrase)."""

    phrase: str
    sentence: Sentence
    strong: bool


def about_api(ctx: MatchContext, off_topic: tuple[str, ...] = ()) -> list[tuple[Sentence, int]]:
    """The page's sentences a probe may read, each with how closely it is about the API:
    3 when the sentence names the API (or integration, developers, data access ...), 2
    when a heading above it does, 1 when only the page is the API's (the catalogue's docs,
    spec, portal, sandbox or API base, or a title or first h1 that names it). Sentences
    about something else (cookies, newsletters, `off_topic`) and sentences of pages that
    are not about the API at all are left out."""
    prose = ctx.prose()
    page = 1 if prose.about_api or ctx.endpoint_kind in API_PAGE_KINDS else 0
    skip = _phrases_pattern((*_ALWAYS_OFF_TOPIC, *off_topic))
    read: list[tuple[Sentence, int]] = []
    for sentence in prose.sentences:
        if skip.search(sentence.lower):
            continue
        level = 3 if names_api(sentence.lower) else 2 if names_api(sentence.heading) else page
        if level:
            read.append((sentence, level))
    return read


def _first_said(
    sentences: Sequence[tuple[Sentence, int]], phrases: tuple[str, ...], least: int, strong: bool
) -> Said | None:
    """The first sentence at `least` closeness to the API that says one of the phrases."""
    if not phrases:
        return None
    pattern = _phrases_pattern(phrases)
    for sentence, level in sentences:
        found = pattern.search(sentence.lower) if level >= least else None
        if found is not None and found.lastgroup is not None:
            return Said(phrases[int(found.lastgroup[1:])], sentence, strong)
    return None


def excerpt(said: Said, limit: int = EXCERPT_CHARS) -> str:
    """The sentence that says the phrase, cleaned and capped; a long one is cut around it."""
    text = said.sentence.text
    if len(text) > limit:
        words = r"\W+".join(re.escape(w) for w in said.phrase.split())
        found = re.search(words, text, re.IGNORECASE)
        start = max(0, (found.start() if found else 0) - limit // 2)
        text = ("… " if start else "") + text[start : start + limit * 2]
    return quote(text, limit)


@matcher(
    "wording",
    read=read_wording,
    argument="{pass: [...], fail: [...], weak_pass: [...], weak_fail: [...], "
    "off_topic: [...], otherwise: inconclusive, mixed_credit: 0.5}",
    doc="Only sentences about the API are read: site navigation, headers, footers, asides, "
    "cookie banners and newsletter boxes are left out, and so is a sentence saying an "
    "`off_topic` phrase (or cookies, newsletters). On the catalogue's docs, spec, portal, "
    "sandbox or API base page, or a page whose title or h1 names the API, every sentence "
    "is; elsewhere a sentence is when it or a heading above it names the API, integration, "
    "developers or data access. A `pass` phrase (whole words, any case) and no `fail` "
    "phrase passes; both earn `mixed_credit` (default 0.5). `weak_pass` phrases (price-"
    "looking words) count only in a sentence or section that names the API, and any "
    "`fail` phrase outweighs them (fail); `weak_fail` phrases count only in a sentence "
    "that itself names the API, and any `pass` phrase outweighs them; two weak ones "
    "earn `mixed_credit`. Neither gives `otherwise` (default inconclusive). The deciding "
    "sentence is the finding's excerpt. Only the first "
    f"{SCAN_BYTES // 1024} KiB of a page are read (a phrase further on is not seen), so "
    "a hostile page cannot make the scan long.",
)
def match_wording(wording: Wording, ctx: MatchContext) -> Verdict:
    sentences = about_api(ctx, wording.off_topic)
    good = _first_said(sentences, wording.good, 1, True) or _first_said(
        sentences, wording.weak_good, 2, False
    )
    bad = _first_said(sentences, wording.bad, 1, True) or _first_said(
        sentences, wording.weak_bad, 3, False
    )
    if good and bad:
        return _both(good, bad, wording.mixed_credit)
    if good:
        return passed(f"says {good.phrase!r}", excerpt=excerpt(good))
    if bad:
        listed = wording.good or wording.weak_good
        nothing = f", and nothing like {listed[0]!r}" if listed else ""
        return failed(f"says {bad.phrase!r}{nothing}", excerpt=excerpt(bad))
    return Verdict(wording.otherwise, _silent(wording))


def _both(good: Said, bad: Said, mixed_credit: float) -> Verdict:
    """A page that says both: the phrase that weighs more decides; equal weights share.

    A sales-contact instruction outweighs price-looking words (issue 11): "per month" on a
    page that says to ask an account manager is not the price of API access.
    """
    if bad.strong and not good.strong:
        return failed(f"says {bad.phrase!r}, which outweighs {good.phrase!r}", excerpt=excerpt(bad))
    if good.strong and not bad.strong:
        return passed(
            f"says {good.phrase!r}, which outweighs {bad.phrase!r}", excerpt=excerpt(good)
        )
    half = EXCERPT_CHARS // 2 - 1
    same = good.sentence is bad.sentence
    both = excerpt(good) if same else f"{excerpt(good, half)} … {excerpt(bad, half)}"
    message = f"says {good.phrase!r} but also {bad.phrase!r} ({mixed_credit:g} credit)"
    return passed(message, mixed_credit, excerpt=both)


def _silent(wording: Wording) -> str:
    good = wording.good or wording.weak_good
    bad = wording.bad or wording.weak_bad
    if good and bad:
        return f"says nothing about the API either way (such as {good[0]!r} or {bad[0]!r})"
    shown = ", ".join(repr(p) for p in (good or bad)[:3])
    return f"says none of {shown} ... about the API"


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


# A statement that the data is not open: read only in a sentence that names the data or
# the API, so a copyright line about the website does not fail the data's licence.
_CLOSED_LICENCE = (
    "all rights reserved",
    "proprietary licence",
    "proprietary license",
    "may not be reused",
    "may not be re-used",
    "must not be reused",
    "must not be re-used",
    "may not be redistributed",
    "must not be redistributed",
    "may not be republished",
    "not licensed for reuse",
    "not licensed for re-use",
)
_ABOUT_DATA = re.compile(r"(?<!\w)(?:data|datasets?|database|content)(?!\w)")


def _spec_licence(ctx: MatchContext) -> tuple[bool, str] | None:
    """(is open, as written) for an API description's info.license; None when it has none."""
    if looks_like_html(ctx.exchange):
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


def _licence_in_text(ctx: MatchContext) -> Verdict | None:
    """An open licence named in the page's content (or a link to one); else a statement
    that the data is not open; else None. Site chrome is not read: a GOV.UK-style footer
    licensing the website's own text says nothing of the API's data."""
    prose = ctx.prose()
    for sentence in prose.sentences:
        name = _open_licence(sentence.text)
        if name:
            return passed(f"names an open licence: {name}", excerpt=quote(sentence.text, 300))
    for href in prose.links:
        name = _open_licence(href)
        if name:
            return passed(f"links an open licence: {name}", excerpt=quote(href, 300))
    closed = _phrases_pattern(_CLOSED_LICENCE)
    for sentence in prose.sentences:
        found = closed.search(sentence.lower)
        if found and (_ABOUT_DATA.search(sentence.lower) or names_api(sentence.lower)):
            said = Said(_CLOSED_LICENCE[int(str(found.lastgroup)[1:])], sentence, True)
            return failed(f"says the data is not open: {said.phrase!r}", excerpt=excerpt(said))
    return None


@matcher(
    "open_licence",
    read=read_true,
    argument="true",
    doc="An open data licence is named: OGL, CC BY, CC0, ODbL or Open Data Commons, in an "
    "API description's info.license or in the page's content (site chrome left out) or its "
    "links. A non-open info.license, or a sentence about the data saying it is not open "
    "('all rights reserved', 'may not be reused'), fails; saying nothing is inconclusive.",
)
def match_open_licence(_: Always, ctx: MatchContext) -> Verdict:
    declared = _spec_licence(ctx)
    if declared is not None:
        is_open, written = declared
        if is_open:
            return passed(f"info.license names an open licence: {quote(written, 80)!r}")
        return failed(f"info.license {quote(written, 80)!r} is not an open data licence")
    # Silence is not a fail (issue 11): a page that names no licence shows no closed one.
    return _licence_in_text(ctx) or unsure("names no open licence (OGL, CC BY, CC0, ODbL)")


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


def _sandbox_in_spec(ctx: MatchContext) -> str | None:
    if looks_like_html(ctx.exchange):
        return None
    try:
        spec = ctx.spec()
        return _sandbox_server(spec.document) if spec.kind else None
    except UnsafeDocument:
        return None


@matcher(
    "sandbox",
    read=read_true,
    argument="true",
    doc="A test environment is advertised: the catalogue's sandbox URL answers (not 404), "
    "or the spec lists a test server or two servers, or a sentence about the API mentions "
    "a sandbox (read as `wording` reads). A sandbox URL answering 404 or 410 fails; a spec "
    "or page that says nothing of one is inconclusive.",
)
def match_sandbox(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if ctx.endpoint_kind == "sandbox":
        if ex.status in (404, 410):
            return failed(f"the sandbox URL answers {describe_status(ex.status)}")
        return passed(
            f"a sandbox answers at {quote(ex.request.url)} ({describe_status(ex.status or 0)})"
        )
    found = _sandbox_in_spec(ctx)
    if found:
        return passed(found)
    said = _first_said(about_api(ctx), _SANDBOX_PHRASES, 1, True)
    if said:
        return passed(f"mentions {said.phrase!r}", excerpt=excerpt(said))
    # Silence is not a fail (issue 11): one production server, or docs that do not mention
    # a test service, do not show that there is none.
    return unsure("advertises no sandbox or test environment")
