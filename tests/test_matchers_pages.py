"""Login walls and soft-200 app shells: what makes a page not really public."""

from __future__ import annotations

import json
import time

import pytest
from matcher_support import SHELL, check, exchange, outcome

from api_audit.methodology import page_similarity, sign_in_url
from api_audit.models import Hop

# --- login walls ----------------------------------------------------------------------


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


# --- soft-200 -------------------------------------------------------------------------


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
