"""`export` and `verify`: a run as an evidence bundle, and a bundle checked (docs/bundle.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api_audit.cli.common import DbOption, db_path, stderr_console, stdout_console
from api_audit.errors import AuditError


def export(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE.zip", help="Where to write the bundle.")
    ],
    db: DbOption = None,
    run_id: Annotated[
        int | None,
        typer.Option(
            "--run",
            metavar="ID",
            help="Run id (default: the newest complete run). An unfinished run is exported "
            "and marked so in the manifest.",
        ),
    ] = None,
    probes: Annotated[
        Path | None,
        typer.Option(
            "--probes",
            metavar="DIR",
            help="The probe directory the run used, if not the built-in one (included only "
            "when it hashes to the run's methodology).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE.zip if it exists.")] = False,
) -> None:
    """Write a run's evidence bundle: tables as JSON and CSV, every body, the probe set,
    the catalogue, scores, and a manifest of sha256 hashes."""
    from api_audit.report.bundle import export_bundle
    from api_audit.store import Store
    from api_audit.text import escape_controls

    path = db_path(db)
    if not Path(path).exists():
        raise AuditError(f"no database at {path} (run `api-audit run` first, or pass --db)")
    with Store.open(path) as store:
        chosen = run_id if run_id is not None else store.latest_run_id(status="complete")
        if chosen is None:
            newest = store.latest_run_id()
            hint = f"; pass --run {newest} to export unfinished run {newest}" if newest else ""
            raise AuditError(f"{path} holds no complete run{hint}")
        done = export_bundle(store, chosen, out, probe_dir=probes, force=force)
    err = stderr_console()
    if done.run.status != "complete":
        err.print(f"note: run {chosen} is {done.run.status}; the manifest says so", markup=False)
    for what, included in (("catalogue", done.catalogue), ("probe set", done.probes)):
        if not included.included:
            shown = escape_controls(included.reason, one_line=True)
            err.print(f"note: the {what} is identified by hash only: {shown}", markup=False)
    stdout_console().print(
        f"exported run {chosen}: {done.files} files, {done.findings} findings "
        f"-> {escape_controls(str(done.path), one_line=True)}",
        markup=False,
        soft_wrap=True,
    )


def verify(
    bundle: Annotated[Path, typer.Argument(metavar="FILE.zip", help="An evidence bundle.")],
) -> None:
    """Check an evidence bundle: every file against its manifest, then its findings made
    again from its evidence and its scores from its findings. Exit 1 naming the first
    discrepancy; exit 2 for a file that is not a bundle."""
    from api_audit.report.verify import BundleAltered, verify_bundle
    from api_audit.text import escape_controls

    out = stdout_console()
    try:
        done = verify_bundle(bundle)
    except BundleAltered as altered:
        shown = escape_controls(str(altered), one_line=True)
        out.print(f"not verified: {shown}", markup=False, soft_wrap=True)
        raise typer.Exit(altered.exit_code) from None
    if done.rescored:
        verdict = "scores reproduce"
    else:
        why = escape_controls(done.note, one_line=True)  # the manifest's words: untrusted
        verdict = f"findings and scores not redone: no probe set ({why})"
    out.print(
        f"verified: {done.files} files, {done.findings} findings, {verdict}",
        markup=False,
        soft_wrap=True,
    )
    out.print(f"manifest sha256 {done.manifest_sha256}", markup=False)
