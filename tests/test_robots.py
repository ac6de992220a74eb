"""robots.txt (RFC 9309): the status mapping and parsing, and the engine asking it first."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator

import pytest
from loopback import LoopbackSite, RecordingSockets, closed_port, fetch_all
from virtual_time import VirtualSites

from api_audit.models import Exchange, FetchRequest
from api_audit.net import FetchOptions, HttpEngine
from api_audit.net.robots import (
    ROBOTS_MAX_BYTES,
    ROBOTS_PRODUCT,
    Refusal,
    RobotsRules,
    is_exempt,
    rules_from_exchange,
)

# --- the mapping, on plain values ------------------------------------------------------------


def robots(
    status: int | None = 200, body: str = "", error: str | None = None, detail: str = ""
) -> RobotsRules:
    request = FetchRequest("https://vendor.example/robots.txt")
    exchange = Exchange(
        request, request.url, status, body=body.encode(), error=error, error_detail=detail
    )
    return rules_from_exchange(exchange)


def allowed(rules: RobotsRules, path: str) -> bool:
    return rules.refusal("https://vendor.example" + path) is None


def test_the_product_token_is_the_user_agents_first_word() -> None:
    assert ROBOTS_PRODUCT == "api-audit"


@pytest.mark.parametrize(
    ("status", "error", "is_allowed", "word"),
    [
        (404, None, True, None),  # RFC 9309 §2.3.1.3: unavailable, anything may be fetched
        (410, None, True, None),
        (401, None, True, None),
        (403, None, True, None),
        (500, None, False, "robots"),  # §2.3.1.4: unreachable, complete disallow
        (503, None, False, "robots"),
        (429, None, False, "robots"),  # a server asking us to slow down: like 5xx
        (None, "connect", False, "connect"),  # unreachable: the refusal keeps what happened
        (None, "dns", False, "dns"),
        (None, "deadline", False, "deadline"),
        (None, "tls", False, "tls"),
        (None, "blocked_address", False, "blocked_address"),
        (None, "protocol", False, "robots"),
        (None, "too_many_redirects", True, None),  # §2.3.1.2: MAY be taken as unavailable
    ],
)
def test_status_and_errors_map_per_rfc_9309(
    status: int | None, error: str | None, is_allowed: bool, word: str | None
) -> None:
    rules = robots(status, error=error, detail="boom")
    refusal = rules.refusal("https://vendor.example/docs")
    assert (refusal is None) is is_allowed
    if refusal is not None:
        assert refusal.error == word
        assert refusal.detail.startswith("robots.txt ")
        assert ", so /docs was not requested" in refusal.detail


def test_an_unreachable_robots_txt_says_what_happened() -> None:
    rules = robots(None, error="connect", detail="Connection refused")
    refusal = rules.refusal("https://vendor.example/openapi.json")
    assert refusal is not None
    assert refusal.error == "connect"
    assert refusal.detail == (
        "robots.txt could not be fetched, so /openapi.json was not requested: Connection refused"
    )


def test_a_host_left_alone_is_reported_as_that() -> None:
    detail = "not sent: api-audit stopped sending to https://vendor.example:443 after 3 ..."
    refusal = robots(None, error="host_budget", detail=detail).refusal("https://vendor.example/x")
    assert refusal == Refusal("host_budget", detail)


def test_a_5xx_robots_txt_is_named_in_the_refusal() -> None:
    refusal = robots(503).refusal("https://vendor.example/docs")
    assert refusal is not None
    assert refusal.detail == (
        "robots.txt answered 503, which RFC 9309 reads as disallowing everything, "
        "so /docs was not requested"
    )


def test_a_disallowed_path_is_refused_with_the_path_and_token() -> None:
    rules = robots(body="User-agent: *\nDisallow: /private\n")
    refusal = rules.refusal("https://vendor.example/private/openapi.json?v=2")
    assert refusal is not None
    assert refusal.error == "robots"
    assert refusal.detail == "robots.txt disallows /private/openapi.json?v=2 for api-audit"
    assert allowed(rules, "/public/openapi.json")


def test_longest_match_wins_whatever_the_order() -> None:
    # urllib.robotparser gets this wrong (first match wins); RFC 9309 §2.2.2: longest match
    rules = robots(body="User-agent: *\nDisallow: /private/\nAllow: /private/openapi.json\n")
    assert allowed(rules, "/private/openapi.json")
    assert not allowed(rules, "/private/other")


def test_wildcards_and_end_anchors() -> None:
    rules = robots(body="User-agent: *\nDisallow: /*.json$\nDisallow: /api/*/internal\n")
    assert not allowed(rules, "/openapi.json")
    assert allowed(rules, "/openapi.yaml")
    assert not allowed(rules, "/api/v1/internal")
    assert allowed(rules, "/api/v1/public")


@pytest.mark.parametrize(
    ("agent", "is_allowed"),
    [
        ("api-audit", False),
        ("API-Audit", False),  # product tokens match case-insensitively
        ("*", False),
        ("github", True),  # would match inside our full User-Agent's URL: never used
        ("audit", True),  # not at a token boundary
        ("googlebot", True),
    ],
)
def test_groups_match_our_product_token_only(agent: str, is_allowed: bool) -> None:
    rules = robots(body=f"User-agent: {agent}\nDisallow: /\n")
    assert allowed(rules, "/docs") is is_allowed


def test_our_own_group_beats_the_catch_all() -> None:
    rules = robots(body="User-agent: *\nDisallow: /\n\nUser-agent: api-audit\nAllow: /\n")
    assert allowed(rules, "/docs")


@pytest.mark.parametrize(
    "path",
    [
        "/robots.txt",
        "/.well-known/security.txt",
        "/.well-known/openid-configuration",
        "/.well-known/api-catalog",
    ],
)
def test_well_known_uris_and_robots_itself_are_exempt(path: str) -> None:
    assert is_exempt(path)
    assert allowed(robots(body="User-agent: *\nDisallow: /\n"), path)
    assert allowed(robots(503), path)
    assert allowed(robots(None, error="protocol"), path)


@pytest.mark.parametrize("error", ["connect", "dns", "timeout", "deadline", "tls", "host_budget"])
def test_a_host_unreachable_for_robots_txt_is_not_tried_for_well_known_either(error: str) -> None:
    rules = robots(None, error=error, detail="boom")
    refusal = rules.refusal("https://vendor.example/.well-known/security.txt")
    assert refusal is not None
    assert refusal.error == error


def test_well_known_lookalikes_are_not_exempt() -> None:
    rules = robots(body="User-agent: *\nDisallow: /\n")
    for path in ("/.well-knownx/security.txt", "/docs/.well-known/security.txt", "/robots.txt2"):
        assert not is_exempt(path)
        assert not allowed(rules, path)


def test_crawl_delay_of_our_group() -> None:
    assert robots(body="User-agent: *\nCrawl-delay: 2.5\n").crawl_delay == 2.5
    assert robots(body="User-agent: other\nCrawl-delay: 9\n").crawl_delay is None
    assert robots(404).crawl_delay is None


def test_non_utf8_and_garbage_robots_files_do_not_break_parsing() -> None:
    body = b"User-agent: *\nDisallow: /caf\xe9\n\x00\x1b[31m\xff\xfe garbage: [bold]x[/]\n"
    request = FetchRequest("https://vendor.example/robots.txt")
    rules = rules_from_exchange(Exchange(request, request.url, 200, body=body))
    assert allowed(rules, "/docs")


# --- the engine asks robots.txt first ----------------------------------------------------------


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    made = LoopbackSite()
    yield made
    made.close()


def test_a_disallowed_path_is_never_requested(site: LoopbackSite) -> None:
    site.robots("User-agent: *\nDisallow: /private\n")
    private, public = fetch_all([f"{site.origin}/private/spec.json", f"{site.origin}/public"])
    assert (private.error, private.status) == ("robots", None)
    assert private.error_detail == "robots.txt disallows /private/spec.json for api-audit"
    assert site.hits["/private/spec.json"] == 0
    assert (public.error, public.status) == (None, 404)
    assert site.hits["/robots.txt"] == 1  # once per origin, shared by concurrent fetches


def test_robots_txt_is_fetched_once_per_origin_for_many_requests(site: LoopbackSite) -> None:
    site.robots("User-agent: *\nAllow: /\n")
    exchanges = fetch_all([f"{site.origin}/p{i}" for i in range(12)])
    assert {e.status for e in exchanges} == {404}
    assert site.hits["/robots.txt"] == 1


def test_a_5xx_robots_txt_stops_everything_but_well_known(site: LoopbackSite) -> None:
    site.routes["/robots.txt"] = (503, {}, b"down for maintenance")
    site.routes["/.well-known/security.txt"] = (200, {}, b"Contact: mailto:a@example.org\n")
    docs, security = fetch_all([f"{site.origin}/docs", f"{site.origin}/.well-known/security.txt"])
    assert docs.error == "robots"
    assert "robots.txt answered 503" in docs.error_detail
    assert site.hits["/docs"] == 0
    assert (security.error, security.status) == (None, 200)


def test_a_disallow_all_still_lets_well_known_documents_through(site: LoopbackSite) -> None:
    site.robots("User-agent: *\nDisallow: /\n")
    site.routes["/.well-known/api-catalog"] = (200, {}, b"{}")
    (catalog,) = fetch_all([f"{site.origin}/.well-known/api-catalog"])
    assert catalog.status == 200


def test_an_unreachable_host_is_reported_as_unreachable_not_as_robots() -> None:
    origin = f"http://127.0.0.1:{closed_port()}"
    backend = RecordingSockets()
    paths = ["/docs", "/api", "/.well-known/security.txt"]
    exchanges = fetch_all([origin + path for path in paths], socket_factory=backend)
    assert {e.error for e in exchanges} == {"connect"}
    for exchange in exchanges:
        assert exchange.error_detail.startswith("robots.txt could not be fetched, so /")
        assert "was not requested: " in exchange.error_detail
    assert len(backend.connects) == 1  # the robots.txt attempt; nothing else was tried


def test_a_redirect_into_a_disallowed_path_stops_before_it(site: LoopbackSite) -> None:
    site.robots("User-agent: *\nDisallow: /members\n")
    site.routes["/docs"] = (302, {"Location": "/members/docs"}, b"")
    (docs,) = fetch_all([f"{site.origin}/docs"])
    assert docs.error == "robots"
    assert docs.final_url == f"{site.origin}/members/docs"
    assert [hop.location for hop in docs.redirects] == ["/members/docs"]
    assert site.hits["/members/docs"] == 0


def test_robots_can_be_ignored(site: LoopbackSite) -> None:
    site.robots("User-agent: *\nDisallow: /\n")
    (docs,) = fetch_all([f"{site.origin}/docs"], respect_robots=False)
    assert (docs.error, docs.status) == (None, 404)
    assert site.hits["/robots.txt"] == 0


def test_robots_txt_redirects_are_followed(site: LoopbackSite) -> None:
    site.routes["/robots.txt"] = (301, {"Location": "/real-robots.txt"}, b"")
    site.routes["/real-robots.txt"] = (200, {}, b"User-agent: *\nDisallow: /docs\n")
    (docs,) = fetch_all([f"{site.origin}/docs"])
    assert docs.error == "robots"
    assert site.hits["/docs"] == 0


def test_a_gzipped_robots_txt_is_decoded(site: LoopbackSite) -> None:
    site.robots(gzip.compress(b"User-agent: *\nDisallow: /docs\n"), **{"Content-Encoding": "gzip"})
    (docs,) = fetch_all([f"{site.origin}/docs"])
    assert docs.error == "robots"


def test_a_huge_robots_txt_is_read_up_to_512_kib(site: LoopbackSite) -> None:
    # RFC 9309 §2.5: parse at least 500 KiB. A rule in the first 512 KiB counts; one after
    # it is never seen; and the file is not refused for being long.
    padding = ("# " + "x" * 1000 + "\n") * ((ROBOTS_MAX_BYTES // 1003) + 200)
    site.robots(f"User-agent: *\nDisallow: /early\n{padding}Disallow: /late\n")
    early, late = fetch_all([f"{site.origin}/early", f"{site.origin}/late"])
    assert early.error == "robots"
    assert (late.error, late.status) == (None, 404)


def test_crawl_delay_spaces_the_requests_up_to_a_cap() -> None:
    sites = VirtualSites()
    site = sites.site()
    site.robots("User-agent: *\nCrawl-delay: 60\n")
    exchanges = sites.fetch_together([f"{site.origin}/p{i}" for i in range(3)], crawl_delay_cap=0.3)
    assert {e.status for e in exchanges} == {404}
    starts = sorted(t for i in range(3) for t in site.times[f"/p{i}"])
    assert starts == pytest.approx([0.0, 0.3, 0.6])  # 0.3 s apart (the cap), not 60 s


def test_crawl_delay_spacing_is_not_charged_to_the_hosts_wait_budget() -> None:
    """0.3 s apart (Crawl-delay 60, capped) against a 0.5 s budget: a Crawl-delay is the
    host's standing rule, honoured in full, so all four requests are sent, spaced."""
    sites = VirtualSites()
    site = sites.site()
    site.robots("User-agent: *\nCrawl-delay: 60\n")
    exchanges = sites.fetch_together(
        [f"{site.origin}/p{i}" for i in range(4)], crawl_delay_cap=0.3, host_wait_budget=0.5
    )
    assert [(e.status, e.error) for e in exchanges] == [(404, None)] * 4
    starts = sorted(site.times[f"/p{i}"][0] for i in range(4))
    assert starts == pytest.approx([0.0, 0.3, 0.6, 0.9])


def test_robots_rules_are_let_go_with_the_origins_last_declared_request(site: LoopbackSite) -> None:
    site.robots("User-agent: *\nAllow: /\n")

    async def go() -> None:
        async with HttpEngine(FetchOptions(allow_private=True)) as engine:
            requests = [FetchRequest(f"{site.origin}/a"), FetchRequest(f"{site.origin}/b")]
            engine.expect(requests)
            await asyncio.gather(*(engine.fetch(r) for r in requests))
            assert site.hits["/robots.txt"] == 1
            await engine.fetch(FetchRequest(f"{site.origin}/c"))  # not declared: asks again

    asyncio.run(go())
    assert site.hits["/robots.txt"] == 2


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("protocol", "malformed HTTP response"),
        ("unsupported_encoding", "compressed in an encoding we do not decode"),
        ("too_large", "response too large"),
        ("bad_url", "not a fetchable URL"),
        (None, "no response"),
    ],
)
def test_an_unreadable_robots_txt_is_said_plainly(error: str | None, words: str) -> None:
    rules = robots(None, error=error, detail="chunk 3 cut short")
    refusal = rules.refusal("https://vendor.example/docs")
    assert refusal == Refusal(
        "robots",
        f"robots.txt could not be read ({words}), so /docs was not requested: chunk 3 cut short",
    )


@pytest.mark.parametrize("exc", [ValueError("bad"), RecursionError(), UnicodeError("x")])
def test_a_robots_txt_that_trips_the_parser_is_unreadable_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    def broken(text: str) -> object:
        raise exc

    monkeypatch.setattr("api_audit.net.robots.Protego.parse", broken)
    refusal = robots(200, "User-agent: *\nDisallow: /x\n").refusal("https://vendor.example/docs")
    assert refusal is not None
    assert refusal.error == "robots"
    assert refusal.detail.startswith(
        "robots.txt could not be read (its rules could not be parsed), so /docs was not requested"
    )
