"""Planning (which requests, deduplicated) and evaluation (exchanges -> findings), as pure
functions on plain values; then the shipped methodology on the market archetypes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import pytest

from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.methodology import expectation, load_methodology
from api_audit.methodology.examples import exchange_from_example
from api_audit.models import (
    EXCHANGE_ERROR_WORDS,
    EXCHANGE_ERRORS,
    Applicability,
    Exchange,
    ExchangeError,
    Expectation,
    FetchRequest,
    Finding,
    Hop,
    Methodology,
    Probe,
    ProbeRequest,
    Research,
    System,
)
from api_audit.plan import (
    ProbePlan,
    api_origin,
    distinct_requests,
    join_path,
    plan_probe,
    plan_probes,
)
from api_audit.scoring import score_system

NOW = datetime(2026, 11, 1, tzinfo=UTC)
METHODOLOGY = load_methodology()
PROBES = {p.id: p for p in METHODOLOGY.probes}
TOKEN = "t0k3n"


def system(system_id: str, **endpoints: str) -> System:
    return System(system_id, system_id.title(), "vendor", "Vendor", ("waste",), endpoints)


def only(*probe_ids: str) -> Methodology:
    return replace(METHODOLOGY, probes=tuple(PROBES[i] for i in probe_ids))


# --- planning ----------------------------------------------------------------------------------


def test_two_systems_on_one_origin_share_well_known_and_baseline_requests() -> None:
    waste = system(
        "waste",
        docs="https://api.supplier.test/docs/waste",
        api_base="https://api.supplier.test/v1/waste",
    )
    planning = system(
        "planning",
        docs="https://api.supplier.test/docs/planning",
        api_base="https://api.supplier.test/v1/planning",
    )
    plans = plan_probes([waste, planning], only("api-catalog", "docs-public"), TOKEN)
    requests = distinct_requests(plans)
    assert [r.url for r in requests] == [
        "https://api.supplier.test/.well-known/api-catalog",
        "https://api.supplier.test/docs/waste",
        "https://api.supplier.test/__api_audit_t0k3n",
        "https://api.supplier.test/docs/planning",
    ]
    catalog = [p.target for p in plans if p.probe.id == "api-catalog"]
    assert catalog[0] == catalog[1]
    assert catalog[0] == FetchRequest(
        "https://api.supplier.test/.well-known/api-catalog", accept="application/linkset+json"
    )


def test_all_shipped_probes_for_one_open_system_need_few_requests() -> None:
    open_system = system(
        "open",
        docs="https://dev.open.test/docs",
        spec="https://api.open.test/openapi.json",
        api_base="https://api.open.test/v1",
    )
    plans = plan_probes([open_system], METHODOLOGY, TOKEN)
    assert len(plans) == len(METHODOLOGY.probes)
    urls = [r.url for r in distinct_requests(plans)]
    # 35 probes, 17 requests: the docs, spec and api_base probes share theirs (but the CORS
    # probe's, which sends an Origin header, is a request of its own); one baseline per
    # origin and Accept; candidates only where a standard has several usual places.
    assert sorted(urls) == sorted(
        [
            "https://api.open.test/.well-known/api-catalog",
            "https://api.open.test/apis.json",
            "https://dev.open.test/docs",
            "https://dev.open.test/__api_audit_t0k3n",
            "https://api.open.test/openapi.json",
            "https://api.open.test/__api_audit_t0k3n",
            "https://api.open.test/v1",
            "https://api.open.test/v1",  # open-data-cors, with Origin: https://api-audit.invalid
            "http://api.open.test/v1",
            "https://api.open.test/.well-known/openid-configuration",
            "https://api.open.test/.well-known/oauth-authorization-server",
            "https://api.open.test/v1/services.json",
            "https://api.open.test/v1/discovery.json",
            "https://api.open.test/v1/services.xml",
            "https://api.open.test/v1/discovery.xml",
            "https://api.open.test/v1/__api_audit_no_such_resource",
            "https://api.open.test/.well-known/security.txt",
        ]
    )


def test_endpoint_urls_are_used_as_written() -> None:
    docs = "https://Supplier.test:8443/help/api?lang=en&x=%20"
    plan = plan_probe(system("s", docs=docs), PROBES["docs-public"], TOKEN)
    assert plan.target == FetchRequest(docs, accept="text/html")
    assert plan.baseline == FetchRequest(
        "https://supplier.test:8443/__api_audit_t0k3n", accept="text/html"
    )


@pytest.mark.parametrize(
    ("endpoints", "origin"),
    [
        (
            {"api_base": "https://api.x.test/v2", "spec": "https://s.x.test/o.json"},
            "https://api.x.test",
        ),
        (
            {"spec": "http://s.x.test:8080/o.json", "docs": "https://d.x.test/"},
            "http://s.x.test:8080",
        ),
        ({"docs": "https://user:pw@d.x.test/docs"}, "https://d.x.test"),
        ({"portal": "https://p.x.test/"}, None),
    ],
)
def test_api_origin(endpoints: dict[str, str], origin: str | None) -> None:
    assert api_origin(system("s", **endpoints)) == origin


def test_path_under_another_base() -> None:
    probe = replace(
        PROBES["security-txt"], request=replace(PROBES["security-txt"].request, base="docs")
    )
    plan = plan_probe(system("s", docs="https://d.test/x", api_base="https://a.test/"), probe, "t")
    assert plan.target is not None
    assert plan.target.url == "https://d.test/.well-known/security.txt"
    missing = plan_probe(system("s", api_base="https://a.test/"), probe, "t")
    assert (missing.target, missing.missing) == (None, "no docs URL in the catalogue")


@pytest.mark.parametrize(
    ("probe_id", "missing"),
    [
        (
            "openapi-published",
            "not measured: no spec URL in the catalogue, and no API origin in the catalogue "
            "(no api_base, spec or docs URL) (research state: endpoints found)",
        ),
        ("spec-anonymous", "no spec URL in the catalogue"),
        ("api-catalog", "no API origin in the catalogue (no api_base, spec or docs URL)"),
        ("https", "no api_base, spec or docs URL in the catalogue"),
    ],
)
def test_missing_endpoints(probe_id: str, missing: str) -> None:
    plan = plan_probe(system("s", portal="https://p.test/"), PROBES[probe_id], TOKEN)
    assert (plan.target, plan.baseline, plan.missing) == (None, None, missing)


def test_fallback_endpoint() -> None:
    plan = plan_probe(
        system("s", docs="http://d.test/", spec="https://s.test/o.json"), PROBES["https"], TOKEN
    )
    assert plan.target == FetchRequest("https://s.test/o.json", accept="application/json")
    assert plan.target_kind == "spec"


def test_distinct_requests_keeps_first_use_order() -> None:
    a, b = FetchRequest("https://a.test/"), FetchRequest("https://b.test/")
    probe = PROBES["https"]
    s = system("s")
    plans = [ProbePlan(s, probe, b, a), ProbePlan(s, probe, a, None), ProbePlan(s, probe, None, b)]
    assert distinct_requests(plans) == [b, a]


def test_random_token_must_be_url_safe() -> None:
    with pytest.raises(ValueError, match="random_token"):
        plan_probes([system("s")], METHODOLOGY, "../x")


# --- evaluation rules --------------------------------------------------------------------------

DOCS = "https://d.test/docs"


def docs_plan(probe_id: str = "docs-public") -> ProbePlan:
    return plan_probe(system("s", docs=DOCS), PROBES[probe_id], TOKEN)


def exchanges_for(
    plan: ProbePlan, target: Mapping[str, object], baseline: Mapping[str, object] | None = None
) -> dict[str, Exchange]:
    assert plan.target is not None
    found = {plan.target.key: exchange_from_example(target, plan.target)}
    if baseline is not None and plan.baseline is not None:
        found[plan.baseline.key] = exchange_from_example(baseline, plan.baseline)
    return found


HTML = {"content-type": "text/html"}


SEARCHED = dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("research", "endpoints", "outcome", "message"),
    [
        # A blank entry nobody recorded a search for: a gap in our research, not measured.
        (
            None,
            {},
            "inconclusive",
            "not measured: no docs URL in the catalogue (research state: not researched)",
        ),
        (
            Research("not-researched"),
            {},
            "inconclusive",
            "not measured: no docs URL in the catalogue (research state: not researched)",
        ),
        # Endpoints found, but nobody recorded looking for docs: still not measured.
        (
            None,
            {"api_base": "https://a.test/"},
            "inconclusive",
            "not measured: no docs URL in the catalogue (research state: endpoints found)",
        ),
        (
            Research("endpoints-found", SEARCHED, ("vendor site",), ("spec",)),
            {"api_base": "https://a.test/"},
            "inconclusive",
            "not measured: no docs URL in the catalogue (research state: endpoints found)",
        ),
        # A recorded search that found none: a fail, as of its date and where.
        (
            Research("none-found", SEARCHED, ("vendor site", "G-Cloud")),
            {},
            "fail",
            "no docs URL in the catalogue: none found when searched on 2026-11-20 "
            "(vendor site; G-Cloud)",
        ),
        (
            Research("endpoints-found", SEARCHED, ("vendor site",), ("docs",)),
            {"api_base": "https://a.test/"},
            "fail",
            "no docs URL in the catalogue: none found when searched on 2026-11-20 (vendor site)",
        ),
        # A search without a date proves nothing.
        (
            Research("none-found"),
            {},
            "inconclusive",
            "not measured: no docs URL in the catalogue (research state: none found)",
        ),
    ],
)
def test_missing_target_fails_only_after_a_recorded_search(
    research: Research | None, endpoints: dict[str, str], outcome: str, message: str
) -> None:
    blank = replace(system("s", **endpoints), research=research)
    finding = evaluate(plan_probe(blank, PROBES["docs-public"], TOKEN), {}, now=NOW)
    assert (finding.outcome, finding.message, finding.observed, finding.evidence) == (
        outcome,
        message,
        False,
        (),
    )


@pytest.mark.parametrize("research", [None, Research("none-found", SEARCHED, ("vendor site",))])
def test_missing_optional_endpoint_is_not_applicable_whatever_the_research(
    research: Research | None,
) -> None:
    blank = replace(system("s"), research=research)
    for probe_id in ("docs-anonymous", "pricing-stated", "sandbox-advertised", "https"):
        plan = plan_probe(blank, PROBES[probe_id], TOKEN)
        assert evaluate(plan, {}, now=NOW).outcome == "not_applicable", probe_id


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            {"error": "timeout", "error_detail": "read timed out after 10 s"},
            "could not measure: timed out (read timed out after 10 s)",
        ),
        (
            {"error": "blocked_address", "error_detail": "127.0.0.1 is a loopback address"},
            "could not measure: address blocked (127.0.0.1 is a loopback address)",
        ),
        (
            {"error": "too_large", "error_detail": "body is over 5242880 bytes"},
            "could not measure: response too large (body is over 5242880 bytes)",
        ),
        (
            {"error": "robots", "error_detail": "robots.txt disallows /docs"},
            "could not measure: excluded by robots.txt (robots.txt disallows /docs)",
        ),
        (
            {"error": "connect", "error_detail": "\x1b[2Jrefused\r\n"},
            "could not measure: could not connect (refused)",
        ),
    ],
)
def test_fetch_errors_are_inconclusive(response: dict[str, object], message: str) -> None:
    plan = docs_plan()
    finding = evaluate(plan, exchanges_for(plan, response), now=NOW)
    assert (finding.outcome, finding.message, finding.observed) == ("inconclusive", message, False)
    assert plan.target is not None
    # the baseline was not fetched; a refusal on robots.txt's account cites the robots.txt
    robots = [] if response.get("error") != "robots" else [ROBOTS_OF_DOCS]
    assert finding.evidence == (plan.target.key, *robots)


ROBOTS_OF_DOCS = "GET https://d.test:443/robots.txt accept=text/plain"


@pytest.mark.parametrize(
    ("error", "detail", "cites"),
    [
        ("robots", "robots.txt disallows /docs for api-audit", True),
        ("robots", "robots.txt answered 503, which RFC 9309 reads as disallowing everything", True),
        (
            "robots",
            "robots.txt could not be read (malformed HTTP response), so /docs was ...",
            True,
        ),
        ("connect", "robots.txt could not be fetched, so /docs was not requested: refused", True),
        ("dns", "robots.txt could not be fetched, so /docs was not requested", True),
        ("connect", "Connection refused", False),  # the request itself failed
        ("host_budget", "not sent: api-audit stopped sending to https://d.test:443", False),
        ("timeout", "timed out", False),
    ],
)
def test_a_finding_refused_by_robots_txt_cites_it(error: str, detail: str, cites: bool) -> None:
    plan = docs_plan()
    answer = {"error": error, "error_detail": detail}
    finding = evaluate(plan, exchanges_for(plan, answer), now=NOW)
    assert finding.outcome == "inconclusive"
    assert (ROBOTS_OF_DOCS in finding.evidence) is cites


@pytest.mark.parametrize("error", EXCHANGE_ERRORS)
def test_every_exchange_error_is_said_in_words(error: ExchangeError) -> None:
    assert set(EXCHANGE_ERROR_WORDS) == set(EXCHANGE_ERRORS)
    plan = docs_plan()
    finding = evaluate(plan, exchanges_for(plan, {"error": error}), now=NOW)
    assert (finding.outcome, finding.message) == (
        "inconclusive",
        f"could not measure: {EXCHANGE_ERROR_WORDS[error]}",
    )


def test_error_after_a_redirect_to_sign_in_is_a_login_wall() -> None:
    plan = docs_plan()
    response = {
        "error": "blocked_address",
        "error_detail": "10.0.0.5 is private",
        "redirects": [{"status": 302, "url": DOCS, "location": "https://sso.corp.test/"}],
    }
    finding = evaluate(plan, exchanges_for(plan, response), now=NOW)
    assert (finding.outcome, finding.message) == (
        "fail",
        "redirected to a sign-in page at https://sso.corp.test/",
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (503, "server error: 503 Service Unavailable"),
        (500, "server error: 500 Internal Server Error"),
        (429, "rate limited: 429 Too Many Requests"),
    ],
)
def test_server_errors_are_inconclusive(status: int, message: str) -> None:
    plan = docs_plan()
    finding = evaluate(plan, exchanges_for(plan, {"status": status}), now=NOW)
    assert (finding.outcome, finding.message, finding.observed) == ("inconclusive", message, True)


def test_a_request_that_was_not_made_is_inconclusive() -> None:
    finding = evaluate(docs_plan(), {}, now=NOW)
    assert (finding.outcome, finding.message, finding.evidence) == (
        "inconclusive",
        "could not measure: the request was not made",
        (),
    )


def test_a_fail_after_an_inconclusive_decides() -> None:
    # not_soft_200 cannot compare (no baseline), but the content type already fails.
    plan = docs_plan()
    finding = evaluate(plan, exchanges_for(plan, {"status": 200, "body": "x"}), now=NOW)
    assert (finding.outcome, finding.message, finding.observed, finding.credit) == (
        "fail",
        "no Content-Type header, and not documentation a reader can open",
        True,
        0.0,
    )


def test_inconclusive_when_nothing_fails() -> None:
    plan = docs_plan()
    target = {"status": 200, "headers": HTML, "body": "<h1>Docs</h1>"}
    baseline = {"error": "timeout", "error_detail": "read timed out"}
    finding = evaluate(plan, exchanges_for(plan, target, baseline), now=NOW)
    assert (finding.outcome, finding.message, finding.observed) == (
        "inconclusive",
        "could not fetch a random path to compare with: read timed out",
        True,
    )


def test_pass_message_and_evidence() -> None:
    plan = docs_plan()
    target = {"status": 200, "headers": HTML, "body": "<h1>Docs</h1>"}
    finding = evaluate(plan, exchanges_for(plan, target, {"status": 404}), now=NOW)
    assert finding == Finding(
        system_id="s",
        probe_id="docs-public",
        criterion="documented",
        weight=3.0,
        outcome="pass",
        message="no sign-in page or password form; 200 OK; served as text/html; "
        "a random path answers 404 Not Found",
        evidence=(
            "GET https://d.test/docs accept=text/html",
            "GET https://d.test/__api_audit_t0k3n accept=text/html",
        ),
        observed=True,
        credit=1.0,
    )


def test_pass_credit_is_the_smallest_verdict_credit() -> None:
    plan = plan_probe(
        system("s", spec="https://s.test/swagger.json"), PROBES["openapi-published"], TOKEN
    )
    body = json.dumps({"swagger": "2.0", "info": {"title": "G"}, "paths": {"/a": {}}})
    finding = evaluate(plan, exchanges_for(plan, {"status": 200, "body": body}), now=NOW)
    assert (finding.outcome, finding.credit) == ("pass", 0.5)


def test_every_expectation_is_evaluated_against_its_own_matcher() -> None:
    probe = replace(
        PROBES["https"],
        expect=(
            expectation("status", "2xx"),
            expectation("final_scheme", "https"),
        ),
    )
    plan = plan_probe(system("s", api_base="https://a.test/"), probe, TOKEN)
    finding = evaluate(plan, exchanges_for(plan, {"status": 204}), now=NOW)
    assert finding.message == "204 No Content; served over https at https://a.test/"


def test_exchange_from_example() -> None:
    request = FetchRequest("https://a.test/x", accept="text/html")
    ex = exchange_from_example(
        {
            "status": 200,
            "headers": {"Content-Type": "text/html", "Content-Length": 4},
            "body": "café",
            "redirects": [
                {"status": 301, "url": "http://a.test/x", "location": "https://a.test/x"}
            ],
        },
        request,
    )
    assert ex == Exchange(
        request=request,
        final_url="https://a.test/x",
        status=200,
        headers=(("content-type", "text/html"), ("content-length", "4")),
        body="café".encode(),
        redirects=(Hop(301, "http://a.test/x", "https://a.test/x"),),
    )


# --- the archetypes, scored with the shipped rubric ---------------------------------------------

Route = tuple[int, Mapping[str, str], str]
OPENAPI = json.dumps(
    {
        "openapi": "3.1.0",
        "info": {"title": "Waste", "version": "1"},
        "paths": {"/collections": {"get": {}}},
    }
)
SHELL = '<!doctype html><html><div id="root"></div><script src="/app.js"></script></html>'
JSON = {"content-type": "application/json"}


def open_routes() -> dict[str, Route]:
    return {
        "/docs": (200, HTML, "<html><h1>API reference</h1><p>GET /v1/collections</p></html>"),
        "/openapi.json": (200, JSON, OPENAPI),
        "/v1": (200, JSON, "{}"),
        "/.well-known/api-catalog": (
            200,
            {"content-type": "application/linkset+json"},
            json.dumps(
                {"linkset": [{"anchor": "/v1", "service-desc": [{"href": "/openapi.json"}]}]}
            ),
        ),
        "/.well-known/openid-configuration": (
            200,
            JSON,
            json.dumps(
                {"issuer": "http://127.0.0.1:8001", "token_endpoint": "/token", "jwks_uri": "/jwks"}
            ),
        ),
        "/.well-known/security.txt": (
            200,
            {"content-type": "text/plain"},
            "Contact: mailto:security@open.test\nExpires: 2027-05-01T00:00:00Z\n",
        ),
    }


def serve(
    routes: Mapping[str, Route],
    fallback: Route | None = None,
) -> Callable[[FetchRequest], Exchange]:
    """A fake supplier: answers each request from its route table, following redirects."""
    missing: Route = fallback or (404, {"content-type": "text/plain"}, "Not found")

    def fetch(request: FetchRequest) -> Exchange:
        url, hops = request.url, list[Hop]()
        while True:
            parts = urlsplit(url)
            route = routes.get(f"{parts.scheme}:{parts.path}") or routes.get(parts.path)
            status, headers, body = route or missing
            if status in (301, 302, 308) and len(hops) < 5:
                hops.append(Hop(status, url, headers["location"]))
                url = urljoin(url, headers["location"])
                continue
            tls = "TLSv1.3" if parts.scheme == "https" else None
            return Exchange(
                request,
                url,
                status,
                tuple(headers.items()),
                body.encode(),
                tuple(hops),
                tls_version=tls,
            )

    return fetch


def unreachable(request: FetchRequest) -> Exchange:
    return Exchange(request, request.url, None, error="connect", error_detail="refused")


ARCHETYPES: dict[str, tuple[dict[str, str], Callable[[FetchRequest], Exchange]]] = {
    "open": (
        {"docs": "/docs", "spec": "/openapi.json", "api_base": "/v1"},
        serve(open_routes()),
    ),
    "legacy": (
        {"docs": "/docs", "spec": "/swagger.json", "api_base": "/gw"},
        serve(
            {
                # as in the demo market: a legacy supplier's help page names its release notes
                "/docs": (200, HTML, "<h1>Gateway help</h1><p>Release notes per version.</p>"),
                "/swagger.json": (
                    200,
                    JSON,
                    json.dumps({"swagger": "2.0", "info": {"title": "G"}, "paths": {"/a": {}}}),
                ),
            }
        ),
    ),
    "docs-only": (
        {"docs": "/developers"},
        serve({"/developers": (200, HTML, "<h1>Integration guide</h1><p>Call us.</p>")}),
    ),
    "login-wall": (
        {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api"},
        serve(
            {
                "/docs": (302, {"location": "/login?next=/docs"}, ""),
                "/login": (200, HTML, '<form><input name=u><input type="password"></form>'),
                "/openapi.json": (401, {}, "Unauthorized"),
                "/api": (401, {}, "Unauthorized"),
            }
        ),
    ),
    "app-shell": (
        {"docs": "/developer", "spec": "/api/openapi.json", "api_base": "/api"},
        serve({}, fallback=(200, HTML, SHELL)),
    ),
    "unreachable": (
        {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api"},
        unreachable,
    ),
}


# The service area each archetype has in the demo market (api_audit/demo/market.py).
AREAS = {
    "open": "waste",
    "legacy": "revenues-benefits",
    "docs-only": "housing",
    "login-wall": "social-care",
    "app-shell": "crm",
    "unreachable": "parking",
}


def fetch_all(
    plans: list[ProbePlan], fetch: Callable[[FetchRequest], Exchange]
) -> dict[str, Exchange]:
    """Both rounds, as audit.py does: the planned requests, then the links they lead to."""
    exchanges = {r.key: fetch(r) for r in distinct_requests(plans)}
    for request in follow_up_requests(plans, exchanges, now=NOW):
        exchanges[request.key] = fetch(request)
    return exchanges


def audit(name: str) -> list[Finding]:
    paths, fetch = ARCHETYPES[name]
    port = 8000 + list(ARCHETYPES).index(name)
    origin = f"http://127.0.0.1:{port}"  # loopback test servers speak plain http
    target = replace(
        system(name, **{kind: origin + path for kind, path in paths.items()}),
        service_areas=(AREAS[name],),
    )
    plans = plan_probes([target], METHODOLOGY, TOKEN)
    exchanges = fetch_all(plans, fetch)
    return [evaluate(plan, exchanges, now=NOW) for plan in plans]


def outcomes(name: str) -> dict[str, str]:
    return {f.probe_id: f.outcome for f in audit(name)}


def test_archetype_outcomes() -> None:
    found = outcomes("open")
    assert {k for k, v in found.items() if v == "pass"} == {
        "api-catalog",
        "docs-anonymous",
        "docs-public",
        "json-responses",
        "not-soap-only",
        "oauth-discovery",
        "open-data-keyless",
        "openapi-published",
        "openapi-standard",
        "security-txt",
        "spec-anonymous",
        "utf-8",
        "versioned-api",
    }
    assert found["https"] == found["open311"] == found["openapi-quality"] == "fail"
    assert found["fhir-capability"] == found["http-redirects-to-https"] == "not_applicable"
    docs_only = outcomes("docs-only")
    assert {k for k, v in docs_only.items() if v == "pass"} == {"docs-anonymous", "docs-public"}
    assert docs_only["openapi-published"] == "fail"  # looked for at the usual paths too
    assert docs_only["json-responses"] == docs_only["spec-anonymous"] == "not_applicable"
    for walled in ("login-wall", "app-shell"):
        # nothing passes; a probe whose page said nothing is inconclusive (issue 11)
        assert "pass" not in set(outcomes(walled).values()), walled
    assert set(outcomes("unreachable").values()) == {"inconclusive", "not_applicable"}


def test_archetype_messages_say_why() -> None:
    wall = {f.probe_id: f.message for f in audit("login-wall")}
    assert wall["docs-public"].startswith("redirected to a sign-in page at http://127.0.0.1:")
    assert wall["openapi-published"] == "401 Unauthorized: needs an account"
    assert wall["fhir-capability"] == "404 Not Found (expected 2xx)"
    shell = {f.probe_id: f.message for f in audit("app-shell")}
    assert shell["docs-public"] == "same page as a random path: a soft-200 app shell"
    assert shell["openapi-published"] == (
        "served as text/html: a web page, not an OpenAPI document"
    )
    assert shell["api-catalog"] == "served as text/html, not application/linkset+json"
    assert shell["open-referral"] == "served as text/html: a web page, not JSON"


def test_archetypes_rank_as_the_market_was_built() -> None:
    scores = {name: score_system(name, audit(name), METHODOLOGY.rubric) for name in ARCHETYPES}
    value = {name: s.score for name, s in scores.items()}
    assert value == {
        "open": 6.8,
        "legacy": 4.6,
        "docs-only": 4.2,
        "login-wall": 0.0,
        "app-shell": 0.0,
        "unreachable": None,
    }
    assert {name: s.grade for name, s in scores.items()} == {
        "open": "B",
        "legacy": "D",
        "docs-only": "D",
        "login-wall": "E",
        "app-shell": "E",
        "unreachable": "?",
    }


def test_open_supplier_over_https_scores_full_marks() -> None:
    fetch = serve(open_routes() | fully_open_routes())
    target = system(
        "open",
        docs="https://open.test/docs",
        spec="https://open.test/openapi.json",
        api_base="https://open.test/v1",
    )
    plans = plan_probes([target], METHODOLOGY, TOKEN)
    findings = [evaluate(plan, fetch_all(plans, fetch), now=NOW) for plan in plans]
    assert [f.probe_id for f in findings if f.outcome not in ("pass", "not_applicable")] == []
    assert score_system("open", findings, METHODOLOGY.rubric).score == 10.0


FULL_SPEC = json.dumps(
    {
        "openapi": "3.1.0",
        "info": {
            "title": "Waste",
            "version": "1.0",
            "contact": {"email": "api@open.test"},
            "license": {"name": "Open Government Licence v3.0"},
        },
        "servers": [
            {"url": "https://open.test/v1", "description": "Production"},
            {"url": "https://sandbox.open.test/v1", "description": "Sandbox"},
        ],
        "paths": {
            "/collections": {
                "get": {
                    "summary": "Collection days",
                    "responses": {"200": {"description": "OK"}, "404": {"description": "No"}},
                }
            }
        },
    }
)


def fully_open_routes() -> dict[str, Route]:
    """Everything a waste system can show: the open archetype made exemplary."""
    docs = (
        '<html><redoc spec-url="/openapi.json"></redoc><h1>API reference</h1>'
        "<p>Sign up for a key; access is free of charge. See the changelog.</p>"
        '<a href="/bins.ics">Bin days (iCal)</a></html>'
    )
    calendar = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Open//Bins//EN\nEND:VCALENDAR\n"
    return {
        "/docs": (200, HTML, docs),
        "/openapi.json": (200, JSON, FULL_SPEC),
        "/v1": (
            200,
            JSON | {"access-control-allow-origin": "*", "ratelimit-policy": '"default";q=100;w=60'},
            "{}",
        ),
        "http:/v1": (301, {"location": "https://open.test/v1"}, ""),
        "/v1/services.json": (200, JSON, '[{"service_code": "1", "service_name": "Missed bin"}]'),
        "/v1/__api_audit_no_such_resource": (
            404,
            {"content-type": "application/problem+json"},
            '{"type": "about:blank", "title": "Not Found", "status": 404}',
        ),
        "/apis.json": (200, JSON, '{"name": "Open", "apis": [{"name": "W", "baseURL": "/v1"}]}'),
        "/bins.ics": (200, {"content-type": "text/calendar"}, calendar),
    }


def test_probe_plans_reference_the_probe_objects() -> None:
    probe = Probe(
        id="x",
        title="X",
        criterion="free",
        weight=1,
        why="w",
        why_url="https://w.test",
        request=ProbeRequest(endpoint="docs"),
        expect=(Expectation("status", "2xx"),),
        remediation="r",
        effort="low",
        examples=(),
    )
    plan = plan_probe(system("s", docs="https://d.test/"), probe, TOKEN)
    assert plan.probe is probe
    assert plan.baseline is None


# --- paths, candidates, applicability, http form (issue 4) --------------------------------------


def probe_with(probe_id: str = "https", **request: object) -> Probe:
    base = PROBES[probe_id]
    return replace(base, request=replace(base.request, **request))


@pytest.mark.parametrize(
    ("base_url", "path", "url"),
    [
        ("https://x.test/open311/v2", "services.json", "https://x.test/open311/v2/services.json"),
        ("https://x.test/open311/v2/", "services.json", "https://x.test/open311/v2/services.json"),
        (
            "https://x.test/open311/v2?key=1#top",
            "services.json",
            "https://x.test/open311/v2/services.json",
        ),
        ("https://x.test", "$metadata", "https://x.test/$metadata"),
        ("https://x.test/odata/", "$metadata", "https://x.test/odata/$metadata"),
        ("https://x.test/open311/v2", "/services.json", "https://x.test/services.json"),
        ("https://u:p@X.test:8443/a/b", "/c", "https://x.test:8443/c"),
        ("https://u:p@X.test:8443/a/b", "c", "https://x.test:8443/a/b/c"),
        (
            "https://x.test/api",
            "graphql?query=%7B__typename%7D",
            "https://x.test/api/graphql?query=%7B__typename%7D",
        ),
    ],
)
def test_join_path(base_url: str, path: str, url: str) -> None:
    assert join_path(base_url, path) == url


def test_relative_path_under_an_endpoint() -> None:
    probe = probe_with(endpoint=None, fallback=(), path="metadata", base="api_base")
    plan = plan_probe(system("s", api_base="https://fhir.test/R4"), probe, TOKEN)
    assert plan.target is not None
    assert plan.target.url == "https://fhir.test/R4/metadata"
    missing = plan_probe(system("s", docs="https://d.test/"), probe, TOKEN)
    assert (missing.target, missing.missing) == (None, "no api_base URL in the catalogue")


def test_candidates_are_planned_in_order_and_all_fetched() -> None:
    plan = plan_probe(system("s", api_base="https://a.test/v1/"), PROBES["open311"], TOKEN)
    assert [t.url for t in plan.targets] == [
        "https://a.test/v1/services.json",
        "https://a.test/v1/discovery.json",
        "https://a.test/v1/services.xml",
        "https://a.test/v1/discovery.xml",
    ]
    assert distinct_requests([plan]) == list(plan.targets)


def test_discovery_candidates_only_without_a_catalogue_url() -> None:
    probe = PROBES["openapi-published"]
    listed = plan_probe(
        system("s", spec="https://a.test/o.json", docs="https://d.test/"), probe, TOKEN
    )
    assert [t.url for t in listed.targets] == ["https://a.test/o.json"]
    assert listed.target_kind == "spec"
    found = plan_probe(system("s", api_base="https://a.test/v1"), probe, TOKEN)
    assert [t.url for t in found.targets] == [
        "https://a.test/openapi.json",
        "https://a.test/v3/api-docs",
        "https://a.test/swagger.json",
        "https://a.test/swagger/v1/swagger.json",
        "https://a.test/api-docs",
    ]
    assert found.target_kind is None


def test_applicability_by_area_claim_and_endpoint() -> None:
    probe = PROBES["open311"]
    waste = plan_probe(system("s", api_base="https://a.test/"), probe, TOKEN)
    assert waste.applicable
    housing = replace(system("s", api_base="https://a.test/"), service_areas=("housing",))
    plan = plan_probe(housing, probe, TOKEN)
    assert (plan.applicable, plan.target, plan.missing) == (
        False,
        None,
        "applies to highways, waste, crm, parking or public-protection systems or a claim of "
        "open311; this one is housing",
    )
    claiming = replace(housing, standards=("open311",))
    assert plan_probe(claiming, probe, TOKEN).applicable
    finding = evaluate(plan, {}, now=NOW)
    assert (finding.outcome, finding.observed) == ("not_applicable", False)
    needs_sandbox = replace(probe, applies_to=Applicability(endpoints=("sandbox",)))
    assert plan_probe(housing, needs_sandbox, TOKEN).missing == (
        "applies to systems with a sandbox URL in the catalogue"
    )


@pytest.mark.parametrize(
    ("api_base", "url", "missing"),
    [
        ("https://a.test/v1?x=1", "http://a.test/v1?x=1", ""),
        ("https://a.test:443/v1", "http://a.test/v1", ""),
        ("https://a.test:8443/v1", None, "the URL names port 8443, so its http form is unknown"),
        ("http://a.test/v1", None, "the catalogue URL is http already (the https probe judges it)"),
    ],
)
def test_http_form(api_base: str, url: str | None, missing: str) -> None:
    plan = plan_probe(system("s", api_base=api_base), PROBES["http-redirects-to-https"], TOKEN)
    assert (plan.target.url if plan.target else None, plan.missing) == (url, missing)
    assert plan.applicable == (url is not None)


# --- candidates and two-stage probes in evaluation -----------------------------------------------


def candidate_exchanges(plan: ProbePlan, *answers: Mapping[str, object]) -> dict[str, Exchange]:
    """The given answers to the first candidates; 404 to the rest, as the examples do."""
    padded = [*answers, *[NOT_FOUND] * (len(plan.targets) - len(answers))]
    return {t.key: exchange_from_example(a, t) for t, a in zip(plan.targets, padded, strict=True)}


SERVICES = {"status": 200, "headers": JSON, "body": '[{"service_code": 1, "service_name": "x"}]'}
NOT_FOUND = {"status": 404, "headers": {"content-type": "text/plain"}, "body": "Not found"}
SHELL_ANSWER = {"status": 200, "headers": HTML, "body": SHELL}


def test_candidates_pass_on_the_first_that_passes() -> None:
    plan = plan_probe(system("s", api_base="https://a.test/v1"), PROBES["open311"], TOKEN)
    discovery = {
        "status": 200,
        "headers": JSON,
        "body": '{"endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2"}]}',
    }
    finding = evaluate(plan, candidate_exchanges(plan, NOT_FOUND, discovery), now=NOW)
    assert finding.outcome == "pass"
    assert finding.message.startswith("at /v1/discovery.json: ")
    assert finding.evidence == tuple(t.key for t in plan.targets)


def test_candidates_prefer_an_inconclusive_to_a_fail() -> None:
    plan = plan_probe(system("s", api_base="https://a.test/v1"), PROBES["open311"], TOKEN)
    timeout = {"error": "timeout", "error_detail": "slow"}
    finding = evaluate(plan, candidate_exchanges(plan, NOT_FOUND, timeout), now=NOW)
    assert (finding.outcome, finding.message) == (
        "inconclusive",
        "at /v1/discovery.json: could not measure: timed out (slow)",
    )


def test_candidates_report_the_most_telling_failure() -> None:
    plan = plan_probe(system("s", api_base="https://a.test/v1"), PROBES["open311"], TOKEN)
    finding = evaluate(plan, candidate_exchanges(plan, NOT_FOUND, SHELL_ANSWER), now=NOW)
    assert (finding.outcome, finding.message, finding.observed) == (
        "fail",
        "at /v1/discovery.json: served as text/html: a web page, not an Open311 document; "
        "3 other paths failed too",
        True,
    )


def test_a_not_applicable_verdict_decides() -> None:
    plan = plan_probe(
        system("s", api_base="https://a.test/v1"), PROBES["deprecation-signals"], TOKEN
    )
    finding = evaluate(plan, exchanges_for(plan, {"status": 200, "headers": JSON}), now=NOW)
    assert (finding.outcome, finding.credit, finding.observed) == ("not_applicable", 0.0, True)


UI_PAGE = {"status": 200, "headers": HTML, "body": '<redoc spec-url="/spec/openapi.json"></redoc>'}
SPEC_URL = "https://d.test/spec/openapi.json"


def ui_plan() -> ProbePlan:
    return plan_probe(system("s", docs=DOCS), PROBES["docs-link-spec"], TOKEN)


def test_follow_up_requests_come_from_passing_first_responses() -> None:
    plan = ui_plan()
    first = exchanges_for(plan, UI_PAGE, {"status": 404})
    (follow,) = follow_up_requests([plan, plan], first, now=NOW)
    assert follow == FetchRequest(SPEC_URL, accept=PROBES["openapi-published"].request.accept)
    # Already fetched (the catalogue's spec URL with the same Accept): nothing more to fetch.
    assert (
        follow_up_requests([plan], first | {follow.key: Exchange(follow, SPEC_URL, 200)}, now=NOW)
        == []
    )
    # A first response that fails its expectations is not followed.
    walled = exchanges_for(plan, {"status": 401}, {"status": 404})
    assert follow_up_requests([plan], walled, now=NOW) == []
    assert follow_up_requests([plan], {}, now=NOW) == []


def test_a_followed_link_is_judged_by_the_follow_expectations() -> None:
    plan = ui_plan()
    first = exchanges_for(plan, UI_PAGE, {"status": 404})
    (follow,) = follow_up_requests([plan], first, now=NOW)
    spec = {"status": 200, "headers": JSON, "body": OPENAPI}
    found = first | {follow.key: exchange_from_example(spec, follow)}
    finding = evaluate(plan, found, now=NOW)
    assert finding.outcome == "pass"
    assert finding.message.startswith(f"the Redoc page loads {SPEC_URL}: ")
    assert finding.evidence[-1] == follow.key
    missing = evaluate(plan, first, now=NOW)
    assert (missing.outcome, missing.message) == (
        "inconclusive",
        f"the Redoc page loads {SPEC_URL}; could not measure: it was not fetched",
    )
    broken = first | {follow.key: exchange_from_example({"status": 503}, follow)}
    assert evaluate(plan, broken, now=NOW).outcome == "inconclusive"
    shell = first | {follow.key: exchange_from_example(SHELL_ANSWER, follow)}
    assert evaluate(plan, shell, now=NOW).outcome == "fail"


def test_no_link_takes_the_follow_when_no_link_outcome() -> None:
    page = {"status": 200, "headers": HTML, "body": "<h1>Bins</h1>"}
    calendar = plan_probe(system("s", docs=DOCS), PROBES["icalendar"], TOKEN)
    assert evaluate(calendar, exchanges_for(calendar, page, {"status": 404}), now=NOW).outcome == (
        "inconclusive"
    )
    ui = ui_plan()
    assert evaluate(ui, exchanges_for(ui, page, {"status": 404}), now=NOW).outcome == "fail"
