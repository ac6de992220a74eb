"""Local `$ref`s and the OpenAPI structure check: dangling pointers and cycles are reported,
never followed; hostile structures end within the step and time budgets."""

from __future__ import annotations

import time

import pytest

from api_audit.methodology import openapi
from api_audit.methodology.documents import parse_spec

# --- local $refs: dangling pointers and cycles terminate ----------------------------------------


def _refs(document: object, **limits: float) -> tuple[str, ...]:
    return openapi.local_ref_problems(document, **limits)  # type: ignore[arg-type]


def test_a_ref_cycle_is_reported_not_followed() -> None:
    document = {
        "components": {
            "schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
            }
        },
        "paths": {"/a": {"$ref": "#/components/schemas/A"}},
    }
    assert _refs(document) == (
        "$ref cycle: #/components/schemas/B -> #/components/schemas/A -> #/components/schemas/B",
    )


def test_a_self_reference_is_a_cycle() -> None:
    assert _refs({"x": {"$ref": "#/x"}}) == ("$ref cycle: #/x -> #/x",)


def test_a_recursive_schema_is_legitimate() -> None:
    node = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/defs/Node"}}},
    }
    assert _refs({"defs": {"Node": node}, "root": {"$ref": "#/defs/Node"}}) == ()


def test_dangling_refs_and_json_pointer_escapes() -> None:
    document = {
        "paths": {"/a/{id}": {"get": {}}},
        "x": {"$ref": "#/paths/~1a~1%7Bid%7D/get"},
        "y": {"$ref": "#/paths/~1b"},
        "z": {"$ref": "#/list/1"},
        "list": [0, 1],
        "anchor": {"$ref": "#Name"},
    }
    assert _refs(document) == (
        "$ref '#/paths/~1b' points at nothing in the document",
        "$ref '#Name' points at nothing in the document",
    )


def test_a_long_ref_chain_terminates_within_the_budget() -> None:
    chain = {f"n{i}": {"$ref": f"#/n{i + 1}"} for i in range(5000)}
    chain["n5000"] = {"type": "string"}
    assert _refs(chain) == ()
    with pytest.raises(openapi.CheckBudgetExceeded, match="step budget"):
        _refs(chain, max_steps=1000)


def test_the_time_budget_stops_a_check() -> None:
    wide = {f"k{i}": {"$ref": "#/end"} for i in range(5000)} | {"end": {}}
    with pytest.raises(openapi.CheckBudgetExceeded, match="not checked within 0 s"):
        _refs(wide, max_seconds=0)


def test_a_ref_cycle_in_a_yaml_spec_fails_cleanly_and_fast() -> None:
    body = b"""\
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      responses:
        '200': {$ref: '#/components/responses/A'}
components:
  responses:
    A: {$ref: '#/components/responses/B'}
    B: {$ref: '#/components/responses/C'}
    C: {$ref: '#/components/responses/A'}
"""
    started = time.perf_counter()
    spec = parse_spec(body, "application/yaml")
    report = openapi.check_openapi(spec.document)
    assert report.ref_problems == (
        "$ref cycle: #/components/responses/A -> #/components/responses/B -> "
        "#/components/responses/C -> #/components/responses/A",
    )
    assert time.perf_counter() - started < 1.0


# --- $refs to other documents: counted, named, never followed -------------------------------


def test_external_refs_are_counted_once_each_in_document_order() -> None:
    shared = {"$ref": "b.json"}
    document = {
        "a": {"$ref": "a.json"},
        "list": [shared, shared, {"$ref": "#/local"}, {"$ref": "c.json"}],
        "again": {"$ref": "a.json"},
    }
    found = openapi.external_refs(document)
    assert (found.count, found.first, found.reader_side) == (3, ("a.json", "b.json", "c.json"), ())


def test_external_refs_keep_the_first_few_and_count_them_all() -> None:
    document = {"items": [{"$ref": f"s{i}.json"} for i in range(5000)]}
    found = openapi.external_refs(document)
    assert found.count == 5000
    assert found.first == tuple(f"s{i}.json" for i in range(openapi.MAX_REPORTED))


def test_a_ref_property_that_is_not_text_is_not_a_reference() -> None:
    document = {"properties": {"$ref": {"type": "string"}}, "x": {"$ref": 42}}
    assert openapi.external_refs(document).count == 0


def test_external_refs_stop_at_the_step_budget() -> None:
    document = {"items": [{"$ref": f"s{i}.json"} for i in range(100)]}
    with pytest.raises(openapi.CheckBudgetExceeded):
        openapi.external_refs(document, max_steps=50)


def test_a_shared_yaml_node_is_walked_once() -> None:
    lines = ["openapi: 3.0.0", "a: &a [{$ref: x.json}, {$ref: y.json}]"]
    lines += [f"k{i}: *a" for i in range(200)]
    spec = parse_spec("\n".join(lines).encode())
    found = openapi.external_refs(spec.document, max_steps=400)
    assert found.count == 2


def test_the_structure_report_carries_the_external_refs() -> None:
    document = {
        "openapi": "3.0.0",
        "info": {"title": "T", "version": "1"},
        "paths": {"/a": {"$ref": "paths/a.yaml"}},
    }
    report = openapi.check_openapi(document)
    assert report.external == openapi.ExternalRefs(1, ("paths/a.yaml",), ())
    assert report.problems == ()


# --- the OpenAPI structure check --------------------------------------------------------------


def test_a_good_document_has_no_structural_problems() -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1.0", "contact": {"name": "Team"}},
        "servers": [{"url": "https://a.test"}],
        "security": [{"key": []}],
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header"}}},
        "paths": {
            "/a": {
                "parameters": [{"name": "id", "in": "path"}],
                "get": {
                    "summary": "A",
                    "responses": {"200": {"description": "OK"}, "4XX": {"description": "Bad"}},
                },
                "post": {"responses": {"default": {"$ref": "#/x"}}},
            }
        },
    }
    report = openapi.check_openapi(document)
    assert (report.problems, report.problem_count) == ((), 0)
    assert (report.operations, report.described, report.with_error_responses) == (2, 1, 2)
    assert (report.has_title, report.has_version, report.has_servers, report.has_contact) == (
        True,
        True,
        True,
        True,
    )
    assert report.has_licence is False
    assert (report.security_schemes, report.security_used) == (("key",), ("key",))
    assert report.ref_problems == ("$ref '#/x' points at nothing in the document",)


def test_structural_problems_are_listed() -> None:
    document = {
        "openapi": 3.0,
        "info": {"title": "", "version": 1.0},
        "servers": [{"uri": "x"}],
        "paths": {
            "a": {"get": {"responses": {"200": {}, "OK": {"description": "x"}}}},
            "/b": {"get": {}, "parameters": [{"name": "q"}]},
            "/c": [],
        },
        "security": [{"oauth": []}],
    }
    report = openapi.check_openapi(document)
    assert report.problem_count == 11  # the first 10 are listed
    assert list(report.problems) == [
        'openapi must be a version string such as "3.0.3"',
        "info.title must be non-empty text",
        "info.version must be text (quote numbers in YAML)",
        "path 'a' must start with /",
        "GET a 200: a response needs a description",
        "GET a: 'OK' is not a response code",
        "/b: a parameter needs a name and `in`",
        "GET /b has no responses",
        "paths['/c'] must be an object",
        "security requirement 'oauth' has no security scheme",
    ]


def test_openapi_3_1_may_leave_out_responses_and_paths() -> None:
    webhooks_only = {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "webhooks": {}}
    webhooks_only["components"] = {"schemas": {}}
    assert openapi.check_openapi(webhooks_only).problems == ()
    no_responses = {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {"/a": {"get": {"summary": "x"}}},
    }
    assert openapi.check_openapi(no_responses).problems == ()
    three_oh = {**no_responses, "openapi": "3.0.3"}
    assert openapi.check_openapi(three_oh).problems == ("GET /a has no responses",)


def test_swagger_2_structure() -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": "G", "version": "2"},
        "host": "api.x.test",
        "securityDefinitions": {"basic": {"type": "basic"}},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}},
    }
    report = openapi.check_openapi(document)
    assert (report.kind, report.problems, report.has_servers) == ("swagger2", (), True)


def test_not_an_api_description_gets_an_empty_report() -> None:
    assert openapi.check_openapi({"hello": "world"}) == openapi.OpenApiReport(kind=None)


def test_a_large_spec_is_checked_quickly_and_under_budget() -> None:
    paths = {
        f"/r{i}": {
            "get": {
                "summary": "x",
                "parameters": [{"name": "id", "in": "query"}],
                "responses": {"200": {"description": "OK"}, "404": {"$ref": "#/r/404"}},
            }
        }
        for i in range(5000)
    }
    document = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": paths,
        "r": {"404": {"description": "No"}},
    }
    started = time.perf_counter()
    report = openapi.check_openapi(document)
    assert (report.operations, report.problem_count, report.ref_problems) == (5000, 0, ())
    assert time.perf_counter() - started < 2.0
    with pytest.raises(openapi.CheckBudgetExceeded):
        openapi.check_openapi(document, max_steps=1000)


def test_hostile_structure_does_not_recurse() -> None:
    # 120 nested path items is legal JSON depth; the check walks it flat.
    deep: dict[str, object] = {"description": "leaf"}
    for _ in range(120):
        deep = {"nested": deep}
    document = {"openapi": "3.0.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": deep}}
    assert openapi.check_openapi(document).operations == 0
