"""Planning (which requests, deduplicated) and evaluation (exchanges -> findings), as pure
functions on plain values; then the shipped methodology on the market archetypes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import pytest

from api_audit.evaluate import evaluate, exchange_from_example
from api_audit.models import (
    Exchange,
    Expectation,
    FetchRequest,
    Finding,
    Hop,
    Methodology,
    Probe,
    ProbeRequest,
    System,
)
from api_audit.plan import ProbePlan, api_origin, distinct_requests, plan_probe, plan_probes
from api_audit.probes import load_methodology
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
    # docs-public and docs-anonymous share their requests; so do openapi-published and
    # spec-anonymous; one baseline per origin and Accept.
    assert sorted(urls) == sorted(
        [
            "https://api.open.test/.well-known/api-catalog",
            "https://dev.open.test/docs",
            "https://dev.open.test/__api_audit_t0k3n",
            "https://api.open.test/.well-known/openid-configuration",
            "https://api.open.test/openapi.json",
            "https://api.open.test/__api_audit_t0k3n",
            "https://api.open.test/.well-known/security.txt",
            "https://api.open.test/v1",
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
        ("openapi-published", "no spec URL in the catalogue"),
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
    assert plan.target == FetchRequest("https://s.test/o.json")


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


def test_missing_target_takes_when_missing() -> None:
    plan = plan_probe(system("s"), PROBES["docs-public"], TOKEN)
    finding = evaluate(plan, {}, now=NOW)
    assert (finding.outcome, finding.message, finding.observed, finding.evidence) == (
        "fail",
        "no docs URL in the catalogue",
        False,
        (),
    )
    plan = plan_probe(system("s"), PROBES["docs-anonymous"], TOKEN)
    assert evaluate(plan, {}, now=NOW).outcome == "not_applicable"


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
            "could not measure: robots (robots.txt disallows /docs)",
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
    assert finding.evidence == (plan.target.key,)  # the baseline was not fetched


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
        "no Content-Type header (expected text/html or application/xhtml+xml)",
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
            Expectation("status", "2xx"),
            Expectation("final_scheme", "https"),
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
            status, headers, body = routes.get(urlsplit(url).path, missing)
            if status in (301, 302) and len(hops) < 5:
                hops.append(Hop(status, url, headers["location"]))
                url = urljoin(url, headers["location"])
                continue
            return Exchange(
                request, url, status, tuple(headers.items()), body.encode(), tuple(hops)
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
                "/docs": (200, HTML, "<h1>Gateway help</h1>"),
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


def audit(name: str) -> list[Finding]:
    paths, fetch = ARCHETYPES[name]
    port = 8000 + list(ARCHETYPES).index(name)
    origin = f"http://127.0.0.1:{port}"  # loopback test servers speak plain http
    target = system(name, **{kind: origin + path for kind, path in paths.items()})
    plans = plan_probes([target], METHODOLOGY, TOKEN)
    exchanges = {r.key: fetch(r) for r in distinct_requests(plans)}
    return [evaluate(plan, exchanges, now=NOW) for plan in plans]


def outcomes(name: str) -> dict[str, str]:
    return {f.probe_id: f.outcome for f in audit(name)}


def test_archetype_outcomes() -> None:
    assert outcomes("open") == {
        "api-catalog": "pass",
        "docs-anonymous": "pass",
        "docs-public": "pass",
        "https": "fail",
        "oauth-discovery": "pass",
        "openapi-published": "pass",
        "security-txt": "pass",
        "spec-anonymous": "pass",
    }
    assert outcomes("docs-only") == {
        "api-catalog": "fail",
        "docs-anonymous": "pass",
        "docs-public": "pass",
        "https": "fail",
        "oauth-discovery": "fail",
        "openapi-published": "fail",
        "security-txt": "fail",
        "spec-anonymous": "not_applicable",
    }
    assert set(outcomes("login-wall").values()) == {"fail"}
    assert set(outcomes("app-shell").values()) == {"fail"}
    assert set(outcomes("unreachable").values()) == {"inconclusive"}


def test_archetype_messages_say_why() -> None:
    wall = {f.probe_id: f.message for f in audit("login-wall")}
    assert wall["docs-public"].startswith("redirected to a sign-in page at http://127.0.0.1:")
    assert wall["openapi-published"] == "401 Unauthorized: needs an account"
    shell = {f.probe_id: f.message for f in audit("app-shell")}
    assert shell["docs-public"] == "same page as a random path: a soft-200 app shell"
    assert shell["openapi-published"] == (
        "served as text/html: a web page, not an OpenAPI document"
    )
    assert shell["api-catalog"] == "served as text/html, not application/linkset+json"


def test_archetypes_rank_as_the_market_was_built() -> None:
    scores = {name: score_system(name, audit(name), METHODOLOGY.rubric) for name in ARCHETYPES}
    value = {name: s.score for name, s in scores.items()}
    assert value == {
        "open": 8.2,
        "legacy": 5.6,
        "docs-only": 4.7,
        "login-wall": 0.0,
        "app-shell": 0.0,
        "unreachable": None,
    }
    assert {name: s.grade for name, s in scores.items()} == {
        "open": "A",
        "legacy": "C",
        "docs-only": "D",
        "login-wall": "E",
        "app-shell": "E",
        "unreachable": "?",
    }


def test_open_supplier_over_https_scores_full_marks() -> None:
    routes = open_routes()
    fetch = serve(routes)
    target = system(
        "open",
        docs="https://open.test/docs",
        spec="https://open.test/openapi.json",
        api_base="https://open.test/v1",
    )
    plans = plan_probes([target], METHODOLOGY, TOKEN)
    exchanges = {r.key: fetch(r) for r in distinct_requests(plans)}
    findings = [evaluate(plan, exchanges, now=NOW) for plan in plans]
    assert score_system("open", findings, METHODOLOGY.rubric).score == 10.0


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
