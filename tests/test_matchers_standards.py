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


# --- Open311 GeoReport v2 in XML and JSON, wrapped or bare -------------------------------------

SERVICE_XML = (
    "<service><service_code>{code}</service_code><service_name>Potholes</service_name>"
    "<metadata>false</metadata><type>realtime</type></service>"
)
SERVICES_XML = [
    '<?xml version="1.0" encoding="utf-8"?>\n<services>\n  {s}\n</services>',
    "<services>{s}{s}</services>",
    '<?xml version="1.0" encoding="UTF-8"?><services xmlns:x="urn:x">{s}</services>',
    '\ufeff<?xml version="1.0"?><!-- served by Open311 -->\n<services>\n{s}</services>\n',
]
DISCOVERY = {
    "changeset": "2011-02-03 14:18",
    "contact": "api@mycity.example",
    "endpoints": [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://open311.mycity.example/v2",
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }
    ],
}
DISCOVERY_XML = (
    "<discovery><changeset>2011</changeset><endpoints>"
    "<endpoint><specification>http://wiki.open311.org/GeoReport_v3</specification></endpoint>"
    "<endpoint><specification>{spec}</specification><url>https://x.example/v2</url>"
    "<formats><format>text/xml</format></formats></endpoint></endpoints></discovery>"
)
XML_TYPES = ["text/xml", "application/xml", "text/xml; charset=utf-8", "application/xml; q=1"]
JSON_TYPES = ["application/json", "application/json; charset=utf-8"]
SERVICE = {"service_code": "POT", "service_name": "Potholes", "type": "realtime"}


@pytest.mark.parametrize("content_type", XML_TYPES)
@pytest.mark.parametrize("template", SERVICES_XML)
def test_open311_xml_services_lists_are_credited(template: str, content_type: str) -> None:
    body = template.format(s=SERVICE_XML.format(code="POT"))
    verdict = check("open311", True, exchange(200, body, content_type))
    assert verdict.outcome == "pass", verdict.message
    assert verdict.message.startswith("Open311 GeoReport v2 services list (XML)")


@pytest.mark.parametrize("content_type", XML_TYPES)
@pytest.mark.parametrize(
    "spec",
    ["http://wiki.open311.org/GeoReport_v2", "https://wiki.open311.org/GeoReport_v2.1"],
)
def test_open311_xml_discovery_is_credited(spec: str, content_type: str) -> None:
    verdict = check("open311", True, exchange(200, DISCOVERY_XML.format(spec=spec), content_type))
    assert verdict.outcome == "pass", verdict.message
    assert verdict.message.startswith("Open311 discovery document (XML")


@pytest.mark.parametrize("content_type", JSON_TYPES)
@pytest.mark.parametrize(
    "body",
    [
        [SERVICE],
        {"services": [SERVICE, SERVICE]},  # FixMyStreet
        {"services": [{"service_code": 7, "service_name": "Bins", "metadata": "false"}]},
        DISCOVERY,
        {"discovery": DISCOVERY},  # FixMyStreet
    ],
)
def test_open311_json_bare_or_wrapped_is_credited(body: object, content_type: str) -> None:
    verdict = check("open311", True, _json(body, content_type))
    assert verdict.outcome == "pass", verdict.message


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("<services/>", "text/xml", "an empty services list"),
        ("<services>\n</services>", "application/xml", "an empty services list"),
        (json.dumps({"services": []}), "application/json", "an empty services list"),
        ("[]", "application/json", "an empty services list"),
        (
            "<services><service><service_code>A</service_code></service></services>",
            "text/xml",
            "a service without service_code and service_name",
        ),
        (
            "<services><service><service_code> </service_code><service_name>x</service_name>"
            "</service></services>",
            "text/xml",
            "a service without service_code and service_name",
        ),
        (
            json.dumps({"services": [{"service_code": "", "service_name": "x"}]}),
            "application/json",
            "a service without service_code and service_name",
        ),
        (
            json.dumps([{"service_code": True, "service_name": "x"}]),
            "application/json",
            "a service without service_code and service_name",
        ),
        (
            "<service_definition><service_code>POT</service_code></service_definition>",
            "text/xml",
            "XML whose root is <service_definition>",
        ),
        ("<service_requests/>", "text/xml", "XML whose root is <service_requests>"),
        (
            "<errors><error><code>403</code><description>Invalid api_key</description></error>"
            "</errors>",
            "text/xml",
            "an Open311 error response: 'Invalid api_key'",
        ),
        (
            DISCOVERY_XML.format(spec="http://wiki.open311.org/GeoReport_v1"),
            "text/xml",
            "a discovery document with no GeoReport v2 endpoint",
        ),
        (
            json.dumps({"discovery": {"endpoints": []}}),
            "application/json",
            "a discovery document with no GeoReport v2 endpoint",
        ),
        (json.dumps({"services": "services.json"}), "application/json", "not an Open311"),
        ("<services><service><service_code>", "text/xml", "not valid XML"),
        ("<html><body>Open311</body></html>", "text/html", "a web page"),
        ("<services>" + SERVICE_XML.format(code="A") + "</services>", "text/html", "a web page"),
        (json.dumps([SERVICE]), "text/plain", "served as text/plain (expected XML or JSON)"),
        ("<services>" + SERVICE_XML.format(code="A") + "</services>", "application/json", "JSON"),
        (json.dumps([SERVICE]), "text/xml", "not valid XML"),
        (
            '<!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/passwd">]><services><service>'
            "<service_code>&e;</service_code><service_name>x</service_name></service></services>",
            "text/xml",
            "document type declaration",
        ),
    ],
)
def test_open311_fakes_and_non_lists_fail(body: str, content_type: str, message: str) -> None:
    verdict = check("open311", True, exchange(200, body, content_type))
    assert verdict.outcome == "fail"
    assert message in verdict.message


def test_open311_hostile_xml_text_is_quoted() -> None:
    body = (
        "<errors><error><description>\x1b[2J\u202eboom"
        + "x" * 5000
        + "</description></error></errors>"
    )
    verdict = check("open311", True, exchange(200, body, "text/xml"))
    assert "\x1b" not in verdict.message and "\u202e" not in verdict.message
    assert len(verdict.message) < 200


# --- FHIR: which releases count --------------------------------------------------------------


def _capability(version: object, content_type: str = "application/fhir+json") -> Exchange:
    return _json({"resourceType": "CapabilityStatement", "fhirVersion": version}, content_type)


def _capability_xml(version: str, content_type: str = "application/fhir+xml") -> Exchange:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><CapabilityStatement xmlns="http://hl7.org/fhir">'
        f'<status value="active"/><fhirVersion value="{version}"/></CapabilityStatement>'
    )
    return exchange(200, body, content_type)


@pytest.mark.parametrize("form", ["json", "xml"])
@pytest.mark.parametrize(
    ("version", "credit", "release"),
    [
        ("4.0.1", 1.0, "R4"),
        ("4.0.0", 1.0, "R4"),
        ("4.0", 1.0, "R4"),
        ("4.3.0", 1.0, "R4B"),
        ("5.0.0", 1.0, "R5"),
        ("3.0.2", 0.5, "STU3"),
        ("3.0.1", 0.5, "STU3"),
        ("6.0.0", 1.0, "a release after R5"),
    ],
)
def test_fhir_releases_are_credited_and_named(
    version: str, credit: float, release: str, form: str
) -> None:
    target = _capability(version) if form == "json" else _capability_xml(version)
    verdict = check("fhir_capability", True, target)
    assert (verdict.outcome, verdict.credit) == ("pass", credit), verdict.message
    assert release in verdict.message
    assert f"fhirVersion {version}" in verdict.message


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("5.0.0-snapshot3", "FHIR 5.0.0-snapshot3: not a published release"),
        ("6.0.0-ballot2", "FHIR 6.0.0-ballot2: not a published release"),
        ("4.2.0", "FHIR 4.2.0: not a published release"),
        ("4.6.0", "FHIR 4.6.0: not a published release"),
        ("1.0.2", "FHIR 1.0.2: not a published release"),
        ("3.3.0", "FHIR 3.3.0: not a published release"),
        ("R4", "fhirVersion 'R4' is not a FHIR version"),
        ("4.0.1 ", None),  # surrounding spaces are forgiven
        ("4", "fhirVersion '4' is not a FHIR version"),
        ("\x1b[31m4.0.1", "is not a FHIR version"),
        ("", "a CapabilityStatement without fhirVersion"),
        (4.0, "a CapabilityStatement without fhirVersion"),
        (None, "a CapabilityStatement without fhirVersion"),
    ],
)
def test_fhir_versions_that_are_not_releases_fail(version: object, message: str | None) -> None:
    verdict = check("fhir_capability", True, _capability(version))
    if message is None:
        assert verdict.outcome == "pass"
        return
    assert verdict.outcome == "fail"
    assert message in verdict.message
    assert "\x1b" not in verdict.message


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            exchange(
                200,
                '<CapabilityStatement><fhirVersion value="4.0.1"/></CapabilityStatement>',
                "application/fhir+xml",
            ),
            "not a FHIR CapabilityStatement (XML root <CapabilityStatement> in namespace ''",
        ),
        (
            exchange(200, '<Bundle xmlns="http://hl7.org/fhir"/>', "application/fhir+xml"),
            "not a FHIR CapabilityStatement (XML root <Bundle>",
        ),
        (
            exchange(200, '<CapabilityStatement xmlns="http://hl7.org/fhir"/>', "application/xml"),
            "a CapabilityStatement without fhirVersion",
        ),
        (
            exchange(200, '<CapabilityStatement xmlns="http://hl7.org/fhir"><fhirVer', "text/xml"),
            "not valid XML",
        ),
        (_capability_xml("4.0.1", "text/html"), "a web page"),
    ],
)
def test_fhir_xml_fakes_fail(target: Exchange, message: str) -> None:
    verdict = check("fhir_capability", True, target)
    assert verdict.outcome == "fail"
    assert message in verdict.message
