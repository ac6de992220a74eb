"""Commands that audit: `run` (the catalogue's systems) and `demo` (a simulated market).

The audit stack (HTTP engine, store, methodology) is imported when a command runs, not when
the command line starts, so `--help` and the commands that never fetch start fast.
"""

from __future__ import annotations

import tempfile
import time
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
)
from api_audit.cli.options import RunOptions

if TYPE_CHECKING:
    from api_audit.audit import AuditResult
    from api_audit.models import Catalogue, Methodology, System
    from api_audit.net import FetchOptions
    from api_audit.store import Store


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
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Requests in flight.")
    ] = RunOptions.concurrency,
    per_host: Annotated[
        int, typer.Option(min=1, max=16, help="Requests in flight per host.")
    ] = RunOptions.per_host,
    min_interval: Annotated[
        float,
        typer.Option(
            min=0,
            max=60,
            help="Seconds between request starts on one host (a robots.txt Crawl-delay "
            "or a Retry-After can stretch it). 0 for your own servers and tests.",
        ),
    ] = RunOptions.min_interval,
    deadline: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=300,
            help="Seconds one fetch may take from its first request, redirects and body included.",
        ),
    ] = RunOptions.deadline,
    max_host_errors: Annotated[
        int,
        typer.Option(
            min=0,
            max=1000,
            help="Stop sending to a host after this many errors in a row: network errors, "
            "429s and 503s with Retry-After (0: never stop).",
        ),
    ] = RunOptions.max_host_errors,
    host_wait_budget: Annotated[
        float,
        typer.Option(
            min=0,
            max=3600,
            help="Seconds of Retry-After pauses one host may ask for in a run; a pause past "
            "it is not waited and the host is left alone (its findings say so).",
        ),
    ] = RunOptions.host_wait_budget,
    ignore_robots: Annotated[
        bool,
        typer.Option(
            "--ignore-robots",
            help="Do not ask robots.txt first. Only for servers you run or may audit "
            "regardless (e.g. a council's own intranet).",
        ),
    ] = False,
    vendor: Annotated[
        list[str] | None, typer.Option(metavar="VENDOR", help="Only this vendor (repeatable).")
    ] = None,
    system: Annotated[
        list[str] | None, typer.Option(metavar="SYSTEM", help="Only this system (repeatable).")
    ] = None,
    service_area: Annotated[
        list[str] | None,
        typer.Option(metavar="AREA", help="Only systems in this service area (repeatable)."),
    ] = None,
    council: Annotated[
        str | None,
        typer.Option(
            metavar="CODE", help="Only the systems this council uses (GSS or three-letter code)."
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
) -> None:
    """Audit the catalogue's systems, store every observation, print the scorecard."""
    from api_audit.catalogue import load_catalogue, select_systems
    from api_audit.catalogue.probe_ids import probe_ids_in
    from api_audit.cli.results_commands import print_run
    from api_audit.methodology import load_methodology
    from api_audit.store import Store

    options = RunOptions(
        allow_private=allow_private,
        concurrency=concurrency,
        per_host=per_host,
        min_interval=min_interval,
        deadline=deadline,
        max_host_errors=max_host_errors,
        host_wait_budget=host_wait_budget,
        ignore_robots=ignore_robots,
        vendors=tuple(vendor or ()),
        systems=tuple(system or ()),
        service_areas=tuple(service_area or ()),
        council=council,
    )
    # a reply may name a probe of the --probes set, not only a shipped one
    loaded = load_catalogue(catalogue, probe_ids_in(probes) if probes else None)
    selected = select_systems(
        loaded,
        vendors=options.vendors,
        systems=options.systems,
        service_areas=options.service_areas,
        council=options.council,
    )
    methodology = load_methodology(probes)
    with Store.open(db_path(db)) as store:
        result = _audit_with_progress(
            store, loaded, selected, methodology, options.fetch_options(), options.recorded()
        )
        print_run(store, result.run.id, output, methodology.rubric)


def _audit_with_progress(
    store: Store,
    catalogue: Catalogue,
    systems: tuple[System, ...],
    methodology: Methodology,
    fetch_options: FetchOptions,
    options: dict[str, object],
) -> AuditResult:
    """Run the audit, showing progress on stderr (a bar on a terminal, a summary otherwise)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from api_audit.audit import run_audit

    err = stderr_console()
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


def demo(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="FILE",
            help="Keep the demo's database here (default: a temporary file).",
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Audit a simulated market of six suppliers served on 127.0.0.1 (no internet needed)."""
    from api_audit.catalogue import load_catalogue
    from api_audit.cli.results_commands import print_run
    from api_audit.demo.market import serve_market
    from api_audit.methodology import load_methodology
    from api_audit.net import FetchOptions
    from api_audit.store import Store

    err = stderr_console()
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
            print_run(store, result.run.id, output, methodology.rubric)
        if db is None:
            err.print("(the demo database was temporary; pass --db FILE to keep it)", markup=False)
