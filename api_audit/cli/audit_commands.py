"""Commands that audit: `run` (the catalogue's systems) and `demo` (a simulated market).

The audit stack (HTTP engine, store, methodology) is imported when a command runs, not when
the command line starts, so `--help` and the commands that never fetch start fast.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

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
from api_audit.cli.gates import (
    FailOnRegressionOption,
    FailUnderOption,
    checked_grade,
    exit_on_gates,
)
from api_audit.cli.options import RunOptions
from api_audit.errors import UsageError
from api_audit.text import escape_controls

if TYPE_CHECKING:
    from collections.abc import Callable

    from api_audit.audit import AuditResult, ProgressCallback
    from api_audit.models import Catalogue, Methodology, RunInfo, System
    from api_audit.net import FetchOptions
    from api_audit.store import Store


def run(
    ctx: typer.Context,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the newest unfinished run (interrupted or killed), or run "
            "RUN_ID with `--resume RUN_ID`, under its own id and with the catalogue, probes "
            "and options it was started with: fetch only what is missing, then mark it "
            "complete. Only --db, --format, --catalogue (where the run's catalogue is now) "
            "and --probes go with it; refused if the catalogue or probe set changed.",
        ),
    ] = False,
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
    with_contracts: Annotated[
        bool,
        typer.Option(
            "--with-contracts",
            help="With --council: also audit the catalogue systems the council is known "
            "to buy from its imported contract notices (matched to a system), not only "
            "those the catalogue lists for it.",
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="K/N",
            help="Audit share K of N of the selected systems, split so that no two shares "
            "send to the same host (run each share on its own machine, then `api-audit "
            "merge`). The split is the same on every machine for the same catalogue, "
            "selection and probes.",
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
    fail_under: FailUnderOption = None,
    fail_on_regression: FailOnRegressionOption = False,
) -> None:
    """Audit the catalogue's systems, store every observation, print the scorecard."""
    gates = Gates(fail_under, fail_on_regression)
    # `--resume [RUN_ID]`: an option with an optional value, which Typer has no form for,
    # so the id comes as the command's one extra argument (`RUN_CONTEXT` allows it).
    run_id = _run_id_to_resume(ctx.args, resume=resume)
    if resume:
        from api_audit.cli.resuming import KEPT_WITH_RESUME, refuse_new_options

        given = [
            param.opts[0] if param.opts else str(param.name)
            for param in ctx.command.params
            if param.name not in KEPT_WITH_RESUME and _given(ctx, str(param.name))
        ]
        refuse_new_options(given)
        explicit = catalogue if _given(ctx, "catalogue") else None
        _resume(run_id, explicit, db, output, probes, gates)
        return
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
        with_contracts=with_contracts,
        shard=_checked_shard(shard),
    )
    # a reply may name a probe of the --probes set, not only a shipped one
    loaded = load_catalogue(catalogue, probe_ids_in(probes) if probes else None)
    if with_contracts:
        loaded = _with_contracts(loaded, options.council, db_path(db))
    selected = select_systems(
        loaded,
        vendors=options.vendors,
        systems=options.systems,
        service_areas=options.service_areas,
        council=options.council,
    )
    methodology = load_methodology(probes)
    selected = _share(selected, methodology, options.shard)
    grade = checked_grade(gates.fail_under, methodology)
    with Store.open(db_path(db)) as store:
        result = _audit_with_progress(
            store, loaded, selected, methodology, options.fetch_options(), options.recorded()
        )
        print_run(store, result.run.id, output, methodology.rubric)
        exit_on_gates(
            store,
            result.run.id,
            methodology,
            fail_under=grade,
            fail_on_regression=gates.fail_on_regression,
        )


@dataclass(frozen=True)
class Gates:
    """`run`'s CI gates (cli/gates.py): checked after the run, never recorded with it."""

    fail_under: str | None
    fail_on_regression: bool


# How `run` is registered (cli/app.py): one extra argument, the RUN_ID of `--resume`.
RUN_CONTEXT: Final = {"allow_extra_args": True}


def _run_id_to_resume(extra: list[str], *, resume: bool) -> int | None:
    if not extra:
        return None
    if not resume:
        raise UsageError(
            f"unexpected argument {escape_controls(extra[0], one_line=True)!r}: a run id "
            "goes with --resume (api-audit run --resume RUN_ID)"
        )
    if len(extra) > 1 or not extra[0].isdigit():
        shown = escape_controls(" ".join(extra), one_line=True)
        raise UsageError(f"--resume takes one run id (a number), not {shown!r}")
    return int(extra[0])


def _checked_shard(text: str | None) -> str | None:
    """`--shard` as recorded ("K/N"); a UsageError (exit 2) when it is not K/N."""
    if text is None:
        return None
    from api_audit.shards import ShardError, parse_shard

    try:
        return str(parse_shard(text))
    except ShardError as exc:
        raise UsageError(escape_controls(str(exc), one_line=True)) from None


def _share(
    selected: tuple[System, ...], methodology: Methodology, shard: str | None
) -> tuple[System, ...]:
    """The selected systems this run audits: all, or its shard's share (shards.py)."""
    if shard is None:
        return selected
    from api_audit.shards import parse_shard, select_shard

    return select_shard(selected, methodology, parse_shard(shard))


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option `name` was given (on the command line), not left at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _resume(
    run_id: int | None,
    catalogue: Path | None,
    db: str | None,
    output: OutputFormat,
    probes: Path | None,
    gates: Gates,
) -> None:
    """`run --resume`: continue an unfinished run as it began (cli/resuming.py checks it)."""
    from api_audit import __version__
    from api_audit.audit import resume_audit, systems_left
    from api_audit.catalogue import parse_catalogue, select_systems
    from api_audit.catalogue.probe_ids import probe_ids_in
    from api_audit.cli.results_commands import print_run
    from api_audit.cli.resuming import (
        catalogue_bytes,
        check_same_methodology,
        check_same_tool,
        run_to_resume,
    )
    from api_audit.methodology import load_methodology
    from api_audit.store import Store

    path = db_path(db)
    if not Path(path).exists():
        raise UsageError(f"nothing to resume: no database at {path}")
    with Store.open(path) as store:
        run = run_to_resume(store, run_id, path)
        check_same_tool(run, __version__)
        source = catalogue or Path(run.catalogue_source)
        raw = catalogue_bytes(run, source)
        methodology = load_methodology(probes)
        grade = checked_grade(gates.fail_under, methodology)
        check_same_methodology(run, methodology, probes)
        loaded = parse_catalogue(raw, str(source), probe_ids_in(probes) if probes else None)
        options = RunOptions.from_recorded(run.options)
        if options.with_contracts:
            loaded = _with_contracts(loaded, options.council, path)
        selected = select_systems(
            loaded,
            vendors=options.vendors,
            systems=options.systems,
            service_areas=options.service_areas,
            council=options.council,
        )
        selected = _share(selected, methodology, options.shard)
        left = systems_left(selected, methodology, store.probes_found(run.id))
        _say_resuming(run, len(selected), len(left))

        def audit(on_system_done: ProgressCallback) -> AuditResult:
            return resume_audit(
                store,
                run.id,
                loaded,
                selected,
                methodology,
                options.fetch_options(),
                on_system_done=on_system_done,
            )

        _with_progress(len(left), audit)
        print_run(store, run.id, output, methodology.rubric)
        exit_on_gates(
            store,
            run.id,
            methodology,
            fail_under=grade,
            fail_on_regression=gates.fail_on_regression,
        )


def _with_contracts(loaded: Catalogue, council: str | None, path: str) -> Catalogue:
    """The catalogue with the council's instances its imported contracts add (`run
    --council CODE --with-contracts`); the systems still come from the catalogue."""
    from api_audit.catalogue.councils import load_register
    from api_audit.cli.contracts_commands import matched_contracts
    from api_audit.sources.instances import with_contract_instances
    from api_audit.store import Store

    if council is None:
        raise UsageError("--with-contracts needs --council CODE: whose contracts to use")
    register = load_register()
    known = register.lookup(council)
    if known is None:
        raise UsageError(register.unknown(council))
    if not Path(path).exists():
        return loaded
    with Store.open(path) as store:
        return with_contract_instances(loaded, matched_contracts(store, loaded), known.key)


def _say_resuming(run: RunInfo, total: int, left: int) -> None:
    how = "interrupted" if run.status == "interrupted" else "no recorded end: killed"
    stderr_console().print(
        f"resuming run {run.id} ({how}; started {escape_controls(run.started_at)}): "
        f"{total - left} of {total} systems already audited, {left} to go",
        markup=False,
    )
    if run.status == "running":
        stderr_console().print(
            f"note: run {run.id} was never marked finished; if it is still running in "
            "another process, stop that one first",
            markup=False,
        )


def _audit_with_progress(
    store: Store,
    catalogue: Catalogue,
    systems: tuple[System, ...],
    methodology: Methodology,
    fetch_options: FetchOptions,
    options: dict[str, object],
) -> AuditResult:
    """Run a new audit, showing progress on stderr."""
    from api_audit.audit import run_audit

    def audit(on_system_done: ProgressCallback) -> AuditResult:
        return run_audit(
            store,
            catalogue,
            systems,
            methodology,
            fetch_options,
            options=options,
            on_system_done=on_system_done,
        )

    return _with_progress(len(systems), audit)


def _with_progress(total: int, audit: Callable[[ProgressCallback], AuditResult]) -> AuditResult:
    """Run `audit`, showing progress on stderr (a bar on a terminal, a summary otherwise)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

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
        task = progress.add_task("auditing", total=total)

        def system_done(system: System, findings: object) -> None:
            progress.advance(task)

        result = audit(system_done)
    reused = (
        f"; {result.exchanges_reused} stored exchanges reused" if result.exchanges_reused else ""
    )
    err.print(
        f"audited {result.systems} systems: {result.findings} findings from "
        f"{result.requests} distinct requests ({result.requests_sent} sent{reused}) in "
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
