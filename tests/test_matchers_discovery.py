"""Discovery documents at well-known paths: API catalogs, security.txt, OAuth metadata."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from matcher_support import check, exchange, outcome

from api_audit.models import Exchange

LINKSET = {
    "linkset": [
        {
            "anchor": "https://api.example.test/",
            "service-desc": [{"href": "/openapi.json"}],
            "status": [{"href": "/health"}],
        }
    ]
}


def test_linkset() -> None:
    good = exchange(
        200,
        json.dumps(LINKSET),
        'application/linkset+json; profile="https://www.rfc-editor.org/info/rfc9727"',
    )
    assert outcome(check("linkset", True, good)) == (
        "pass",
        "API catalog linkset, 1 entry (service-desc)",
    )
    plain_json = exchange(200, json.dumps(LINKSET), "application/json")
    assert outcome(check("linkset", True, plain_json)) == (
        "fail",
        "served as application/json, not application/linkset+json",
    )
    empty = exchange(200, '{"linkset": []}', "application/linkset+json")
    assert outcome(check("linkset", True, empty)) == ("fail", "the linkset is empty")
    other = exchange(200, '{"links": []}', "application/linkset+json")
    assert outcome(check("linkset", True, other)) == ("fail", "no linkset array")


def _security(body: str, content_type: str = "text/plain; charset=utf-8") -> Exchange:
    return exchange(200, body, content_type)


def test_security_txt_uses_the_context_clock() -> None:
    body = "# comment\nContact: mailto:sec@x.test\nExpires: 2026-12-01T00:00:00Z\n"
    assert outcome(check("security_txt", True, _security(body))) == (
        "pass",
        "Contact mailto:sec@x.test, expires 2026-12-01 00:00 UTC",
    )
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert outcome(check("security_txt", True, _security(body), now=later)) == (
        "fail",
        "expired on 2026-12-01 00:00 UTC",
    )


def test_security_txt_signed_and_offset_dates() -> None:
    body = (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        "Contact: https://x.test/report\nExpires: 2027-03-01T09:00:00+01:00\n"
        "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n"
    )
    assert check("security_txt", True, _security(body)).outcome == "pass"
    naive = "Contact: mailto:a@x.test\nExpires: 2027-01-01T00:00:00\n"
    assert check("security_txt", True, _security(naive)).outcome == "pass"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            "Contact: a\nExpires: 2027-01-01T00:00:00Z\n",
            "text/html",
            "served as text/html, not text/plain",
        ),
        ("Expires: 2027-01-01T00:00:00Z\n", "text/plain", "no Contact: line"),
        ("Contact: a\n", "text/plain", "no Expires: line"),
        (
            "Contact: a\nExpires: 2027-01-01T00:00:00Z\nExpires: 2028-01-01T00:00:00Z\n",
            "text/plain",
            "more than one Expires: line",
        ),
        (
            "Contact: a\nExpires: Fri, 01 Jan 2027 00:00:00 GMT\n",
            "text/plain",
            "Expires: 'Fri, 01 Jan 2027 00:00:00 GMT' is not an ISO 8601 date-time",
        ),
    ],
)
def test_security_txt_failures(body: str, content_type: str, message: str) -> None:
    assert outcome(check("security_txt", True, _security(body, content_type))) == ("fail", message)


def test_oidc_discovery() -> None:
    def doc(**fields: str) -> Exchange:
        return exchange(200, json.dumps(fields), "application/json")

    full = doc(
        issuer="https://id.test",
        token_endpoint="https://id.test/t",
        authorization_endpoint="https://id.test/a",
    )
    assert outcome(check("oidc_discovery", True, full)) == (
        "pass",
        "authorization server metadata for issuer https://id.test",
    )
    assert outcome(check("oidc_discovery", True, doc(token_endpoint="t", jwks_uri="j"))) == (
        "fail",
        "no issuer",
    )
    assert outcome(check("oidc_discovery", True, doc(issuer="i", token_endpoint="t"))) == (
        "fail",
        "neither authorization_endpoint nor jwks_uri",
    )
    assert outcome(check("oidc_discovery", True, exchange(200, "[]", "application/json"))) == (
        "fail",
        "not a JSON object",
    )
