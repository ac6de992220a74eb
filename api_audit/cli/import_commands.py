"""Commands that bring contracts in: `import ocds` (files) and the two procurement APIs.

Thin: parse the options, call api_audit/sources, print the one-line summary (stdout) and
any stop (stderr, exit 2). The readers, the engine and the store are imported when a
command runs, so `--help` starts fast.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import DbOption, FormatOption, OutputFormat, db_path, stderr_console
from api_audit.errors import EXIT_UNUSABLE, ImportStopped, UsageError
from api_audit.text import escape_controls

if TYPE_CHECKING:
    from api_audit.sources.importing import ImportSummary
    from api_audit.sources.procurement_apis import ApiImport, ImportRequest


def import_ocds(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="OCDS files: release or record packages, JSON lines of packages, records "
            "or releases, gzipped or not.",
            show_default=False,
        ),
    ],
    db: DbOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Import the IT contracts (CPV 48*, 72*) of OCDS files into the database.

    Files are streamed (a year of notices in flat memory). Each ocid keeps its newest
    release, so importing again, or an older file after a newer one, changes nothing.
    Broken lines or records are counted and skipped; the summary names the first. Exit 2
    when a file cannot be opened at all (nothing is imported) or nothing in them could
    be read.
    """
    from api_audit.loading.files import InputFileError
    from api_audit.sources.importing import import_files
    from api_audit.store import Store

    with Store.open(db_path(db)) as store:
        try:
            summary = import_files(paths, store)
        except InputFileError as exc:
            raise UsageError(f"cannot read {exc}") from None
    _print_summary(summary, output)
    if summary.read == 0 and summary.broken:
        raise typer.Exit(EXIT_UNUSABLE)


SinceOption = Annotated[
    str,
    typer.Option(
        "--since",
        metavar="DATE",
        help="First day of notices to fetch (YYYY-MM-DD: published since, for Contracts "
        "Finder; updated since, for Find a Tender).",
        show_default=False,
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", metavar="DATE", help="Last day of notices to fetch (YYYY-MM-DD)."),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="The service's address, instead of its public host or the environment "
        "variable (see docs/contracts.md).",
    ),
]
AllowPrivateOption = Annotated[
    bool,
    typer.Option(
        "--allow-private",
        help="Allow loopback and private addresses (a mirror or test server).",
    ),
]
MinIntervalOption = Annotated[
    float,
    typer.Option(min=0, max=60, help="Seconds between requests (0 for your own servers)."),
]
RestartOption = Annotated[
    bool,
    typer.Option("--restart", help="Begin at the first page, not where the last import stopped."),
]
IgnoreRobotsOption = Annotated[
    bool,
    typer.Option("--ignore-robots", help="Do not ask robots.txt first (your own servers)."),
]
MaxPagesOption = Annotated[
    int, typer.Option(min=1, help="Stop after this many pages (run again to continue).")
]


_API_HELP = """

    Pages are read one at a time through the audit's HTTP engine (its User-Agent, limits
    and politeness, Retry-After honoured). The place is kept after each page, so an
    import that was stopped or killed continues where it stopped when run again with the
    same --since (and --until). Exit 2, keeping what was stored, when the service stops
    answering or sends a broken page.
    """


def _api_command(service: str, source: str) -> Callable[..., None]:
    """The `import SERVICE` command: both services take the same options."""

    def command(
        since: SinceOption,
        until: UntilOption = None,
        base_url: BaseUrlOption = None,
        db: DbOption = None,
        allow_private: AllowPrivateOption = False,
        min_interval: MinIntervalOption = 1.0,
        ignore_robots: IgnoreRobotsOption = False,
        restart: RestartOption = False,
        max_pages: MaxPagesOption = 100_000,
        output: FormatOption = OutputFormat.table,
    ) -> None:
        options = _ApiOptions(
            since, until, base_url, db, allow_private, min_interval, ignore_robots, restart,
            max_pages, output,
        )  # fmt: skip
        _import_api(service, options)

    command.__doc__ = f"Fetch IT contracts from {source} into the database.{_API_HELP}"
    command.__name__ = "import_" + service.replace("-", "_")
    return command


import_contracts_finder = _api_command("contracts-finder", "Contracts Finder's OCDS search API")
import_find_a_tender = _api_command("find-a-tender", "Find a Tender's OCDS release packages API")


@dataclass(frozen=True)
class _ApiOptions:
    """The options both API imports take, as given."""

    since: str
    until: str | None
    base_url: str | None
    db: str | None
    allow_private: bool
    min_interval: float
    ignore_robots: bool
    restart: bool
    max_pages: int
    output: OutputFormat


def _import_api(service_name: str, given: _ApiOptions) -> None:
    import asyncio

    from api_audit.net import FetchOptions, HttpEngine
    from api_audit.sources.procurement_apis import SERVICES, import_fetch_options, import_pages
    from api_audit.store import Store

    service = SERVICES[service_name]
    asked = _import_request(service_name, given)
    options = import_fetch_options(
        FetchOptions(
            allow_private=given.allow_private,
            min_interval=given.min_interval,
            respect_robots=not given.ignore_robots,
        )
    )

    async def fetch_all(store: Store) -> ApiImport:
        async with HttpEngine(options) as engine:
            return await import_pages(asked, store, engine, _progress(service.title))

    with Store.open(db_path(given.db)) as store:
        result = asyncio.run(fetch_all(store))
    _print_summary(result.summary, given.output, result)
    if result.stopped is not None:
        raise ImportStopped(_stopped_line(service.title, result))


def _import_request(service_name: str, given: _ApiOptions) -> ImportRequest:
    from api_audit.sources.procurement_apis import SERVICES, ImportRequest

    service = SERVICES[service_name]
    try:
        base_url = service.base_url(given.base_url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return ImportRequest(
        service=service,
        base_url=base_url,
        since=_iso_date(given.since, "--since"),
        until=_iso_date(given.until, "--until") if given.until else None,
        restart=given.restart,
        max_pages=given.max_pages,
    )


def _stopped_line(title: str, result: ApiImport) -> str:
    return (
        f"{title}: {result.stopped}; {result.pages} page(s) stored this time are kept; "
        "run the same command again to continue from the page that was not finished"
    )


def _progress(title: str) -> Callable[[int, ImportSummary], None] | None:
    if not sys.stderr.isatty():
        return None
    err = stderr_console()

    def show(pages: int, summary: ImportSummary) -> None:
        err.print(f"{title}: page {pages}: {summary.line()}", markup=False)

    return show


def _print_summary(
    summary: ImportSummary, output: OutputFormat, result: ApiImport | None = None
) -> None:
    if output == OutputFormat.json:
        record = summary.as_json()
        if result is not None:
            record |= {
                "pages": result.pages,
                "finished": result.finished,
                "resumed_at_page": result.resumed_at_page,
                "stopped": result.stopped,
            }
        sys.stdout.write(json.dumps(record, ensure_ascii=True) + "\n")
        return
    line = summary.line()
    if result is not None:
        resumed = f", resumed at page {result.resumed_at_page}" if result.resumed_at_page else ""
        state = "finished" if result.finished else "not finished"
        line = f"{result.pages} page(s) read{resumed} ({state}): {line}"
    sys.stdout.write(escape_controls(line, one_line=True) + "\n")


def _iso_date(text: str, option: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None
