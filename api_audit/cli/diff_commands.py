"""`api-audit diff`: what changed between two stored runs, and why (issue 12)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    ProbesOption,
    db_path,
    stderr_console,
    stdout_console,
)
from api_audit.errors import EXIT_THRESHOLD, AuditError

if TYPE_CHECKING:
    from api_audit.models import Methodology, RunInfo, Scorecard
    from api_audit.scoring.diff import RunDiff
    from api_audit.store import Store


def diff(
    run_a: Annotated[
        int | None,
        typer.Argument(
            metavar="RUN_A",
            show_default=False,
            help="The older run (default: the second newest complete run).",
        ),
    ] = None,
    run_b: Annotated[
        int | None,
        typer.Argument(
            metavar="RUN_B",
            show_default=False,
            help="The newer run (default: the newest complete run).",
        ),
    ] = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
    fail_on_regression: Annotated[
        bool,
        typer.Option(
            "--fail-on-regression",
            help="Exit 1 when any system regressed: grade or ladder down, or a finding "
            "that passed now fails on what was seen.",
        ),
    ] = False,
) -> None:
    """List the systems whose grade, ladder or finding outcomes changed between two runs,
    regressions first, each change labelled observed (the evidence changed), methodology
    (the same evidence judged by the newer methodology) or both. With one run given,
    compare it with the newest complete run. Both runs are scored under the current
    methodology (or --probes), which should be the newer run's."""
    from api_audit.methodology import load_methodology
    from api_audit.report.diff import print_diff, write_diff_json
    from api_audit.store import Store

    path = db_path(db)
    if not Path(path).exists():
        raise AuditError(f"no database at {path} (run `api-audit run` first, or pass --db)")
    methodology = load_methodology(probes)
    with Store.open(path) as store:
        old, new = _chosen_runs(store, run_a, run_b, path)
        result = compare_runs(store, old, new, methodology)
    if output is OutputFormat.json:
        write_diff_json(result, methodology.rubric.methodology_version, sys.stdout)
    else:
        print_diff(result, stdout_console())
    if fail_on_regression and result.regressed:
        raise typer.Exit(EXIT_THRESHOLD)


def _chosen_runs(
    store: Store, run_a: int | None, run_b: int | None, path: str
) -> tuple[RunInfo, RunInfo]:
    """The two runs: as given, or the newest complete ones (DESIGN.md: a run that did not
    complete would show the systems it never reached as changed)."""
    complete = store.run_ids(status="complete")
    if run_a is None:
        if len(complete) < 2:
            raise AuditError(
                f"diff needs two complete runs; {path} has {len(complete)} "
                "(run `api-audit run` again, or name two runs)"
            )
        run_a, run_b = complete[1], complete[0]
    elif run_b is None:
        if not complete or complete[0] == run_a:
            raise AuditError(f"no complete run after run {run_a} in {path} to compare it with")
        run_b = complete[0]
    old, new = store.run_info(run_a), store.run_info(run_b)  # an unknown id: one line
    for run in (old, new):
        if run.status != "complete":
            stderr_console().print(
                f"note: run {run.id} is {run.status}: systems it never reached show as changed",
                markup=False,
            )
    return old, new


def compare_runs(store: Store, old: RunInfo, new: RunInfo, methodology: Methodology) -> RunDiff:
    """Score both runs as `scorecard` does; when their methodologies differ, judge the
    older run's evidence again under `methodology` to tell the causes apart."""
    from api_audit.cli.results_commands import scorecard_from_store
    from api_audit.scoring.diff import diff_runs
    from api_audit.scoring.thresholds import grade_order

    rubric = methodology.rubric
    before = scorecard_from_store(store, old.id, rubric)
    after = scorecard_from_store(store, new.id, rubric)
    rejudged = None
    if old.methodology_sha256 != new.methodology_sha256:
        _note_methodology(new, methodology)
        rejudged = _rejudged(store, before, methodology)
    return diff_runs(before, after, rejudged, grade_order=grade_order(rubric))


def _note_methodology(new: RunInfo, methodology: Methodology) -> None:
    if new.methodology_sha256 == methodology.sha256:
        return
    # The store keeps a run's methodology hash, not its probe files: say which was used.
    from api_audit.text import escape_controls

    stderr_console().print(
        f"note: run {new.id} was made under methodology "
        f"{escape_controls(new.rubric_version, one_line=True)} "
        f"({escape_controls(new.methodology_sha256[:12])}), not the one loaded "
        f"({methodology.rubric.methodology_version}, {methodology.sha256[:12]}); causes "
        "assume the loaded one (pass --probes DIR with the probe set run "
        f"{new.id} used)",
        markup=False,
    )


def _rejudged(store: Store, before: Scorecard, methodology: Methodology) -> Scorecard:
    """The older run's stored exchanges judged under `methodology`, one system at a time
    (only the systems that run reached: the others have no evidence to judge)."""
    from api_audit.rejudge import baseline_token, rejudge_system
    from api_audit.scoring import score_grouped

    run = before.run
    token = store.baseline_token(run.id) or baseline_token(store.request_keys(run.id))
    reached = {row.system_id for row in before.systems if row.audited}
    systems = [s for s in store.systems(run.id) if s.id in reached]
    groups = (
        (
            system.id,
            rejudge_system(
                system,
                methodology,
                lambda keys: store.exchanges_for(run.id, keys),
                token=token,
            ),
        )
        for system in systems
    )
    return score_grouped(run, systems, groups, methodology.rubric)
