"""Findings + rubric -> scores, grades and ladder levels; pure functions.

Method (DESIGN.md §4; OpenSSF Scorecard's aggregate, anchors-audit-tools.md §1.4):

- Per criterion, *applicable* findings are those not `not_applicable`; *measured* ones are
  `pass` or `fail`. An `inconclusive` finding is not a zero: it leaves the denominator and
  lowers coverage instead.
      score    = 10 x sum(weight x credit over pass) / sum(weight over measured)   (None if 0)
      coverage = sum(weight over measured) / sum(weight over applicable)          (0.0 if 0)
- Overall score: the mean of the criterion scores that are not None, weighted by
  `rubric.criterion_weights` and renormalised over those criteria.
- Overall coverage: sum(w_c x coverage_c) / sum(w_c) over *all* criteria, so a criterion with
  nothing measured pulls coverage down.
- Grade `?` when coverage is below `rubric.coverage_floor`, when there is no score, or when
  no measured finding rests on a response we received (a system we never reached is `?`,
  never E). Otherwise the first band of `rubric.grade_bands` (highest first) it reaches.
- Attested findings (basis "attested", attestations.py) count in score and coverage like
  any other, but never as "a response we received": attestations alone cannot earn a
  letter grade.
- The openness ladder (ladder.py) sits beside the grade; claimed-vs-observed disagreements
  and the supplier's replies ride along on each row. Disagreements never change the score;
  a reply does only once the investigator accepted it, and then visibly: replies.py sets
  the finding it answers aside before the score, the ladder and the disagreements are
  worked out.

Scores are rounded half-up to 1 decimal and coverage to 2 decimals, and the *rounded*
values are what SystemScore holds and what the grade is computed from, so a displayed
"8.0" can never carry the grade of a 7.96.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from api_audit.models import (
    CRITERIA,
    CriterionScore,
    Finding,
    Rubric,
    RunInfo,
    Scorecard,
    ScoredSystem,
    System,
    SystemScore,
)
from api_audit.scoring.attestations import find_disagreements
from api_audit.scoring.ladder import ladder_place
from api_audit.scoring.replies import apply_replies

UNGRADED = "?"


def score_system(
    system_id: str,
    findings: Sequence[Finding],
    rubric: Rubric,
    *,
    system: System | None = None,
) -> SystemScore:
    """Score one system from its findings (all of which must belong to `system_id`).

    `system` gives the catalogue's claims the ladder rules may look at, and its replies:
    an accepted one sets the finding it answers aside first. Without it the ladder sees
    the findings alone.
    """
    strangers = {f.system_id for f in findings if f.system_id != system_id}
    if strangers:
        raise ValueError(f"findings for {sorted(strangers)} passed to score {system_id!r}")
    if system is not None and system.id != system_id:
        raise ValueError(f"system {system.id!r} passed to score {system_id!r}")
    if system is not None:
        findings = apply_replies(findings, system.replies)
    raw: dict[str, tuple[float | None, float]] = {
        c: _criterion_raw([f for f in findings if f.criterion == c]) for c in CRITERIA
    }
    score = _round_score(_weighted_mean(raw, rubric))
    coverage = _round(_overall_coverage(raw, rubric), 2)
    criteria: dict[str, CriterionScore] = {
        c: CriterionScore(score=_round_score(s), coverage=_round(cov, 2))
        for c, (s, cov) in raw.items()
    }
    observed = any(
        f.basis == "observed" and f.observed and f.outcome in ("pass", "fail") for f in findings
    )
    place = ladder_place(rubric.ladder, system or _bare_system(system_id), findings)
    grade = _grade(score, coverage, observed, rubric)
    as_of = _searched_none_on(system) if place and place.level == 0 else None
    return SystemScore(
        system_id=system_id,
        # No number beside "?": too little was measured for one to mean anything, and a
        # reader would quote it (DESIGN.md §7). The criteria stay, with their coverage.
        score=None if grade == UNGRADED else score,
        coverage=coverage,
        grade=grade,
        criteria=criteria,
        ladder=place.shown if place else "",
        ladder_label=(f"nothing public found as of {as_of}" if as_of else place.label)
        if place
        else "",
        ladder_certain=place.certain if place else True,
        ladder_max=place.shown_max if place else "",
        ladder_as_of=as_of,
    )


def _searched_none_on(system: System | None) -> str | None:
    """The date of the recorded search that found nothing for this system, if any."""
    research = system.searched_none(None) if system is not None else None
    return research.searched.isoformat() if research and research.searched else None


def build_scorecard(
    run: RunInfo,
    systems: Sequence[System],
    findings: Iterable[Finding],
    rubric: Rubric,
) -> Scorecard:
    """Score every system of a run; best first, ungraded last, ties by name.

    Findings for systems not in `systems` are left out (the caller chose the selection);
    each system keeps its findings in the order given.
    """
    by_system: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_system[finding.system_id].append(finding)
    return score_grouped(run, systems, by_system.items(), rubric)


def score_grouped(
    run: RunInfo,
    systems: Sequence[System],
    groups: Iterable[tuple[str, Sequence[Finding]]],
    rubric: Rubric,
    *,
    keep_findings: bool = True,
) -> Scorecard:
    """Score a run from findings that arrive one system at a time (`Store.findings_by_system`).

    With `keep_findings=False` each system's findings are dropped once it is scored (its
    disagreements are kept), so a run of thousands of systems is ranked in flat memory;
    a renderer that needs the findings reads them back one system at a time.
    """
    known = {system.id: system for system in systems}
    rows: dict[str, ScoredSystem] = {}
    for system_id, findings in groups:
        system = known.get(system_id)
        if system is not None:
            row = _scored_system(system, findings, rubric)
            rows[system_id] = row if keep_findings else replace(row, findings=())
    for system in systems:  # a system with no findings was never reached: listed as such
        if system.id not in rows:
            rows[system.id] = replace(_scored_system(system, (), rubric), audited=False)
    ranked = [rows[system.id] for system in systems]
    ranked.sort(key=_rank_key)
    return Scorecard(run=run, systems=tuple(ranked))


def _scored_system(system: System, stored: Sequence[Finding], rubric: Rubric) -> ScoredSystem:
    findings = apply_replies(stored, system.replies)
    return ScoredSystem(
        system_id=system.id,
        name=system.name,
        vendor_id=system.vendor_id,
        vendor_name=system.vendor_name,
        score=score_system(system.id, findings, rubric, system=system),
        findings=findings,
        disagreements=find_disagreements(system, findings, rubric),
        replies=system.replies,
        research_state=system.research_state,
        research=system.research,
        findings_set_aside=sum(f.set_aside is not None for f in findings),
    )


def _bare_system(system_id: str) -> System:
    """A system with no catalogue claims, for scoring findings on their own."""
    return System(system_id, system_id, "", "", (), {})


def _criterion_raw(findings: Sequence[Finding]) -> tuple[float | None, float]:
    """(score 0-10 or None, coverage 0-1) for one criterion, full precision."""
    applicable = [f for f in findings if f.outcome != "not_applicable"]
    measured = [f for f in applicable if f.outcome in ("pass", "fail")]
    applicable_weight = sum(f.weight for f in applicable)
    measured_weight = sum(f.weight for f in measured)
    earned = sum(f.weight * f.credit for f in measured if f.outcome == "pass")
    score = 10.0 * earned / measured_weight if measured_weight > 0 else None
    coverage = measured_weight / applicable_weight if applicable_weight > 0 else 0.0
    return score, coverage


def _weighted_mean(raw: dict[str, tuple[float | None, float]], rubric: Rubric) -> float | None:
    """Mean of the criterion scores present, weights renormalised over them."""
    present = [
        (rubric.criterion_weights.get(c, 0.0), s) for c, (s, _) in raw.items() if s is not None
    ]
    total = sum(w for w, _ in present)
    if total <= 0:
        return None
    return sum(w * s for w, s in present) / total


def _overall_coverage(raw: dict[str, tuple[float | None, float]], rubric: Rubric) -> float:
    weights = {c: rubric.criterion_weights.get(c, 0.0) for c in raw}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(weights[c] * cov for c, (_, cov) in raw.items()) / total


def _grade(score: float | None, coverage: float, observed: bool, rubric: Rubric) -> str:
    if score is None or not observed or coverage < rubric.coverage_floor:
        return UNGRADED
    for band in rubric.grade_bands:
        if score >= band.min_score:
            return band.grade
    # Below every band: the lowest grade (a rubric normally ends with a 0.0 band).
    return rubric.grade_bands[-1].grade if rubric.grade_bands else UNGRADED


def _round_score(value: float | None) -> float | None:
    return None if value is None else _round(value, 1)


def _round(value: float, places: int) -> float:
    """Round half-up (7.25 -> 7.3), not Python's round-half-even on binary floats."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _rank_key(row: ScoredSystem) -> tuple[bool, bool, float, str, str]:
    """Graded systems by score, best first; then the ungraded by name alone: a "?" makes no
    claim of rank, so no hidden number orders them."""
    ungraded = row.score.grade == UNGRADED
    score = -(row.score.score or 0.0)
    return (not row.audited, ungraded, score, row.name.casefold(), row.system_id)
