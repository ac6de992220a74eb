"""Matchers that read what a supplier writes: phrases on a page, an open licence, a sandbox.

They read the words a person sees (`MatchContext.visible_text`) and, where a response is
an API description, what it declares (info.license, its servers).
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
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    VerdictOutcome,
    describe_status,
    failed,
    passed,
)
from api_audit.text import quote

# --- wording -------------------------------------------------------------------------------

_WORDING_KEYS = ("pass", "fail", "otherwise", "mixed_credit")
_OTHERWISE = ("inconclusive", "fail", "not_applicable")


@dataclass(frozen=True)
class Wording:
    good: tuple[str, ...]  # phrases that pass
    bad: tuple[str, ...]  # phrases that fail
    otherwise: VerdictOutcome  # when the text says neither
    mixed_credit: float  # when it says both


def read_wording(argument: object) -> Wording:
    if not isinstance(argument, dict):
        raise BadArgument("give {pass: [phrases], fail: [phrases], otherwise: inconclusive}")
    only_keys(argument, _WORDING_KEYS)
    phrases: dict[str, tuple[str, ...]] = {}
    for key in ("pass", "fail"):
        if key in argument:
            listed = string_list(argument[key])
            if listed is None:
                raise BadArgument(f"{key} must be a list of phrases")
            phrases[key] = listed
    if not phrases:
        raise BadArgument("give pass or fail phrases (or both)")
    otherwise = argument.get("otherwise", "inconclusive")
    if otherwise not in _OTHERWISE:
        raise BadArgument(f"otherwise must be one of {', '.join(_OTHERWISE)}")
    return Wording(
        good=phrases.get("pass", ()),
        bad=phrases.get("fail", ()),
        otherwise=cast(VerdictOutcome, otherwise),
        mixed_credit=read_share(argument, "mixed_credit", 0.5),
    )


@functools.lru_cache(maxsize=256)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words in any case and spacing: 'sign up' finds 'Sign  up' only."""
    words = [re.escape(w) for w in phrase.casefold().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _first_phrase(text: str, phrases: Sequence[str]) -> str | None:
    return next((p for p in phrases if _phrase_pattern(p).search(text)), None)


@matcher(
    "wording",
    read=read_wording,
    argument="{pass: [...], fail: [...], otherwise: inconclusive, mixed_credit: 0.5}",
    doc="The visible text says a `pass` phrase (whole words, any case) and no `fail` phrase; "
    "both earn `mixed_credit` (default 0.5); neither gives `otherwise` "
    "(default inconclusive).",
)
def match_wording(wording: Wording, ctx: MatchContext) -> Verdict:
    good, bad = wording.good, wording.bad
    text = ctx.visible_text()
    found_good, found_bad = _first_phrase(text, good), _first_phrase(text, bad)
    if found_good and found_bad:
        credit = wording.mixed_credit
        return passed(f"says {found_good!r} but also {found_bad!r} ({credit:g} credit)", credit)
    if found_good:
        return passed(f"says {found_good!r}")
    if found_bad:
        return failed(f"says {found_bad!r}" + (f", and nothing like {good[0]!r}" if good else ""))
    shown = ", ".join(repr(p) for p in (good or bad)[:3])
    said = (
        f"says nothing either way (such as {good[0]!r} or {bad[0]!r})"
        if good and bad
        else f"mentions none of {shown} ..."
    )
    return Verdict(wording.otherwise, said)


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


@matcher(
    "open_licence",
    read=read_true,
    argument="true",
    doc="An open data licence is named: OGL, CC BY, CC0, ODbL or Open Data Commons, in an "
    "API description's info.license or in the text.",
)
def match_open_licence(_: Always, ctx: MatchContext) -> Verdict:
    declared = _spec_licence(ctx)
    if declared is not None:
        is_open, written = declared
        if is_open:
            return passed(f"info.license names an open licence: {quote(written, 80)!r}")
        return failed(f"info.license {quote(written, 80)!r} is not an open data licence")
    name = _open_licence(ctx.text())
    if name:
        return passed(f"names an open licence: {name}")
    return failed("names no open licence (OGL, CC BY, CC0, ODbL)")


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


@matcher(
    "sandbox",
    read=read_true,
    argument="true",
    doc="A test environment is advertised: the catalogue's sandbox URL answers (not 404), "
    "or the spec lists a test server or two servers, or the text mentions a sandbox.",
)
def match_sandbox(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if ctx.endpoint_kind == "sandbox":
        if ex.status in (404, 410):
            return failed(f"the sandbox URL answers {describe_status(ex.status)}")
        return passed(
            f"a sandbox answers at {quote(ex.request.url)} ({describe_status(ex.status or 0)})"
        )
    if not looks_like_html(ex):
        try:
            spec = ctx.spec()
            found = _sandbox_server(spec.document) if spec.kind else None
        except UnsafeDocument:
            found = None
        if found:
            return passed(found)
    phrase = _first_phrase(ctx.visible_text(), _SANDBOX_PHRASES)
    if phrase:
        return passed(f"mentions {phrase!r}")
    return failed("advertises no sandbox or test environment")
