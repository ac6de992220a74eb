"""Sector and protocol standards' documents: Open311, Open Referral, OGC, FHIR, OData,
GraphQL, CKAN, APIs.json and iCalendar, each in the shape and media type it requires."""

from __future__ import annotations

import json

import pytest
from matcher_support import check, exchange

from api_audit.models import Exchange


def _json(body: object, content_type: str = "application/json", status: int = 200) -> Exchange:
    return exchange(status, json.dumps(body), content_type)


@pytest.mark.parametrize(
    ("name", "target", "expected"),
    [
        ("open311", _json([{"service_code": 1, "service_name": "Pothole"}]), "pass"),
        ("open311", _json([]), "fail"),
        (
            "open311",
            _json({"endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2"}]}),
            "pass",
        ),
        ("open311", _json({"endpoints": [{"specification": "other"}]}), "fail"),
        ("open311", _json({"services": []}), "fail"),
        ("open_referral", _json({"totalElements": 0, "content": []}), "pass"),
        ("open_referral", _json({"total_items": 1, "contents": [{"id": "a"}]}), "fail"),
        ("open_referral", _json({"total_items": True, "contents": []}), "fail"),
        (
            "ogc_features",
            _json({"conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core/"]}),
            "pass",
        ),
        (
            "ogc_features",
            _json({"conformsTo": ["https://example.test/ogcapi-features-1/1.0/conf/core"]}),
            "fail",
        ),
        ("ogc_features", _json({"links": []}), "fail"),
        (
            "fhir_capability",
            _json(
                {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"},
                "application/fhir+json",
            ),
            "pass",
        ),
        (
            "fhir_capability",
            _json(
                {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}, "application/xml"
            ),
            "fail",
        ),
        ("graphql", _json({"data": {"__typename": "Query"}}), "pass"),
        ("graphql", _json({"errors": [{"message": "x"}]}, status=400), "pass"),
        ("graphql", _json({"errors": [{"detail": "x"}]}, status=400), "fail"),
        ("graphql", _json({"errors": []}), "fail"),
        ("ckan_status", _json({"success": True, "result": {"ckan_version": "2.10"}}), "pass"),
        ("ckan_status", _json({"success": "true", "result": {"ckan_version": "2.10"}}), "fail"),
        ("ckan_status", _json({"success": True, "result": {}}), "fail"),
        (
            "apis_json",
            _json({"name": "X", "apis": [{"name": "A", "humanURL": "https://a"}]}),
            "pass",
        ),
        ("apis_json", _json({"name": "X", "apis": [{"name": "A"}]}), "fail"),
    ],
)
def test_standard_documents(name: str, target: Exchange, expected: str) -> None:
    assert check(name, True, target).outcome == expected, check(name, True, target).message


EDMX = (
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">'
    "<edmx:DataServices/></edmx:Edmx>"
)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (EDMX, "application/xml", "pass"),
        (EDMX.replace("edmx:", "e:").replace("xmlns:edmx", "xmlns:e"), "text/xml", "pass"),
        (
            EDMX.replace("docs.oasis-open.org/odata/ns/edmx", "evil.test/ns"),
            "application/xml",
            "fail",
        ),
        (EDMX[:-12], "application/xml", "fail"),  # cut off before </edmx:Edmx>
        (EDMX, "text/html", "fail"),
        ('{"$Version": "4.01"}', "application/json", "pass"),
        ('{"value": []}', "application/json", "fail"),
    ],
)
def test_odata_metadata(body: str, content_type: str, expected: str) -> None:
    assert check("odata_metadata", True, exchange(200, body, content_type)).outcome == expected


CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n"
    "BEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (CALENDAR, "text/calendar; charset=utf-8", "iCalendar 2.0 with 1 event"),
        ("\ufeff" + CALENDAR, "text/calendar", "iCalendar 2.0 with 1 event"),
        (CALENDAR, "text/plain", "served as text/plain, not text/calendar"),
        (CALENDAR.replace("VERSION:2.0", "VERSION:1.0"), "text/calendar", "no VERSION:2.0"),
        (CALENDAR.replace("PRODID:-//x//EN\r\n", ""), "text/calendar", "no PRODID"),
        (CALENDAR[:-15], "text/calendar", "cut off: no END:VCALENDAR"),
        ("<html>calendar</html>", "text/calendar", "does not start with BEGIN:VCALENDAR"),
    ],
)
def test_icalendar(body: str, content_type: str, message: str) -> None:
    assert check("icalendar", True, exchange(200, body, content_type)).message == message
