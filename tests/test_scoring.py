"""Scoring from plain findings and a hand-made rubric; no mocks."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from api_audit.models import (
    CRITERIA,
    Attestation,
    CriterionScore,
    Finding,
    GradeBand,
    LadderCondition,
    LadderLevel,
    ObservedBy,
    Reply,
    Rubric,
    RunInfo,
    System,
)
from api_audit.scoring import build_scorecard, score_system

RUBRIC = Rubric(
    methodology_version="test-1",
    criterion_weights={"documented": 1.0, "free": 1.0, "standards": 1.0, "hygiene": 0.0},
    grade_bands=(
        GradeBand("A", 8.0),
        GradeBand("B", 6.0),
        GradeBand("C", 4.0),
        GradeBand("D", 2.0),
        GradeBand("E", 0.0),
    ),
    coverage_floor=0.5,
)

RUN = RunInfo(
    id=1,
    started_at="2025-01-01T00:00:00+00:00",
    finished_at=None,
    tool_version="0.1.0",
    rubric_version="test-1",
    methodology_sha256="m",
    catalogue_sha256="c",
    catalogue_source="vendors.yaml",
    status="complete",
)


def finding(
    probe: str,
    criterion: str = "documented",
    outcome: str = "pass",
    *,
    weight: float = 1.0,
    credit: float = 1.0,
    observed: bool = True,
    system: str = "sys",
) -> Finding:
    return Finding(
        system_id=system,
        probe_id=probe,
        criterion=criterion,  # type: ignore[arg-type]
        weight=weight,
        outcome=outcome,  # type: ignore[arg-type]
        message="",
        observed=observed,
        credit=credit,
    )


def all_criteria(outcome: str, *, observed: bool = True, system: str = "sys") -> list[Finding]:
    return [finding(f"p-{c}", c, outcome, observed=observed, system=system) for c in CRITERIA]


def test_all_pass_scores_ten_and_a() -> None:
    result = score_system("sys", all_criteria("pass"), RUBRIC)
    assert (result.score, result.coverage, result.grade) == (10.0, 1.0, "A")
    assert all(c.score == 10.0 and c.coverage == 1.0 for c in result.criteria.values())


def test_all_fail_scores_zero_and_e() -> None:
    result = score_system("sys", all_criteria("fail"), RUBRIC)
    assert (result.score, result.grade) == (0.0, "E")


def test_inconclusive_leaves_the_denominator_and_lowers_coverage() -> None:
    base = all_criteria("pass")
    with_inconclusive = [*base, finding("extra", "documented", "inconclusive", weight=1.0)]
    result = score_system("sys", with_inconclusive, RUBRIC)
    assert result.score == 10.0
    assert result.criteria["documented"] == CriterionScore(score=10.0, coverage=0.5)
    # (0.5 + 1 + 1) / 3
    assert result.coverage == 0.83
    assert result.grade == "A"


def test_all_inconclusive_is_ungraded_with_no_score() -> None:
    result = score_system("sys", all_criteria("inconclusive"), RUBRIC)
    assert (result.score, result.coverage, result.grade) == (None, 0.0, "?")
    assert all(c.score is None for c in result.criteria.values())


def test_coverage_below_floor_is_ungraded_with_no_number_but_keeps_its_criteria() -> None:
    """Issue 11: a number beside "?" is one a reader would quote; the partial criterion
    scores stay, each beside its coverage."""
    findings = [
        finding("a", "documented", "fail"),
        *[finding(f"i-{c}", c, "inconclusive") for c in ("free", "standards")],
    ]
    result = score_system("sys", findings, RUBRIC)
    assert (result.score, result.coverage, result.grade) == (None, 0.33, "?")
    assert result.criteria["documented"] == CriterionScore(score=0.0, coverage=1.0)


def test_only_unobserved_fails_is_ungraded_never_e() -> None:
    # e.g. "docs URL missing from the catalogue": measured, but nothing was ever fetched
    findings = all_criteria("fail", observed=False)
    result = score_system("sys", findings, RUBRIC)
    assert result.score is None  # never a 0.0 beside "?" (issue 11)
    assert result.criteria["documented"].score == 0.0
    assert result.coverage == 1.0
    assert result.grade == "?"


def test_one_observed_measured_finding_is_enough_to_grade() -> None:
    findings = [*all_criteria("fail", observed=False), finding("seen", "free", "fail")]
    assert score_system("sys", findings, RUBRIC).grade == "E"


def test_observed_inconclusive_does_not_count_as_reached() -> None:
    findings = [*all_criteria("fail", observed=False), finding("t", "free", "inconclusive")]
    assert score_system("sys", findings, RUBRIC).grade == "?"


def test_partial_credit() -> None:
    findings = [
        finding("openapi", "standards", "pass", weight=2.0, credit=0.5),
        finding("json", "standards", "pass", weight=2.0),
    ]
    result = score_system("sys", findings, RUBRIC)
    # 10 x (2 x 0.5 + 2 x 1) / 4
    assert result.criteria["standards"].score == 7.5


def test_weighted_within_a_criterion() -> None:
    findings = [finding("heavy", weight=3.0), finding("light", outcome="fail", weight=1.0)]
    assert score_system("sys", findings, RUBRIC).criteria["documented"].score == 7.5


def test_not_applicable_is_ignored() -> None:
    findings = [*all_criteria("pass"), finding("na", "free", "not_applicable", weight=5.0)]
    result = score_system("sys", findings, RUBRIC)
    assert (result.score, result.coverage, result.grade) == (10.0, 1.0, "A")


def test_nothing_applicable_gives_no_score_and_zero_coverage() -> None:
    result = score_system("sys", [finding("na", "free", "not_applicable")], RUBRIC)
    assert result.criteria["free"].score is None
    assert result.criteria["free"].coverage == 0.0
    assert result.grade == "?"


def test_no_findings_at_all() -> None:
    result = score_system("sys", [], RUBRIC)
    assert (result.score, result.coverage, result.grade) == (None, 0.0, "?")


def test_weights_renormalised_over_criteria_with_a_score() -> None:
    rubric = Rubric(
        methodology_version="w",
        criterion_weights={"documented": 3.0, "free": 1.0, "standards": 2.0},
        grade_bands=RUBRIC.grade_bands,
        coverage_floor=0.0,
    )
    findings = [
        finding("d", "documented", "pass"),
        finding("f", "free", "fail"),
        finding("s", "standards", "inconclusive"),
    ]
    result = score_system("sys", findings, rubric)
    assert result.criteria["standards"].score is None
    # standards has no score, so only documented (3) and free (1) count: 10 x 3 / 4
    assert result.score == 7.5
    # coverage keeps all three criteria in the denominator: (3 + 1 + 0) / 6
    assert result.coverage == 0.67
    assert result.grade == "B"


@pytest.mark.parametrize(
    ("passes", "fails", "grade"),
    [
        (4, 1, "A"),  # 8.0: exactly on the A edge
        (79, 21, "B"),  # 7.9: just below
        (3, 2, "B"),  # 6.0
        (2, 3, "C"),  # 4.0
        (1, 4, "D"),  # 2.0
        (19, 81, "E"),  # 1.9
        (0, 1, "E"),  # 0.0
    ],
)
def test_grade_band_edges(passes: int, fails: int, grade: str) -> None:
    findings = [finding(f"p{i}") for i in range(passes)]
    findings += [finding(f"f{i}", outcome="fail") for i in range(fails)]
    rubric = Rubric("e", {"documented": 1.0}, RUBRIC.grade_bands, coverage_floor=0.0)
    assert score_system("sys", findings, rubric).grade == grade


def test_grade_follows_the_rounded_score() -> None:
    # 10 x 0.796 = 7.96, shown as 8.0, so it must be an A, not a B
    findings = [finding("p", weight=796.0), finding("f", outcome="fail", weight=204.0)]
    rubric = Rubric("r", {"documented": 1.0}, RUBRIC.grade_bands, coverage_floor=0.0)
    result = score_system("sys", findings, rubric)
    assert (result.score, result.grade) == (8.0, "A")


def test_rounding_is_half_up() -> None:
    findings = [finding("p", weight=725.0), finding("f", outcome="fail", weight=275.0)]
    assert score_system("sys", findings, RUBRIC).criteria["documented"].score == 7.3


def test_coverage_floor_edge_is_inclusive() -> None:
    findings = [finding("p"), finding("i", outcome="inconclusive")]
    rubric = Rubric("r", {"documented": 1.0}, RUBRIC.grade_bands, coverage_floor=0.5)
    result = score_system("sys", findings, rubric)
    assert (result.coverage, result.grade) == (0.5, "A")


def test_findings_of_another_system_are_refused() -> None:
    with pytest.raises(ValueError, match="other"):
        score_system("sys", [finding("p", system="other")], RUBRIC)


def system(system_id: str, name: str) -> System:
    return System(
        id=system_id,
        name=name,
        vendor_id="v",
        vendor_name="Vendor",
        service_areas=("planning",),
        endpoints={},
    )


def test_scorecard_orders_by_score_then_name_with_ungraded_last() -> None:
    systems = [
        system("unreached", "Aardvark"),
        system("mid", "Middling"),
        system("top-b", "Zebra"),
        system("top-a", "alpha"),
        system("low-coverage", "Beta"),
    ]
    findings = [
        *all_criteria("fail", observed=False, system="unreached"),
        *all_criteria("pass", system="top-b"),
        *all_criteria("pass", system="top-a"),
        finding("p", "documented", "pass", system="mid"),
        finding("f", "free", "fail", system="mid"),
        finding("s", "standards", "pass", system="mid"),
        finding("p", "documented", "pass", system="low-coverage"),
        finding("i", "free", "inconclusive", system="low-coverage"),
        finding("j", "standards", "inconclusive", system="low-coverage"),
        finding("ghost", system="not-in-selection"),
    ]
    card = build_scorecard(RUN, systems, findings, RUBRIC)
    assert card.run is RUN
    assert [(s.system_id, s.score.grade) for s in card.systems] == [
        ("top-a", "A"),
        ("top-b", "A"),
        ("mid", "B"),
        ("unreached", "?"),  # the ungraded by name (Aardvark, Beta): "?" claims no rank
        ("low-coverage", "?"),
    ]
    mid = card.systems[2]
    assert (mid.name, mid.vendor_id, mid.vendor_name) == ("Middling", "v", "Vendor")
    assert [f.probe_id for f in mid.findings] == ["p", "f", "s"]


def test_scorecard_system_without_findings_is_ungraded() -> None:
    card = build_scorecard(RUN, [system("bare", "Bare")], [], RUBRIC)
    (row,) = card.systems
    assert (row.score.score, row.score.grade, row.findings) == (None, "?", ())


# --- attestations, the ladder, claimed vs observed, replies --------------------------------


def test_an_attested_finding_never_counts_as_reached() -> None:
    attested = Finding(
        "sys",
        "attested:docs_public",
        "documented",
        1.0,
        "pass",
        "",
        observed=True,
        basis="attested",
    )
    result = score_system("sys", [attested], RUBRIC)
    assert (result.score, result.coverage) == (None, 0.33)
    assert result.criteria["documented"].score == 10.0  # the attestation still counts there
    assert result.grade == "?"


def test_without_ladder_rules_the_ladder_is_empty() -> None:
    result = score_system("sys", all_criteria("pass"), RUBRIC)
    assert (result.ladder, result.ladder_label, result.ladder_max) == ("", "", "")


LADDER_RUBRIC = replace(
    RUBRIC,
    ladder=(
        LadderLevel("L0", "nothing known"),
        LadderLevel("L1", "exists", LadderCondition("attested", claims=(("api_exists", True),))),
        LadderLevel("L2", "documented", LadderCondition("pass", probes=("p-documented",))),
    ),
    claim_checks={"docs_public": ObservedBy(("p-documented",))},
)


def test_scorecard_rows_carry_ladder_disagreements_and_replies() -> None:
    reply = Reply(dt.date(2026, 7, 1), "They are public to customers.", about="docs_public")
    claimed = replace(
        system("claimed", "Claimed"),
        attestations=(
            Attestation("api_exists", True, "https://s.example/a", dt.date(2026, 6, 1)),
            Attestation("docs_public", True, "https://s.example/d", dt.date(2026, 6, 1)),
        ),
        replies=(reply,),
    )
    findings = all_criteria("fail", system="claimed")
    card = build_scorecard(RUN, [claimed, system("unknown", "Unknown")], findings, LADDER_RUBRIC)
    row, unknown = card.systems
    assert (row.score.ladder, row.score.ladder_label, row.score.ladder_certain) == (
        "L1",
        "exists",
        True,
    )
    assert [d.claim for d in row.disagreements] == ["docs_public"]
    assert row.replies == (reply,)
    assert (row.score.score, row.score.grade) == (0.0, "E")  # replies never change the score
    assert (unknown.score.ladder, unknown.score.ladder_max) == ("L0", "L0")  # catalogue: nothing


def test_score_system_refuses_another_systems_catalogue_entry() -> None:
    with pytest.raises(ValueError, match="system 'other'"):
        score_system("sys", [], RUBRIC, system=system("other", "Other"))
