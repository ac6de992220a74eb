"""Thin Typer commands: parse the command line, call a stage, render, exit.

Results go to stdout; progress and diagnostics to stderr. Every error we expect is an
AuditError whose one-line text is printed by `main()` with its exit code (errors.py).
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import json
import os
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Protocol, TextIO, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from api_audit import __version__
from api_audit.audit import AuditResult, run_audit
from api_audit.catalogue import catalogue_json_schema, load_catalogue, select_systems
from api_audit.catalogue.renewals import renewal_rows, upcoming_renewals
from api_audit.demo.market import serve_market
from api_audit.errors import EXIT_OK, EXIT_UNUSABLE, AuditError, InputError, Interrupted
from api_audit.evaluate import run_example
from api_audit.http import POLITE_MIN_INTERVAL, FetchOptions
from api_audit.models import Catalogue, Methodology, Rubric, Scorecard, System
from api_audit.probes import load_methodology
from api_audit.redact import redact_text
from api_audit.render.json import write_scorecard_json
from api_audit.render.probe_docs import probe_detail, probe_summary, probe_to_dict, probes_table
from api_audit.render.renewals import renewals_table
from api_audit.render.scorecard import print_scorecard
from api_audit.render.text import escape_controls, escape_json_text
from api_audit.scoring import score_grouped
from api_audit.signals import stop_signals_raise
from api_audit.store import Store

app = typer.Typer(
    name="api-audit",
    help="Audit UK local-government supplier systems for open, documented, free, "
    "standards-based data access.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DEFAULT_DB = "api-audit.db"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _stdout() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # a piped table should not wrap at 80 columns
    return console


def _stderr() -> Console:
    # soft_wrap: a diagnostic stays one line however long the path in it is
    return Console(stderr=True, highlight=False, soft_wrap=True)


CatalogueOption = Annotated[
    Path, typer.Option("--catalogue", "-c", help="The catalogue of supplier systems.")
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"SQLite database file [env API_AUDIT_DB, default {DEFAULT_DB}].",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table (for people) or json (for machines).")
]
ProbesOption = Annotated[
    Path | None,
    typer.Option("--probes", help="A probe directory to use instead of the built-in methodology."),
]


def _db_path(db: str | None) -> str:
    return db or os.environ.get("API_AUDIT_DB") or DEFAULT_DB


@app.command()
def validate(catalogue: CatalogueOption = Path("vendors.yaml")) -> None:
    """Check a catalogue and list every problem as file:line:col: message."""
    err = _stderr()
    loaded = load_catalogue(catalogue)
    for warning in loaded.warnings:
        err.print(f"warning: {escape_controls(str(warning), one_line=True)}", markup=False)
    systems = loaded.systems
    areas = {area for s in systems for area in s.service_areas}
    shown = escape_controls(str(catalogue), one_line=True)
    _stdout().print(
        f"{shown}: ok — {len(loaded.vendors)} vendors, {len(systems)} systems, "
        f"{len(areas)} service areas",
        markup=False,
    )


@app.command()
def run(
    catalogue: CatalogueOption = Path("vendors.yaml"),
    db: DbOption = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Allow loopback and private addresses (tests, the demo, intranets). "
            "Link-local and cloud-metadata addresses stay refused.",
        ),
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Requests in flight.")] = 32,
    per_host: Annotated[int, typer.Option(min=1, max=16, help="Requests in flight per host.")] = 2,
    min_interval: Annotated[
        float,
        typer.Option(
            min=0,
            max=60,
            help="Seconds between request starts on one host (a robots.txt Crawl-delay "
            "or a Retry-After can stretch it). 0 for your own servers and tests.",
        ),
    ] = POLITE_MIN_INTERVAL,
    deadline: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=300,
            help="Seconds one fetch may take from its first request, redirects and body included.",
        ),
    ] = FetchOptions.deadline,
    max_host_errors: Annotated[
        int,
        typer.Option(
            min=0,
            max=1000,
            help="Stop sending to a host after this many errors in a row: network errors, "
            "429s and 503s with Retry-After (0: never stop).",
        ),
    ] = FetchOptions.host_error_budget,
    host_wait_budget: Annotated[
        float,
        typer.Option(
            min=0,
            max=3600,
            help="Seconds of Retry-After pauses one host may ask for in a run; a pause past "
            "it is not waited and the host is left alone (its findings say so).",
        ),
    ] = FetchOptions.host_wait_budget,
    ignore_robots: Annotated[
        bool,
        typer.Option(
            "--ignore-robots",
            help="Do not ask robots.txt first. Only for servers you run or may audit "
            "regardless (e.g. a council's own intranet).",
        ),
    ] = False,
    vendor: Annotated[list[str] | None, typer.Option(help="Only this vendor (repeatable).")] = None,
    system: Annotated[list[str] | None, typer.Option(help="Only this system (repeatable).")] = None,
    service_area: Annotated[
        list[str] | None, typer.Option(help="Only systems in this service area (repeatable).")
    ] = None,
    council: Annotated[
        str | None,
        typer.Option(help="Only the systems this council uses (GSS or three-letter code)."),
    ] = None,
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
) -> None:
    """Audit the catalogue's systems, store every observation, print the scorecard."""
    loaded = load_catalogue(catalogue)
    selected = select_systems(
        loaded,
        vendors=tuple(vendor or ()),
        systems=tuple(system or ()),
        service_areas=tuple(service_area or ()),
        council=council,
    )
    methodology = load_methodology(probes)
    fetch_options = FetchOptions(
        concurrency=concurrency,
        per_host=per_host,
        min_interval=min_interval,
        deadline=deadline,
        host_error_budget=max_host_errors,
        host_wait_budget=host_wait_budget,
        respect_robots=not ignore_robots,
        allow_private=allow_private,
    )
    options: dict[str, object] = {
        "allow_private": allow_private,
        "concurrency": concurrency,
        "per_host": per_host,
        "min_interval": min_interval,
        "deadline": deadline,
        "max_host_errors": max_host_errors,
        "host_wait_budget": host_wait_budget,
        "ignore_robots": ignore_robots,
        "vendor": vendor or [],
        "system": system or [],
        "service_area": service_area or [],
        "council": council,
    }
    with Store.open(_db_path(db)) as store:
        result = _audit_with_progress(store, loaded, selected, methodology, fetch_options, options)
        _print_run(store, result.run.id, output, methodology.rubric)


def _audit_with_progress(
    store: Store,
    catalogue: Catalogue,
    systems: tuple[System, ...],
    methodology: Methodology,
    fetch_options: FetchOptions,
    options: dict[str, object],
) -> AuditResult:
    """Run the audit, showing progress on stderr (a bar on a terminal, a summary otherwise)."""
    err = _stderr()
    started = time.monotonic()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("auditing", total=len(systems))

        def system_done(system: System, findings: object) -> None:
            progress.advance(task)

        result = run_audit(
            store,
            catalogue,
            systems,
            methodology,
            fetch_options,
            options=options,
            on_system_done=system_done,
        )
    err.print(
        f"audited {result.systems} systems: {result.findings} findings from "
        f"{result.requests} distinct requests ({result.requests_sent} sent) in "
        f"{time.monotonic() - started:.1f} s · run {result.run.id}",
        markup=False,
    )
    return result


def _scorecard_from_store(
    store: Store, run_id: int, rubric: Rubric | None = None, *, keep_findings: bool = True
) -> Scorecard:
    """Score a stored run, one system's findings at a time."""
    return score_grouped(
        store.run_info(run_id),
        store.systems(run_id),
        store.findings_by_system(run_id),
        rubric or load_methodology(None).rubric,
        keep_findings=keep_findings,
    )


def _print_run(
    store: Store, run_id: int, output: OutputFormat, rubric: Rubric | None = None
) -> None:
    """Print a stored run's scorecard; JSON is streamed with each system's findings read
    back only as it is written, so a run of thousands of systems prints in flat memory."""
    card = _scorecard_from_store(store, run_id, rubric, keep_findings=False)
    if output is OutputFormat.json:
        write_scorecard_json(card, sys.stdout, lambda system_id: store.findings(run_id, system_id))
    else:
        print_scorecard(card, _stdout())


@app.command()
def scorecard(
    db: DbOption = None,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Run id (default: the newest run).")
    ] = None,
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
) -> None:
    """Reprint a run's scorecard from the database, scored from its stored findings
    under the current rubric (or the one in --probes)."""
    path = _db_path(db)
    if not Path(path).exists():
        raise AuditError(f"no database at {path} (run `api-audit run` first, or pass --db)")
    methodology = load_methodology(probes)
    with Store.open(path) as store:
        chosen = run_id if run_id is not None else store.latest_run_id()
        if chosen is None:
            raise AuditError(f"{path} holds no runs yet")
        run = store.run_info(chosen)
        if run.methodology_sha256 != methodology.sha256:
            # Scores are recomputed, so a changed rubric changes them: say so, never silently.
            _stderr().print(
                f"note: run {chosen} was made under methodology "
                f"{escape_controls(run.rubric_version, one_line=True)} "
                f"({escape_controls(run.methodology_sha256[:12])}); "
                f"scored here under {methodology.rubric.methodology_version} "
                f"({methodology.sha256[:12]})",
                markup=False,
            )
        _print_run(store, chosen, output, methodology.rubric)


@app.command()
def demo(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Keep the demo's database here (default: a temporary file)."),
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Audit a simulated market of six suppliers served on 127.0.0.1 (no internet needed)."""
    err = _stderr()
    with tempfile.TemporaryDirectory(prefix="api-audit-demo-") as tmp, serve_market() as market:
        catalogue_path = market.write_catalogue(Path(tmp) / "vendors.yaml")
        db_path = db or str(Path(tmp) / "demo.db")
        err.print(f"simulated market: {len(market.suppliers)} suppliers on 127.0.0.1", markup=False)
        loaded = load_catalogue(catalogue_path)
        methodology = load_methodology(None)
        options: dict[str, object] = {"demo": True, "allow_private": True}
        with Store.open(db_path) as store:
            result = _audit_with_progress(
                store,
                loaded,
                loaded.systems,
                methodology,
                FetchOptions(allow_private=True),
                options,
            )
            _print_run(store, result.run.id, output, methodology.rubric)
        if db is None:
            err.print("(the demo database was temporary; pass --db FILE to keep it)", markup=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of vendors.yaml (docs/vendors.schema.json is a copy)."""
    sys.stdout.write(json.dumps(catalogue_json_schema(), indent=2) + "\n")


@app.command()
def renewals(
    catalogue: CatalogueOption = Path("vendors.yaml"),
    council: Annotated[
        str | None, typer.Option(help="Only this council (GSS or three-letter code).")
    ] = None,
    within: Annotated[
        int, typer.Option(min=1, max=120, help="Months ahead to look for contract ends.")
    ] = 18,
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """List council contracts that end soon, with each system's latest grade."""
    loaded = load_catalogue(catalogue)
    if council:
        select_systems(loaded, council=council)  # raises a usage error for an unknown code
    grades, graded_by = _latest_grades(_db_path(db))
    found = upcoming_renewals(
        loaded,
        today=dt.date.today(),
        within_days=within * 30,
        council=council,
        grades=grades,
    )
    rows = renewal_rows(found)
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps({"renewals": rows}, indent=2) + "\n")
        return
    console = _stdout()
    if not rows:
        console.print(f"No contract in {catalogue} ends within {within} months.", markup=False)
        return
    console.print(renewals_table(rows, within, graded_by))


def _latest_grades(path: str) -> tuple[dict[str, str], str]:
    """Grades from the newest *complete* run, when a database is there (renewals work
    without one), and a line saying where they came from. An unfinished run would show
    the systems it never reached as if they had no grade."""
    if not Path(path).exists():
        return {}, "no database: grades need `api-audit run`"
    with Store.open(path) as store:
        newest = store.latest_run_id()
        run_id = store.latest_run_id(status="complete")
        if run_id is None:
            unfinished = f" (run {newest} did not complete)" if newest is not None else ""
            return {}, f"no complete run in {path} yet{unfinished}: no grades"
        card = _scorecard_from_store(store, run_id, keep_findings=False)
        source = f"grades from run {run_id}, the newest complete run"
        if newest is not None and newest != run_id:
            status = store.run_info(newest).status
            source += f" (run {newest} is {status} and is not used)"
    return {row.system_id: row.score.grade for row in card.systems}, source


# --- probes: the methodology, one probe at a time --------------------------------------------
# (render/probe_docs.py holds the formatting)

probes_app = typer.Typer(
    name="probes",
    help="The probe library: what each probe asks, why, and its examples.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(probes_app, name="probes")


@probes_app.command("list")
def probes_list(output: FormatOption = OutputFormat.table, probes: ProbesOption = None) -> None:
    """List every probe: id, criterion, weight, who it applies to, title."""
    methodology = load_methodology(probes)
    if output is OutputFormat.json:
        rows = [probe_summary(p) for p in methodology.probes]
        sys.stdout.write(
            escape_json_text(json.dumps({"probes": rows}, indent=2, ensure_ascii=False))
        )
        sys.stdout.write("\n")
        return
    _stdout().print(probes_table(methodology))


@probes_app.command("show")
def probes_show(
    probe_id: Annotated[str, typer.Argument(metavar="ID", help="A probe id, e.g. open311.")],
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
) -> None:
    """Show one probe in full: why, request, expectations, remediation, examples run."""
    methodology = load_methodology(probes)
    found = {p.id: p for p in methodology.probes}
    probe = found.get(probe_id)
    if probe is None:
        close = difflib.get_close_matches(probe_id, list(found), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (see `api-audit probes list`)"
        raise AuditError(f"no probe {probe_id!r}{hint}")  # repr: shown escaped
    results = [run_example(probe, example) for example in probe.examples]
    if output is OutputFormat.json:
        document = probe_to_dict(probe, results)
        sys.stdout.write(escape_json_text(json.dumps(document, indent=2, ensure_ascii=False)))
        sys.stdout.write("\n")
        return
    _stdout().print(probe_detail(probe, results))


def _version_callback(value: bool) -> None:
    if value:
        _stdout().print(f"api-audit {__version__}", markup=False)
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Audit UK local-government supplier systems for open data access."""


def _report_error(error: AuditError) -> None:
    err = _stderr()
    if isinstance(error, InputError):
        for problem in error.problems:
            err.print(escape_controls(redact_text(str(problem)), one_line=True), markup=False)
        err.print(f"api-audit: {len(error.problems)} problem(s) found", markup=False)
    else:
        err.print(
            f"api-audit: error: {escape_controls(redact_text(str(error)), one_line=True)}",
            markup=False,
        )


def _never_fail_to_print() -> None:
    """Text that cannot be encoded for the terminal (a lone surrogate that slipped past the
    cleaning, or any non-ASCII text on an ASCII-only console) is printed escaped rather than
    ending the command with UnicodeEncodeError after the work is done."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


class _ShowsUsage(Protocol):
    def show(self, file: TextIO | None = None) -> None: ...


def _click_exception() -> type[Exception]:
    """The exception class Typer raises for bad usage (and shows with `.show()`).

    Up to Typer 0.25 it is `click.ClickException`; from 0.26 Typer vendors Click and raises
    its own copy, which no longer subclasses `click.ClickException` (typer PR #1774). Both
    are a base of the public `typer.BadParameter`, so it is found there, by name, without
    importing either private layout."""
    found = [cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"]
    if not found or not issubclass(found[0], Exception):  # pragma: no cover - a new layout
        raise ImportError("typer.BadParameter no longer derives from a ClickException")
    return found[0]


_ClickException = _click_exception()


def _report_usage_error(error: Exception) -> None:
    """Click's usual usage message ("Usage: ...", "Try '... --help' for help.", "Error:
    ..."), with anything in it that could drive the terminal shown escaped."""
    shown = io.StringIO()
    cast(_ShowsUsage, error).show(file=shown)
    sys.stderr.write(escape_controls(shown.getvalue()))


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911 - one return per exit path
    """Entry point: run the Typer app, map our errors to exit codes, never a traceback."""
    _never_fail_to_print()
    try:
        with stop_signals_raise():
            returned = app(args=argv, prog_name="api-audit", standalone_mode=False)
    except Interrupted as stop:
        marked = f"run {stop.run_id} marked interrupted; " if stop.run_id is not None else ""
        _stderr().print(
            f"api-audit: interrupted; stored results are kept ({stop.signal_name}; {marked}"
            f"exit {stop.exit_code})",
            markup=False,
        )
        return stop.exit_code
    except _ClickException as error:  # bad usage: Click's own usage message
        _report_usage_error(error)
        return EXIT_UNUSABLE
    except AuditError as error:
        _report_error(error)
        return error.exit_code
    except typer.Exit as exit_:
        return int(exit_.exit_code or 0)
    except typer.Abort:
        _stderr().print("api-audit: aborted", markup=False)
        return 130
    except KeyboardInterrupt:
        _stderr().print("api-audit: interrupted; stored results are kept", markup=False)
        return 130
    except Exception as error:  # a bug of ours: one line, not a traceback
        if os.environ.get("API_AUDIT_DEBUG"):
            raise
        _stderr().print(
            f"api-audit: internal error: {type(error).__name__}: "
            f"{escape_controls(redact_text(str(error)), one_line=True)} "
            "(set API_AUDIT_DEBUG=1 for a traceback)",
            markup=False,
        )
        return EXIT_UNUSABLE
    # click returns the code of a typer.Exit instead of raising when not standalone
    return returned if isinstance(returned, int) else EXIT_OK
