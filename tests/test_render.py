"""Renderers: fixed-width plain consoles and exact JSON, with hostile text kept inert."""

from __future__ import annotations

import json

from rich.console import Console

from api_audit.models import CriterionScore, Finding, RunInfo, Scorecard, ScoredSystem, SystemScore
from api_audit.render.json import scorecard_json
from api_audit.render.scorecard import print_scorecard
from api_audit.render.text import safe_markup, strip_controls

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
    assert system["criteria"]["free"] == {"score": None, "coverage": 0.0}
    assert system["findings"] == [
        {
            "probe": "docs-public",
            "criterion": "documented",
            "outcome": "fail",
            "message": "401: needs an account",
        }
    ]
