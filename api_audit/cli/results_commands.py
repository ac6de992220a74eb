"""Commands that read stored runs: `scorecard` and `renewals`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import (
    CatalogueOption,
    DbOption,
    FormatOption,
    OutputFormat,
    ProbesOption,
    db_path,
    stderr_console,
    stdout_console,
)
from api_audit.cli.gates import (
    FailOnRegressionOption,
    FailUnderOption,
    checked_grade,
    exit_on_gates,
)
from api_audit.errors import AuditError

if TYPE_CHECKING:
    from api_audit.models import Catalogue, Rubric, Scorecard
    from api_audit.store import Store


def scorecard_from_store(
    store: Store, run_id: int, rubric: Rubric | None = None, *, keep_findings: bool = True
) -> Scorecard:
    """Score a stored run, one system's findings at a time."""
    from api_audit.methodology import load_methodology
    from api_audit.scoring import score_grouped

    return score_grouped(
        store.run_info(run_id),
        store.systems(run_id),
        store.findings_by_system(run_id),
        rubric or load_methodology(None).rubric,
        keep_findings=keep_findings,
    )


def print_run(
    store: Store, run_id: int, output: OutputFormat, rubric: Rubric | None = None
) -> None:
    """Print a stored run's scorecard; JSON is streamed with each system's findings read
    back only as it is written, so a run of thousands of systems prints in flat memory."""
    from api_audit.report.json import write_scorecard_json
    from api_audit.report.scorecard import print_scorecard

    card = scorecard_from_store(store, run_id, rubric, keep_findings=False)
    if output is OutputFormat.json:
        write_scorecard_json(
            card,
            sys.stdout,
            lambda system_id: store.findings(run_id, system_id),
            lambda keys: store.evidence(run_id, keys),
        )
    else:
        print_scorecard(card, stdout_console())


def scorecard(
    db: DbOption = None,
    run_id: Annotated[
        int | None, typer.Option("--run", metavar="ID", help="Run id (default: the newest run).")
    ] = None,
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
    fail_under: FailUnderOption = None,
    fail_on_regression: FailOnRegressionOption = False,
) -> None:
    """Reprint a run's scorecard from the database, scored from its stored findings
    under the current rubric (or the one in --probes)."""
    from api_audit.methodology import load_methodology
    from api_audit.store import Store
    from api_audit.text import escape_controls

    path = db_path(db)
    if not Path(path).exists():
        raise AuditError(f"no database at {path} (run `api-audit run` first, or pass --db)")
    methodology = load_methodology(probes)
    grade = checked_grade(fail_under, methodology)
    with Store.open(path) as store:
        chosen = run_id if run_id is not None else store.latest_run_id()
        if chosen is None:
            raise AuditError(f"{path} holds no runs yet")
        run = store.run_info(chosen)
        if run.methodology_sha256 != methodology.sha256:
            # Scores are recomputed, so a changed rubric changes them: say so, never silently.
            stderr_console().print(
                f"note: run {chosen} was made under methodology "
                f"{escape_controls(run.rubric_version, one_line=True)} "
                f"({escape_controls(run.methodology_sha256[:12])}); "
                f"scored here under {methodology.rubric.methodology_version} "
                f"({methodology.sha256[:12]})",
                markup=False,
            )
        print_run(store, chosen, output, methodology.rubric)
        exit_on_gates(
            store, chosen, methodology, fail_under=grade, fail_on_regression=fail_on_regression
        )


def renewals(
    catalogue: CatalogueOption = Path("vendors.yaml"),
    council: Annotated[
        str | None,
        typer.Option(metavar="CODE", help="Only this council (GSS or three-letter code)."),
    ] = None,
    within: Annotated[
        int, typer.Option(min=1, max=120, help="Months ahead to look for contract ends.")
    ] = 18,
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """List council contracts that end soon, with each system's latest grade.

    Contracts come from the catalogue's instances and from imported contract notices
    matched to a council (marked as imported, with the notice URL); a notice already in
    the catalogue as an instance (same source URL) is listed once."""
    from api_audit.catalogue import load_catalogue, select_systems
    from api_audit.catalogue.renewals import by_end_date, renewal_rows, upcoming_renewals
    from api_audit.report.renewals import renewals_table

    loaded = load_catalogue(catalogue)
    if council:
        select_systems(loaded, council=council)  # raises a usage error for an unknown code
    grades, graded_by = _latest_grades(db_path(db))
    today = dt.date.today()
    found = upcoming_renewals(
        loaded,
        today=today,
        within_days=within * 30,
        council=council,
        grades=grades,
    )
    imported = _imported_renewals(
        db_path(db), loaded, today=today, within_days=within * 30, council=council, grades=grades
    )
    rows = by_end_date([*renewal_rows(found), *imported])
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps({"renewals": rows}, indent=2) + "\n")
        return
    console = stdout_console()
    if not rows:
        console.print(
            f"No contract in {catalogue} or the imported notices ends within {within} months.",
            markup=False,
        )
        return
    console.print(renewals_table(rows, within, graded_by))


def _imported_renewals(
    path: str,
    loaded: Catalogue,
    *,
    today: dt.date,
    within_days: int,
    council: str | None,
    grades: dict[str, str],
) -> list[dict[str, object]]:
    """Rows for imported contract notices (issue 13) that end in the window, matched now
    against the catalogue; none when there is no database."""
    from api_audit.catalogue.renewals import RECENTLY_ENDED_DAYS, contract_renewal_rows
    from api_audit.cli.contracts_commands import matched_contracts
    from api_audit.store import Store

    if not Path(path).exists():
        return []
    after = today - dt.timedelta(days=RECENTLY_ENDED_DAYS)
    with Store.open(path) as store:
        return contract_renewal_rows(
            matched_contracts(store, loaded, ending_after=after),
            loaded,
            today=today,
            within_days=within_days,
            council=council,
            grades=grades,
        )


def _latest_grades(path: str) -> tuple[dict[str, str], str]:
    """Grades from the newest *complete* run, when a database is there (renewals work
    without one), and a line saying where they came from. An unfinished run would show
    the systems it never reached as if they had no grade."""
    from api_audit.store import Store

    if not Path(path).exists():
        return {}, "no database: grades need `api-audit run`"
    with Store.open(path) as store:
        newest = store.latest_run_id()
        run_id = store.latest_run_id(status="complete")
        if run_id is None:
            unfinished = f" (run {newest} did not complete)" if newest is not None else ""
            return {}, f"no complete run in {path} yet{unfinished}: no grades"
        card = scorecard_from_store(store, run_id, keep_findings=False)
        source = f"grades from run {run_id}, the newest complete run"
        if newest is not None and newest != run_id:
            status = store.run_info(newest).status
            source += f" (run {newest} is {status} and is not used)"
    return {row.system_id: row.score.grade for row in card.systems}, source
