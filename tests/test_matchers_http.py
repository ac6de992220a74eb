"""The HTTP envelope matchers: status, media type, headers, scheme, redirects, TLS, UTF-8."""

from __future__ import annotations

from matcher_support import at, check, check_credit, exchange, outcome

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
