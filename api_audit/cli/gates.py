"""The CI gates `run` and `scorecard` share (and `report` may): `--fail-under GRADE` and
`--fail-on-regression`, checked on a stored run after its output is printed in full.

Exit 1 (EXIT_THRESHOLD) when a gate fails, with one line on stderr naming the systems;
no previous complete run to compare with is not a failure, and stderr says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import stderr_console
from api_audit.errors import EXIT_OK, EXIT_THRESHOLD

if TYPE_CHECKING:
    from api_audit.models import Methodology
    from api_audit.scoring.diff import RunDiff
    from api_audit.store import Store

FailUnderOption = Annotated[
    str | None,
    typer.Option(
        "--fail-under",
        metavar="GRADE",
        help="Exit 1 (after printing) if any graded system is below GRADE (A-E); "
        "? (not graded) never fails it.",
        show_default=False,
    ),
]

FailOnRegressionOption = Annotated[
    bool,
    typer.Option(
        "--fail-on-regression",
        help="Exit 1 (after printing) if any system regressed since the previous complete "
        "run (grade or ladder down, or an observed pass -> fail); none yet is not a failure.",
    ),
]


def checked_grade(grade: str | None, methodology: Methodology) -> str | None:
    """The `--fail-under` letter, checked before any work is done (a bad one exits 2)."""
    from api_audit.scoring.thresholds import check_grade, grade_order

    return None if grade is None else check_grade(grade, grade_order(methodology.rubric))


def gate_exit_code(
    store: Store,
    run_id: int,
    methodology: Methodology,
    *,
    fail_under: str | None,
    fail_on_regression: bool,
) -> int:
    """EXIT_THRESHOLD when a gate fails (each failing gate says why on stderr), else EXIT_OK."""
    failed = False
    if fail_under is not None:
        failed |= _below(store, run_id, methodology, fail_under)
    if fail_on_regression:
        failed |= _regressed(store, run_id, methodology)
    return EXIT_THRESHOLD if failed else EXIT_OK


def exit_on_gates(
    store: Store,
    run_id: int,
    methodology: Methodology,
    *,
    fail_under: str | None,
    fail_on_regression: bool,
) -> None:
    """Raise typer.Exit(1) when a gate fails (the command's output is already printed)."""
    code = gate_exit_code(
        store, run_id, methodology, fail_under=fail_under, fail_on_regression=fail_on_regression
    )
    if code != EXIT_OK:
        raise typer.Exit(code)


def _below(store: Store, run_id: int, methodology: Methodology, grade: str) -> bool:
    from api_audit.cli.results_commands import scorecard_from_store
    from api_audit.scoring.thresholds import below_reason, fail_under, grade_order

    card = scorecard_from_store(store, run_id, methodology.rubric, keep_findings=False)
    below = fail_under(card, grade, grade_order(methodology.rubric))
    if below:
        _say(below_reason(grade, below))
    return bool(below)


def _regressed(store: Store, run_id: int, methodology: Methodology) -> bool:
    from api_audit.scoring.thresholds import regression_reason, regressions

    found = diff_with_previous(store, run_id, methodology)
    if found is None:
        _say(
            f"--fail-on-regression: no complete run before run {run_id} to compare with: "
            "not a failure"
        )
        return False
    regressed = regressions(found)
    if regressed:
        _say(regression_reason(found, regressed))
    return bool(regressed)


def previous_complete_run(store: Store, run_id: int) -> int | None:
    """The newest complete run older than `run_id`, if any."""
    return next((i for i in store.run_ids(status="complete") if i < run_id), None)


def diff_with_previous(store: Store, run_id: int, methodology: Methodology) -> RunDiff | None:
    """What changed from the previous complete run to `run_id` (as `diff` computes it)."""
    from api_audit.cli.diff_commands import compare_runs

    previous = previous_complete_run(store, run_id)
    if previous is None:
        return None
    return compare_runs(store, store.run_info(previous), store.run_info(run_id), methodology)


def _say(line: str) -> None:
    stderr_console().print(f"api-audit: {line}", markup=False)
