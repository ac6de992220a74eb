"""What a supplier writes: wording phrases about the API, open licences, sandboxes."""

# ruff: noqa: E501 - the tables of pages below read best one page a line

from __future__ import annotations

import json
import time

import pytest
from matcher_support import check, exchange, kind_check, outcome

from api_audit.methodology import MATCHERS
from api_audit.methodology.matchers.prose import MAX_DEPTH, SCAN_BYTES, read_html, read_text
from api_audit.methodology.matchers.verdict import Verdict
from api_audit.methodology.matchers.wording import EXCERPT_CHARS
from api_audit.text import UNSAFE

WORDING = {"pass": ["sign up", "get an API key"], "fail": ["contact sales", "account manager"]}
PRICING = {
    "pass": ["free of charge", "no additional charge"],
    "weak_pass": ["per month", "free tier"],
    "fail": ["contact sales", "account manager", "contact us for a quote", "speak to sales"],
    "weak_fail": ["chargeable"],
    "off_topic": ["per user", "council tax", "bulky waste"],
}


def on_docs(argument: object, body: str | bytes, content_type: str = "text/html") -> Verdict:
    """The matcher on the catalogue's docs page: every content sentence is about the API."""
    return kind_check("wording", argument, exchange(200, body, content_type), "docs")


def on_pricing(body: str) -> Verdict:
    """The pricing matcher on a pricing page: only sentences shown to be about the API."""
    return kind_check("wording", PRICING, exchange(200, body, "text/html"), "pricing")


def graded(verdict: Verdict) -> tuple[str, float]:
    return verdict.outcome, verdict.credit if verdict.outcome == "pass" else 0.0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>Sign  Up today</p>", ("pass", 1.0)),
        ("<p>Get an api key in minutes</p>", ("pass", 1.0)),
        ("<p>Speak to your Account Manager.</p>", ("fail", 0.0)),
        ("<p>Sign up, or contact sales for more.</p>", ("pass", 0.5)),
        ("<p>A redesign update</p>", ("inconclusive", 0.0)),  # 'design up' is not 'sign up'
        ("<p>Docs</p><!-- sign up --><style>.sign.up{}</style>", ("inconclusive", 0.0)),
        ("<p>sign&nbsp;up</p>", ("pass", 1.0)),
        ("<p>SIGN UP</p>", ("pass", 1.0)),
        ("<p>Sign <b>up</b> here</p>", ("pass", 1.0)),
        ("<p>Sign&#32;up</p>", ("pass", 1.0)),
        ("<p>sign\u200bup</p>", ("inconclusive", 0.0)),  # zero-width: 'signup', not 'sign up'
        ("<p>Sign\u00a0up</p>", ("pass", 1.0)),
        ("<P>Sign up<P>more", ("pass", 1.0)),  # unclosed, upper-case tags
        ("<div><div><span>Get an <em>API</em> key</span></div></div>", ("pass", 1.0)),
    ],
)
def test_wording_on_the_docs_page(body: str, expected: tuple[str, float]) -> None:
    assert graded(on_docs(WORDING, body)) == expected


def test_wording_otherwise_and_plain_text() -> None:
    argument = {"pass": ["changelog"], "otherwise": "fail"}
    assert outcome(on_docs(argument, "nothing", "text/plain")) == (
        "fail",
        "says none of 'changelog' ... about the API",
    )
    assert on_docs(argument, "See CHANGELOG.md", "text/plain").outcome == "pass"


# --- only text about the API is read ------------------------------------------------------------

CHROME = [
    '<nav><a href="/x">{}</a></nav>',
    "<header><p>{}</p></header>",
    "<footer><p>{}</p></footer>",
    "<aside>{}</aside>",
    '<div id="cookie-banner"><p>{}</p></div>',
    '<div class="cookieConsent"><p>{}</p></div>',
    '<section class="gdpr-notice">{}</section>',
    '<div class="newsletter-signup"><p>{}</p></div>',
    '<form action="/newsletter/subscribe"><label>{}</label></form>',
    '<div role="navigation">{}</div>',
    '<div role="contentinfo">{}</div>',
    '<div aria-label="Main menu"><p>{}</p></div>',
    '<ol class="breadcrumb"><li>{}</li></ol>',
    '<ul class="mega-menu"><li>{}</li></ul>',
    '<div class="site-footer"><div><p>{}</p></div></div>',
    '<div class="navbar"><div class="inner"><span>{}</span></div></div>',
    '<li class="menu-item">{}</li>',
    "<div hidden>{}</div>",
    '<div aria-hidden="true">{}</div>',
    '<p style="display: none">{}</p>',
    "<script>var s = '{}';</script>",
    "<noscript>{}</noscript>",
    "<template><p>{}</p></template>",
    "<!-- {} -->",
    "<NAV><UL><LI>{}</LI></UL></NAV>",
    "<footer><footer><p>nested</p></footer><p>{}</p></footer>",
]
SAID = {
    "self-service": (WORDING, "Sign up for a developer account"),
    "pricing": (PRICING, "API access is free of charge"),
    "gatekeeping": (WORDING, "Contact sales"),
}


@pytest.mark.parametrize("chrome", CHROME)
@pytest.mark.parametrize("said", SAID)
def test_chrome_is_not_read(chrome: str, said: str) -> None:
    argument, words = SAID[said]
    body = f"<html><body>{chrome.format(words)}<main><h1>API reference</h1></main></body></html>"
    assert on_docs(argument, body).outcome == "inconclusive", body


@pytest.mark.parametrize("chrome", CHROME[:17])
def test_the_same_words_in_the_content_are_read(chrome: str) -> None:
    body = f"{chrome.format('Contact sales')}<main><h1>API</h1><p>Sign up for keys.</p></main>"
    verdict = on_docs(WORDING, body)
    assert (verdict.outcome, verdict.excerpt) == ("pass", "Sign up for keys.")


def test_a_page_with_main_is_read_inside_main_only() -> None:
    body = "<div class=promo><p>Contact sales today</p></div><main><p>Sign up.</p></main>"
    assert graded(on_docs(WORDING, body)) == ("pass", 1.0)


def test_a_header_inside_the_content_is_the_contents_own() -> None:
    body = "<article><header><h1>API keys</h1><p>Sign up to get one.</p></header></article>"
    assert on_docs(WORDING, body).outcome == "pass"


def test_a_real_vendor_page_with_mega_menu_and_footer() -> None:
    menu = "".join(f'<li><a href="/p{i}">Contact sales {i}</a></li>' for i in range(300))
    footer = "".join(f"<p>Account manager {i}. Sign up for our newsletter.</p>" for i in range(50))
    body = (
        "<!doctype html><html><head><title>Acme Developers</title></head><body>"
        f'<div id="onetrust-consent-sdk"><p>We use cookies. Sign up?</p></div>'
        f'<header class="site-header"><nav class="mega"><ul>{menu}</ul></nav></header>'
        '<main id="content"><div class="container"><h1>Getting started</h1>'
        "<p>Create an account, then <a href='/keys'>get an API key</a>.</p></div></main>"
        f"<footer>{footer}</footer></body></html>"
    )
    verdict = on_docs(WORDING, body)
    assert (verdict.outcome, verdict.excerpt) == ("pass", "Create an account, then get an API key.")


# --- pricing: about the API, sales contact outweighs price words, product price lists -----------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # statements and price words about the API
        ("<p>API access is free of charge.</p>", ("pass", 1.0)),
        ("<h2>API plans</h2><table><tr><td>Basic</td><td>£50 per month</td></tr></table>", ("pass", 1.0)),
        ("<h1>Developer pricing</h1><ul><li>Free tier: 1,000 calls</li></ul>", ("pass", 1.0)),
        # a sales contact outweighs price-looking words, wherever they are about the API
        ("<h1>API</h1><p>£50 per month.</p><p>Contact your account manager.</p>", ("fail", 0.0)),
        ("<h2>Integrations</h2><p>Free tier available. Speak to sales to go live.</p>", ("fail", 0.0)),
        ("<h2>API</h2><p>Contact us for a quote.</p><p>Plans from £9 per month.</p>", ("fail", 0.0)),
        # a price statement and a sales contact share the credit
        ("<p>The API is free of charge; contact sales to enable it.</p>", ("pass", 0.5)),
        # a product's price list is not the price of API access
        ("<h1>Pricing</h1><p>£100 per month</p>", ("inconclusive", 0.0)),
        ("<h1>Case manager</h1><h2>Pricing</h2><p>£5 per user per month</p>", ("inconclusive", 0.0)),
        ("<h1>API pricing</h1><p>£5 per user per month</p>", ("inconclusive", 0.0)),
        ("<title>G-Cloud listing</title><p>£15 to £320 per user per year</p>", ("inconclusive", 0.0)),
        # "chargeable" about a council service is not an API fee; about the API it is
        ("<h1>Waste API</h1><p>Bulky waste collections are chargeable.</p>", ("inconclusive", 0.0)),
        ("<h1>Services</h1><p>Replacement bins are chargeable.</p>", ("inconclusive", 0.0)),
        ("<h1>API</h1><h2>Fees</h2><p>Council tax is chargeable on empty homes.</p>", ("inconclusive", 0.0)),
        ("<p>Access to the API is chargeable.</p>", ("fail", 0.0)),
        ("<p>Integration is chargeable; API access is free of charge.</p>", ("pass", 1.0)),
        ("<h2>Our API</h2><p>Plans from £9 per month; the integration module is chargeable.</p>", ("pass", 0.5)),
        # sales wording that is not about the API
        ("<h1>Pricing</h1><p>Contact sales for hardware.</p>", ("inconclusive", 0.0)),
    ],
)  # fmt: skip
def test_pricing_classes(body: str, expected: tuple[str, float]) -> None:
    assert graded(on_pricing(body)) == expected


@pytest.mark.parametrize(
    "newsletter",
    [
        "<p>Sign up to our newsletter.</p>",
        "<p>Sign up for the Newsletter</p>",
        "<p>Subscribe: sign up to the mailing list</p>",
        "<p>Sign up for updates.</p>",
        "<p>Sign up for our webinar on APIs</p>",
        "<p>We use cookies; sign up to accept.</p>",
    ],
)
def test_newsletter_sign_ups_are_not_self_service(newsletter: str) -> None:
    argument = {**WORDING, "off_topic": ["updates", "webinar"]}
    assert on_docs(argument, f"<h1>API</h1>{newsletter}").outcome == "inconclusive"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<h1>Docs</h1><h2>What's new in the API</h2>", "pass"),
        ("<h1>Docs</h1><h2>What&rsquo;s new</h2><p>API v2 adds paging.</p>", "inconclusive"),
        ("<h1>API</h1><h2>What’s new</h2><p>Paging.</p>", "pass"),  # under the API heading
        ("<h1>Acme</h1><h2>What's new</h2><p>A new office.</p>", "inconclusive"),
        ("<main><h1>Docs</h1></main><footer><h3>What's new in the API</h3></footer>", "inconclusive"),
        ("<h1>Docs</h1><p>See the changelog.</p>", "pass"),
    ],
)  # fmt: skip
def test_weak_phrases_need_an_api_sentence_or_section(body: str, expected: str) -> None:
    argument = {"pass": ["changelog"], "weak_pass": ["what's new"]}
    assert on_docs(argument, body).outcome == expected


def test_pages_not_about_the_api_need_an_api_heading_or_sentence() -> None:
    plain = exchange(200, "<h1>About us</h1><p>Sign up today.</p>", "text/html")
    assert check("wording", WORDING, plain).outcome == "inconclusive"
    titled = exchange(200, "<title>Developer portal</title><p>Sign up today.</p>", "text/html")
    assert check("wording", WORDING, titled).outcome == "pass"
    headed = exchange(200, "<h1>About</h1><h2>API access</h2><p>Sign up.</p>", "text/html")
    assert check("wording", WORDING, headed).outcome == "pass"


# --- the excerpt ------------------------------------------------------------------------------


def test_the_excerpt_is_the_deciding_sentence() -> None:
    body = "<h1>API</h1><p>Read the guide. Then contact your\n  Account Manager. Thanks.</p>"
    verdict = on_docs(WORDING, body)
    assert (verdict.outcome, verdict.excerpt) == ("fail", "Then contact your Account Manager.")
    mixed = on_docs(
        WORDING, "<p>Sign up for sandbox keys.</p><p>For production, contact sales.</p>"
    )
    assert mixed.excerpt == "Sign up for sandbox keys. … For production, contact sales."
    assert on_docs(WORDING, "<p>Nothing here.</p>").excerpt is None


@pytest.mark.parametrize(
    "hostile",
    ["\x1b[31m", "\u202e", "\u2066", "\x07", "\ud800", "\x9b", "\u2028", "\x00", "\r"],
)
def test_the_excerpt_is_clean(hostile: str) -> None:
    page = f"<p>Please {hostile}contact {hostile}sales{hostile} now.</p>"
    verdict = on_docs(WORDING, page.encode("utf-8", "surrogatepass"))  # bytes as sent
    if hostile == "\ud800":  # not UTF-8: read as U+FFFD, a visible character inside a word
        page = page.replace(hostile, " ")
        verdict = on_docs(
            WORDING, page.replace("Please", "Please \udc80").encode(errors="surrogateescape")
        )
    assert verdict.outcome == "fail"
    assert verdict.excerpt is not None
    assert not UNSAFE.search(verdict.excerpt), ascii(verdict.excerpt)
    verdict.excerpt.encode("utf-8")  # storable


@pytest.mark.parametrize("length", [400, 5_000, 100_000])
def test_a_long_sentence_is_cut_around_the_phrase(length: int) -> None:
    words = "word " * (length // 5)
    verdict = on_docs(WORDING, f"<p>{words} please contact sales {words}</p>")
    assert verdict.excerpt is not None
    assert len(verdict.excerpt) <= EXCERPT_CHARS
    assert "contact sales" in verdict.excerpt
    assert verdict.excerpt.endswith("…")


# --- hostile and broken pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<" * 200_000,
        "<!--" * 100_000,
        "<script>" * 50_000,
        "<div>" * 100_000 + "Sign up",
        "</div>" * 100_000 + "<p>Sign up</p>",
        "<h1>" * 50_000,
        "<a href='" * 50_000,
        "<nav>" * 10_000 + "</nav>" * 10_000,
        '<div class="' + "x" * 400_000,
        "&" * 300_000,
        "&#x110000;&#0;&#xd800;" * 1000 + "<p>Sign up</p>",
        "<p>" + "a. " * 150_000,
        "\x00\xff<\x00p>\udcff",
        "<title>" + "API " * 100_000,
    ],
    ids=lambda body: ascii(body[:20]),
)
def test_hostile_pages_are_read_in_bounded_time(body: str) -> None:
    started = time.perf_counter()
    verdict = on_docs(WORDING, body.encode("utf-8", "surrogatepass"))
    assert verdict.outcome in ("pass", "inconclusive")
    assert time.perf_counter() - started < 10  # linear: a quadratic scan takes minutes here


def test_nesting_deeper_than_the_cap_is_not_read() -> None:
    deep = "<div>" * (MAX_DEPTH + 5) + "<p>Sign up</p>"
    assert on_docs(WORDING, deep).outcome == "inconclusive"
    shallow = "<div>" * (MAX_DEPTH - 5) + "<p>Sign up</p>"
    assert on_docs(WORDING, shallow).outcome == "pass"


@pytest.mark.parametrize(
    ("body", "sentences"),
    [
        ("<p>One. Two!</p><p>Three?</p>", ["One.", "Two!", "Three?"]),
        ("<ul><li>a<li>b</ul>", ["a", "b"]),
        ("<h2>Head<p>after", ["Head", "after"]),  # an unclosed heading ends at a new block
        ("<p>x<br>y</p>", ["x", "y"]),
        ("<p>&lt;b&gt; &amp; &pound;5</p>", ["<b> & £5"]),
        ("<p>a</div></span></p><p>b</p>", ["a", "b"]),  # stray end tags
    ],
)
def test_sentences_of_broken_markup(body: str, sentences: list[str]) -> None:
    assert [s.text for s in read_html(body).sentences] == sentences


def test_headings_scope_the_sentences_under_them() -> None:
    prose = read_html("<title>X</title><h1>Docs</h1><h2>API</h2><p>a</p><h2>Bins</h2><p>b</p>")
    assert [(s.text, s.heading) for s in prose.sentences if not s.is_heading] == [
        ("a", "docs / api"),
        ("b", "docs / bins"),
    ]
    assert (prose.title, prose.first_h1) == ("x", "docs")
    markdown = read_text("# Changelog\n\n## v2\nPaging added.\n")
    assert [(s.text, s.heading) for s in markdown.sentences][-1] == (
        "Paging added.",
        "changelog / v2",
    )


# --- open licences ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            '{"openapi": "3.1.0", "info": {"license": {"identifier": "CC-BY-4.0"}}}',
            "application/json",
            "pass",
        ),
        (
            '{"openapi": "3.1.0", "info": {"license": {"name": "Commercial"}}}',
            "application/json",
            "fail",
        ),
        ("<p>Open Government Licence v3.0</p>", "text/html", "pass"),
        ("<p>Released under the OGL.</p>", "text/html", "pass"),
        ("<p>googling is fine</p>", "text/html", "inconclusive"),  # 'ogl' inside a word
        ("<p>Data: ODbL 1.0</p>", "text/html", "pass"),
        ("<p>All rights reserved</p>", "text/html", "inconclusive"),  # about what?
        ("<p>The data is proprietary. All data: all rights reserved.</p>", "text/html", "fail"),
        ("<p>API content may not be reused.</p>", "text/html", "fail"),
        ("<main><p>Terms.</p></main><footer>Open Government Licence</footer>", "text/html", "inconclusive"),
        ("<main><p>Data under the OGL.</p></main><footer>All rights reserved</footer>", "text/html", "pass"),
        ('<p><a href="https://creativecommons.org/licenses/by/4.0/">licence</a></p>', "text/html", "pass"),
        ("Licensed under CC BY 4.0", "text/plain", "pass"),
    ],
)  # fmt: skip
def test_open_licence(body: str, content_type: str, expected: str) -> None:
    assert check("open_licence", True, exchange(200, body, content_type)).outcome == expected


def test_sandbox() -> None:
    assert kind_check("sandbox", True, exchange(401), "sandbox").outcome == "pass"
    assert kind_check("sandbox", True, exchange(404), "sandbox").outcome == "fail"
    servers = {
        "openapi": "3.0.0",
        "info": {},
        "servers": [{"url": "https://api-uat.x.com/v1"}],
        "paths": {},
    }
    spec = exchange(200, json.dumps(servers), "application/json")
    assert outcome(kind_check("sandbox", True, spec, "spec")) == (
        "pass",
        "the spec lists a test server https://api-uat.x.com/v1",
    )
    one = {**servers, "servers": [{"url": "https://api.contest.com/v1"}]}
    one_server = exchange(200, json.dumps(one), "application/json")
    # one production server does not say there is no test service: silence (issue 11)
    assert kind_check("sandbox", True, one_server, "spec").outcome == "inconclusive"
    docs = exchange(200, "<p>Try the Sandbox first.</p>", "text/html")
    verdict = kind_check("sandbox", True, docs, "docs")
    assert (verdict.outcome, verdict.excerpt) == ("pass", "Try the Sandbox first.")
    chrome = exchange(200, "<nav>Sandbox</nav><main><h1>API</h1></main>", "text/html")
    assert kind_check("sandbox", True, chrome, "docs").outcome == "inconclusive"


@pytest.mark.parametrize("where", ["html", "text"])
@pytest.mark.parametrize(
    ("offset", "seen"), [(0, True), (1000, True), (SCAN_BYTES, False), (4 * SCAN_BYTES, False)]
)
def test_wording_is_read_from_a_capped_start_of_the_page(
    where: str, offset: int, seen: bool
) -> None:
    """A phrase past the first SCAN_BYTES is not seen (the scan of a hostile page is bounded)."""
    filler = "x " * (offset // 2)
    said = "The API is free to use."
    if where == "html":
        prose = read_html(f"<html><body><p>{filler}</p><p>{said}</p></body></html>")
    else:
        prose = read_text(f"{filler}\n\n{said}\n")
    assert any("free to use" in s.lower for s in prose.sentences) is seen


def test_the_wording_doc_says_how_much_is_read() -> None:
    assert f"Only the first {SCAN_BYTES // 1024} KiB of a page are read" in MATCHERS["wording"].doc
