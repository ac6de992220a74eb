"""What a supplier writes: wording phrases, open licences, sandboxes."""

from __future__ import annotations

import json

import pytest
from matcher_support import check, exchange, kind_check, outcome

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
