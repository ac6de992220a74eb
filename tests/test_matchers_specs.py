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
                {"openapi": "3.1.0", "info": {}, "paths": {"/a": {"$ref": "file:///etc/passwd"}}}
            ),
            "$ref 'file:///etc/passwd' points at the reader's own files or network: no one else "
            "can resolve it, and it is never fetched",
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


# --- $refs to other documents -----------------------------------------------------------

PUBLIC_REFS = [
    "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/compiled/service.json",
    "http://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/schemas/link.yaml",
    "schemas/collection.yaml",
    "../openapi/parameters/bbox.yaml",
    "./service.json#/definitions/Service",
    "/schemas/service.json",
    "//schemas.example.test/x.json",
    "https://8.8.8.8/x.json",
    "urn:uuid:68d043b5-9ecf-4559-a57a-396e0d452311",
    "https://[2001:4860:4860::8888]/x.json",
]
READER_SIDE_REFS = [
    "file:///etc/passwd",
    "FILE:/etc/passwd",
    "file://server/share/x.json",
    "C:\\specs\\x.json",
    "c:/specs/x.json",
    "\\\\server\\share\\x.json",
    "http://localhost/x.json",
    "http://LOCALHOST.:8080/x.json",
    "http://api.localhost/x.json",
    "http://127.0.0.1/x.json",
    "http://[::1]/x.json",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://10.0.0.1/x.json",
    "https://192.168.1.10/x.json",
    "http://172.16.0.5/x.json",
    "http://100.100.100.200/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://printer.local/x.json",
    "http://0.0.0.0/",
]


def _with_ref(ref: str, kind: str = "openapi") -> dict[str, object]:
    head: dict[str, object] = {"openapi": "3.0.3"} if kind == "openapi" else {"swagger": "2.0"}
    return {
        **head,
        "info": {"title": "T", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"$ref": ref}}}}},
    }


@pytest.mark.parametrize("kind", ["openapi", "swagger"])
@pytest.mark.parametrize("ref", PUBLIC_REFS)
def test_a_ref_to_a_public_document_is_still_published(ref: str, kind: str) -> None:
    verdict = check("openapi", {"swagger2_credit": 0.5}, _openapi(_with_ref(ref, kind)))
    assert verdict.outcome == "pass", verdict.message
    assert verdict.credit == (1.0 if kind == "openapi" else 0.5)
    assert verdict.message.endswith("; 1 $ref to another document (not fetched)")


@pytest.mark.parametrize("matcher", ["openapi", "spec_quality"])
@pytest.mark.parametrize("ref", READER_SIDE_REFS)
def test_a_ref_to_the_readers_own_files_or_network_fails(ref: str, matcher: str) -> None:
    verdict = check(matcher, True, _openapi(_with_ref(ref)))
    assert verdict.outcome == "fail"
    assert "points at the reader's own files or network" in verdict.message


def test_a_reader_side_ref_is_found_however_many_public_ones_come_first() -> None:
    paths = {f"/p{i}": {"$ref": f"https://api.example.test/p{i}.json"} for i in range(500)}
    paths["/last"] = {"$ref": "http://169.254.169.254/"}
    document = {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": paths}
    verdict = check("openapi", True, _openapi(document))
    assert outcome(verdict) == (
        "fail",
        "$ref 'http://169.254.169.254/' points at the reader's own files or network: no one "
        "else can resolve it, and it is never fetched",
    )


@pytest.mark.parametrize(
    "ref",
    [
        "https://e.test/" + "a" * 1_000_000,
        "\x1b[31mred\x1b[0m\u202e.json",
        "http://[::1",
        "http://e.test:99999999/x",
        "\x00",
        "",
    ],
)
def test_hostile_refs_never_raise_and_are_quoted(ref: str) -> None:
    for matcher in ("openapi", "spec_quality"):
        verdict = check(matcher, True, _openapi(_with_ref(ref)))
        assert verdict.outcome in ("pass", "fail")
        assert "\x1b" not in verdict.message and "\u202e" not in verdict.message
        assert len(verdict.message) < 700


def test_a_local_cycle_still_fails_beside_remote_refs() -> None:
    document = _with_ref("https://e.test/a.json")
    a, b = "#/components/responses/A", "#/components/responses/B"
    document["components"] = {"responses": {"A": {"$ref": b}, "B": {"$ref": a}}}
    document["paths"] = {"/a": {"get": {"responses": {"200": {"$ref": a}}}}}
    verdict = check("openapi", True, _openapi(document))
    assert verdict.outcome == "fail"
    assert "$ref cycle" in verdict.message


@pytest.mark.parametrize(
    ("count", "tail"),
    [
        (1, "1 $ref to another document not resolved (never fetched): 'schemas/s0.json'"),
        (
            3,
            "3 $refs to other documents not resolved (never fetched): 'schemas/s0.json', "
            "'schemas/s1.json', 'schemas/s2.json'",
        ),
        (
            40,
            "40 $refs to other documents not resolved (never fetched): 'schemas/s0.json', "
            "'schemas/s1.json', 'schemas/s2.json' and 37 more",
        ),
    ],
)
def test_spec_quality_names_a_few_unresolved_refs_and_counts_the_rest(
    count: int, tail: str
) -> None:
    document = json.loads(json.dumps(GOOD_SPEC_FOR_REFS))
    schemas = {f"S{i}": {"$ref": f"schemas/s{i}.json"} for i in range(count)}
    document["components"] = {"schemas": schemas}
    verdict = _quality(document)
    assert verdict.outcome == "pass"
    # the one mark it lacks, of eight: 7/8
    assert verdict.credit == 0.88
    assert verdict.message == (
        f"7 of 8 quality marks (lacks $refs that resolve within the document); {tail}"
    )


def test_spec_quality_without_external_refs_has_no_such_mark() -> None:
    verdict = _quality(GOOD_SPEC_FOR_REFS)
    assert outcome(verdict) == ("pass", "7 of 7 quality marks")


# --- spec quality ---------------------------------------------------------------------


def _quality(document: object, content_type: str = "application/json") -> Verdict:
    body = json.dumps(document)
    return check("spec_quality", {"min_share": 0.5}, exchange(200, body, content_type))


GOOD_SPEC_FOR_REFS = {
    "openapi": "3.0.3",
    "info": {"title": "W", "version": "1", "contact": {"name": "T"}, "license": {"name": "OGL"}},
    "servers": [{"url": "/"}],
    "paths": {
        "/a": {
            "get": {
                "summary": "A",
                "responses": {"200": {"description": "OK"}, "400": {"description": "Bad"}},
            }
        }
    },
}

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
                '{"openapi": "3.0.0", "info": {}, "paths": {"/a": {"$ref": "http://10.0.0.1/y"}}}',
                "application/json",
            ),
            "$ref 'http://10.0.0.1/y' points at the reader's own files or network",
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
