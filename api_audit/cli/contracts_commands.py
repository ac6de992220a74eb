"""The `contracts` command: stored contract notices, matched to councils, vendors and systems
against today's catalogue, listed as a table, JSON, or vendors.yaml instances to paste."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api_audit.cli.common import CatalogueOption, DbOption, db_path, stdout_console
from api_audit.errors import UsageError

if TYPE_CHECKING:
    from api_audit.models import Catalogue
    from api_audit.sources.matching import MatchedContract
    from api_audit.store import Store


class ContractsFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def contracts(
    catalogue: CatalogueOption = Path("vendors.yaml"),
    council: Annotated[
        str | None,
        typer.Option(metavar="CODE", help="Only this council's (GSS or three-letter code)."),
    ] = None,
    vendor: Annotated[
        str | None, typer.Option(metavar="VENDOR", help="Only contracts credited to this vendor.")
    ] = None,
    unmatched: Annotated[
        bool,
        typer.Option(
            "--unmatched",
            help="Only contracts left unmatched at some level (council, vendor or system): "
            "the gaps in the catalogue's aliases, numbers and keywords.",
        ),
    ] = False,
    ending_within: Annotated[
        int | None,
        typer.Option(metavar="DAYS", min=0, help="Only contracts ending within DAYS from today."),
    ] = None,
    db: DbOption = None,
    output: Annotated[
        ContractsFormat,
        typer.Option(
            "--format",
            "-f",
            help="table (for people), json (for machines) or yaml (vendors.yaml instances "
            "to paste; nothing is written).",
        ),
    ] = ContractsFormat.table,
) -> None:
    """List imported contracts with how each was matched to a council, vendor and system.

    Matching runs now, against the catalogue given, so a better catalogue improves
    contracts imported earlier (docs/contracts.md "Matching")."""
    from api_audit.catalogue import load_catalogue
    from api_audit.store import Store

    loaded = load_catalogue(catalogue)
    wanted_council = _council_key(council)
    _check_vendor(loaded, vendor)
    path = db_path(db)
    if not Path(path).exists():
        raise UsageError(f"no database at {path}: import contracts first (api-audit import)")
    today = dt.date.today()
    with Store.open(path) as store:
        rows = (
            m
            for m in matched_contracts(store, loaded, ending_after=today if ending_within else None)
            if (wanted_council is None or m.council.target == wanted_council)
            and (vendor is None or m.vendor.target == vendor)
            and (not unmatched or not m.fully_matched)
            and (ending_within is None or _ends_within(m, today, ending_within))
        )
        _print(rows, output, loaded)


def matched_contracts(
    store: Store, catalogue: Catalogue, *, ending_after: dt.date | None = None
) -> Iterator[MatchedContract]:
    """Stored contracts matched against `catalogue`, read twice in pages (flat memory): once
    to learn buyer ids from the names that match, once to match and yield."""
    from api_audit.catalogue.councils import load_register
    from api_audit.sources.matching import Matcher

    matcher = Matcher.build(catalogue, load_register(), store.contracts())
    after = ending_after.isoformat() if ending_after else None
    for contract in store.contracts(ending_after=after):
        yield matcher.match(contract)


def _print(rows: Iterator[MatchedContract], output: ContractsFormat, loaded: Catalogue) -> None:
    from api_audit.report.contracts import contracts_table, instances_yaml, write_contracts_json

    if output is ContractsFormat.json:
        write_contracts_json(rows, sys.stdout)
    elif output is ContractsFormat.yaml:
        sys.stdout.write(instances_yaml(rows, loaded))
    else:
        listed = list(rows)
        console = stdout_console()
        if not listed:
            console.print("No stored contract matches these options.", markup=False)
            return
        console.print(contracts_table(listed))


def _council_key(code: str | None) -> str | None:
    if code is None:
        return None
    from api_audit.catalogue.councils import load_register

    register = load_register()
    council = register.lookup(code)
    if council is None:
        raise UsageError(register.unknown(code))
    return council.key


def _check_vendor(loaded: Catalogue, vendor: str | None) -> None:
    """An unknown vendor id is a usage error with a did-you-mean (as `run --vendor`)."""
    if vendor is not None:
        from api_audit.catalogue import select_systems

        select_systems(loaded, vendors=[vendor])


def _ends_within(item: MatchedContract, today: dt.date, days: int) -> bool:
    end = item.contract.end
    return end is not None and today <= end <= today + dt.timedelta(days=days)
