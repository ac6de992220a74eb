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

from api_audit.methodology import documents
from api_audit.methodology.documents import UnsafeDocument, parse_json, parse_spec, parse_yaml

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
    monkeypatch.setattr(documents, "MAX_YAML_BYTES", 10)
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
    monkeypatch.setattr(documents, "MAX_JSON_BYTES", 4)
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
