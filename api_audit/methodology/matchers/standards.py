"""Matchers for the documents sector and protocol standards define, in the shape they require.

Open311 GeoReport v2, Open Referral UK, OGC API - Features, FHIR, OData, GraphQL, CKAN and
iCalendar (RFC 5545): each checks the structure its standard requires, served with the
media type it requires, so an app shell at the right path earns nothing.
"""

from __future__ import annotations

import re
from typing import cast

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
from api_audit.text import quote

# --- Open311, Open Referral UK -------------------------------------------------------------


@matcher(
    "open311",
    read=read_true,
    argument="true",
    doc="Open311 GeoReport v2: a JSON array of services with service_code and "
    "service_name, or a discovery document with a GeoReport_v2 endpoint.",
)
def match_open311(_: Always, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    data = typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if isinstance(data, dict) and isinstance(data.get("endpoints"), list):
        for endpoint in data["endpoints"]:
            spec = endpoint.get("specification") if isinstance(endpoint, dict) else None
            if isinstance(spec, str) and "georeport_v2" in spec.lower():
                return passed(f"Open311 discovery document ({quote(spec, 60)})")
        return failed("a discovery document with no GeoReport v2 endpoint")
    if not isinstance(data, list):
        return failed("not an Open311 services list (a JSON array of services)")
    if not data:
        return failed("an empty services list")
    for item in data[:50]:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str | int) for k in ("service_code", "service_name")
        ):
            return failed("a service without service_code and service_name")
    return passed(f"Open311 GeoReport v2 services list, {counted(len(data), 'service')}")


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


@matcher(
    "ogc_features",
    read=read_true,
    argument="true",
    doc=f"An OGC API conformance document whose conformsTo lists `.../{OGC_FEATURES_CORE}`.",
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
        and c.rstrip("/").endswith(OGC_FEATURES_CORE)
    ]
    if not core:
        return failed(
            f"conformsTo lists {counted(len(classes), 'class')}, none of them Features core"
        )
    return passed(f"conforms to OGC API - Features core ({counted(len(classes), 'class')})")


_FHIR_MEDIA = ("application/fhir+json", "application/json", "application/json+fhir")


@matcher(
    "fhir_capability",
    read=read_true,
    argument="true",
    doc="A FHIR CapabilityStatement (resourceType, fhirVersion) as application/fhir+json "
    "or application/json.",
)
def match_fhir_capability(_: Always, ctx: MatchContext) -> Verdict:
    data = typed_json(ctx, _FHIR_MEDIA)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or data.get("resourceType") != "CapabilityStatement":
        kind = data.get("resourceType") if isinstance(data, dict) else None
        shown = f" (resourceType {quote(str(kind), 40)!r})" if kind else ""
        return failed(f"not a FHIR CapabilityStatement{shown}")
    version = data.get("fhirVersion")
    if not isinstance(version, str) or not version:
        return failed("a CapabilityStatement without fhirVersion")
    return passed(f"FHIR {quote(version, 20)} CapabilityStatement")


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
