"""CI gates on a scored run: which systems fall below a grade, which regressed; pure.

The API `run`, `scorecard` and `report` share (README "Exit codes", "In CI"):

- `grade_order(rubric)`: the rubric's letters, best first (A, B, C, D, E);
- `check_grade(grade, order)`: the `--fail-under` value, or a UsageError naming the letters;
- `fail_under(card, grade, order)`: the systems graded worse than `grade`; `?` (coverage
  too low to grade) never fails the gate: it says too little was measured, not that the
  system is closed (DESIGN.md "Inconclusive is not zero");
- `regressions(diff)`: the systems `diff_runs` calls regressed (scoring/diff.py REGRESSION);
- `below_reason(...)`, `regression_reason(...)`: the one stderr line naming the systems.
"""

from __future__ import annotations

from collections.abc import Sequence

from api_audit.errors import UsageError
from api_audit.models import Rubric, Scorecard, ScoredSystem
from api_audit.scoring.diff import RunDiff, SystemChange
from api_audit.text import quote

# A reason line names at most this many systems, then says how many more.
NAMED = 10


def grade_order(rubric: Rubric) -> tuple[str, ...]:
    """The rubric's grade letters, best first (its bands are listed best first)."""
    return tuple(band.grade for band in rubric.grade_bands)


def check_grade(grade: str, order: Sequence[str]) -> str:
    """`grade` as one of the rubric's letters (case aside), or a usage error."""
    wanted = grade.strip().upper()
    if wanted not in order:
        shown = quote(grade, 20)
        raise UsageError(f"--fail-under takes a grade, one of {', '.join(order)}; not {shown!r}")
    return wanted


def fail_under(card: Scorecard, grade: str, order: Sequence[str]) -> tuple[ScoredSystem, ...]:
    """The systems whose grade is a letter of `order` worse than `grade`, in card order."""
    limit = order.index(grade)
    return tuple(
        row
        for row in card.systems
        if row.score.grade in order and order.index(row.score.grade) > limit
    )


def regressions(diff: RunDiff) -> tuple[SystemChange, ...]:
    return tuple(change for change in diff.changes if change.regression)


def below_reason(grade: str, below: Sequence[ScoredSystem]) -> str:
    """E.g. `--fail-under B: 2 systems graded below B: acme-waste (C), slowco-planning (E)`."""
    named = [f"{quote(row.system_id, 80)} ({row.score.grade})" for row in below]
    return f"--fail-under {grade}: {_count(below)} graded below {grade}: {_names(named)}"


def regression_reason(diff: RunDiff, regressed: Sequence[SystemChange]) -> str:
    named = [f"{quote(c.system_id, 80)} ({_moved(c)})" for c in regressed]
    return (
        f"--fail-on-regression: {_count(regressed)} regressed since run "
        f"{diff.from_run.id}: {_names(named)}"
    )


def _moved(change: SystemChange) -> str:
    if change.before is None or change.after is None:
        return change.change
    return (
        f"{change.before.grade} {change.before.ladder} -> {change.after.grade} "
        f"{change.after.ladder}".replace("  ", " ")
    )


def _count(items: Sequence[object]) -> str:
    return f"{len(items)} system" + ("" if len(items) == 1 else "s")


def _names(named: Sequence[str]) -> str:
    more = f" and {len(named) - NAMED} more" if len(named) > NAMED else ""
    return ", ".join(named[:NAMED]) + more
