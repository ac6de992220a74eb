"""`api-audit market`: suppliers, concentration and openness by service area, renewal
cohorts, and changes since the previous run (issue 14 item 2)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import (
    CatalogueOption,
    DbOption,
    FormatOption,
    OutputFormat,
    db_path,
    stdout_console,
)
from api_audit.errors import UsageError

if TYPE_CHECKING:
    from api_audit.models import Catalogue, Methodology, RunInfo
    from api_audit.report.market import MarketView
    from api_audit.scoring.diff import RunDiff
    from api_audit.scoring.market import Grades
    from api_audit.sources.matching import MatchedContract
    from api_audit.store import Store


def market(
    service_area: Annotated[
        str | None,
        typer.Option(metavar="AREA", help="Only this service area (suppliers and cohorts)."),
    ] = None,
    within: Annotated[
        int,
        typer.Option(
            metavar="MONTHS",
            min=1,
            max=120,
            help="Renewal cohorts: contracts ending within MONTHS of the cohort's first end.",
        ),
    ] = 12,
    output: FormatOption = OutputFormat.table,
    catalogue: CatalogueOption = Path("vendors.yaml"),
    db: DbOption = None,
    run_id: Annotated[
        int | None,
        typer.Option(
            "--run", metavar="ID", help="Grades from this run (default: the newest complete run)."
        ),
    ] = None,
) -> None:
    """Show the market by service area: each supplier's councils and share of councils and
    contract value, concentration (HHI), openness weighted by councils served; the renewal
    cohorts that could procure together; and what changed since the previous complete run.

    Councils come from the catalogue's instances and from imported contracts matched to a
    council and a vendor; public bodies, data sources and resellers are not suppliers."""
    from api_audit.catalogue import load_catalogue
    from api_audit.methodology import load_methodology
    from api_audit.report.market import print_market, write_market_json

    loaded = load_catalogue(catalogue)
    _check_area(service_area)
    view = market_view(loaded, db_path(db), run_id, load_methodology(None), service_area, within)
    if output is OutputFormat.json:
        write_market_json(view, sys.stdout)
    else:
        print_market(view, stdout_console())


def _check_area(area: str | None) -> None:
    from api_audit.models.vocabulary import SERVICE_AREAS
    from api_audit.text import quote

    if area is not None and area not in SERVICE_AREAS:
        raise UsageError(
            f"unknown service area {quote(area, 40)!r}; one of: {', '.join(SERVICE_AREAS)}"
        )


def market_view(
    loaded: Catalogue,
    path: str,
    run_id: int | None,
    methodology: Methodology,
    area: str | None,
    within: int,
) -> MarketView:
    """The market figures from the catalogue and, when there is a database, its runs and
    imported contracts (no database: catalogue instances only, every grade `?`)."""
    from api_audit.report.market import MarketView
    from api_audit.scoring.market import area_figures, cohorts, seats
    from api_audit.store import Store

    run: RunInfo | None = None
    grades: Grades = {}
    changes: RunDiff | None = None
    note = f"no database at {path}: no runs, every grade ?"
    matched: list[MatchedContract] = []
    if Path(path).exists():
        with Store.open(path) as store:
            matched = _matched(store, loaded)
            graded = _graded_run(store, run_id)
            note = f"no complete run in {path}: every grade ?, no changes"
            if graded is not None:
                run = store.run_info(graded)
                grades = _grades(store, graded, methodology)
                changes, note = _changes(store, graded, methodology)
    found = tuple(s for s in seats(loaded, matched) if area is None or s.area == area)
    names = {v.id: v.name for v in loaded.vendors}
    return MarketView(
        run=run,
        areas=area_figures(found, names, grades),
        cohorts=cohorts(found, grades, today=dt.date.today(), within_months=within),
        within_months=within,
        council_names=_council_names({s.council for s in found}),
        changes=changes,
        changes_note=note if changes is None else "",
    )


def _matched(store: Store, loaded: Catalogue) -> list[MatchedContract]:
    from api_audit.cli.contracts_commands import matched_contracts

    return [m for m in matched_contracts(store, loaded) if m.council.target and m.vendor.target]


def _graded_run(store: Store, run_id: int | None) -> int | None:
    if run_id is not None:
        store.run_info(run_id)  # an unknown id: one error line
        return run_id
    return store.latest_run_id(status="complete")


def _grades(store: Store, run_id: int, methodology: Methodology) -> Grades:
    from api_audit.cli.results_commands import scorecard_from_store
    from api_audit.scoring.market import Standing

    card = scorecard_from_store(store, run_id, methodology.rubric, keep_findings=False)
    return {row.system_id: Standing(row.score.grade, row.score.ladder) for row in card.systems}


def _changes(store: Store, run_id: int, methodology: Methodology) -> tuple[RunDiff | None, str]:
    """`diff` from the previous complete run to `run_id`, or why there is none."""
    from api_audit.cli.gates import diff_with_previous

    found = diff_with_previous(store, run_id, methodology)
    if found is None:
        return None, f"no complete run before run {run_id}: no changes to show"
    return found, ""


def _council_names(keys: set[str]) -> dict[str, str]:
    from api_audit.catalogue.councils import load_register

    register = load_register()
    names = {}
    for key in keys:
        known = register.lookup(key)
        names[key] = known.nice_name if known else key
    return names
