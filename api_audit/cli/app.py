"""The Typer app: commands registered in the order `--help` lists them, and `main()`, which
maps every outcome to one line and an exit code (errors.py), never a traceback.

Results go to stdout; progress and diagnostics to stderr.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Annotated, Protocol, TextIO, cast

import typer

from api_audit import __version__
from api_audit.cli import (
    audit_commands,
    bundle_commands,
    catalogue_commands,
    contracts_commands,
    diff_commands,
    evidence_commands,
    import_commands,
    market_commands,
    merge_commands,
    probes_commands,
    report_commands,
    results_commands,
)
from api_audit.cli.common import stderr_console, stdout_console
from api_audit.errors import EXIT_OK, EXIT_UNUSABLE, AuditError, InputError, Interrupted
from api_audit.redact import redact_text
from api_audit.signals import stop_signals_raise
from api_audit.text import escape_controls

app = typer.Typer(
    name="api-audit",
    help="Audit UK local-government supplier systems for open, documented, free, "
    "standards-based data access.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

app.command()(catalogue_commands.validate)
app.command(context_settings=audit_commands.RUN_CONTEXT)(audit_commands.run)
app.command()(results_commands.scorecard)
app.command()(evidence_commands.explain)
app.command()(evidence_commands.history)
app.command()(diff_commands.diff)
app.command()(bundle_commands.export)
app.command()(bundle_commands.verify)
app.command()(audit_commands.demo)
app.command()(catalogue_commands.schema)
app.command()(results_commands.renewals)
app.command()(contracts_commands.contracts)
app.command()(report_commands.report)
app.command()(market_commands.market)
app.command()(merge_commands.merge)

probes_app = typer.Typer(
    name="probes",
    help="The probe library: what each probe asks, why, and its examples.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(probes_app, name="probes")

probes_app.command("list")(probes_commands.probes_list)
probes_app.command("show")(probes_commands.probes_show)

import_app = typer.Typer(
    name="import",
    help="Bring in contracts from open procurement data (OCDS): files, Contracts Finder, "
    "Find a Tender.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(import_app, name="import")

import_app.command("ocds")(import_commands.import_ocds)
import_app.command("contracts-finder")(import_commands.import_contracts_finder)
import_app.command("find-a-tender")(import_commands.import_find_a_tender)


def _version_callback(value: bool) -> None:
    if value:
        stdout_console().print(f"api-audit {__version__}", markup=False)
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
    err = stderr_console()
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
        stderr_console().print(
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
        stderr_console().print("api-audit: aborted", markup=False)
        return 130
    except KeyboardInterrupt:
        stderr_console().print("api-audit: interrupted; stored results are kept", markup=False)
        return 130
    except Exception as error:  # a bug of ours: one line, not a traceback
        if os.environ.get("API_AUDIT_DEBUG"):
            raise
        stderr_console().print(
            f"api-audit: internal error: {type(error).__name__}: "
            f"{escape_controls(redact_text(str(error)), one_line=True)} "
            "(set API_AUDIT_DEBUG=1 for a traceback)",
            markup=False,
        )
        return EXIT_UNUSABLE
    # click returns the code of a typer.Exit instead of raising when not standalone
    return returned if isinstance(returned, int) else EXIT_OK
