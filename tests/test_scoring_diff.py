"""scoring.diff over classes of change: grades, "?", ladder, finding outcomes, causes,
systems added and removed; plain values, no store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from api_audit.models import Finding, RunInfo, Scorecard, ScoredSystem, SystemScore
from api_audit.scoring.diff import SystemChange, diff_runs

RUN_A = RunInfo(
    id=1,
    started_at="2026-01-01T00:00:00+00:00",
    finished_at="2026-01-01T00:01:00+00:00",
    tool_version="0.1.0",
    rubric_version="m-1",
    methodology_sha256="a" * 64,
    catalogue_sha256="c" * 64,
    catalogue_source="vendors.yaml",
    status="complete",
)
RUN_B = replace(RUN_A, id=2, rubric_version="m-2", methodology_sha256="b" * 64)
OUTCOMES = ("pass", "fail", "inconclusive", "not_applicable")


def _finding(probe: str, outcome: str, system: str = "s") -> Finding:
    return Finding(system, probe, "documented", 1.0, outcome, f"{probe} {outcome}")  # type: ignore[arg-type]


def _row(
    system: str = "s",
    grade: str = "C",
    ladder: str = "L2",
    findings: dict[str, str] | None = None,
    *,
    name: str | None = None,
) -> ScoredSystem:
    score = None if grade == "?" else 5.0
    return ScoredSystem(
        system_id=system,
        name=name or system.upper(),
        vendor_id="v",
        vendor_name="Vendor",
        score=SystemScore(system, score, 0.9, grade, {}, ladder=ladder),
        findings=tuple(_finding(p, o, system) for p, o in (findings or {}).items()),
    )


def _card(run: RunInfo, *rows: ScoredSystem) -> Scorecard:
    return Scorecard(run=run, systems=rows)


def _one(
    before: ScoredSystem, after: ScoredSystem, again: ScoredSystem | None = None
) -> SystemChange | None:
    rejudged = _card(RUN_A, again) if again is not None else None
    result = diff_runs(_card(RUN_A, before), _card(RUN_B, after), rejudged)
    return result.changes[0] if result.changes else None


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ("A", "B", "regressed"),
        ("B", "E", "regressed"),
        ("D", "E", "regressed"),
        ("B", "A", "improved"),
        ("E", "C", "improved"),
    ],
)
def test_a_grade_moving_a_band_is_a_regression_or_an_improvement(
    before: str, after: str, change: str
) -> None:
    found = _one(_row(grade=before), _row(grade=after))
    assert found is not None
    assert found.change == change
    assert found.regression is (change == "regressed")
    assert (found.before.grade, found.after.grade) == (before, after)  # type: ignore[union-attr]
    assert found.cause == "observed"


@pytest.mark.parametrize(("before", "after"), [("A", "?"), ("E", "?"), ("?", "A"), ("?", "E")])
def test_a_move_to_or_from_ungraded_is_listed_but_neither_up_nor_down(
    before: str, after: str
) -> None:
    found = _one(_row(grade=before), _row(grade=after))
    assert found is not None
    assert found.change == "changed"
    assert not found.regression


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ("L5", "L3", "regressed"),
        ("L2?", "L1", "regressed"),
        ("L1", "L0?", "regressed"),
        ("L3", "L5", "improved"),
        ("L0?", "L2", "improved"),
        ("L3", "L3?", "changed"),
        ("L3?", "L3", "changed"),
    ],
)
def test_the_ladder_level_decides_up_or_down(before: str, after: str, change: str) -> None:
    found = _one(_row(ladder=before), _row(ladder=after))
    assert found is not None
    assert found.change == change


@pytest.mark.parametrize("before", OUTCOMES)
@pytest.mark.parametrize("after", OUTCOMES)
def test_every_outcome_move_is_listed_and_only_pass_to_fail_regresses(
    before: str, after: str
) -> None:
    found = _one(_row(findings={"p": before}), _row(findings={"p": after}))
    if before == after:
        assert found is None
        return
    assert found is not None
    (finding,) = found.findings
    assert (finding.before.outcome, finding.after.outcome) == (before, after)  # type: ignore[union-attr]
    assert finding.before.message == f"p {before}"  # type: ignore[union-attr]
    assert finding.after.message == f"p {after}"  # type: ignore[union-attr]
    assert finding.cause == "observed"
    assert found.regression is (before == "pass" and after == "fail")


def test_same_grade_ladder_and_outcomes_is_no_change_whatever_the_messages() -> None:
    before = _row(findings={"p": "fail", "q": "pass"})
    after = replace(before, findings=tuple(replace(f, message="new") for f in before.findings))
    assert _one(before, after) is None


@pytest.mark.parametrize(
    ("rejudged", "cause"),
    [("fail", "observed"), ("pass", "methodology"), ("inconclusive", "both")],
)
def test_the_rejudged_older_evidence_tells_the_cause(rejudged: str, cause: str) -> None:
    """before fail -> after pass; the older evidence under the newer methodology says why."""
    found = _one(
        _row(findings={"p": "fail"}),
        _row(findings={"p": "pass"}),
        _row(findings={"p": rejudged}),
    )
    assert found is not None
    assert found.findings[0].cause == cause
    assert found.cause == cause


@pytest.mark.parametrize(
    ("rejudged", "regression"),
    [("pass", True), ("fail", False), ("inconclusive", True)],
)
def test_pass_to_fail_regresses_only_when_what_was_seen_changed(
    rejudged: str, regression: bool
) -> None:
    found = _one(
        _row(findings={"p": "pass"}), _row(findings={"p": "fail"}), _row(findings={"p": rejudged})
    )
    assert found is not None
    assert found.regression is regression


def test_a_grade_drop_under_a_new_methodology_is_labelled_but_still_a_regression() -> None:
    found = _one(_row(grade="B"), _row(grade="D"), _row(grade="D"))
    assert found is not None
    assert (found.cause, found.regression) == ("methodology", True)


def test_one_methodology_and_one_observed_finding_make_both() -> None:
    found = _one(
        _row(findings={"p": "fail", "q": "fail"}),
        _row(findings={"p": "pass", "q": "pass"}),
        _row(findings={"p": "pass", "q": "fail"}),
    )
    assert found is not None
    assert {f.probe: f.cause for f in found.findings} == {"p": "methodology", "q": "observed"}
    assert found.cause == "both"


@pytest.mark.parametrize(
    ("before", "after", "rejudged", "cause"),
    [
        ({"old": "pass"}, {"new": "pass"}, {"new": "pass"}, "methodology"),
        ({"old": "pass"}, {"old": "pass", "new": "fail"}, {"old": "pass"}, "observed"),
    ],
)
def test_a_probe_only_one_run_has_is_a_change_from_or_to_no_finding(
    before: dict[str, str], after: dict[str, str], rejudged: dict[str, str], cause: str
) -> None:
    found = _one(_row(findings=before), _row(findings=after), _row(findings=rejudged))
    assert found is not None
    assert {f.cause for f in found.findings} == {cause}
    for change in found.findings:
        assert (change.before is None) is (change.probe not in before)
        assert (change.after is None) is (change.probe not in after)
        assert not found.regression


def test_systems_in_one_run_only_are_added_or_removed_after_the_changes() -> None:
    result = diff_runs(
        _card(RUN_A, _row("kept", grade="A"), _row("gone", grade="B")),
        _card(RUN_B, _row("kept", grade="C"), _row("new", grade="?")),
    )
    assert [(c.system_id, c.change) for c in result.changes] == [
        ("kept", "regressed"),
        ("new", "added"),
        ("gone", "removed"),
    ]
    added, removed = result.changes[1], result.changes[2]
    assert added.before is None and added.after is not None and added.after.grade == "?"
    assert removed.after is None and removed.before is not None and removed.before.grade == "B"
    assert not added.regression and not removed.regression


def test_regressions_come_first_then_by_name() -> None:
    result = diff_runs(
        _card(RUN_A, _row("a", "B", name="Alpha"), _row("z", "B", name="Zulu"),
              _row("m", "B", name="Mike"), _row("q", "C", name="Quebec")),
        _card(RUN_B, _row("a", "A", name="Alpha"), _row("z", "D", name="Zulu"),
              _row("m", "C", name="Mike"), _row("q", "C", name="Quebec")),
    )  # fmt: skip
    assert [c.name for c in result.changes] == ["Mike", "Zulu", "Alpha"]
    assert result.regressed


def test_nothing_changed_is_an_empty_diff() -> None:
    rows = (_row("a", findings={"p": "pass"}), _row("b", "?", "L0?"))
    result = diff_runs(_card(RUN_A, *rows), _card(RUN_B, *rows))
    assert result.changes == ()
    assert not result.regressed
    assert (result.from_run.id, result.to_run.id) == (1, 2)


def test_the_rubric_grade_order_is_used() -> None:
    rows_a, rows_b = _row(grade="Gold"), _row(grade="Bronze")
    result = diff_runs(
        _card(RUN_A, rows_a), _card(RUN_B, rows_b), grade_order=("Gold", "Silver", "Bronze")
    )
    assert result.changes[0].regression
