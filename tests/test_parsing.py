"""Hostile documents from servers: every one ends in UnsafeDocument quickly, never a hang,
a crash, a file read or a network request."""

from __future__ import annotations

import builtins
import contextlib
import json
import socket
import time
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_audit import parsing
from api_audit.parsing import UnsafeDocument, parse_json, parse_spec, parse_yaml

BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _reason(call: object, body: bytes) -> str:
    with pytest.raises(UnsafeDocument) as caught:
        call(body)  # type: ignore[operator]
    return caught.value.reason


# --- YAML ------------------------------------------------------------------------------------


def test_billion_laughs_is_rejected_in_milliseconds() -> None:
    began = time.perf_counter()
    assert _reason(parse_yaml, BILLION_LAUGHS) == "YAML aliases expand to more than 1000000 nodes"
    assert time.perf_counter() - began < 1.0


def test_merge_key_bomb_is_rejected_before_construction() -> None:
    # `<<` merges copy mappings at construction time; the node check counts them first.
    levels = ["l0: &l0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}"]
    for n in range(1, 9):
        merges = ", ".join(f"*l{n - 1}" for _ in range(9))
        levels.append(f"l{n}: &l{n} {{<<: [{merges}], k{n}: 0}}")
    body = "\n".join(levels).encode()
    assert "expand to more than" in _reason(parse_yaml, body)


def test_self_referencing_alias_is_a_cycle() -> None:
    assert _reason(parse_yaml, b"a: &a [1, *a]\n") == "a YAML alias refers to itself (a cycle)"
    assert _reason(parse_yaml, b"&m {x: *m}\n") == "a YAML alias refers to itself (a cycle)"


def test_deep_yaml_is_rejected() -> None:
    # libyaml stops at its own nesting limit (1000) before our check runs
    assert "nesting depth" in _reason(parse_yaml, b"[" * 100_000 + b"]" * 100_000)
    assert _reason(parse_yaml, b"[" * 129 + b"]" * 129) == "YAML nested deeper than 128 levels"
    assert parse_yaml(b"[" * 128 + b"]" * 128) is not None


def test_aliases_count_their_expanded_depth() -> None:
    # The anchored list is 100 deep; used 100 levels down it makes a 200-deep document.
    deep = b"[" * 100 + b"1" + b"]" * 100
    body = b"a: &deep " + deep + b"\nb: " + b"[" * 100 + b"*deep" + b"]" * 100 + b"\n"
    assert _reason(parse_yaml, body) == "YAML nested deeper than 128 levels"


def test_yaml_shared_aliases_within_limits_load() -> None:
    assert parse_yaml(b"a: &x {k: v}\nb: *x\nc: *x\n") == {
        "a": {"k": "v"},
        "b": {"k": "v"},
        "c": {"k": "v"},
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"name: caf\xe9\n", "not valid UTF-8"),
        (
            b"a: 1\n---\nb: 2\n",
            "not valid YAML: expected a single document in the stream, "
            "but found another document at line 2, column 1",
        ),
        (
            b"a: [1, 2\n",
            "not valid YAML: while parsing a flow sequence, did not find expected "
            "',' or ']' at line 2, column 1",
        ),
        (
            b"{? [1]: 2}",
            "not valid YAML: while constructing a mapping, found unhashable key "
            "at line 1, column 4",
        ),
        (
            b"bell: \x07\n",
            "not valid YAML: unacceptable character #x0007: control characters are not allowed",
        ),
    ],
)
def test_invalid_yaml_says_why(body: bytes, reason: str) -> None:
    assert _reason(parse_yaml, body) == reason


def test_yaml_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "MAX_YAML_BYTES", 10)
    assert _reason(parse_yaml, b"a: 12345678901") == "YAML larger than 10 bytes"


def test_empty_yaml_is_none() -> None:
    assert parse_yaml(b"") is None
    assert parse_yaml(b"\xef\xbb\xbfa: 1\n") == {"a": 1}


# --- JSON ------------------------------------------------------------------------------------


def test_json_nested_100000_deep_is_rejected_fast() -> None:
    began = time.perf_counter()
    body = b"[" * 100_000 + b"]" * 100_000
    assert _reason(parse_json, body) == "JSON nested deeper than 128 levels"
    assert _reason(parse_json, b'{"a":' * 100_000 + b"1" + b"}" * 100_000).startswith("JSON nested")
    assert time.perf_counter() - began < 1.0


def test_json_depth_limit_is_128() -> None:
    assert parse_json(b"[" * 128 + b"]" * 128) is not None
    assert _reason(parse_json, b"[" * 129 + b"]" * 129) == "JSON nested deeper than 128 levels"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"openapi": "3.0.1", "info": {"title": "Cut',
            "not valid JSON: Unterminated string starting at: line 1 column 40 (char 39)",
        ),
        (b'{"name": "caf\xe9"}', "not valid UTF-8"),
        (b"", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"<html>", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_invalid_json_says_why(body: bytes, reason: str) -> None:
    assert _reason(parse_json, body) == reason


def test_huge_json_integer_is_invalid_not_slow() -> None:
    assert _reason(parse_json, b"1" * 5000).startswith("not valid JSON: Exceeds the limit")


def test_json_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "MAX_JSON_BYTES", 4)
    assert _reason(parse_json, b'{"a": 1}') == "JSON larger than 4 bytes"


def test_json_with_bom_and_utf16() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert parse_json('{"a": "é"}'.encode("utf-16")) == {"a": "é"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_unsafe_document(body: bytes) -> None:
    for parse in (parse_json, parse_yaml):
        with contextlib.suppress(UnsafeDocument):
            parse(body)
    with contextlib.suppress(UnsafeDocument):
        parse_spec(body, "application/octet-stream")


# --- OpenAPI ---------------------------------------------------------------------------------


def _spec(document: Mapping[str, object]) -> bytes:
    return json.dumps(document).encode()


def test_openapi_3_is_described() -> None:
    info = parse_spec(
        _spec(
            {
                "openapi": "3.1.0",
                "info": {"title": "Waste", "version": "1"},
                "paths": {"/a": {}, "/b": {}},
            }
        ),
        "application/json",
    )
    assert (info.kind, info.version, info.title) == ("openapi3", "3.1.0", "Waste")
    assert info.has_info
    assert info.has_paths
    assert info.path_count == 2
    assert info.external_refs == ()


def test_swagger_2_in_yaml_is_described() -> None:
    info = parse_spec(b'swagger: "2.0"\ninfo: {title: Gateway}\npaths: {/a: {}}\n', "")
    assert (info.kind, info.version, info.title, info.has_paths) == (
        "swagger2",
        "2.0",
        "Gateway",
        True,
    )


def test_openapi_31_with_webhooks_only() -> None:
    info = parse_spec(
        b"openapi: 3.1.0\ninfo: {title: Hooks, version: '1'}\nwebhooks: {created: {}}\n",
        "application/yaml",
    )
    assert info.kind == "openapi3"
    assert info.has_webhooks
    assert not info.has_paths


@pytest.mark.parametrize(
    ("document", "kind", "version"),
    [
        ({"openapi": "4.0.0"}, None, "4.0.0"),
        ({"swagger": "1.2"}, None, "1.2"),
        ({"swaggerVersion": "1.2"}, None, ""),
        ({"openapi": 3.0}, "openapi3", "3.0"),
    ],
)
def test_other_versions(document: dict[str, object], kind: str | None, version: str) -> None:
    info = parse_spec(_spec(document))
    assert (info.kind, info.version) == (kind, version)


def test_a_list_or_scalar_is_no_spec() -> None:
    assert parse_spec(b"[1, 2]").kind is None
    assert parse_spec(b"Not found", "text/plain").kind is None


@pytest.mark.parametrize(
    "ref",
    [
        "https://evil.example/schemas.json#/Pet",
        "http://127.0.0.1:8799/x.json",
        "file:///etc/passwd",
        "../secret.yaml",
        "other.json#/components/schemas/A",
        "",
    ],
)
def test_non_local_refs_are_reported(ref: str) -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/ok"}}}},
            "/b": {"$ref": ref},
        },
    }
    assert parse_spec(_spec(document)).external_refs == (ref,)


def test_local_refs_and_properties_named_ref_are_fine() -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "Node": {
                    "properties": {
                        "children": {"items": {"$ref": "#/components/schemas/Node"}},
                        "$ref": {"type": "string"},
                    }
                },  # a property called $ref
            }
        },
    }
    assert parse_spec(_spec(document)).external_refs == ()


def test_refs_in_yaml_shared_by_aliases_are_walked_once() -> None:
    body = b"openapi: 3.0.0\nx: &x {$ref: 'http://e.test/a'}\ny: [*x, *x, *x]\n"
    assert parse_spec(body).external_refs == ("http://e.test/a",)


def test_truncated_json_spec_is_not_retried_as_yaml_when_labelled_json() -> None:
    with pytest.raises(UnsafeDocument, match="not valid JSON"):
        parse_spec(b'{"openapi": "3.0.0", "info": {', "application/json")


def test_yaml_flow_style_spec_that_is_not_strict_json() -> None:
    info = parse_spec(b"{openapi: 3.0.0, info: {title: Flow}, paths: {/a: {}}}", "text/yaml")
    assert info.kind == "openapi3"
    assert info.title == "Flow"


def test_parsing_opens_no_files_and_no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsing must not touch files or the network")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    document = {
        "openapi": "3.0.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/a": {"$ref": "http://127.0.0.1:9/x.json"},
            "/b": {"$ref": "file:///etc/passwd"},
        },
    }
    assert len(parse_spec(_spec(document)).external_refs) == 2
    yaml_body = b"openapi: 3.0.0\npaths: {/a: {$ref: 'file:///etc/passwd'}}\n"
    assert parse_spec(yaml_body).external_refs == ("file:///etc/passwd",)


# --- local $refs: dangling pointers and cycles terminate ----------------------------------------


def _refs(document: object, **limits: float) -> tuple[str, ...]:
    return parsing.local_ref_problems(document, **limits)  # type: ignore[arg-type]


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
    with pytest.raises(parsing.CheckBudgetExceeded, match="step budget"):
        _refs(chain, max_steps=1000)


def test_the_time_budget_stops_a_check() -> None:
    wide = {f"k{i}": {"$ref": "#/end"} for i in range(5000)} | {"end": {}}
    with pytest.raises(parsing.CheckBudgetExceeded, match="not checked within 0 s"):
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
    report = parsing.check_openapi(spec.document)
    assert report.ref_problems == (
        "$ref cycle: #/components/responses/A -> #/components/responses/B -> "
        "#/components/responses/C -> #/components/responses/A",
    )
    assert time.perf_counter() - started < 1.0


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
    report = parsing.check_openapi(document)
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
    report = parsing.check_openapi(document)
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
    assert parsing.check_openapi(webhooks_only).problems == ()
    no_responses = {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": {"/a": {"get": {"summary": "x"}}},
    }
    assert parsing.check_openapi(no_responses).problems == ()
    three_oh = {**no_responses, "openapi": "3.0.3"}
    assert parsing.check_openapi(three_oh).problems == ("GET /a has no responses",)


def test_swagger_2_structure() -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": "G", "version": "2"},
        "host": "api.x.test",
        "securityDefinitions": {"basic": {"type": "basic"}},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "OK"}}}}},
    }
    report = parsing.check_openapi(document)
    assert (report.kind, report.problems, report.has_servers) == ("swagger2", (), True)


def test_not_an_api_description_gets_an_empty_report() -> None:
    assert parsing.check_openapi({"hello": "world"}) == parsing.OpenApiReport(kind=None)


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
    report = parsing.check_openapi(document)
    assert (report.operations, report.problem_count, report.ref_problems) == (5000, 0, ())
    assert time.perf_counter() - started < 2.0
    with pytest.raises(parsing.CheckBudgetExceeded):
        parsing.check_openapi(document, max_steps=1000)


def test_hostile_structure_does_not_recurse() -> None:
    # 120 nested path items is legal JSON depth; the check walks it flat.
    deep: dict[str, object] = {"description": "leaf"}
    for _ in range(120):
        deep = {"nested": deep}
    document = {"openapi": "3.0.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": deep}}
    assert parsing.check_openapi(document).operations == 0
