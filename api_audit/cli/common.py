"""What every command shares: the output consoles, the common options, the database path."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_DB = "api-audit.db"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def stdout_console() -> Console:
    """Results, for people: Rich is imported here, when a command prints, not at start."""
    from rich.console import Console  # noqa: PLC0415 - keeps `--help` fast (bench/startup.py)

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # a piped table should not wrap at 80 columns
    return console


def stderr_console() -> Console:
    """Progress and diagnostics; soft_wrap: a line stays one line however long a path in it."""
    from rich.console import Console  # noqa: PLC0415 - keeps `--help` fast (bench/startup.py)

    return Console(stderr=True, highlight=False, soft_wrap=True)


CatalogueOption = Annotated[
    Path,
    typer.Option("--catalogue", "-c", metavar="FILE", help="The catalogue of supplier systems."),
]


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="FILE",
        help=f"SQLite database file [env API_AUDIT_DB, default {DEFAULT_DB}].",
        show_default=False,
    ),
]


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table (for people) or json (for machines).")
]


ProbesOption = Annotated[
    Path | None,
    typer.Option(
        "--probes",
        metavar="DIR",
        help="A probe directory to use instead of the built-in methodology.",
    ),
]


def db_path(db: str | None) -> str:
    return db or os.environ.get("API_AUDIT_DB") or DEFAULT_DB
