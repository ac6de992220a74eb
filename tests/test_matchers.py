"""Each matcher is a pure function of (argument, exchange, baseline, clock): plain values in,
a Verdict out, no mocks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from api_audit.methodology import (
    LINKS,
    MATCHERS,
    CheckBudgetExceeded,
    MatchContext,
    Verdict,
    page_similarity,
    sign_in_url,
)
from api_audit.methodology.matchers import context
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
    return spec.match(spec.read(argument), MatchContext(target, baseline, now))


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


# --- the probe library's matchers (issue 4) ----------------------------------------------------


def at(url: str, **kwargs: object) -> Exchange:
    """An exchange whose request (and final URL) is `url`."""
    base = exchange(**kwargs)  # type: ignore[arg-type]  # keyword pass-through
    return Exchange(
        request=FetchRequest(url),
        final_url=str(kwargs.get("final_url", url)),
        status=base.status,
        headers=base.headers,
        body=base.body,
        redirects=base.redirects,
        error=base.error,
        tls_version=None,
    )


def kind_check(name: str, argument: object, target: Exchange, kind: str | None) -> Verdict:
    spec = MATCHERS[name]
    assert spec.validate(argument) is None
    return spec.match(spec.read(argument), MatchContext(target, None, NOW, endpoint_kind=kind))


@pytest.mark.parametrize(
    ("name", "argument", "problem"),
    [
        ("spec_quality", {"min_share": 2}, "min_share must be a number from 0 to 1"),
        ("spec_quality", {"share": 0.5}, "unknown key 'share' (allowed: min_share)"),
        ("problem_details", "yes", "give `true` or {json_error_credit: ...}"),
        ("tls_version", {"min": "1.1"}, "min must be '1.2' or '1.3'"),
        ("tls_version", True, "give {min: '1.2'} or {min: '1.3'}"),
        ("wording", {"pass": []}, "pass must be a list of phrases"),
        ("wording", {"otherwise": "fail"}, "give pass or fail phrases (or both)"),
        (
            "wording",
            {"pass": ["a"], "otherwise": "pass"},
            "otherwise must be one of inconclusive, fail, not_applicable",
        ),
        (
            "wording",
            {"pass": ["a"], "mixed_credit": 3},
            "mixed_credit must be a number from 0 to 1",
        ),
        ("wording", ["a"], "give {pass: [phrases], fail: [phrases], otherwise: inconclusive}"),
        (
            "redirects_to_https",
            {"temporary_credit": -1},
            "temporary_credit must be a number from 0 to 1",
        ),
        ("open311", False, "the only argument is `true`"),
    ],
)
def test_new_validators_reject_bad_arguments(name: str, argument: object, problem: str) -> None:
    assert MATCHERS[name].validate(argument) == problem


def _quality(document: object, content_type: str = "application/json") -> Verdict:
    body = json.dumps(document)
    return check("spec_quality", {"min_share": 0.5}, exchange(200, body, content_type))


GOOD_SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "Waste",
        "version": "1.0",
        "contact": {"email": "api@x.test"},
        "license": {"name": "OGL-UK-3.0"},
    },
    "servers": [{"url": "https://api.x.test/v1"}],
    "paths": {
        "/a": {
            "get": {
                "summary": "A",
                "responses": {"200": {"description": "OK"}, "404": {"description": "No"}},
            }
        }
    },
}


def test_spec_quality_full_and_partial_credit() -> None:
    assert check_credit(_quality(GOOD_SPEC)) == ("pass", 1.0)
    thin = {**GOOD_SPEC, "info": {"title": "Waste", "version": "1.0"}}
    verdict = _quality(thin)
    assert (verdict.outcome, verdict.credit) == ("pass", 0.71)
    assert "lacks info.contact, info.license or termsOfService" in verdict.message


def check_credit(verdict: Verdict) -> tuple[str, float]:
    return verdict.outcome, verdict.credit


def test_spec_quality_counts_security_only_when_required() -> None:
    secured = {**GOOD_SPEC, "security": [{"key": []}]}
    verdict = _quality(secured)
    assert verdict.credit == round(6 / 8, 2)
    assert "security schemes for its security" in verdict.message
    assert "security requirement 'key' has no security scheme" in verdict.message
    defined = {**secured, "components": {"securitySchemes": {"key": {"type": "apiKey"}}}}
    assert check_credit(_quality(defined)) == ("pass", 1.0)


def test_spec_quality_below_the_minimum_fails() -> None:
    bare = {"openapi": "3.0.0", "info": {"title": "T"}, "paths": {"/a": {"get": {}}}}
    verdict = _quality(bare)
    assert verdict.outcome == "fail"
    assert verdict.message.startswith("only 0 of 7 quality marks")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (exchange(200, "<html></html>", "text/html"), "served as text/html: a web page"),
        (exchange(200, '{"a": 1}', "application/json"), "not an OpenAPI 3.x or Swagger 2.0"),
        (exchange(200, '{"openapi": "3.0', "application/json"), "not a usable API description"),
        (
            exchange(
                200,
                '{"openapi": "3.0.0", "info": {}, "paths": {"/a": {"$ref": "http://x/y"}}}',
                "application/json",
            ),
            "refers to external documents ($ref http://x/y)",
        ),
    ],
)
def test_spec_quality_failures(target: Exchange, message: str) -> None:
    verdict = check("spec_quality", True, target)
    assert verdict.outcome == "fail"
    assert message in verdict.message


def test_spec_quality_budget_is_inconclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    def over_budget(document: object) -> object:
        raise CheckBudgetExceeded("too large to check within the step budget")

    monkeypatch.setattr(context, "check_openapi", over_budget)
    verdict = _quality(GOOD_SPEC)
    assert outcome(verdict) == (
        "inconclusive",
        "could not check the description: too large to check within the step budget",
    )


def test_problem_details() -> None:
    problem = '{"type": "about:blank", "title": "Not Found", "status": 404}'
    assert check_credit(
        check("problem_details", True, exchange(404, problem, "application/problem+json"))
    ) == ("pass", 1.0)
    wrong_status = '{"title": "Not Found", "status": 400}'
    assert outcome(
        check("problem_details", True, exchange(404, wrong_status, "application/problem+json"))
    ) == ("fail", "problem status 400 is not 404")
    plain = exchange(404, '{"error": "nope"}', "application/json")
    assert check("problem_details", True, plain).outcome == "fail"
    assert check_credit(check("problem_details", {"json_error_credit": 0.5}, plain)) == (
        "pass",
        0.5,
    )
    assert outcome(check("problem_details", True, exchange(200, "{}", "application/json"))) == (
        "fail",
        "200 OK for a path that does not exist (expected a 4xx)",
    )


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


WORDING = {"pass": ["sign up", "get an API key"], "fail": ["contact sales", "account manager"]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>Sign  Up today</p>", ("pass", 1.0)),
        ("<p>Get an api key in minutes</p>", ("pass", 1.0)),
        ("<p>Speak to your Account Manager.</p>", ("fail", 0.0)),
        ("<p>Sign up, or contact sales for more.</p>", ("pass", 0.5)),
        ("<p>A redesign update</p>", ("inconclusive", 0.0)),  # 'design up' is not 'sign up'
        ("<p>Docs</p><!-- sign up --><style>.sign.up{}</style>", ("inconclusive", 0.0)),
        ("<p>sign&nbsp;up</p>", ("pass", 1.0)),
    ],
)
def test_wording(body: str, expected: tuple[str, float]) -> None:
    verdict = check("wording", WORDING, exchange(200, body, "text/html"))
    credit = verdict.credit if verdict.outcome == "pass" else 0.0  # credit counts on a pass only
    assert (verdict.outcome, credit) == expected


def test_wording_otherwise_and_plain_text() -> None:
    argument = {"pass": ["changelog"], "otherwise": "fail"}
    assert outcome(check("wording", argument, exchange(200, "nothing", "text/plain"))) == (
        "fail",
        "mentions none of 'changelog' ...",
    )
    assert check("wording", argument, exchange(200, "See CHANGELOG.md", "text/plain")).outcome == (
        "pass"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            '{"openapi": "3.1.0", "info": {"license": {"identifier": "CC-BY-4.0"}}}',
            "application/json",
            "pass",
        ),
        (
            '{"openapi": "3.1.0", "info": {"license": {"name": "Commercial"}}}',
            "application/json",
            "fail",
        ),
        ("<p>Open Government Licence v3.0</p>", "text/html", "pass"),
        ("<p>Released under the OGL.</p>", "text/html", "pass"),
        ("<p>googling is fine</p>", "text/html", "fail"),  # 'ogl' inside a word
        ("<p>Data: ODbL 1.0</p>", "text/html", "pass"),
        ("<p>All rights reserved</p>", "text/html", "fail"),
    ],
)
def test_open_licence(body: str, content_type: str, expected: str) -> None:
    assert check("open_licence", True, exchange(200, body, content_type)).outcome == expected


def test_sandbox() -> None:
    assert kind_check("sandbox", True, exchange(401), "sandbox").outcome == "pass"
    assert kind_check("sandbox", True, exchange(404), "sandbox").outcome == "fail"
    servers = {
        "openapi": "3.0.0",
        "info": {},
        "servers": [{"url": "https://api-uat.x.com/v1"}],
        "paths": {},
    }
    spec = exchange(200, json.dumps(servers), "application/json")
    assert outcome(kind_check("sandbox", True, spec, "spec")) == (
        "pass",
        "the spec lists a test server https://api-uat.x.com/v1",
    )
    one = {**servers, "servers": [{"url": "https://api.contest.com/v1"}]}
    one_server = exchange(200, json.dumps(one), "application/json")
    assert kind_check("sandbox", True, one_server, "spec").outcome == "fail"
    docs = exchange(200, "<p>Try the Sandbox first.</p>", "text/html")
    assert kind_check("sandbox", True, docs, "docs").outcome == "pass"


def test_rate_limit_headers() -> None:
    limited = exchange(200, "{}", headers={"X-RateLimit-Reset": "60"})
    assert outcome(check("rate_limit_headers", True, limited)) == ("pass", "x-ratelimit-reset: 60")
    assert check("rate_limit_headers", True, exchange(200, "{}")).outcome == "fail"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Deprecation": "@1688169599"}, "pass"),
        ({"Deprecation": "true"}, "pass"),  # the drafts' form
        ({"Deprecation": "soon"}, "fail"),
        ({"Sunset": "Sat, 01 Jan 2028 00:00:00 GMT"}, "pass"),
        ({"Sunset": "2028-01-01"}, "fail"),
        ({"Link": '<https://x.test/d>; rel="deprecation"'}, "pass"),
        ({"Link": '<https://x.test/next>; rel="next"'}, "not_applicable"),
        ({}, "not_applicable"),
    ],
)
def test_deprecation_signals(headers: dict[str, str], expected: str) -> None:
    assert check("deprecation_signals", True, exchange(200, "{}", headers=headers)).outcome == (
        expected
    )


@pytest.mark.parametrize(
    ("url", "headers", "expected"),
    [
        ("https://a.test/api/v1/", {}, "pass"),
        ("https://a.test/V2.1/waste", {}, "pass"),
        ("https://a.test/2024-06-01/", {}, "pass"),
        ("https://a.test/api", {"API-Version": "3"}, "pass"),
        ("https://a.test/api/vote", {}, "fail"),
        ("https://a.test/api", {}, "fail"),
    ],
)
def test_versioned_url(url: str, headers: dict[str, str], expected: str) -> None:
    target = at(url, status=200, headers=headers)
    assert check("versioned_url", True, target).outcome == expected


@pytest.mark.parametrize(
    ("url", "body", "content_type", "expected"),
    [
        ("https://a.test/ws/open311.asmx", "<html>help</html>", "text/html", "fail"),
        ("https://a.test/Service.svc", "", "text/html", "fail"),
        ("https://a.test/ws?WSDL", "<x/>", "text/xml", "fail"),
        (
            "https://a.test/api",
            '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/">',
            "text/xml",
            "fail",
        ),
        ("https://a.test/api", '{"a": 1}', "application/json", "pass"),
        ("https://a.test/api", "<html></html>", "text/html", "not_applicable"),
        ("https://a.test/api", "Not found", "text/plain", "not_applicable"),
    ],
)
def test_not_soap_only(url: str, body: str, content_type: str, expected: str) -> None:
    target = at(url, status=200, body=body, content_type=content_type)
    assert check("not_soap_only", True, target).outcome == expected


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


# --- links a two-stage probe follows ----------------------------------------------------------


def _link(name: str, body: str, url: str = "https://docs.x.test/api/") -> tuple[str | None, str]:
    found = LINKS[name].extract(MatchContext(at(url, status=200, body=body), None, NOW))
    return found.url, found.message


@pytest.mark.parametrize(
    ("body", "url"),
    [
        (
            '<script>SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui" })</script>',
            "https://docs.x.test/openapi.json",
        ),
        (
            "<script>const ui = SwaggerUIBundle({url: 'spec/v1.yaml'})</script>",
            "https://docs.x.test/api/spec/v1.yaml",
        ),
        (
            '<div id="swagger-ui"></div><script>cfg = {"urls":[{"url":'
            '"\\/swagger\\/v1\\/swagger.json","name":"V1"}]}</script>',
            "https://docs.x.test/swagger/v1/swagger.json",
        ),
        (
            '<redoc spec-url="https://api.x.test/openapi.yaml?a=1&amp;b=2"></redoc>',
            "https://api.x.test/openapi.yaml?a=1&b=2",
        ),
        (
            "<script>Redoc.init('/o.json', {}, el)</script>"
            "<script src='redoc.standalone.js'></script>",
            "https://docs.x.test/o.json",
        ),
        ('<rapi-doc spec-url = "../openapi.json"></rapi-doc>', "https://docs.x.test/openapi.json"),
        (
            '<elements-api apiDescriptionUrl="/v1/openapi.json" router="hash" />',
            "https://docs.x.test/v1/openapi.json",
        ),
        (
            '<script id="api-reference" data-url="/scalar.json"></script>',
            "https://docs.x.test/scalar.json",
        ),
        (
            '<link rel="service-desc" href="/describe.json" type="application/openapi+json">',
            "https://docs.x.test/describe.json",
        ),
        (
            '<p>Download the <a href="/downloads/openapi-v2.yaml">spec</a></p>',
            "https://docs.x.test/downloads/openapi-v2.yaml",
        ),
        ('<a href="/v3/api-docs">JSON</a>', "https://docs.x.test/v3/api-docs"),
    ],
)
def test_api_description_links(body: str, url: str) -> None:
    assert _link("api_description", body)[0] == url


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<h1>Hand-written docs</h1><a href='/guide.pdf'>guide</a>",
            "no Swagger UI, Redoc, RapiDoc or Elements page and no spec link",
        ),
        (
            '<div id="swagger-ui"></div><script src="init.js"></script>',
            "a Swagger UI page, but no spec URL found in it",
        ),
        (
            '<script>SwaggerUIBundle({url: "https://petstore.swagger.io/v2/swagger.json"})</script>',
            "the Swagger UI page still loads the Petstore example, not this API",
        ),
        (
            '<redoc spec-url="javascript:alert(1)"></redoc>',
            "the Redoc page points at 'javascript:alert(1)' is not an http(s) URL",
        ),
        (
            '<redoc spec-url="file:///etc/passwd"></redoc>',
            "the Redoc page points at 'file:///etc/passwd' is not an http(s) URL",
        ),
    ],
)
def test_api_description_without_a_followable_link(body: str, message: str) -> None:
    assert _link("api_description", body) == (None, message)


def test_calendar_feed_links() -> None:
    assert _link("calendar_feed", '<a href="bins.ics?uprn=1">iCal</a>')[0] == (
        "https://docs.x.test/api/bins.ics?uprn=1"
    )
    assert _link("calendar_feed", '<a href="webcal://cal.x.test/m.ics">x</a>', "http://d.test/")[
        0
    ] == ("http://cal.x.test/m.ics")
    assert _link("calendar_feed", '<a href="/feed.rss">rss</a>') == (
        None,
        "links to no iCalendar feed (.ics or webcal: URL)",
    )


def test_link_extraction_is_linear_on_hostile_pages() -> None:
    hostile = "<redoc " + 'spec-url="' * 100_000 + "swagger-ui " + "url: '" * 100_000
    started = time.perf_counter()
    _link("api_description", hostile)
    _link("calendar_feed", '<a href="' * 200_000)
    assert time.perf_counter() - started < 2.0
