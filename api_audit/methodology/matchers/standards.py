"""Matchers for the documents sector and protocol standards define, in the shape they require.

Open311 GeoReport v2, Open Referral UK, OGC API - Features, FHIR, OData, GraphQL, CKAN and
iCalendar (RFC 5545): each checks the structure its standard requires, served with the
media type it requires, so an app shell at the right path earns nothing.
"""

from __future__ import annotations

import re
from typing import cast

from api_audit.methodology.documents import UnsafeDocument
from api_audit.methodology.matchers.arguments import Always, read_true
from api_audit.methodology.matchers.context import (
    JSON_MEDIA,
    XML_MEDIA,
    MatchContext,
    json_or_failure,
    media_is,
    served_as,
    typed_json,
)
from api_audit.methodology.matchers.markup import looks_like_html
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    counted,
    failed,
    passed,
)
from api_audit.methodology.xml_reader import XmlElement
from api_audit.text import quote

# --- Open311, Open Referral UK -------------------------------------------------------------

# Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2): XML is the format every endpoint
# must serve, JSON is optional. A services list is <services><service> with service_code
# and service_name (JSON: an array of such objects); discovery is <discovery><endpoints>
# <endpoint><specification> naming GeoReport_v2. FixMyStreet's Open311 server
# (mysociety/fixmystreet, Controller/Open311.pm) wraps its JSON in {"services": [...]} and
# {"discovery": {...}}: the same documents, credited the same.
_OPEN311_MEDIA = (*JSON_MEDIA, *XML_MEDIA)
_SERVICE_FIELDS = ("service_code", "service_name")


@matcher(
    "open311",
    read=read_true,
    argument="true",
    doc="Open311 GeoReport v2, in XML (which the specification requires) or JSON: a "
    "non-empty services list whose services have service_code and service_name "
    "(<services><service>, a JSON array, or FixMyStreet's {services: [...]}), or a "
    "discovery document with a GeoReport_v2 endpoint (<discovery>, {endpoints: [...]}, "
    "or {discovery: {...}}).",
)
def match_open311(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if looks_like_html(ex):
        return failed(f"served as {served_as(ex)}: a web page, not an Open311 document")
    if not media_is(ex, _OPEN311_MEDIA):
        return failed(f"served as {served_as(ex)} (expected XML or JSON)")
    try:
        if media_is(ex, XML_MEDIA):
            return _open311_xml(ctx.xml_body())
        return _open311_json(ctx.json_body())
    except UnsafeDocument as exc:
        return failed(exc.reason)


def _open311_xml(root: XmlElement) -> Verdict:
    if root.name == "services":
        services: list[dict[str, object]] = [
            {c.name: c.text for c in s.children} for s in root.all("service")[:50]
        ]
        return _open311_services(services, len(root.all("service")), "XML")
    if root.name == "discovery":
        endpoints = root.child("endpoints")
        found = endpoints.all("endpoint") if endpoints else []
        specs = [e.child("specification") for e in found]
        return _open311_discovery([s.text for s in specs if s is not None], "XML")
    if root.name == "errors":
        error = root.child("error")
        said = error.child("description") if error else None
        shown = f": {quote(said.text, 80)!r}" if said is not None and said.text else ""
        return failed(f"an Open311 error response{shown}")
    return failed(f"XML whose root is <{quote(root.name, 40)}>, not Open311 services or discovery")


def _open311_json(data: object) -> Verdict:
    if isinstance(data, dict) and isinstance(data.get("discovery"), dict):
        data = data["discovery"]  # FixMyStreet's wrapper
    if isinstance(data, dict) and isinstance(data.get("endpoints"), list):
        found = [e.get("specification") for e in data["endpoints"][:50] if isinstance(e, dict)]
        return _open311_discovery([s for s in found if isinstance(s, str)], "JSON")
    if isinstance(data, dict) and isinstance(data.get("services"), list):
        data = data["services"]  # FixMyStreet's wrapper
    if not isinstance(data, list):
        return failed("not an Open311 services list (a JSON array of services)")
    services = [item if isinstance(item, dict) else {} for item in data[:50]]
    return _open311_services(services, len(data), "JSON")


def _open311_services(services: list[dict[str, object]], total: int, form: str) -> Verdict:
    if not total:
        return failed("an empty services list: no service to report against")
    for service in services:
        if not all(_filled(service.get(key)) for key in _SERVICE_FIELDS):
            return failed("a service without service_code and service_name")
    return passed(f"Open311 GeoReport v2 services list ({form}), {counted(total, 'service')}")


def _filled(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(value.strip()))


def _open311_discovery(specifications: list[str], form: str) -> Verdict:
    for spec in specifications:
        if "georeport_v2" in spec.lower():
            return passed(f"Open311 discovery document ({form}, {quote(spec, 60)})")
    return failed("a discovery document with no GeoReport v2 endpoint")


_ORUK_SHAPES = (
    ("Open Referral UK v1 page", "totalElements", "content"),
    ("Open Referral UK 3 / HSDS 3 page", "total_items", "contents"),
)


@matcher(
    "open_referral",
    read=read_true,
    argument="true",
    doc="An Open Referral UK page of services: totalElements + content (v1) or "
    "total_items + contents (ORUK 3 / HSDS 3), each service with id and name.",
)
def match_open_referral(_: Always, ctx: MatchContext) -> Verdict:
    data = typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict):
        return failed("not a JSON object (expected a page of services)")
    for name, total_key, items_key in _ORUK_SHAPES:
        total, items = data.get(total_key), data.get(items_key)
        if isinstance(total, int) and not isinstance(total, bool) and isinstance(items, list):
            for item in items[:50]:
                if not isinstance(item, dict) or "id" not in item or "name" not in item:
                    return failed(f"{name}, but a service has no id or name")
            return passed(f"{name}: {counted(total, 'service')}")
    return failed("no totalElements/content (ORUK v1) or total_items/contents (ORUK 3) page")


# --- OGC API - Features, FHIR --------------------------------------------------------------

OGC_FEATURES_CORE = "ogcapi-features-1/1.0/conf/core"
# Part 1 v1.1 (OGC 17-069r4) names its classes .../ogcapi-features-1/1.1/conf/...: any
# 1.x revision of the Features core class counts.
_OGC_FEATURES_CORE = re.compile(r"ogcapi-features-1/1\.[0-9]{1,2}/conf/core$")


@matcher(
    "ogc_features",
    read=read_true,
    argument="true",
    doc=f"An OGC API conformance document whose conformsTo lists `.../{OGC_FEATURES_CORE}` "
    "(or the core class of a later 1.x revision, such as 1.1).",
)
def match_ogc_features(_: Always, ctx: MatchContext) -> Verdict:
    data = typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    classes = data.get("conformsTo") if isinstance(data, dict) else None
    if not isinstance(classes, list):
        return failed("no conformsTo list")
    core = [
        c
        for c in classes
        if isinstance(c, str)
        and "opengis.net/spec/" in c
        and _OGC_FEATURES_CORE.search(c.rstrip("/")) is not None
    ]
    if not core:
        return failed(
            f"conformsTo lists {counted(len(classes), 'class')}, none of them Features core"
        )
    return passed(f"conforms to OGC API - Features core ({counted(len(classes), 'class')})")


_FHIR_JSON = ("application/fhir+json", "application/json", "application/json+fhir")
_FHIR_XML = ("application/fhir+xml", "application/xml", "text/xml", "application/xml+fhir")
_FHIR_NAMESPACE = "http://hl7.org/fhir"

# Which FHIR releases count (hl7.org/fhir/directory.html). R4 (4.0.x) is the release UK Core
# profiles, so NHS and care interoperability is built on it; R4B (4.3.x) and R5 (5.0.x)
# are later releases a server may rightly serve. STU3 (3.0.x) is superseded: the NHS's
# earlier CareConnect profiles were STU3, UK Core replaces them on R4; half credit. Any other
# version (a ballot or development build such as 4.2.0, 5.0.0-snapshot1; DSTU2, which has
# no CapabilityStatement) is not a published release to build against, and fails.
_FHIR_RELEASES: dict[tuple[int, int], tuple[str, float]] = {
    (3, 0): ("STU3", 0.5),
    (4, 0): ("R4", 1.0),
    (4, 3): ("R4B", 1.0),
    (5, 0): ("R5", 1.0),
}
_FHIR_VERSION = re.compile(r"^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(-[0-9A-Za-z.-]{1,40})?$")


@matcher(
    "fhir_capability",
    read=read_true,
    argument="true",
    doc="A FHIR CapabilityStatement in JSON (application/fhir+json or application/json) or "
    "XML (application/fhir+xml), whose fhirVersion is a published release: R4 (4.0.x), "
    "R4B (4.3.x), R5 (5.0.x) or a later release earn full credit, STU3 (3.0.x) half; "
    "ballot and development versions, or none, fail. The message names the version seen.",
)
def match_fhir_capability(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if media_is(ex, _FHIR_XML) and not looks_like_html(ex):
        try:
            root = ctx.xml_body()
        except UnsafeDocument as exc:
            return failed(exc.reason)
        if root.name != "CapabilityStatement" or root.namespace != _FHIR_NAMESPACE:
            where = f"<{quote(root.name, 40)}> in namespace {quote(root.namespace, 60)!r}"
            return failed(f"not a FHIR CapabilityStatement (XML root {where})")
        element = root.child("fhirVersion")
        return _fhir_release(element.attribute("value") if element else None)
    data = typed_json(ctx, _FHIR_JSON)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or data.get("resourceType") != "CapabilityStatement":
        kind = data.get("resourceType") if isinstance(data, dict) else None
        shown = f" (resourceType {quote(str(kind), 40)!r})" if kind else ""
        return failed(f"not a FHIR CapabilityStatement{shown}")
    return _fhir_release(data.get("fhirVersion"))


def _fhir_release(version: object) -> Verdict:
    """Judge a CapabilityStatement by its fhirVersion, naming the version seen."""
    if not isinstance(version, str) or not version.strip():
        return failed("a CapabilityStatement without fhirVersion")
    shown = quote(version.strip(), 30)
    match = _FHIR_VERSION.match(version.strip())
    if match is None:
        return failed(f"a CapabilityStatement whose fhirVersion {shown!r} is not a FHIR version")
    key = (int(match.group(1)), int(match.group(2)))
    if match.group(4) is None and key in _FHIR_RELEASES:
        name, credit = _FHIR_RELEASES[key]
        note = "; STU3 is superseded by R4: half credit" if credit < 1 else ""
        return passed(f"FHIR {name} CapabilityStatement, fhirVersion {shown}{note}", credit)
    if match.group(4) is None and key[0] >= 6 and key[1] == 0:
        return passed(f"FHIR CapabilityStatement, fhirVersion {shown} (a release after R5)")
    return failed(
        f"a CapabilityStatement for FHIR {shown}: not a published release "
        "(R4 4.0, R4B 4.3, R5 5.0; STU3 3.0 for half credit)"
    )


# --- OData, GraphQL, CKAN ------------------------------------------------------------------

_EDMX_OPEN = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Edmx\b[^<>]*>")
_EDMX_CLOSE = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?Edmx\s*>")
_EDMX_NAMESPACES = (
    "http://docs.oasis-open.org/odata/ns/edmx",  # OData v4
    "http://schemas.microsoft.com/ado/2007/06/edmx",  # OData v2/v3
)
_VERSION_ATTRIBUTE = re.compile(r"""\bVersion\s*=\s*["']([0-9.]{1,10})["']""")


@matcher(
    "odata_metadata",
    read=read_true,
    argument="true",
    doc="OData service metadata: an edmx:Edmx document in the OData namespace (XML, "
    "complete) or CSDL JSON with $Version.",
)
def match_odata_metadata(_: Always, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    ex = ctx.exchange
    if media_is(ex, JSON_MEDIA):  # CSDL JSON (OData 4.01)
        data = json_or_failure(ctx)
        if isinstance(data, Verdict):
            return data
        version = data.get("$Version") if isinstance(data, dict) else None
        if isinstance(version, str):
            return passed(f"OData CSDL JSON, version {quote(version, 10)}")
        return failed("JSON without $Version: not CSDL JSON")
    if looks_like_html(ex) or not media_is(ex, XML_MEDIA):
        return failed(f"served as {served_as(ex)} (expected application/xml)")
    opening = _EDMX_OPEN.search(ctx.text())
    if opening is None or not any(ns in opening.group(0) for ns in _EDMX_NAMESPACES):
        return failed("no edmx:Edmx root in the OData namespace")
    tail = ex.body[-4096:].decode("utf-8", "replace")
    if _EDMX_CLOSE.search(tail) is None:
        return failed("the Edmx document is cut off (no closing </edmx:Edmx>)")
    version = _VERSION_ATTRIBUTE.search(opening.group(0))
    return passed(f"OData CSDL (Edmx version {version.group(1) if version else '?'})")


_GRAPHQL_MEDIA = ("application/graphql-response+json", "application/json", "*/*+json")


@matcher(
    "graphql",
    read=read_true,
    argument="true",
    doc="A GraphQL-over-HTTP answer: JSON with a data object, or GraphQL-shaped errors "
    "(a list of objects with a message).",
)
def match_graphql(_: Always, ctx: MatchContext) -> Verdict:
    data = typed_json(ctx, _GRAPHQL_MEDIA)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict):
        return failed("not a JSON object")
    if isinstance(data.get("data"), dict):
        return passed("GraphQL answered the query")
    errors = data.get("errors")
    if (
        isinstance(errors, list)
        and errors
        and all(isinstance(e, dict) and isinstance(e.get("message"), str) for e in errors)
    ):
        message = quote(cast(str, errors[0]["message"]), 80)
        return passed(f"a GraphQL error response: {message!r}")
    return failed("neither data nor GraphQL errors [{message}]")


@matcher(
    "ckan_status",
    read=read_true,
    argument="true",
    doc="CKAN's status_show: JSON with success: true and result.ckan_version.",
)
def match_ckan_status(_: Always, ctx: MatchContext) -> Verdict:
    data = typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or data.get("success") is not True:
        return failed("no success: true")
    result = data.get("result")
    version = result.get("ckan_version") if isinstance(result, dict) else None
    if not isinstance(version, str):
        return failed("no result.ckan_version")
    return passed(f"CKAN {quote(version, 20)}")


# --- iCalendar (RFC 5545) ------------------------------------------------------------------


@matcher(
    "icalendar",
    read=read_true,
    argument="true",
    doc="RFC 5545: text/calendar from BEGIN:VCALENDAR to END:VCALENDAR with VERSION:2.0 "
    "and PRODID.",
)
def match_icalendar(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    if ex.content_type != "text/calendar":
        return failed(f"served as {served_as(ex)}, not text/calendar")
    text = ex.body.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    lines = {line.strip().upper() for line in text.splitlines()}
    if not text.upper().startswith("BEGIN:VCALENDAR"):
        return failed("does not start with BEGIN:VCALENDAR")
    if "VERSION:2.0" not in lines:
        return failed("no VERSION:2.0")
    if not any(line.startswith("PRODID") for line in lines):
        return failed("no PRODID")
    if "END:VCALENDAR" not in lines:
        return failed("cut off: no END:VCALENDAR")
    events = sum(1 for line in text.upper().splitlines() if line.strip() == "BEGIN:VEVENT")
    return passed(f"iCalendar 2.0 with {counted(events, 'event')}")
