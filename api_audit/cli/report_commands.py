"""`api-audit report`: write a stored run as a report folder (HTML, JSON, Markdown, CSV,
badges), for the whole market or for one council."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import (
    CatalogueOption,
    DbOption,
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
    from api_audit.models import Catalogue, Methodology, RunInfo, Scorecard
    from api_audit.report.content import CouncilView, ReportContent
    from api_audit.store import Store

RENEWAL_MONTHS = 18  # the window `renewals` uses by default


def report(
    db: DbOption = None,
    run_id: Annotated[
        int | None, typer.Option("--run", metavar="ID", help="Run id (default: the newest run).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Folder to write (default reports/YYYY-MM-DD, or reports/YYYY-MM-DD-CODE "
            "with --council).",
            show_default=False,
        ),
    ] = None,
    council: Annotated[
        str | None,
        typer.Option(
            metavar="CODE",
            help="A report about one council (GSS or three-letter code): its systems, their "
            "grades and its contracts that renew soon.",
        ),
    ] = None,
    catalogue: CatalogueOption = Path("vendors.yaml"),
    probes: ProbesOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that is not empty.")
    ] = False,
    fail_under: FailUnderOption = None,
    fail_on_regression: FailOnRegressionOption = False,
) -> None:
    """Write a report folder for a stored run: index.html (self-contained, charts and
    evidence), scores.json, summary.md, scores.csv and a badge per system."""
    from api_audit.methodology import load_methodology
    from api_audit.report.folder import check_folder, write_report
    from api_audit.store import Store

    path = db_path(db)
    if not Path(path).exists():
        raise AuditError(f"no database at {path} (run `api-audit run` first, or pass --db)")
    methodology = load_methodology(probes)
    grade = checked_grade(fail_under, methodology)  # a bad letter exits 2 before any work
    today = dt.date.today()
    with Store.open(path) as store:
        chosen = run_id if run_id is not None else store.latest_run_id()
        if chosen is None:
            raise AuditError(f"{path} holds no runs yet")
        loaded, key = _council_catalogue(catalogue, council)
        folder = out or Path("reports") / (f"{today}-{key}" if key else str(today))
        check_folder(folder, force=force)
        content, scores = _content(store, chosen, methodology, loaded, key, today)
        run = store.run_info(chosen)
        market = None if key else _market(catalogue, path, run, methodology)
        written = write_report(folder, content, scores, {"market": market} if market else None)
        _say_written(chosen, folder, written)
        # the report is written whatever the gates say: CI uploads it, then fails
        exit_on_gates(
            store, chosen, methodology, fail_under=grade, fail_on_regression=fail_on_regression
        )


def _say_written(run_id: int, folder: Path, written: list[Path]) -> None:
    from api_audit.text import escape_controls

    console = stdout_console()
    shown = escape_controls(str(folder), one_line=True)
    console.print(f"Report for run {run_id} written to {shown}/", markup=False)
    for item in written[:4]:
        console.print(f"  {escape_controls(item.name)}", markup=False)
    console.print(f"  badges/ ({len(written) - 4} badges)", markup=False)


def _market(
    catalogue: Path, path: str, run: RunInfo, methodology: Methodology
) -> dict[str, object] | None:
    """The market views of the whole-market report (`api-audit market`'s document) from the
    catalogue the run was made with: `--catalogue` if it is that file, else the path the run
    recorded if it still is; None (with a note) when neither is, so a report of one market
    never shows another's shares."""
    from api_audit.catalogue import load_catalogue
    from api_audit.cli.market_commands import market_view
    from api_audit.errors import InputError
    from api_audit.report.market import market_document

    for candidate in dict.fromkeys([catalogue, Path(run.catalogue_source)]):
        try:
            loaded = load_catalogue(candidate)
        except InputError:
            continue
        if loaded.sha256 == run.catalogue_sha256:
            return market_document(market_view(loaded, path, run.id, methodology, None, 12))
    stderr_console().print(
        f"note: no market views in the report: the catalogue run {run.id} was made with "
        "is not at --catalogue or where the run read it",
        markup=False,
    )
    return None


def _council_catalogue(path: Path, council: str | None) -> tuple[Catalogue | None, str | None]:
    """With --council: the catalogue (it says where the council's systems are) and the
    council's key; a code the register does not know is a usage error with a suggestion."""
    if not council:
        return None, None
    from api_audit.catalogue import load_catalogue, select_systems
    from api_audit.catalogue.councils import load_register

    loaded = load_catalogue(path)
    select_systems(loaded, council=council)  # raises a usage error for an unknown code
    found = load_register().lookup(council)
    return loaded, found.key if found else council


def _content(
    store: Store,
    run_id: int,
    methodology: Methodology,
    loaded: Catalogue | None,
    council: str | None,
    today: dt.date,
) -> tuple[ReportContent, str]:
    """The report's content and the text of scores.json, from one scoring of the run."""
    from api_audit import __version__
    from api_audit.cli.results_commands import scorecard_from_store
    from api_audit.report.content import ReportContent
    from api_audit.report.json import write_scorecard_json

    card = scorecard_from_store(store, run_id, methodology.rubric, keep_findings=False)
    view = None
    if loaded is not None and council is not None:
        card = _council_systems(store, card, loaded, council)
        view = _council_view(store, card, loaded, council, today)
    scores = io.StringIO()
    write_scorecard_json(
        card,
        scores,
        lambda system_id: store.findings(run_id, system_id),
        lambda keys: store.evidence(run_id, keys),
    )
    content = ReportContent(
        document=json.loads(scores.getvalue()),
        generated=today.isoformat(),
        service_areas={s.id: s.service_areas for s in store.systems(run_id)},
        remediation={p.id: p.remediation for p in methodology.probes},
        methodology_version=methodology.rubric.methodology_version,
        methodology_sha256=methodology.sha256,
        tool_version=__version__,
        council=view,
    )
    return content, scores.getvalue()


def _council_systems(store: Store, card: Scorecard, loaded: Catalogue, key: str) -> Scorecard:
    """Only the council's systems: those with an instance at it in the catalogue and those
    its imported contracts name; a run made with --council has them as `system@council`."""
    from api_audit.cli.contracts_commands import matched_contracts

    ids = {s.id for s in loaded.systems if any(i.council == key for i in s.instances)}
    ids |= {
        m.system.target
        for m in matched_contracts(store, loaded)
        if m.council.target == key and m.system.target
    }

    def belongs(system_id: str) -> bool:
        base, _, at = system_id.partition("@")
        return base in ids and at in {"", key}

    return replace(card, systems=tuple(s for s in card.systems if belongs(s.system_id)))


def _council_view(
    store: Store, card: Scorecard, loaded: Catalogue, key: str, today: dt.date
) -> CouncilView:
    """The council's name and its contracts ending soon (the `renewals` rows)."""
    from api_audit.catalogue.councils import load_register
    from api_audit.catalogue.renewals import (
        RECENTLY_ENDED_DAYS,
        by_end_date,
        contract_renewal_rows,
        renewal_rows,
        upcoming_renewals,
    )
    from api_audit.cli.contracts_commands import matched_contracts
    from api_audit.report.content import CouncilView

    grades = {row.system_id: row.score.grade for row in card.systems}
    days = RENEWAL_MONTHS * 30
    found = upcoming_renewals(loaded, today=today, within_days=days, council=key, grades=grades)
    after = today - dt.timedelta(days=RECENTLY_ENDED_DAYS)
    matched = matched_contracts(store, loaded, ending_after=after)
    imported = contract_renewal_rows(
        matched, loaded, today=today, within_days=days, council=key, grades=grades
    )
    known = load_register().lookup(key)
    rows = by_end_date([*renewal_rows(found), *imported])
    return CouncilView(key, known.nice_name if known else key, tuple(rows), RENEWAL_MONTHS)
