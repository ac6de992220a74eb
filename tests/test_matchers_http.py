"""The HTTP envelope matchers: status, media type, headers, scheme, redirects, TLS, UTF-8."""

from __future__ import annotations

import pytest
from matcher_support import URL, at, check, check_credit, exchange, outcome

from api_audit.models import Exchange, FetchRequest, Hop


def test_status() -> None:
    assert outcome(check("status", "2xx", exchange(204))) == ("pass", "204 No Content")
    assert outcome(check("status", [200, "3xx"], exchange(404))) == (
        "fail",
        "404 Not Found (expected 200 or 3xx)",
    )
    assert check("status", 418, exchange(418)).outcome == "pass"
    assert outcome(check("status", "2xx", exchange(None))) == ("inconclusive", "no response status")


def test_content_type() -> None:
    problem = exchange(200, "{}", "application/problem+json; charset=utf-8")
    assert outcome(check("content_type", "*/*+json", problem)) == (
        "pass",
        "served as application/problem+json",
    )
    assert outcome(
        check(
            "content_type", ["application/json", "*/*+json"], exchange(200, "<html>", "text/html")
        )
    ) == ("fail", "served as text/html (expected application/json or */*+json)")
    assert outcome(check("content_type", "text/html", exchange(200, "x"))) == (
        "fail",
        "no Content-Type header (expected text/html)",
    )


def test_header() -> None:
    hsts = exchange(headers={"Strict-Transport-Security": "max-age=63072000"})
    assert check("header", {"name": "strict-transport-security"}, hsts).outcome == "pass"
    assert outcome(
        check("header", {"name": "Strict-Transport-Security", "pattern": r"max-age=\d{9,}"}, hsts)
    ) == ("fail", r"Strict-Transport-Security: max-age=63072000 does not match max-age=\d{9,}")
    assert outcome(check("header", {"name": "Sunset"}, hsts)) == ("fail", "no Sunset header")


def test_final_scheme() -> None:
    assert check("final_scheme", "https", exchange(final_url="https://a.test/")).outcome == "pass"
    assert outcome(check("final_scheme", "https", exchange(final_url="http://a.test/x"))) == (
        "fail",
        "final URL http://a.test/x is not https",
    )
    assert check("final_scheme", "https", exchange(final_url="")).outcome == "inconclusive"


def test_redirects_to_https() -> None:
    http = "http://api.x.test/v1"

    def hop(status: int, location: str) -> Exchange:
        return at(http, status=200, final_url=location, redirects=(Hop(status, http, location),))

    assert check_credit(check("redirects_to_https", True, hop(308, "https://api.x.test/v1"))) == (
        "pass",
        1.0,
    )
    assert check_credit(check("redirects_to_https", True, hop(307, "https://api.x.test/v1"))) == (
        "pass",
        0.5,
    )
    assert check("redirects_to_https", True, hop(301, "http://www.x.test/")).outcome == "fail"
    assert outcome(check("redirects_to_https", True, at(http, status=200))) == (
        "fail",
        "http answers 200 OK without redirecting to https",
    )
    assert check("redirects_to_https", True, at("https://a.test/", status=200)).outcome == (
        "not_applicable"
    )


def test_tls_version() -> None:
    def tls(version: str | None, url: str = "https://a.test/") -> Exchange:
        return Exchange(FetchRequest(url), url, 200, tls_version=version)

    argument = {"min": "1.2"}
    assert check("tls_version", argument, tls("TLSv1.3")).outcome == "pass"
    assert outcome(check("tls_version", argument, tls("TLSv1.1"))) == (
        "fail",
        "negotiated TLSv1.1 (TLS 1.2 or later is required)",
    )
    assert check("tls_version", {"min": "1.3"}, tls("TLSv1.2")).outcome == "fail"
    assert check("tls_version", argument, tls(None)).outcome == "inconclusive"
    assert check("tls_version", argument, tls("QUIC?")).outcome == "inconclusive"
    assert check("tls_version", argument, tls(None, "http://a.test/")).outcome == "not_applicable"


def test_utf8() -> None:
    assert check("utf8", True, exchange(200, '{"a": "café"}', "application/json")).outcome == "pass"
    latin1 = exchange(200, "café".encode("latin-1"), "application/json")
    assert outcome(check("utf8", True, latin1)) == (
        "fail",
        "not valid UTF-8 (byte 0xE9 at offset 3)",
    )
    declared = exchange(200, "x", 'text/plain; charset="windows-1252"')
    assert outcome(check("utf8", True, declared)) == (
        "fail",
        "declares charset=windows-1252, not UTF-8",
    )
    assert check("utf8", True, exchange(200, "x", "text/plain; charset=UTF-8")).outcome == "pass"
    for target in (
        exchange(200, "<html></html>", "text/html"),
        exchange(200, b"\x89PNG", "image/png"),
        exchange(401, "", "application/json"),
        exchange(401, "Unauthorized"),
    ):
        assert check("utf8", True, target).outcome == "not_applicable"


# --- documentation_format: documents as they are published (methodology 2027.01) -----------

OPENAPI_DOC = '{"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {}}'
SWAGGER_DOC = '{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}}'


@pytest.mark.parametrize(
    ("content_type", "body", "url", "credit"),
    [
        ("text/html", "<h1>API</h1>", URL, 1.0),
        ("application/xhtml+xml", "<html/>", URL, 1.0),
        (None, "<!doctype html><h1>API</h1>", URL, 1.0),
        ("application/json", OPENAPI_DOC, URL, 1.0),
        (
            "application/yaml",
            "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\n",
            URL,
            1.0,
        ),
        ("application/json", SWAGGER_DOC, URL, 1.0),
        ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", URL, 0.5),
        ("application/x-pdf", b"%PDF-1.7", URL, 0.5),
        ("application/octet-stream", b"%PDF-1.4 binary", URL, 0.5),
        ("binary/octet-stream", b"%PDF-1.4 binary", URL, 0.5),
        (None, b"%PDF-1.4 binary", URL, 0.5),
        ("application/octet-stream", b"PK\x03\x04", "https://s.test/Interface%20Spec.docx", 0.5),
        ("application/octet-stream", b"{\\rtf1", "https://s.test/api.RTF", 0.5),
        ("application/msword", b"\xd0\xcf\x11\xe0", URL, 0.5),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK",
            URL,
            0.5,
        ),
        ("application/vnd.oasis.opendocument.text", b"PK", URL, 0.5),
        ("application/rtf", b"{\\rtf1", URL, 0.5),
        ("text/markdown", "# API\n\nGET /cases", URL, 0.5),
        ("text/plain", "API guide\nGET /cases returns cases", URL, 0.5),
    ],
)
def test_documentation_format_credits_documents_as_published(
    content_type: str | None, body: str | bytes, url: str, credit: float
) -> None:
    verdict = check("documentation_format", True, exchange(200, body, content_type, final_url=url))
    assert (verdict.outcome, verdict.credit) == ("pass", credit), verdict.message


@pytest.mark.parametrize(
    ("content_type", "body", "url"),
    [
        ("image/png", b"\x89PNG", URL),
        ("application/json", '{"error": "not found"}', URL),
        ("application/json", "[1, 2", URL),
        ("application/zip", b"PK\x03\x04", URL),
        ("application/octet-stream", b"\x00\x01binary", URL),
        ("application/octet-stream", b"\x00", "https://s.test/setup.exe"),
        ("video/mp4", b"\x00\x00", "https://s.test/guide.pdf"),  # the type says it is not
        ("application/xml", "<wsdl:definitions/>", URL),
    ],
)
def test_documentation_format_fails_what_is_not_documentation(
    content_type: str, body: str | bytes, url: str
) -> None:
    verdict = check("documentation_format", True, exchange(200, body, content_type, final_url=url))
    assert verdict.outcome == "fail", verdict.message
    assert "not documentation" in verdict.message


def test_documentation_format_credit_is_the_probes_to_set() -> None:
    pdf = exchange(200, b"%PDF-1.7", "application/pdf")
    verdict = check("documentation_format", {"document_credit": 0.25}, pdf)
    assert (verdict.credit, verdict.message) == (
        0.25,
        "a PDF document: public, but not a web page or machine-readable (0.25 credit)",
    )


@pytest.mark.parametrize(
    "content_type", ["text/html\x1b[31m", "application/x-\u202epdf", "a" * 500]
)
def test_documentation_format_quotes_a_hostile_media_type(content_type: str) -> None:
    verdict = check("documentation_format", True, exchange(200, b"x", content_type))
    assert "\x1b" not in verdict.message and "\u202e" not in verdict.message
    assert len(verdict.message) < 300
