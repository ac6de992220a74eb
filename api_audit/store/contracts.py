"""Contracts in the store: rows for the `contracts` table, and the rule for a newer release.

Re-importing is idempotent: a release replaces the stored one for its ocid only when it is
newer (its `release_date`, then its release id, compared as published), so importing the
same files twice, or an older file after a newer one, changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api_audit.models import Contract, Organisation
from api_audit.redact import Redactor
from api_audit.store import cells
from api_audit.store.rows import dumps

CONTRACT_COLUMNS = (
    "ocid", "release_id", "release_date", "buyer", "suppliers", "title", "description",
    "value", "currency", "start_date", "end_date", "period_from", "cpv", "notice_url",
    "source", "flags", "imported_at",
)  # fmt: skip

# Insert, or replace the stored release only with a newer one (SQLite UPSERT). Built from
# the fixed column names above; every value is bound.
UPSERT_CONTRACT = (
    f"INSERT INTO contracts ({', '.join(CONTRACT_COLUMNS)}) "  # noqa: S608 - fixed names
    f"VALUES ({', '.join('?' for _ in CONTRACT_COLUMNS)}) "
    "ON CONFLICT (ocid) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in CONTRACT_COLUMNS if c != "ocid")
    + " WHERE (excluded.release_date, excluded.release_id)"
    " > (contracts.release_date, contracts.release_id)"
)


def contract_row(contract: Contract, redactor: Redactor, imported_at: str) -> tuple[object, ...]:
    row = {
        "ocid": contract.ocid,
        "release_id": contract.release_id,
        "release_date": contract.release_date,
        "buyer": dumps(_organisation_row(contract.buyer)),
        "suppliers": dumps([_organisation_row(s) for s in contract.suppliers]),
        "title": contract.title,
        "description": contract.description,
        "value": contract.value,
        "currency": contract.currency,
        "start_date": contract.start.isoformat() if contract.start else None,
        "end_date": contract.end.isoformat() if contract.end else None,
        "period_from": contract.period_from,
        "cpv": dumps(list(contract.cpv)),
        "notice_url": redactor.url(contract.notice_url) if contract.notice_url else None,
        "source": contract.source,
        "flags": dumps(list(contract.flags)),
        "imported_at": imported_at,
    }
    return tuple(row[c] for c in CONTRACT_COLUMNS)


def contract_from_row(row: Mapping[str, Any]) -> Contract:
    start, end = row.get("start_date"), row.get("end_date")
    return Contract(
        ocid=cells.text(row, "ocid"),
        release_id=cells.text(row, "release_id"),
        release_date=cells.text(row, "release_date"),
        buyer=_organisation(cells.json_object(row, "buyer")),
        suppliers=cells.json_records(row, "suppliers", _organisation),
        title=cells.optional_text(row, "title") or "",
        description=cells.optional_text(row, "description") or "",
        value=None if row.get("value") is None else cells.number(row, "value"),
        currency=cells.optional_text(row, "currency"),
        start=None if start is None else cells.date(row, "start_date"),
        end=None if end is None else cells.date(row, "end_date"),
        period_from=cells.optional_text(row, "period_from"),
        cpv=cells.json_strings(row, "cpv"),
        notice_url=cells.optional_text(row, "notice_url"),
        source=cells.optional_text(row, "source") or "",
        flags=cells.json_strings(row, "flags"),
    )


def _organisation_row(organisation: Organisation) -> dict[str, object]:
    return {
        "name": organisation.name,
        "id": organisation.id,
        "identifiers": [list(pair) for pair in organisation.identifiers],
    }


def _organisation(row: Mapping[str, Any]) -> Organisation:
    pairs = row.get("identifiers") or []
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p) for p in pairs
    ):
        raise cells.BadCell("identifiers", "should be a list of [scheme, id] pairs of strings")
    return Organisation(
        name=cells.optional_text(row, "name") or "",
        id=cells.optional_text(row, "id"),
        identifiers=tuple((p[0], p[1]) for p in pairs),
    )
