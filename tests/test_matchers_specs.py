"""API descriptions: OpenAPI / Swagger documents, their quality marks, SOAP-only surfaces."""

from __future__ import annotations

import json

import pytest
from matcher_support import SHELL, at, check, check_credit, exchange, outcome

from api_audit.methodology import CheckBudgetExceeded, Verdict
from api_audit.methodology.matchers import context
from api_audit.models import Exchange

# --- OpenAPI --------------------------------------------------------------------------


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


# --- spec quality ---------------------------------------------------------------------


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


# --- SOAP -----------------------------------------------------------------------------


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
