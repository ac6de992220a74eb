"""Commands that show the evidence behind a system's grade: `explain` and `history`."""

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
from api_audit.errors import AuditError

if TYPE_CHECKING:
    from api_audit.store import Store

SystemArgument = Annotated[
    str,
    typer.Argument(
        metavar="SYSTEM",
        help="A system id, or SYSTEM@COUNCIL for one council's instance (GSS or "
        "three-letter code).",
        show_default=False,
    ),
]


def explain(
    system: SystemArgument,
    probe: Annotated[
        str | None, typer.Option("--probe", metavar="ID", help="Only this probe's finding.")
    ] = None,
    run_id: Annotated[
        int | None,
        typer.Option(
            "--run",
            metavar="ID",
            help="Run id (default: the newest complete run that audited the system).",
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
    body: Annotated[
        bool,
        typer.Option(
            "--body",
            help="Also print the stored body of each exchange shown (decoded, escaped, "
            "the first 4 KiB).",
        ),
    ] = False,
    db: DbOption = None,
    probes: ProbesOption = None,
) -> None:
    """Why a system has its grade: each finding, the probe's question and reason, and the
    exchanges behind it (URL, redirects, status, type, size, time, TLS, body hash)."""
    from api_audit.methodology import load_methodology
    from api_audit.report.body_text import BODY_SHOWN
    from api_audit.report.explain import print_explain, write_explain_json
    from api_audit.system_evidence import choose_run, explain_system, resolve_system
    from api_audit.text import escape_controls

    methodology = load_methodology(probes)
    with _open_store(db) as store:
        system_id = resolve_system(store, system)
        chosen = choose_run(store, system_id, run_id)
        if run_id is None and store.run_info(chosen).status != "complete":
            stderr_console().print(
                f"note: no complete run audited {escape_controls(system_id, one_line=True)}; "
                f"showing run {chosen}, which is {store.run_info(chosen).status}",
                markup=False,
            )
        body_bytes = BODY_SHOWN + 1 if body else 0
        found = explain_system(
            store, system_id, chosen, methodology, probe=probe, body_bytes=body_bytes
        )
    if output is OutputFormat.json:
        write_explain_json(found, sys.stdout, with_bodies=body)
    else:
        print_explain(found, stdout_console(), with_bodies=body)


def history(
    system: SystemArgument,
    output: FormatOption = OutputFormat.table,
    limit: Annotated[
        int, typer.Option("--limit", min=1, metavar="N", help="The newest N runs.")
    ] = 20,
    db: DbOption = None,
    probes: ProbesOption = None,
) -> None:
    """A system's grade, score, ladder and coverage in each run that audited it, newest
    first, recomputed under the current methodology (each run's own is named)."""
    from api_audit.methodology import load_methodology
    from api_audit.report.history import print_history, write_history_json
    from api_audit.system_evidence import resolve_system, system_history

    methodology = load_methodology(probes)
    with _open_store(db) as store:
        found = system_history(store, resolve_system(store, system), methodology, limit)
    if output is OutputFormat.json:
        write_history_json(found, sys.stdout)
    else:
        print_history(found, stdout_console())


def _open_store(db: str | None) -> Store:
    from api_audit.store import Store

    path = db_path(db)
    if not Path(path).exists():
        raise AuditError(f"no database at {path} (run `api-audit run` first, or pass --db)")
    return Store.open(path)
