"""Links a two-stage probe follows: the spec a docs page loads, the calendar a page links to."""

from __future__ import annotations

import time

import pytest
from matcher_support import NOW, at

from api_audit.methodology import LINKS, MatchContext


def _link(name: str, body: str, url: str = "https://docs.x.test/api/") -> tuple[str | None, str]:
    found = LINKS[name].extract(MatchContext(at(url, status=200, body=body), None, NOW))
    return found.url, found.message


@pytest.mark.parametrize(
    ("body", "url"),
    [
        (
            '<script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui" })</script>',
            "https://docs.x.test/openapi.json",
        ),
        (
            "<script>const ui = SwaggerUIBundle({url: 'spec/v1.yaml'})</script>",
            "https://docs.x.test/api/spec/v1.yaml",
        ),
        (
            '<div id="swagger-ui"></div><script>cfg = {"urls":[{"url":'
            '"\\/swagger\\/v1\\/swagger.json","name":"V1"}]}</script>',
            "https://docs.x.test/swagger/v1/swagger.json",
        ),
        (
            '<redoc spec-url="https://api.x.test/openapi.yaml?a=1&amp;b=2"></redoc>',
            "https://api.x.test/openapi.yaml?a=1&b=2",
        ),
        (
            "<script>Redoc.init('/o.json', {}, el)</script>"
            "<script src='redoc.standalone.js'></script>",
            "https://docs.x.test/o.json",
        ),
        ('<rapi-doc spec-url = "../openapi.json"></rapi-doc>', "https://docs.x.test/openapi.json"),
        (
            '<elements-api apiDescriptionUrl="/v1/openapi.json" router="hash" />',
            "https://docs.x.test/v1/openapi.json",
        ),
        (
            '<script id="api-reference" data-url="/scalar.json"></script>',
            "https://docs.x.test/scalar.json",
        ),
        (
            '<link rel="service-desc" href="/describe.json" type="application/openapi+json">',
            "https://docs.x.test/describe.json",
        ),
        (
            '<p>Download the <a href="/downloads/openapi-v2.yaml">spec</a></p>',
            "https://docs.x.test/downloads/openapi-v2.yaml",
        ),
        ('<a href="/v3/api-docs">JSON</a>', "https://docs.x.test/v3/api-docs"),
    ],
)
def test_api_description_links(body: str, url: str) -> None:
    assert _link("api_description", body)[0] == url


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<h1>Hand-written docs</h1><a href='/guide.pdf'>guide</a>",
            "no Swagger UI, Redoc, RapiDoc or Elements page and no spec link",
        ),
        (
            '<div id="swagger-ui"></div><script src="init.js"></script>',
            "a Swagger UI page, but no spec URL found in it",
        ),
        (
            '<script>SwaggerUIBundle({url: "https://petstore.swagger.io/v2/swagger.json"})</script>',
            "the Swagger UI page still loads the Petstore example, not this API",
        ),
        (
            '<redoc spec-url="javascript:alert(1)"></redoc>',
            "the Redoc page points at 'javascript:alert(1)' is not an http(s) URL",
        ),
        (
            '<redoc spec-url="file:///etc/passwd"></redoc>',
            "the Redoc page points at 'file:///etc/passwd' is not an http(s) URL",
        ),
    ],
)
def test_api_description_without_a_followable_link(body: str, message: str) -> None:
    assert _link("api_description", body) == (None, message)


def test_calendar_feed_links() -> None:
    assert _link("calendar_feed", '<a href="bins.ics?uprn=1">iCal</a>')[0] == (
        "https://docs.x.test/api/bins.ics?uprn=1"
    )
    assert _link("calendar_feed", '<a href="webcal://cal.x.test/m.ics">x</a>', "http://d.test/")[
        0
    ] == ("http://cal.x.test/m.ics")
    assert _link("calendar_feed", '<a href="/feed.rss">rss</a>') == (
        None,
        "links to no iCalendar feed (.ics or webcal: URL)",
    )


def test_link_extraction_is_linear_on_hostile_pages() -> None:
    hostile = "<redoc " + 'spec-url="' * 100_000 + "swagger-ui " + "url: '" * 100_000
    started = time.perf_counter()
    _link("api_description", hostile)
    _link("calendar_feed", '<a href="' * 200_000)
    assert time.perf_counter() - started < 2.0
