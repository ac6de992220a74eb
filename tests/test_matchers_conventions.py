"""Conventions a well-run API follows: rate-limit headers, deprecation, versions, problem+json."""

from __future__ import annotations

import pytest
from matcher_support import at, check, check_credit, exchange, outcome


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
