"""The matcher registry: every matcher documented and pure, and every YAML argument read
once, when the probes load, into the value its matcher takes (bad ones rejected in words)."""

from __future__ import annotations

import re

import pytest
from matcher_support import check, exchange

from api_audit.methodology import LINKS, MATCHERS, BadArgument, expectation, load_methodology
from api_audit.methodology.matchers.arguments import read_true
from api_audit.methodology.matchers.body import BodyTerms
from api_audit.methodology.matchers.http import HeaderRule
from api_audit.methodology.matchers.registry import link, matcher
from api_audit.methodology.matchers.wording import Wording
from api_audit.models import Expectation

# --- the registry ---------------------------------------------------------------------


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


# --- arguments ------------------------------------------------------------------------


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


# --- typed values, read once -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "argument", "value"),
    [
        ("status", "2xx", ("2xx",)),
        ("status", [200, "3xx"], (200, "3xx")),
        ("content_type", "*/*+json", ("*/*+json",)),
        ("header", {"name": "Link"}, HeaderRule("Link", None)),
        (
            "header",
            {"name": "Link", "pattern": "service-desc"},
            HeaderRule("Link", re.compile("service-desc", re.IGNORECASE)),
        ),
        ("body_contains", ["a", "b"], BodyTerms("all", ("a", "b"))),
        ("body_contains", {"any": "a"}, BodyTerms("any", ("a",))),
        ("json_fields", "info.title", ("info.title",)),
        ("final_scheme", "https", "https"),
        ("openapi", True, 0.0),
        ("openapi", {"swagger2_credit": 1}, 1.0),
        ("spec_quality", True, 0.5),
        ("spec_quality", {}, 0.5),
        ("problem_details", {"json_error_credit": 0.25}, 0.25),
        ("redirects_to_https", True, 0.5),
        ("tls_version", {"min": "1.3"}, 1.3),
        (
            "wording",
            {"pass": "sign up", "otherwise": "fail"},
            Wording(("sign up",), (), "fail", 0.5),
        ),
        ("not_login_wall", True, True),
    ],
)
def test_arguments_are_read_into_typed_values(name: str, argument: object, value: object) -> None:
    read = MATCHERS[name].read(argument)
    assert read == value
    assert type(read) is type(value)


@pytest.mark.parametrize(
    ("name", "argument", "problem"),
    [
        # These validated once and then failed every evaluation with a TypeError.
        ("spec_quality", {"min_share": None}, "min_share must be a number from 0 to 1"),
        (
            "wording",
            {"pass": ["a"], "mixed_credit": None},
            "mixed_credit must be a number from 0 to 1",
        ),
        ("openapi", {"swagger2_credit": None}, "swagger2_credit must be a number from 0 to 1"),
    ],
)
def test_a_null_share_is_rejected_when_the_probes_load(
    name: str, argument: object, problem: str
) -> None:
    with pytest.raises(BadArgument) as raised:
        MATCHERS[name].read(argument)
    assert raised.value.problem == problem


def test_the_loader_reads_every_argument_once_into_the_expectation() -> None:
    loaded = load_methodology()
    expectations = [
        e
        for probe in loaded.probes
        for e in (*probe.expect, *(probe.request.follow.expect if probe.request.follow else ()))
    ]
    assert expectations
    for e in expectations:
        assert e.value is not None, e.matcher
        assert e.value == MATCHERS[e.matcher].read(e.argument), e.matcher


def test_expectation_reads_its_argument() -> None:
    assert expectation("status", [200, "3xx"], 7) == Expectation("status", [200, "3xx"], 7)
    assert expectation("status", [200, "3xx"]).value == (200, "3xx")
    with pytest.raises(BadArgument, match="is not a status"):
        expectation("status", "ok")
    with pytest.raises(KeyError):
        expectation("no_such_matcher", True)


def test_a_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="matcher 'status' is registered twice"):
        matcher("status", read=read_true, argument="true", doc="Again.")(MATCHERS["status"].match)
    with pytest.raises(ValueError, match="link 'calendar_feed' is registered twice"):
        link("calendar_feed", doc="Again.")(LINKS["calendar_feed"].extract)
    assert MATCHERS["status"].doc != "Again."
