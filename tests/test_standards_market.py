"""End to end: a simulated market whose suppliers really serve (or fake) the standards.

Each real supplier serves one standard the way its specification says, on its own
127.0.0.x address; each fake supplier answers at the right paths with one of the fakes the
market really has (an HTML app shell, the right body with the wrong content type, a login
redirect, truncated JSON). Audited through the command line with --allow-private, every
real standard's probe passes and every fake one is not credited.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping

import pytest
import yaml

from api_audit.cli import main
from api_audit.demo.market import Route, Supplier, serve_market

JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html; charset=utf-8"}
SHELL = b'<!doctype html><html><div id="root"></div><script src="/app.js"></script></html>'
LOGIN = b'<html><form method="post"><input name="u"><input type="password" name="p"></form></html>'

SERVICES = [{"service_code": "001", "service_name": "Missed bin", "type": "realtime"}]
ORUK_V1 = {
    "totalElements": 1,
    "totalPages": 1,
    "number": 1,
    "size": 50,
    "first": True,
    "last": True,
    "content": [{"id": "s1", "name": "Stay and play"}],
}
ORUK_3 = {
    "total_items": 1,
    "total_pages": 1,
    "page_number": 1,
    "size": 50,
    "first_page": True,
    "last_page": True,
    "empty": False,
    "contents": [{"id": "a1", "name": "Carers support"}],
}
CONFORMANCE = {
    "conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    ]
}
CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json"],
}
EDMX = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
    b'<edmx:DataServices><Schema Namespace="Ledger" '
    b'xmlns="http://docs.oasis-open.org/odata/ns/edm"/></edmx:DataServices></edmx:Edmx>'
)
GRAPHQL = {"data": {"__typename": "Query"}}
CKAN = {"help": "status_show", "success": True, "result": {"ckan_version": "2.10.4"}}
CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bins//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
    b"DTSTART;VALUE=DATE:20261103\r\nSUMMARY:Recycling\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Housing repairs", "version": "2.1"},
    "paths": {"/repairs": {"get": {"responses": {"200": {"description": "OK"}}}}},
}
APIS_JSON = {
    "name": "Repairs Co APIs",
    "specificationVersion": "0.18",
    "apis": [{"name": "Repairs", "baseURL": "/api/v2", "humanURL": "/docs"}],
}
SWAGGER_UI = (
    b'<html><div id="swagger-ui"></div><script src="swagger-ui-bundle.js"></script>'
    b'<script>window.ui = SwaggerUIBundle({url: "/specs/v2.json", dom_id: "#swagger-ui"})'
    b"</script></html>"
)
ASMX_HELP = (
    b"<html><body><h1>Open311Service</h1><p>The following operations are supported. "
    b'For a formal definition, please review the <a href="?WSDL">Service Description</a>.'
    b"</p></body></html>"
)
PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404}

# Every sector standard applies to a fake supplier, and it claims the protocols too: the
# catalogue's `protocols:` words (vendors.yaml), which the odata and graphql probes check.
ALL_AREAS = ("waste", "directories", "geospatial", "social-care", "open-data")
PROTOCOL_CLAIMS: Mapping[str, list[str]] = {
    "real-odata": ["odata"],
    "real-graphql": ["graphql"],
    "fake-shell": ["odata", "graphql"],
    "fake-type": ["odata", "graphql"],
    "fake-login": ["odata", "graphql"],
    "fake-truncated": ["odata", "graphql"],
}


def _json(value: object, headers: Mapping[str, str] = JSON, status: int = 200) -> Route:
    return status, headers, json.dumps(value).encode()


def _supplier(
    index: int,
    system_id: str,
    areas: tuple[str, ...],
    endpoints: Mapping[str, str],
    routes: Mapping[str, Route],
    fallback: Route = (404, {"content-type": "text/plain"}, b"Not found"),
) -> Supplier:
    return Supplier(
        vendor_id=f"vendor-{system_id}",
        vendor_name=f"Vendor {system_id}",
        system_id=system_id,
        system_name=system_id.replace("-", " ").title(),
        service_areas=areas,
        endpoints=endpoints,
        routes=routes,
        fallback=fallback,
        host=f"127.0.0.{index}",
    )


def real_suppliers() -> list[Supplier]:
    bins_docs = b'<html><h1>Waste API</h1><a href="/calendars/bins.ics">Bin days</a></html>'
    open_headers = {
        **JSON,
        "access-control-allow-origin": "*",
        "ratelimit-policy": '"default";q=100;w=60',
        "ratelimit": '"default";r=99;t=60',
        "sunset": "Sat, 31 Jul 2027 00:00:00 GMT",
    }
    return [
        _supplier(
            10,
            "real-open311",
            ("waste",),
            {"docs": "/docs", "api_base": "/open311/v2"},
            {
                "/docs": (200, HTML, bins_docs),
                "/calendars/bins.ics": (200, {"content-type": "text/calendar"}, CALENDAR),
                "/open311/v2": _json({"services": "services.json"}, open_headers),
                "/open311/v2/services.json": _json(SERVICES),
                "/open311/v2/__api_audit_no_such_resource": _json(
                    PROBLEM, {"content-type": "application/problem+json"}, 404
                ),
            },
        ),
        _supplier(
            11,
            "real-oruk",
            ("directories",),
            {"api_base": "/api/v1"},
            {"/api/v1": _json({}), "/api/v1/services": _json(ORUK_V1)},
        ),
        _supplier(
            12,
            "real-oruk3",
            ("education",),
            {"api_base": "/o/ServiceDirectoryService/v2"},
            {"/o/ServiceDirectoryService/v2/services": _json(ORUK_3)},
        ),
        _supplier(
            13,
            "real-ogc",
            ("geospatial",),
            {"api_base": "/features/v1"},
            {"/features/v1/conformance": _json(CONFORMANCE)},
        ),
        _supplier(
            14,
            "real-fhir",
            ("social-care",),
            {"api_base": "/fhir/R4"},
            {"/fhir/R4/metadata": _json(CAPABILITY, {"content-type": "application/fhir+json"})},
        ),
        _supplier(
            15,
            "real-odata",
            ("finance-hr",),
            {"api_base": "/odata"},
            {"/odata/$metadata": (200, {"content-type": "application/xml"}, EDMX)},
        ),
        _supplier(
            16,
            "real-graphql",
            ("finance-hr",),
            {"api_base": "/api"},
            {"/api/graphql": _json(GRAPHQL, {"content-type": "application/graphql-response+json"})},
        ),
        _supplier(
            17,
            "real-ckan",
            ("open-data",),
            {"docs": "/", "api_base": "/api/3/action"},
            {"/api/3/action/status_show": _json(CKAN)},
        ),
        _supplier(
            18,
            "real-swagger-ui",
            ("housing",),
            {"docs": "/docs", "api_base": "/api/v2"},
            {
                "/docs": (200, HTML, SWAGGER_UI),
                "/specs/v2.json": _json(SPEC),
                "/apis.json": _json(APIS_JSON),
                "/api/v2": _json({"repairs": "/api/v2/repairs"}),
            },
        ),
        _supplier(
            19,
            "legacy-soap",
            ("crm",),
            {"api_base": "/ws/Open311Service.asmx"},
            {"/ws/Open311Service.asmx": (200, HTML, ASMX_HELP)},
        ),
    ]


# The paths a fake supplier answers: every standard's, under api_base /api.
STANDARD_PATHS: Mapping[str, tuple[bytes, str]] = {
    "/api/services.json": (json.dumps(SERVICES).encode(), "application/json"),
    "/api/services": (json.dumps(ORUK_V1).encode(), "application/json"),
    "/api/conformance": (json.dumps(CONFORMANCE).encode(), "application/json"),
    "/api/metadata": (json.dumps(CAPABILITY).encode(), "application/fhir+json"),
    "/api/$metadata": (EDMX, "application/xml"),
    "/api/graphql": (json.dumps(GRAPHQL).encode(), "application/json"),
    "/api/3/action/status_show": (json.dumps(CKAN).encode(), "application/json"),
    "/apis.json": (json.dumps(APIS_JSON).encode(), "application/json"),
    "/calendars/bins.ics": (CALENDAR, "text/calendar"),
    "/specs/v2.json": (json.dumps(SPEC).encode(), "application/json"),
}
FAKE_DOCS = (
    b'<html><h1>API</h1><redoc spec-url="/specs/v2.json"></redoc>'
    b'<a href="/calendars/bins.ics">Bins</a></html>'
)


def _wrong_type(body: bytes, media: str) -> Route:
    wrong = "text/html" if media != "text/calendar" else "text/plain"
    return 200, {"content-type": wrong}, body


def _truncated(body: bytes, media: str) -> Route:
    return 200, {"content-type": media}, body[: len(body) // 2]


def fake_suppliers() -> list[Supplier]:
    docs = {"docs": "/docs", "api_base": "/api"}
    shell: Route = (200, HTML, SHELL)
    return [
        _supplier(30, "fake-shell", ALL_AREAS, docs, {"/docs": (200, HTML, FAKE_DOCS)}, shell),
        _supplier(
            31,
            "fake-type",
            ALL_AREAS,
            docs,
            {"/docs": (200, HTML, FAKE_DOCS)}
            | {path: _wrong_type(*answer) for path, answer in STANDARD_PATHS.items()},
        ),
        _supplier(
            32,
            "fake-login",
            ALL_AREAS,
            docs,
            {"/docs": (200, HTML, FAKE_DOCS), "/login": (200, HTML, LOGIN)}
            | {path: (302, {"location": "/login?next=x"}, b"") for path in STANDARD_PATHS},
        ),
        _supplier(
            33,
            "fake-truncated",
            ALL_AREAS,
            docs,
            {"/docs": (200, HTML, FAKE_DOCS)}
            | {path: _truncated(*answer) for path, answer in STANDARD_PATHS.items()},
        ),
    ]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """system -> probe -> finding, from one `api-audit run` over the whole market."""
    tmp = tmp_path_factory.mktemp("standards-market")
    with serve_market(tuple(real_suppliers() + fake_suppliers())) as market:
        catalogue = market.catalogue()
        for vendor in catalogue["vendors"]:  # type: ignore[attr-defined]
            for system in vendor["systems"]:
                system["protocols"] = PROTOCOL_CLAIMS.get(system["id"], ["rest"])
        path = tmp / "vendors.yaml"
        path.write_text(yaml.safe_dump(catalogue, sort_keys=False), "utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            # --min-interval 0: these are our own loopback servers, no politeness needed.
            argv = ["run", "-c", str(path), "--db", str(tmp / "a.db"), "--allow-private"]
            code = main([*argv, "-f", "json", "--min-interval", "0"])
    assert code == 0, err.getvalue()
    rows = json.loads(out.getvalue())["systems"]
    return {row["system"]: {f["probe"]: f for f in row["findings"]} for row in rows}


REAL = [
    ("real-open311", "open311"),
    ("real-open311", "open-data-cors"),
    ("real-open311", "open-data-keyless"),
    ("real-open311", "rate-limits-published"),
    ("real-open311", "problem-json-errors"),
    ("real-open311", "deprecation-signals"),
    ("real-open311", "json-responses"),
    ("real-open311", "not-soap-only"),
    ("real-open311", "versioned-api"),
    ("real-oruk", "open-referral"),
    ("real-oruk3", "open-referral"),
    ("real-ogc", "ogc-api-features"),
    ("real-fhir", "fhir-capability"),
    ("real-odata", "odata-metadata"),
    ("real-graphql", "graphql"),
    ("real-ckan", "ckan-api"),
    ("real-swagger-ui", "apis-json"),
]


@pytest.mark.parametrize(("system", "probe"), REAL, ids=[f"{s}:{p}" for s, p in REAL])
def test_each_real_standard_is_detected(
    audited: dict[str, dict[str, dict]], system: str, probe: str
) -> None:
    finding = audited[system][probe]
    assert finding["outcome"] == "pass", finding["message"]


FAKED = [
    "open311",
    "open-referral",
    "ogc-api-features",
    "fhir-capability",
    "odata-metadata",
    "graphql",
    "ckan-api",
    "apis-json",
]
FAKES = ["fake-shell", "fake-type", "fake-login", "fake-truncated"]


@pytest.mark.parametrize("fake", FAKES)
@pytest.mark.parametrize("probe", FAKED)
def test_each_fake_standard_fails(
    audited: dict[str, dict[str, dict]], fake: str, probe: str
) -> None:
    finding = audited[fake][probe]
    assert finding["outcome"] == "fail", finding["message"]


def test_fakes_of_followed_documents_are_never_credited(
    audited: dict[str, dict[str, dict]],
) -> None:
    for fake in FAKES:
        for probe in ("docs-link-spec", "icalendar"):
            assert audited[fake][probe]["outcome"] != "pass", (fake, probe)


def test_fake_messages_say_which_fake(audited: dict[str, dict[str, dict]]) -> None:
    assert "web page" in audited["fake-shell"]["open-referral"]["message"]
    assert "text/html" in audited["fake-type"]["ogc-api-features"]["message"]
    assert "sign-in" in audited["fake-login"]["fhir-capability"]["message"]
    assert "not valid JSON" in audited["fake-truncated"]["ckan-api"]["message"]
    assert "cut off" in audited["fake-truncated"]["odata-metadata"]["message"]


def test_a_soap_only_surface_is_flagged_as_legacy(audited: dict[str, dict[str, dict]]) -> None:
    finding = audited["legacy-soap"]["not-soap-only"]
    assert finding["outcome"] == "fail"
    assert "ASMX" in finding["message"]


def test_sector_standards_apply_only_to_their_areas(audited: dict[str, dict[str, dict]]) -> None:
    waste = audited["real-open311"]
    for probe in ("open-referral", "ogc-api-features", "fhir-capability", "ckan-api"):
        assert waste[probe]["outcome"] == "not_applicable", probe
    for probe in ("odata-metadata", "graphql"):  # protocols: only where claimed
        assert waste[probe]["outcome"] == "not_applicable", probe
    assert audited["real-fhir"]["open311"]["outcome"] == "not_applicable"


def test_followed_documents_are_fetched_and_judged(audited: dict[str, dict[str, dict]]) -> None:
    assert audited["real-swagger-ui"]["docs-link-spec"]["outcome"] == "pass"
    assert audited["real-open311"]["icalendar"]["outcome"] == "pass"
    for fake in ("fake-shell", "fake-type", "fake-login", "fake-truncated"):
        assert audited[fake]["docs-link-spec"]["outcome"] == "fail", fake
        assert audited[fake]["icalendar"]["outcome"] == "fail", fake


def test_the_market_was_written_as_built(audited: dict[str, dict[str, dict]]) -> None:
    assert set(audited) == {s.system_id for s in real_suppliers() + fake_suppliers()}
