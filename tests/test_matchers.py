"""Each matcher is a pure function of (argument, exchange, baseline, clock): plain values in,
a Verdict out, no mocks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from api_audit.matchers import (
    MATCHERS,
    MatchContext,
    Verdict,
    page_similarity,
    quote,
    sign_in_url,
)
from api_audit.models import Exchange, FetchRequest, Hop

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
URL = "https://api.example.test/docs"


def exchange(
    status: int | None = 200,
    body: str | bytes = "",
    content_type: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    final_url: str = URL,
    redirects: tuple[Hop, ...] = (),
    error: str | None = None,
    error_detail: str = "",
) -> Exchange:
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    return Exchange(
        request=FetchRequest(URL),
        final_url=final_url,
        status=status,
        headers=tuple((k.lower(), v) for k, v in all_headers.items()),
        body=body.encode() if isinstance(body, str) else body,
        redirects=redirects,
        error=error,
        error_detail=error_detail,
    )


def check(
    name: str,
    argument: object,
    target: Exchange,
    baseline: Exchange | None = None,
    now: datetime = NOW,
) -> Verdict:
    spec = MATCHERS[name]
    assert spec.validate(argument) is None, spec.validate(argument)
    return spec.match(argument, MatchContext(target, baseline, now))


def outcome(verdict: Verdict) -> tuple[str, str]:
    return verdict.outcome, verdict.message


# --- the registry ----------------------------------------------------------------------------


def test_every_matcher_is_documented() -> None:
    assert {
        "status",
        "content_type",
        "header",
        "body_contains",
        "json_fields",
        "not_login_wall",
        "not_soft_200",
        "openapi",
        "linkset",
        "security_txt",
        "final_scheme",
        "oidc_discovery",
    } <= set(MATCHERS)
    for name, spec in MATCHERS.items():
        assert spec.doc.endswith("."), name
        assert "\n" not in spec.doc, name
        assert spec.argument, name


def test_matchers_are_pure() -> None:
    target = exchange(
        200, '{"openapi": "3.0.0", "info": {}, "paths": {"/a": {}}}', "application/json"
    )
    first = check("openapi", True, target)
    assert check("openapi", True, target) == first
    assert target.body.startswith(b'{"openapi"')


@pytest.mark.parametrize(
    ("name", "argument", "problem"),
    [
        ("status", "ok", "'ok' is not a status: use a code such as 200 or a class such as 2xx"),
        (
            "status",
            [200, "6xx"],
            "'6xx' is not a status: use a code such as 200 or a class such as 2xx",
        ),
        ("status", True, "True is not a status"),
        ("status", [], "give at least one status"),
        (
            "content_type",
            "json",
            "'json' is not a media type pattern (type/subtype, lower case, * allowed)",
        ),
        (
            "content_type",
            [],
            "give a media type or a list of them, e.g. [application/json, '*/*+json']",
        ),
        ("header", "Link", "give {name: Header-Name} and optionally pattern: a regular expression"),
        ("header", {"name": "Link", "regex": "x"}, "unknown key 'regex' (allowed: name, pattern)"),
        (
            "header",
            {"name": "Link", "pattern": "("},
            "pattern is not a regular expression: missing ), unterminated subpattern at position 0",
        ),
        (
            "body_contains",
            {"some": ["a"]},
            "give a string, a list (all must appear), or {any: [...]} / {all: [...]}",
        ),
        ("json_fields", ["info..title"], "'info..title' is not a dotted path"),
        ("not_login_wall", False, "the only argument is `true`"),
        ("not_soft_200", "yes", "the only argument is `true`"),
        ("openapi", {"swagger2_credit": 2}, "swagger2_credit must be a number from 0 to 1"),
        (
            "openapi",
            {"swagger_credit": 0.5},
            "unknown key 'swagger_credit' (allowed: swagger2_credit)",
        ),
        ("final_scheme", "http", "the only argument is `https`"),
        ("linkset", None, "the only argument is `true`"),
    ],
)
def test_validators_reject_bad_arguments(name: str, argument: object, problem: str) -> None:
    assert MATCHERS[name].validate(argument) == problem


@pytest.mark.parametrize(
    ("name", "argument"),
    [
        ("status", "2xx"),
        ("status", 200),
        ("status", [200, "3xx"]),
        ("content_type", "*/*+json"),
        ("content_type", ["text/html", "application/*"]),
        ("header", {"name": "Strict-Transport-Security"}),
        ("header", {"name": "Link", "pattern": 'rel="?service-desc'}),
        ("body_contains", "swagger-ui"),
        ("body_contains", {"any": ["redoc", "swagger"]}),
        ("json_fields", "info.title"),
        ("openapi", True),
        ("openapi", {"swagger2_credit": 0}),
        ("final_scheme", "https"),
        ("security_txt", True),
    ],
)
def test_validators_accept_good_arguments(name: str, argument: object) -> None:
    assert MATCHERS[name].validate(argument) is None


# --- status, content type, header, body, JSON fields -----------------------------------------


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


def test_body_contains() -> None:
    page = exchange(200, "<script>SwaggerUIBundle({url: '/v3/api-docs'})</script>", "text/html")
    assert check("body_contains", "swaggeruibundle(", page).outcome == "pass"
    assert outcome(check("body_contains", ["swagger", "redoc"], page)) == (
        "fail",
        "body does not mention 'redoc'",
    )
    assert outcome(check("body_contains", {"any": ["redoc", "SwaggerUI"]}, page)) == (
        "pass",
        "body mentions 'SwaggerUI'",
    )
    assert outcome(check("body_contains", {"any": ["redoc", "rapi-doc"]}, page)) == (
        "fail",
        "body mentions none of 'redoc', 'rapi-doc'",
    )


def test_json_fields() -> None:
    doc = exchange(
        200, json.dumps({"info": {"title": "T"}, "servers": [{"url": "/v1"}]}), "application/json"
    )
    assert outcome(check("json_fields", ["info.title", "servers.0.url"], doc)) == (
        "pass",
        "JSON has info.title, servers.0.url",
    )
    assert outcome(check("json_fields", "info.license", doc)) == (
        "fail",
        "JSON has no info.license",
    )
    assert outcome(check("json_fields", "a", exchange(200, "<html></html>", "text/html"))) == (
        "fail",
        "served as text/html: a web page, not JSON",
    )
    assert outcome(check("json_fields", "a", exchange(200, '{"a": ', "application/json"))) == (
        "fail",
        "not valid JSON: Expecting value: line 1 column 7 (char 6)",
    )


# --- login walls -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://x.test/login",
        "https://x.test/Account/Login.aspx?ReturnUrl=%2Fdocs",
        "https://x.test/users/sign_in",
        "https://x.test/signin",
        "https://x.test/sign-in/",
        "https://x.test/auth/realms/council/protocol/openid-connect/auth?client_id=a",
        "https://x.test/sso/start",
        "https://x.test/oauth2/authorize?x=1",
        "https://x.test/saml",
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://council.okta.com/app/x",
        "https://supplier.eu.auth0.com/u/login",
        "https://supplier.my.site.com/s/login/",
        "https://login.supplier.co.uk/",
        "https://sso.supplier.com/",
        "https://x.test/wp-login.php",
    ],
)
def test_sign_in_urls(url: str) -> None:
    assert sign_in_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://x.test/docs/authentication",
        "https://x.test/api/v1/authors",
        "https://x.test/docs/login-with-oauth",
        "https://auth.test/",
        "https://x.test/",
        "https://developer.supplier.com/guides/authorization-code",
        "https://x.test/blog/why-we-moved-to-sso-2024",
        "not a url",
    ],
)
def test_not_sign_in_urls(url: str) -> None:
    assert not sign_in_url(url)


def test_401_and_403_are_login_walls() -> None:
    assert outcome(check("not_login_wall", True, exchange(401))) == (
        "fail",
        "401 Unauthorized: needs an account",
    )
    assert outcome(check("not_login_wall", True, exchange(403))) == (
        "fail",
        "403 Forbidden: needs an account",
    )


def test_relative_redirect_to_sign_in() -> None:
    hops = (Hop(302, "https://x.test/docs", "/login?next=%2Fdocs"),)
    ex = exchange(
        200,
        "<html>Sign in</html>",
        "text/html",
        redirects=hops,
        final_url="https://x.test/login?next=%2Fdocs",
    )
    assert outcome(check("not_login_wall", True, ex)) == (
        "fail",
        "redirected to a sign-in page at https://x.test/login?next=%2Fdocs",
    )


def test_docs_url_that_is_itself_a_sign_in_page() -> None:
    ex = exchange(200, "<html></html>", "text/html", final_url="https://x.test/signin")
    assert outcome(check("not_login_wall", True, ex)) == (
        "fail",
        "the page is a sign-in page at https://x.test/signin",
    )


def test_password_form_page_is_a_login_wall() -> None:
    page = (
        '<html><head><title>Partner portal</title><script>var s = "<form>";</script></head>'
        "<body><h1>Welcome</h1><form method=post><input name=user>"
        '<INPUT TYPE="Password" name=p><button>Go</button></form></body></html>'
    )
    assert outcome(check("not_login_wall", True, exchange(200, page, "text/html"))) == (
        "fail",
        "the page is a sign-in form (it asks for a password)",
    )


def test_docs_page_with_a_small_sign_in_box_is_not_a_wall() -> None:
    content = "<p>" + "The collections endpoint returns bin days for a UPRN. " * 60 + "</p>"
    page = (
        "<html><header><form><input name=u><input type=password name=p></form></header>"
        f"<main><h1>API reference</h1>{content}</main></html>"
    )
    assert outcome(check("not_login_wall", True, exchange(200, page, "text/html"))) == (
        "pass",
        "no sign-in page or password form",
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "<!--" * 130_000,
        "</" * 250_000,
        "<?" * 250_000,
        "<input type=" * 50_000,
        "<script>" + "</scrip" * 70_000,
    ],
)
def test_hostile_markup_is_scanned_in_linear_time(hostile: str) -> None:
    # html.parser takes minutes on the first of these (it is quadratic on unclosed comments).
    began = time.perf_counter()
    page = exchange(200, "<input type=password>" + hostile, "text/html")
    check("not_login_wall", True, page)
    assert time.perf_counter() - began < 2.0


def test_password_form_inside_a_comment_or_script_is_ignored() -> None:
    hidden = (
        '<html><!-- <form><input type="password"></form> --><script>'
        "const t = '<input type=\"password\">';</script><h1>Docs</h1></html>"
    )
    assert check("not_login_wall", True, exchange(200, hidden, "text/html")).outcome == "pass"


def test_password_mentioned_in_json_is_not_a_wall() -> None:
    scheme = {"type": "oauth2", "flows": {"password": {"tokenUrl": "/token"}}}
    body = json.dumps({"components": {"securitySchemes": {"p": scheme}}})
    assert check("not_login_wall", True, exchange(200, body, "application/json")).outcome == "pass"


# --- soft-200 --------------------------------------------------------------------------------

SHELL = (
    '<!doctype html><html><div id="root"></div><script src="/static/app.4f3e.js"></script></html>'
)


def test_soft_200_same_page() -> None:
    target = exchange(200, SHELL, "text/html")
    base = exchange(200, SHELL, "text/html")
    assert outcome(check("not_soft_200", True, target, base)) == (
        "fail",
        "same page as a random path: a soft-200 app shell",
    )


def test_soft_200_nearly_the_same_page() -> None:
    page = "<html><body>" + "<div class=nav>Home Services Contact</div>" * 20
    target = exchange(200, page + "<p>request 8f2a91</p></body></html>", "text/html")
    base = exchange(200, page + "<p>request 77c1d0</p></body></html>", "text/html")
    assert check("not_soft_200", True, target, base).outcome == "fail"


def test_soft_200_different_page_passes() -> None:
    target = exchange(
        200,
        "<html><h1>API reference</h1><p>GET /collections</p>"
        "<p>Authentication uses OAuth 2 client credentials.</p></html>",
    )
    base = exchange(200, "<html><h1>Page not found</h1></html>")
    assert outcome(check("not_soft_200", True, target, base)) == (
        "pass",
        "differs from a random path on the same host",
    )


def test_soft_200_baseline_404_passes() -> None:
    assert outcome(check("not_soft_200", True, exchange(200, SHELL), exchange(404))) == (
        "pass",
        "a random path answers 404 Not Found",
    )


def test_soft_200_without_a_baseline_is_inconclusive() -> None:
    assert check("not_soft_200", True, exchange(200, SHELL)).outcome == "inconclusive"
    failed = exchange(None, error="timeout", error_detail="read timed out")
    assert outcome(check("not_soft_200", True, exchange(200, SHELL), failed)) == (
        "inconclusive",
        "could not fetch a random path to compare with: read timed out",
    )


def test_page_similarity() -> None:
    assert page_similarity(b"", b"") == 1.0
    assert page_similarity(b"a b c", b"") == 0.0
    assert page_similarity(b"A  B\nC", b"a b c") == 1.0
    assert page_similarity(b"one two three four", b"five six seven eight") == 0.0


# --- OpenAPI ---------------------------------------------------------------------------------


def _openapi(document: object, content_type: str = "application/json") -> Exchange:
    return exchange(200, json.dumps(document), content_type)


def test_openapi_3_full_credit() -> None:
    verdict = check(
        "openapi",
        {"swagger2_credit": 0.5},
        _openapi(
            {"openapi": "3.0.3", "info": {"title": "Waste", "version": "1"}, "paths": {"/a": {}}}
        ),
    )
    assert (verdict.outcome, verdict.message, verdict.credit) == (
        "pass",
        "OpenAPI 3.0.3 document 'Waste', 1 path",
        1.0,
    )


def test_swagger_2_partial_credit() -> None:
    swagger = _openapi({"swagger": "2.0", "info": {"title": "G"}, "paths": {"/a": {}, "/b": {}}})
    verdict = check("openapi", {"swagger2_credit": 0.5}, swagger)
    assert (verdict.outcome, verdict.credit) == ("pass", 0.5)
    assert verdict.message == "Swagger 2.0 document 'G', 2 paths (OpenAPI 2.0: 0.5 credit)"
    assert check("openapi", True, swagger).credit == 0.0


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            exchange(200, SHELL, "text/html"),
            "served as text/html: a web page, not an OpenAPI document",
        ),
        (
            exchange(200, SHELL, "application/json"),
            "served as application/json: a web page, not an OpenAPI document",
        ),
        (
            exchange(200, '{"openapi": "3.0.0", "info": {"tit', "application/json"),
            "not a usable API description: not valid JSON: Unterminated string starting at: "
            "line 1 column 31 (char 30)",
        ),
        (
            _openapi(
                {"openapi": "3.1.0", "info": {}, "paths": {"/a": {"$ref": "http://e.test/a"}}}
            ),
            "refers to external documents ($ref http://e.test/a), which are never fetched",
        ),
        (
            _openapi({"openapi": "3.1.0", "paths": {"/a": {}}}),
            "OpenAPI 3.1.0 document without info",
        ),
        (
            _openapi({"openapi": "3.0.0", "info": {"title": "T"}, "paths": {}}),
            "OpenAPI 3.0.0 document 'T' describes no paths",
        ),
        (_openapi({"swagger": "2.0", "info": {}}), "Swagger 2.0 document without info or paths"),
        (_openapi({"openapi": "4.0.0"}), "version '4.0.0' is neither OpenAPI 3.x nor Swagger 2.0"),
        (
            _openapi({"error": "not found"}),
            "parses, but is not an OpenAPI or Swagger document (no openapi or swagger field)",
        ),
    ],
)
def test_openapi_failures(target: Exchange, message: str) -> None:
    assert outcome(check("openapi", True, target)) == ("fail", message)


def test_openapi_yaml_bomb_fails_cleanly() -> None:
    bomb = (
        "openapi: 3.0.0\n"
        + "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
            for p, c in zip("abcdef", "bcdefg", strict=True)
        )
    )
    verdict = check("openapi", True, exchange(200, bomb, "application/yaml"))
    assert outcome(verdict) == (
        "fail",
        "not a usable API description: YAML aliases expand to more than 1000000 nodes",
    )


def test_hostile_title_is_quoted_safely() -> None:
    title = "\x1b[31mRed\x1b[0m\u202e" + "x" * 500
    verdict = check(
        "openapi",
        True,
        _openapi({"openapi": "3.0.0", "info": {"title": title}, "paths": {"/a": {}}}),
    )
    assert "\x1b" not in verdict.message
    assert "\u202e" not in verdict.message
    assert len(verdict.message) < 260


def test_quote() -> None:
    assert quote("a\x00b\r\nc\td") == "a b c d"
    assert quote("x" * 300) == "x" * 199 + "…"


# --- well-known documents --------------------------------------------------------------------

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


def test_final_scheme() -> None:
    assert check("final_scheme", "https", exchange(final_url="https://a.test/")).outcome == "pass"
    assert outcome(check("final_scheme", "https", exchange(final_url="http://a.test/x"))) == (
        "fail",
        "final URL http://a.test/x is not https",
    )
    assert check("final_scheme", "https", exchange(final_url="")).outcome == "inconclusive"


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
