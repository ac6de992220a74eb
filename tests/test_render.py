"""Renderers: fixed-width plain consoles and exact JSON, with hostile text kept inert."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace

import pytest
from rich.console import Console

from api_audit.models import (
    CRITERIA,
    CriterionScore,
    Disagreement,
    Finding,
    Reply,
    RunInfo,
    Scorecard,
    ScoredSystem,
    SystemScore,
)
from api_audit.report.json import scorecard_document, scorecard_json, write_scorecard_json
from api_audit.report.scorecard import print_scorecard
from api_audit.text import safe_markup, strip_controls

RUN = RunInfo(
    id=7,
    started_at="2026-11-27T10:00:00+00:00",
    finished_at="2026-11-27T10:00:04+00:00",
    tool_version="0.1.0",
    rubric_version="test-1",
    methodology_sha256="m" * 8,
    catalogue_sha256="c" * 8,
    catalogue_source="vendors.yaml",
    status="complete",
)


def _row(system_id: str, name: str, grade: str, score: float | None) -> ScoredSystem:
    criteria = {
        "documented": CriterionScore(score, 1.0),
        "free": CriterionScore(None, 0.0),
        "standards": CriterionScore(2.5, 0.5),
    }
    finding = Finding(system_id, "docs-public", "documented", 3, "fail", "401: needs an account")
    return ScoredSystem(
        system_id,
        name,
        "v",
        "Vendor",
        SystemScore(system_id, score, 0.75, grade, criteria),
        (finding,),
    )


def _plain(width: int = 120) -> Console:
    return Console(width=width, color_system=None, force_terminal=False, record=True)


def test_table_shows_every_column_and_value() -> None:
    console = _plain()
    print_scorecard(Scorecard(RUN, (_row("a", "Alpha System", "B", 7.25),)), console)
    text = console.export_text()
    for expected in ("Alpha System", "Vendor", "B", "7.2", "2.5", "—", "75%", "run 7", "test-1"):
        assert expected in text


def test_hostile_names_are_not_interpreted() -> None:
    hostile = "[bold red]pwn[/] \x1b]0;title\x07\x1b[31m<script>x</script>"
    console = _plain(200)
    print_scorecard(Scorecard(RUN, (_row("h", hostile, "?", None),)), console)
    text = console.export_text()
    assert "[bold red]pwn[/]" in text  # shown literally, not styled
    assert "\x1b" not in text and "\x07" not in text


def test_strip_controls_and_escape() -> None:
    assert strip_controls("a\x1b[2Jb\tc\nd\x9b") == "a[2Jb\tc\nd"
    assert safe_markup("[x]") == "\\[x]"


def test_json_contract_fields() -> None:
    doc = json.loads(scorecard_json(Scorecard(RUN, (_row("a", "Alpha", "B", 7.25),))))
    assert set(doc["run"]) >= {"id", "started_at", "finished_at", "tool_version", "rubric_version"}
    (system,) = doc["systems"]
    assert set(system) >= {
        "vendor",
        "system",
        "name",
        "grade",
        "score",
        "coverage",
        "ladder",
        "criteria",
        "findings",
    }
    assert system["criteria"]["free"] == {"score": None, "coverage": 0.0, "partial": False}
    assert system["findings"] == [
        {
            "probe": "docs-public",
            "criterion": "documented",
            "outcome": "fail",
            "message": "401: needs an account",
            "basis": "observed",
            "source": None,
            "seen": None,
            "sign_in": None,
            "excerpt": None,
            "evidence": [],
            "replies": [],
            "set_aside": None,
        }
    ]
    assert (system["ladder"], system["disagreements"], system["replies"]) == (None, [], [])


# --- the ladder, claimed vs observed, right of reply -------------------------------------------

ATTESTED = Finding(
    "a",
    "attested:api_access_fee",
    "free",
    3,
    "fail",
    "attested (seen 2026-06-01, https://s.example/p): API access costs extra: yes",
    basis="attested",
    source="https://s.example/p",
    seen="2026-06-01",
)
DISAGREEMENT = Disagreement(
    claim="docs_public",
    claimed=True,
    observed_probe="docs-public",
    observed_outcome="fail",
    message="claimed docs are public: yes (...); observed docs-public: fail: 401",
    source="https://s.example/d",
    seen="2026-06-01",
)
REPLIES = (
    Reply(dt.date(2026, 7, 1), "Our docs are public to customers.", about="docs_public"),
    Reply(dt.date(2026, 7, 2), "The fee covers hosting.", about="api_access_fee"),
    Reply(dt.date(2026, 7, 3), "We are moving to OpenAPI.", about="docs-public"),
)


def _rich_row() -> ScoredSystem:
    row = _row("a", "Alpha", "B", 7.25)
    score = replace(row.score, ladder="L2", ladder_label="documented, but gated", ladder_max="L2")
    return replace(
        row,
        score=score,
        findings=(*row.findings, ATTESTED),
        disagreements=(DISAGREEMENT, replace(DISAGREEMENT, claim="standard:openapi")),
        replies=REPLIES,
    )


def test_a_narrow_console_leaves_out_the_criterion_columns_and_says_where_they_are() -> None:
    console = _plain(80)
    print_scorecard(Scorecard(RUN, (_rich_row(),)), console)
    text = console.export_text()
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if "system" in line)
    assert header.split() == [
        "┃", "system", "┃", "vendor", "┃", "grade", "┃", "ladder", "┃", "score", "┃",
        "coverage", "┃", "claims", "┃",
    ]  # fmt: skip
    alpha = next(line for line in lines if "Alpha" in line)
    assert alpha.split() == ["│", "Alpha", "│", "Vendor", "│", "B", "│", "L2", "│", "7.2", "│",
                             "75%", "│", "≠2", "↩3", "│"]  # fmt: skip
    assert "criterion scores: --format json, or a terminal 120 columns wide" in " ".join(
        text.split()
    )


@pytest.mark.parametrize("width", [120, 160])
def test_a_wide_console_shows_every_criterion(width: int) -> None:
    console = _plain(width)
    print_scorecard(Scorecard(RUN, (_rich_row(),)), console)
    header = next(line for line in console.export_text().splitlines() if "system" in line)
    assert [w for w in header.split() if w != "┃"][5:9] == list(CRITERIA)


def test_table_shows_ladder_and_disagreements() -> None:
    uncertain = _row("b", "Beta", "?", None)
    uncertain = replace(
        uncertain,
        score=replace(
            uncertain.score,
            ladder="L0?",
            ladder_label="no integration surface known",
            ladder_certain=False,
            ladder_max="L4",
        ),
    )
    console = _plain(160)
    print_scorecard(Scorecard(RUN, (_rich_row(), uncertain)), console)
    lines = console.export_text().splitlines()
    alpha = next(line for line in lines if "Alpha" in line)
    assert alpha.split() == [
        "│", "Alpha", "│", "Vendor", "│", "B", "│", "L2", "│", "7.2", "│", "7.2", "│", "—",
        "│", "2.5", "│", "—", "│", "75%", "│", "≠2", "↩3", "│",
    ]  # fmt: skip
    beta = next(line for line in lines if "Beta" in line)
    assert "L0?" in beta and "≠" not in beta
    assert "(2.5)" in beta.split()  # a criterion score beside "?" is shown as partial
    assert "methodology test-1 (mmmmmmmm)" in lines[0]
    assert lines[-3:] == [
        "Ladder levels:",
        "  L0  no integration surface known",
        "  L2  documented, but gated",
    ]


# what an open reply without a reason (as a run stored before replies had one) shows
UNDECIDED = {
    "status": "open",
    "reason": None,
    "decided": None,
    "decided_by": None,
    "decision_note": None,
}


def test_json_has_ladder_disagreements_and_replies_beside_what_they_are_about() -> None:
    doc = json.loads(scorecard_json(Scorecard(RUN, (_rich_row(),))))
    assert doc["run"]["methodology_version"] == "test-1"
    assert doc["run"]["methodology_sha256"] == "m" * 8
    (system,) = doc["systems"]
    assert (system["ladder"], system["ladder_label"]) == ("L2", "documented, but gated")
    assert (system["ladder_certain"], system["ladder_max"]) == (True, "L2")
    observed, attested = system["findings"]
    assert [r["text"] for r in observed["replies"]] == ["We are moving to OpenAPI."]
    assert attested["basis"] == "attested"
    assert (attested["source"], attested["seen"]) == ("https://s.example/p", "2026-06-01")
    assert [r["text"] for r in attested["replies"]] == ["The fee covers hosting."]
    claimed, listed = system["disagreements"]
    assert claimed == {
        "claim": "docs_public",
        "claimed": True,
        "observed_probe": "docs-public",
        "observed_outcome": "fail",
        "message": "claimed docs are public: yes (...); observed docs-public: fail: 401",
        "source": "https://s.example/d",
        "seen": "2026-06-01",
        "replies": [
            {
                "date": "2026-07-01",
                "about": "docs_public",
                "text": "Our docs are public to customers.",
                "source": None,
                **UNDECIDED,
            },
            {
                "date": "2026-07-03",
                "about": "docs-public",
                "text": "We are moving to OpenAPI.",
                "source": None,
                **UNDECIDED,
            },
        ],
    }
    assert listed["claim"] == "standard:openapi"
    assert [r["about"] for r in system["replies"]] == [
        "docs_public",
        "api_access_fee",
        "docs-public",
    ]
    # a reply is shown, never scored
    assert (system["grade"], system["score"]) == ("B", 7.25)


def test_streamed_json_equals_the_built_document() -> None:
    rows = (_row("a", "Alpha", "B", 7.25), _row("b", "Beta ✓", "?", None))
    card = Scorecard(RUN, rows)
    out = io.StringIO()
    write_scorecard_json(card, out)
    assert json.loads(out.getvalue()) == scorecard_document(card)

    bare = Scorecard(RUN, tuple(replace(r, findings=()) for r in rows))
    streamed = io.StringIO()
    write_scorecard_json(bare, streamed, lambda system_id: rows[0].findings)
    assert json.loads(streamed.getvalue())["systems"][1]["findings"] == [
        scorecard_document(card)["systems"][0]["findings"][0]
    ]

    empty = io.StringIO()
    write_scorecard_json(Scorecard(RUN, ()), empty)
    assert json.loads(empty.getvalue())["systems"] == []
