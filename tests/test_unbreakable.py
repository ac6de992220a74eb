"""One hostile vendor never costs the audit (issue 9, item 1).

Text with no UTF-8 form — a lone UTF-16 surrogate — can reach us from anywhere a vendor
controls: a JSON or YAML string escape ("\\ud800"), raw bytes like ED A0 80, a header
value the HTTP parser decodes surrogate-escaped. These tests put one in every place of
every kind of response and check, for every probe, that the finding is made and stored
(the character replaced by U+FFFD), that other systems lose nothing, and that the run is
never left `running`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_market import Market, Run, Site, audit, raw, static

from api_audit.errors import StoreError
from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.methodology import load_methodology
from api_audit.models import (
    ENDPOINT_KINDS,
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    Hop,
    System,
)
from api_audit.plan import distinct_requests, plan_probes
from api_audit.store import Store
from api_audit.text import without_surrogates

LONE = "\ud800"  # a high surrogate with no partner
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ORIGIN = "https://api.vendor.test"
METHODOLOGY = load_methodology(None)

# A document with every field a probe reads from specs, problem details, catalogues and
# data: OpenAPI/Swagger, AsyncAPI, RFC 9457 problem+json, api-catalog, CKAN, OData, JSON:API.
KITCHEN_SINK: dict[str, Any] = {
    "openapi": "3.0.3",
    "swagger": "2.0",
    "asyncapi": "2.6.0",
    "info": {
        "title": "Waste API",
        "version": "1.2.0",
        "description": "Collections and bins",
        "license": {"name": "OGL-UK-3.0", "url": "https://example.test/licence"},
        "contact": {"email": "api@example.test", "url": "https://example.test/contact"},
        "x-api-id": "waste",
    },
    "servers": [{"url": "https://api.example.test/v1", "description": "live"}],
    "host": "api.example.test",
    "basePath": "/v1",
    "paths": {"/bins": {"get": {"summary": "bins", "responses": {"200": {"description": "ok"}}}}},
    "components": {"securitySchemes": {"key": {"type": "apiKey", "name": "key", "in": "query"}}},
    "type": "https://example.test/problems/not-found",
    "title": "Not found",
    "status": 404,
    "detail": "No such bin",
    "instance": "/bins/1",
    "linkset": [{"anchor": "https://api.example.test/", "service-desc": [{"href": "/spec"}]}],
    "success": True,
    "result": ["waste-collections"],
    "@odata.context": "https://api.example.test/$metadata",
    "value": [{"name": "bins", "url": "bins"}],
    "data": [{"type": "bin", "id": "1", "attributes": {"colour": "green"}}],
    "links": {"self": "https://api.example.test/bins", "next": "/bins?page=2"},
    "version": "1.0",
    "service_code": "001",
}


def _string_places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place a string (or a key) sits in `value`; a key's place ends in `("key",)`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key, ("key",))
            yield from _string_places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_places(item, (*path, index))
    else:
        yield path  # strings, and numbers and booleans (replaced by a poisoned string)


def _poisoned(value: Any, place: tuple[Any, ...]) -> Any:
    """A copy of `value` with a lone surrogate put into the string (or key) at `place`."""
    if not place:
        return f"x{LONE}" if not isinstance(value, str) else value + LONE
    head, rest = place[0], place[1:]
    if rest == (("key",),):
        return {(k + LONE if k == head else k): v for k, v in value.items()}
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _poisoned(value[head], rest)
    return copy


PLACES = list(_string_places(KITCHEN_SINK))


def _system() -> System:
    """A system with every kind of endpoint, so every probe has a target."""
    endpoints = {kind: f"{ORIGIN}/{kind}" for kind in ENDPOINT_KINDS}
    return System(
        id="hostile",
        name="Hostile",
        vendor_id="v",
        vendor_name="V",
        service_areas=("waste", "planning", "democracy"),
        endpoints=endpoints,
    )


def _respond(request: FetchRequest, status: int, headers: dict[str, str], body: bytes) -> Exchange:
    return Exchange(
        request=request,
        final_url=request.url,
        status=status,
        headers=tuple((k.lower(), v) for k, v in headers.items()),
        body=body,
    )


def _judge_and_store(answer: Any) -> list[Finding]:
    """Every probe's finding on `_system()` when every request gets `answer(request)`,
    written to a fresh database and read back; the run must end complete."""
    plans = plan_probes([_system()], METHODOLOGY, random_token="t")
    exchanges = {r.key: answer(r) for r in distinct_requests(plans)}
    for request in follow_up_requests(plans, exchanges, now=NOW):
        exchanges[request.key] = answer(request)
    findings = [evaluate(plan, exchanges, now=NOW) for plan in plans]
    assert len(findings) == len(plans)
    with Store.open(":memory:") as store:
        run = _run(store)
        for exchange in exchanges.values():
            store.add_exchange(run, exchange)
        for finding in findings:
            store.add_finding(run, finding)
        store.finish_run(run)
        assert store.run_info(run).status == "complete"
        stored = store.findings(run)
        assert len(stored) == len(findings)
        assert len(store.exchanges(run)) == len(exchanges)
    for finding in stored:
        finding.message.encode("utf-8")  # raises if anything unencodable was kept
    return stored


def _run(store: Store) -> int:
    catalogue = Catalogue(schema_version=1, vendors=(), source="vendors.yaml", sha256="0" * 64)
    return store.start_run(
        catalogue=catalogue, methodology=METHODOLOGY, tool_version="t", options={}
    ).id


@pytest.mark.parametrize("place", PLACES, ids=lambda p: "/".join(map(str, p)) or "root")
@pytest.mark.parametrize("media", ["application/json", "application/problem+json", "yaml"])
def test_a_surrogate_anywhere_in_a_document_is_every_probes_finding(
    place: tuple[Any, ...], media: str
) -> None:
    document = _poisoned(KITCHEN_SINK, place)
    if media == "yaml":
        body = yaml.safe_dump(document, allow_unicode=False).encode("ascii")  # "\ud800" escape
        content_type = "application/yaml"
    else:
        body = json.dumps(document).encode("ascii")  # JSON spells it \ud800
        content_type = media
    assert b"\\ud800" in body.lower()  # the escape, as JSON or YAML spells it

    def answer(request: FetchRequest) -> Exchange:
        return _respond(request, 200, {"Content-Type": content_type}, body)

    _judge_and_store(answer)


RAW_LONE = b"\xed\xa0\x80"  # what UTF-8 would be for U+D800, which UTF-8 forbids


@pytest.mark.parametrize(
    "content_type",
    ["text/html; charset=utf-8", "application/json", "application/yaml", "text/plain",
     "application/xml", "text/calendar", "application/problem+json", ""],
)  # fmt: skip
@pytest.mark.parametrize("where", ["start", "middle", "end", "everywhere"])
def test_raw_surrogate_bytes_in_any_body_are_every_probes_finding(
    content_type: str, where: str
) -> None:
    text = (
        '{"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {}}'
        if "json" in content_type or "yaml" in content_type
        else "<html><head><title>API</title></head><body><a href='/spec'>spec</a></body></html>"
    )
    data = text.encode()
    body = {
        "start": RAW_LONE + data,
        "middle": data[:20] + RAW_LONE + data[20:],
        "end": data + RAW_LONE,
        "everywhere": RAW_LONE.join(bytes([b]) for b in data),
    }[where]

    def answer(request: FetchRequest) -> Exchange:
        headers = {"Content-Type": content_type} if content_type else {}
        return _respond(request, 200, headers, body)

    _judge_and_store(answer)


# Header values arrive from aiohttp's parser decoded with surrogateescape: a byte that is not
# UTF-8 becomes a lone surrogate (0x80 -> U+DC80).
ESCAPED = b"caf\xe9 \xed\xa0\x80".decode("utf-8", "surrogateescape")
HEADERS = [
    "content-type", "location", "link", "www-authenticate", "deprecation", "sunset",
    "server", "x-api-version", "api-version", "retry-after", "access-control-allow-origin",
    "strict-transport-security", "content-language", "set-cookie", "etag", "last-modified",
]  # fmt: skip


@pytest.mark.parametrize("name", HEADERS)
@pytest.mark.parametrize("status", [200, 302, 401, 404, 429, 503])
def test_a_surrogate_in_any_header_is_every_probes_finding(name: str, status: int) -> None:
    def answer(request: FetchRequest) -> Exchange:
        headers = {"Content-Type": "application/json", name: f"{ESCAPED}; rel={ESCAPED}"}
        body = json.dumps({"openapi": "3.0.3", "info": {"title": "T", "version": "1"}})
        exchange = _respond(request, status, headers, body.encode())
        if status == 302:
            hop = Hop(status=302, url=request.url, location=f"/login?next={ESCAPED}")
            exchange = dataclasses.replace(
                exchange, redirects=(hop,), final_url=f"{ORIGIN}/login?next={ESCAPED}"
            )
        return exchange

    _judge_and_store(answer)


# --- the store: any text field --------------------------------------------------------------


def _text_fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.type in ("str", "str | None")]


@pytest.mark.parametrize("field", [*_text_fields(Exchange), "request.url", "hop", "headers"])
def test_any_text_field_of_an_exchange_is_stored_cleaned(field: str) -> None:
    request = FetchRequest(url=f"{ORIGIN}/docs", accept="text/html")
    exchange = _respond(request, 200, {"content-type": "text/html"}, b"<h1>docs</h1>")
    if field == "request.url":
        exchange = dataclasses.replace(exchange, request=FetchRequest(url=f"{ORIGIN}/{LONE}"))
    elif field == "hop":
        hop = Hop(status=301, url=f"{ORIGIN}/{LONE}", location=f"/x{LONE}")
        exchange = dataclasses.replace(exchange, redirects=(hop,))
    elif field == "headers":
        exchange = dataclasses.replace(exchange, headers=((f"x-{LONE}", LONE),))
    else:
        exchange = dataclasses.replace(exchange, **{field: f"value {LONE}"})
    honest = _respond(FetchRequest(url=f"{ORIGIN}/ok"), 200, {}, b"ok")
    with Store.open(":memory:") as store:
        run = _run(store)
        store.add_exchange(run, honest)
        store.add_exchange(run, exchange)
        store.finish_run(run)
        stored = store.exchanges(run)
        assert store.run_info(run).status == "complete"
    assert stored[0].request.url == f"{ORIGIN}/ok"  # the honest one is kept
    assert len(stored) == 2
    text = json.dumps([dataclasses.asdict(e) | {"body": ""} for e in stored], ensure_ascii=False)
    assert "\ufffd" in text
    text.encode("utf-8")


@pytest.mark.parametrize("field", [*_text_fields(Finding), "evidence"])
def test_any_text_field_of_a_finding_is_stored_cleaned(field: str) -> None:
    finding = Finding(
        system_id="bad", probe_id="docs-public", criterion="documented", weight=3,
        outcome="pass", message="ok",
    )  # fmt: skip
    if field == "evidence":
        finding = dataclasses.replace(finding, evidence=(f"GET {ORIGIN}/{LONE} accept=*/*",))
    else:
        finding = dataclasses.replace(finding, **{field: f"{getattr(finding, field) or ''}{LONE}"})
    honest = Finding(
        system_id="good", probe_id="docs-public", criterion="documented", weight=3,
        outcome="pass", message="fine",
    )  # fmt: skip
    with Store.open(":memory:") as store:
        run = _run(store)
        store.add_finding(run, honest)
        store.add_finding(run, finding)
        store.finish_run(run)
        stored = {f.system_id: f for f in store.findings(run)}
    assert stored["good"] == honest
    bad = stored[without_surrogates(finding.system_id)]
    if field == "evidence":
        assert bad.evidence == (f"GET {ORIGIN}/\ufffd accept=*/*",)
    else:
        assert getattr(bad, field) == without_surrogates(getattr(finding, field))


def test_a_catalogue_path_with_undecodable_bytes_is_stored() -> None:
    source = b"/tmp/caf\xe9/vendors.yaml".decode("utf-8", "surrogateescape")
    with Store.open(":memory:") as store:
        run = store.start_run(
            catalogue=Catalogue(schema_version=1, vendors=(), source=source, sha256="0" * 64),
            methodology=METHODOLOGY,
            tool_version="t",
            options={"catalogue": source},
        )
        assert store.run_info(run.id).catalogue_source == "/tmp/caf\ufffd/vendors.yaml"


# --- a storage failure: what was written stays, the run is never left running --------------


def test_a_batch_that_cannot_be_written_leaves_earlier_batches_and_an_interrupted_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.db"
    with Store.open(path) as store:
        run = _run(store)
    with sqlite3.connect(path) as conn:  # a database that refuses one system's rows
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON findings WHEN NEW.system_id = 'refused'"
            " BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    good = Finding(
        system_id="good", probe_id="p", criterion="free", weight=1, outcome="pass", message="ok"
    )
    store = Store.open(path)
    store.add_finding(run, good)
    store.flush()
    store.add_finding(run, dataclasses.replace(good, system_id="refused"))
    with pytest.raises(StoreError, match="disk says no"):
        store.finish_run(run)
    store.close()  # the failed batch is not retried for ever on close
    with Store.open(path) as reopened:
        assert reopened.run_info(run).status == "interrupted"
        assert [f.system_id for f in reopened.findings(run)] == ["good"]


# --- through the command line: one hostile supplier among honest ones ----------------------


def _everywhere(status: int, content_type: str, body: bytes, *extra: tuple[bytes, bytes]) -> Any:
    """The same poisoned answer to every path the audit asks for."""
    lines = [f"HTTP/1.1 {status} X".encode(), f"Content-Type: {content_type}".encode()]
    lines += [name + b": " + value for name, value in extra]
    lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    return raw(b"\r\n".join(lines) + b"\r\n\r\n" + body)


SPEC_WITH_SURROGATES = json.dumps(_poisoned(_poisoned(KITCHEN_SINK, ("openapi",)), ("info",
    "title"))).replace('"servers"', '"x\\udfff":"\\ud800","servers"').encode()  # fmt: skip
HONEST_DOCS = b"<html><head><title>API documentation</title></head><body><h1>API</h1></body></html>"


def _hostile_sites() -> list[Site]:
    every_kind = {kind: f"/{kind}" for kind in ENDPOINT_KINDS}
    poisons = {
        "json-escapes": _everywhere(200, "application/json", SPEC_WITH_SURROGATES),
        "raw-bytes": _everywhere(200, "text/html; charset=utf-8", b"<h1>\xed\xa0\x80</h1>"),
        "problem": _everywhere(
            400, "application/problem+json", b'{"status": "\\ud800", "title": "\\udc00"}'
        ),
        "header-bytes": _everywhere(
            401,
            "text/html",
            b"<form><input type=password></form>",
            (b"WWW-Authenticate", b'Bearer realm="\xed\xa0\x80\xff"'),
            (b"Link", b'</spec\xff>; rel="service-desc"'),
        ),
        "location-bytes": _everywhere(302, "text/html", b"", (b"Location", b"/login?\xed\xa0\x80")),
    }
    return [Site(name, {}, every_kind, None, default=handler) for name, handler in poisons.items()]


def _honest_site() -> Site:
    return Site(
        "honest",
        {"/docs": static(200, HONEST_DOCS, Content_Type="text/html; charset=utf-8")},
        {"docs": "/docs"},
        None,
    )


@pytest.fixture(scope="module")
def honest_alone(tmp_path_factory: pytest.TempPathFactory) -> Run:
    market = Market([_honest_site()], None)
    try:
        return audit(market, tmp_path_factory.mktemp("alone"), "--allow-private", "-f", "json")
    finally:
        market.close()


@pytest.fixture(scope="module", params=["json", "table"])
def mixed_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    market = Market([*_hostile_sites(), _honest_site()], None)
    try:
        folder = tmp_path_factory.mktemp("mixed")
        return audit(market, folder, "--allow-private", "-f", request.param)
    finally:
        market.close()


def _stored(run: Run) -> tuple[str, dict[str, list[tuple[str, str, str]]]]:
    with sqlite3.connect(run.db) as conn:
        (status,) = conn.execute("SELECT status FROM runs").fetchone()
        rows = conn.execute(
            "SELECT system_id, probe_id, outcome, message FROM findings ORDER BY 1, 2"
        ).fetchall()
    by_system: dict[str, list[tuple[str, str, str]]] = {}
    for system, probe, outcome, message in rows:
        shown = re.sub(r"127\.0\.0\.1:\d+", "HOST", message)  # each market has its ports
        by_system.setdefault(system, []).append((probe, outcome, shown))
    return status, by_system


def test_one_hostile_supplier_costs_no_honest_finding(mixed_run: Run, honest_alone: Run) -> None:
    assert mixed_run.code == 0, mixed_run.err
    assert "internal error" not in mixed_run.err
    status, stored = _stored(mixed_run)
    assert status == "complete"
    alone_status, alone = _stored(honest_alone)
    assert alone_status == "complete"
    assert stored["honest"] == alone["honest"]  # every honest finding, as if alone


def test_every_hostile_supplier_gets_its_findings_stored(mixed_run: Run) -> None:
    _, stored = _stored(mixed_run)
    probes = {p.id for p in METHODOLOGY.probes}
    for site in ("json-escapes", "raw-bytes", "problem", "header-bytes", "location-bytes"):
        assert {probe for probe, _, _ in stored[site]} >= probes, site


def test_the_output_is_valid_utf8_with_replacement_characters(mixed_run: Run) -> None:
    mixed_run.out.encode("utf-8")
    mixed_run.err.encode("utf-8")
    if mixed_run.out.lstrip().startswith("{"):
        systems = {row["system"] for row in mixed_run.document()["systems"]}
        assert "json-escapes" in systems
        assert "\ufffd" in mixed_run.out


# --- one host cannot hold the run (item 3): a host that is always busy ---------------------


def test_a_host_answering_429_to_everything_is_left_alone_after_a_few_requests(
    tmp_path: Path,
) -> None:
    busy = Site(
        "busy",
        {"/robots.txt": static(404, b"", Content_Type="text/plain")},
        {kind: f"/{kind}" for kind in ENDPOINT_KINDS},
        None,
        default=static(429, b"slow down", Content_Type="text/plain", Retry_After="1"),
    )
    market = Market([busy, _honest_site()], None)
    try:
        run = audit(market, tmp_path, "--allow-private", "-f", "json")
    finally:
        market.close()
    assert run.code == 0, run.err
    asked = sum(n for path, n in busy.hits.items() if path != "/robots.txt")
    assert 1 <= asked <= 3 + 2 - 1  # --max-host-errors 3, --per-host 2
    findings = {row["system"]: row["findings"] for row in run.document()["systems"]}
    given_up = [f for f in findings["busy"] if "host given up" in f["message"]]
    assert given_up
    assert all(f["outcome"] == "inconclusive" for f in given_up)
    assert any(f["outcome"] == "pass" for f in findings["honest"])


# --- documents built to trip parsers: judged, not merely survived ------------------------

TRIPWIRES = {
    "a 5,000-digit number": ("application/json", b'{"openapi": ' + b"9" * 5000 + b"}"),
    "NaN and Infinity": ("application/json", b'{"openapi": NaN, "info": {"title": -Infinity}}'),
    "a status past any float": ("application/problem+json", b'{"status": 1e400, "title": "x"}'),
    "YAML tags": (
        "application/yaml",
        b"openapi: !!binary aGVsbG8=\ninfo: {title: !!timestamp 2001-12-14, version: !!set {a}}\n",
    ),
    "a YAML list as a key": ("application/yaml", b"? [a, b]\n: c\nopenapi: 3.0.0\n"),
    "numbers as keys": ("application/yaml", b"openapi: 3.0.0\npaths: {1: {get: {200: x}}}\n"),
    "a list at the top": ("application/json", b'[1, "openapi", {"openapi": "3.0.0"}]'),
    "a string at the top": ("application/json", b'"3.0.0"'),
    "every field the wrong type": (
        "application/json",
        b'{"openapi": ["3"], "info": "x", "paths": [], "servers": "x", "components": 5}',
    ),
    "UTF-16 JSON": ("application/json", '{"openapi": "3.0.0"}'.encode("utf-16")),
    "links that are not URLs": (
        "text/html",
        b"<a href='javascript:alert(1)'>spec</a><a href='//[::1'>x</a><a href='http://%zz'>y</a>",
    ),
    "dates past any calendar": (
        "text/calendar",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:99999999T999999Z\r\nEND:VEVENT\r\n",
    ),
    "an XML entity bomb": (
        "application/xml",
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><x>&b;</x>',
    ),
    "a security.txt from year 99999": ("text/plain", b"Expires: 99999-99-99T99:99:99Z\n"),
}
BAD_HEADERS = {"Link": '<\xff>; rel="service-desc"', "Sunset": "soon", "Deprecation": "@9" * 30}


@pytest.mark.parametrize("name", TRIPWIRES)
def test_a_document_built_to_trip_parsers_is_judged_by_every_probe(name: str) -> None:
    content_type, body = TRIPWIRES[name]

    def answer(request: FetchRequest) -> Exchange:
        return _respond(request, 200, {"Content-Type": content_type, **BAD_HEADERS}, body)

    stored = _judge_and_store(answer)
    assert [f.probe_id for f in stored if "could not judge" in f.message] == []
