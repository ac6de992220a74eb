"""The generic body matchers: words a body mentions, fields its JSON has."""

from __future__ import annotations

import json

from matcher_support import check, exchange, outcome


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
