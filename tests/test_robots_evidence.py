"""robots.txt as evidence (issue 15 item 4), and the Origin a probe may send (item 5), over
real loopback servers: the robots.txt an audit obeyed is stored, and cited by the findings it
blocked; a request with an Origin is its own request and carries the header."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from loopback import LoopbackSite, closed_port

from api_audit.audit import run_audit
from api_audit.methodology import expectation, load_methodology
from api_audit.models import (
    PROBE_ORIGIN,
    Catalogue,
    FetchRequest,
    Finding,
    Methodology,
    ProbeRequest,
    System,
    Vendor,
    robots_request,
)
from api_audit.net import FetchOptions, HttpEngine
from api_audit.net.robots import robots_url
from api_audit.net.urls import origin_of
from api_audit.plan import plan_probes
from api_audit.store import Store

DOCS = (200, {"Content-Type": "text/html"}, b"<html><title>API docs</title><p>Docs.</p></html>")


@pytest.fixture(scope="module")
def methodology() -> Methodology:
    """One small probe: the catalogue's docs page answers 2xx."""
    shipped = load_methodology(None)
    docs = replace(
        shipped.probes[0],
        id="docs-page",
        request=ProbeRequest(endpoint="docs", accept="text/html"),
        expect=(expectation("status", "2xx"),),
        applies_to=type(shipped.probes[0].applies_to)(),
    )
    return replace(shipped, probes=(docs,))


def audit_docs(origins: list[str], methodology: Methodology) -> tuple[Store, int, list[Finding]]:
    systems = [
        System(
            id=f"s{n}",
            name=f"System {n}",
            vendor_id=f"v{n}",
            vendor_name=f"Vendor {n}",
            service_areas=("waste",),
            endpoints={"docs": f"{origin}/help/docs"},
        )
        for n, origin in enumerate(origins)
    ]
    vendors = tuple(Vendor(id=s.vendor_id, name=s.vendor_name, systems=(s,)) for s in systems)
    catalogue = Catalogue(schema_version=1, vendors=vendors, source="test", sha256="0" * 64)
    store = Store.open(":memory:")
    options = FetchOptions(allow_private=True, min_interval=0)
    run = run_audit(store, catalogue, systems, methodology, options).run.id
    return store, run, store.findings(run)


def robots_key(origin: str) -> str:
    request = robots_request(origin + "/")
    assert request is not None
    return request.key


@pytest.mark.parametrize(
    "rules",
    [
        "User-agent: *\nDisallow: /help/\n",
        "User-agent: api-audit\nDisallow: /help/docs\n",
        "User-agent: *\nDisallow: /\n",
        "User-agent: *\nAllow: /elsewhere\nDisallow: /help\n",
    ],
)
def test_a_finding_blocked_by_robots_txt_cites_the_stored_robots_txt(
    rules: str, methodology: Methodology
) -> None:
    site = LoopbackSite(routes={"/help/docs": DOCS})
    site.robots(rules)
    try:
        store, run, (finding,) = audit_docs([site.origin], methodology)
    finally:
        site.close()
    assert finding.outcome == "inconclusive"
    assert "robots.txt disallows /help/docs" in finding.message
    assert site.hits["/help/docs"] == 0
    key = robots_key(site.origin)
    assert key in finding.evidence
    ref = store.evidence(run, finding.evidence)[key]
    assert ref.url == f"{site.origin}/robots.txt"
    assert ref.status == 200
    assert ref.sha256 == hashlib.sha256(rules.encode()).hexdigest()
    assert store.request_keys(run).count(key) == 1  # stored once


@pytest.mark.parametrize("status", [404, 410, 403])
def test_a_robots_txt_that_is_not_there_is_stored_too(
    status: int, methodology: Methodology
) -> None:
    site = LoopbackSite(routes={"/help/docs": DOCS, "/robots.txt": (status, {}, b"no")})
    try:
        store, run, (finding,) = audit_docs([site.origin], methodology)
    finally:
        site.close()
    assert finding.outcome == "pass"  # RFC 9309 §2.3.1.3: unavailable, so no rules
    key = robots_key(site.origin)
    assert key not in finding.evidence  # it blocked nothing
    assert store.evidence(run, [key])[key].status == status


def test_an_unreachable_robots_txt_is_stored_as_an_error_and_cited(
    methodology: Methodology,
) -> None:
    origin = f"http://127.0.0.1:{closed_port()}"
    store, run, (finding,) = audit_docs([origin], methodology)
    assert finding.outcome == "inconclusive"
    key = robots_key(origin)
    assert key in finding.evidence
    ref = store.evidence(run, [key])[key]
    assert (ref.status, ref.error, ref.sha256) == (None, "connect", None)


def test_one_robots_txt_per_origin_however_many_systems(methodology: Methodology) -> None:
    site = LoopbackSite(routes={"/help/docs": DOCS})
    site.robots("User-agent: *\nDisallow:\n")
    other = LoopbackSite(routes={"/help/docs": DOCS})
    try:
        store, run, findings = audit_docs([site.origin, other.origin, site.origin], methodology)
    finally:
        site.close()
        other.close()
    assert [f.outcome for f in findings] == ["pass"] * 3
    keys = store.request_keys(run)
    assert sorted(k for k in keys if "/robots.txt" in k) == sorted(
        {robots_key(site.origin), robots_key(other.origin)}
    )
    assert site.hits["/robots.txt"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/a/b?c=d",
        "https://Example.ORG/docs",
        "http://example.org/",
        "https://example.org:8443",
        "http://[::1]:9000/x",
        "https://bücher.example/docs",
    ],
)
def test_the_robots_txt_cited_is_the_one_the_engine_fetches(url: str) -> None:
    request = robots_request(url)
    assert request is not None
    assert request.url == robots_url(origin_of(httpx.URL(url)))


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "https:///nohost", ""])
def test_no_robots_txt_for_what_is_not_an_http_url(url: str) -> None:
    assert robots_request(url) is None


# --- the Origin a probe may send ----------------------------------------------------------


class _CorsWhenAsked(BaseHTTPRequestHandler):
    """Answers Access-Control-Allow-Origin only to a request that carries an Origin."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.headers.get("Origin"):
            self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("X-Origin-Seen", self.headers.get("Origin") or "-")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cors_when_asked() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CorsWhenAsked)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("origin", [None, PROBE_ORIGIN, "https://portal.example.test"])
def test_a_request_sends_its_origin_and_is_fetched_apart(
    cors_when_asked: str, origin: str | None
) -> None:
    url = f"{cors_when_asked}/api/v1"
    requests = [FetchRequest(url, accept="application/json"), FetchRequest(url, origin=origin)]

    async def go() -> list[Any]:
        options = FetchOptions(allow_private=True, min_interval=0, respect_robots=False)
        async with HttpEngine(options) as engine:
            return list(await asyncio.gather(*(engine.fetch(r) for r in requests)))

    plain, asked = asyncio.run(go())
    assert plain.header("access-control-allow-origin") is None
    assert plain.header("x-origin-seen") == "-"
    assert asked.header("x-origin-seen") == (origin or "-")
    assert (asked.header("access-control-allow-origin") == "*") is (origin is not None)


def test_keys_tell_requests_with_different_origins_apart() -> None:
    url = "https://api.example/v1"
    keys = {FetchRequest(url, origin=o).key for o in (None, PROBE_ORIGIN, "https://a.example")}
    assert len(keys) == 3
    assert FetchRequest(url).key == f"GET {url} accept=*/*"  # unchanged: old runs resume


def test_the_cors_probe_passes_on_a_server_that_answers_cors_only_when_asked(
    cors_when_asked: str,
) -> None:
    shipped = load_methodology(None)
    cors = next(p for p in shipped.probes if p.id == "open-data-cors")
    system = System(
        id="s",
        name="Open data",
        vendor_id="v",
        vendor_name="Vendor",
        service_areas=("open-data",),
        endpoints={"api_base": f"{cors_when_asked}/api/v1"},
    )
    (plan,) = plan_probes([system], replace(shipped, probes=(cors,)), "t0k3n")
    assert plan.target is not None
    assert plan.target.origin == PROBE_ORIGIN
    vendors = (Vendor(id="v", name="Vendor", systems=(system,)),)
    catalogue = Catalogue(schema_version=1, vendors=vendors, source="test", sha256="0" * 64)
    store = Store.open(":memory:")
    options = FetchOptions(allow_private=True, min_interval=0)
    run = run_audit(store, catalogue, [system], replace(shipped, probes=(cors,)), options)
    (finding,) = store.findings(run.run.id)
    assert finding.outcome == "pass", finding.message
    (stored,) = store.exchanges_for(run.run.id, [plan.target.key]).values()
    assert stored.request.origin == PROBE_ORIGIN  # read back from the store as sent
