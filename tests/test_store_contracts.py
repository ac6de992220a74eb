"""The contracts table (issue 13): one row per ocid, the newest release kept, read in pages."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from api_audit.models import Contract, Organisation
from api_audit.store import Store

BUYER = Organisation("London Borough of Hackney", "GB-CFS-1234", (("GB-CFS", "1234"),))
SUPPLIER = Organisation("IDOX SOFTWARE LTD", None, (("GB-COH", "03984070"),))
CONTRACT = Contract(
    ocid="ocds-b5fd17-0001",
    release_id="ocds-b5fd17-0001-award-1",
    release_date="2025-03-01T10:00:00Z",
    buyer=BUYER,
    suppliers=(SUPPLIER, Organisation("Softcat plc")),
    title="Planning software maintenance",
    description="Uniform support and maintenance",
    value=120000.0,
    currency="GBP",
    start=dt.date(2025, 4, 1),
    end=dt.date(2028, 3, 31),
    period_from="award",
    cpv=("72267000", "48000000"),
    notice_url="https://www.contractsfinder.service.gov.uk/notice/abc",
    source="contracts-finder",
    flags=(),
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "c.db"


def test_a_contract_round_trips(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.add_contracts([CONTRACT]) == 1
    with Store.open(db_path) as store:
        assert list(store.contracts()) == [CONTRACT]


@pytest.mark.parametrize(
    ("later", "kept"),
    [
        ({"release_date": "2025-06-01T00:00:00Z", "title": "newer"}, "newer"),
        (
            {"release_date": "2024-01-01T00:00:00Z", "title": "older"},
            "Planning software maintenance",
        ),
        (
            {"release_id": "ocds-b5fd17-0001-award-2", "title": "same day, later id"},
            "same day, later id",
        ),
        ({}, "Planning software maintenance"),  # the same release again: nothing changes
    ],
)
def test_the_newest_release_of_an_ocid_is_kept_whatever_the_import_order(
    db_path: Path, later: dict[str, str], kept: str
) -> None:
    with Store.open(db_path) as store:
        store.add_contracts([CONTRACT])
        store.add_contracts([replace(CONTRACT, **later)])  # type: ignore[arg-type]
        (stored,) = store.contracts()
    assert stored.title == kept


def test_importing_twice_changes_nothing(db_path: Path) -> None:
    many = [replace(CONTRACT, ocid=f"ocds-b5fd17-{i:04d}") for i in range(3)]
    with Store.open(db_path) as store:
        assert store.add_contracts(many) == 3
        assert store.add_contracts(many) == 0
        assert len(list(store.contracts())) == 3


def test_contracts_are_read_in_pages_by_end_date(db_path: Path) -> None:
    many = [
        replace(
            CONTRACT, ocid=f"ocds-{i:05d}", end=dt.date(2026, 1, 1) + dt.timedelta(days=i % 400)
        )
        for i in range(1203)
    ] + [replace(CONTRACT, ocid="ocds-no-end", end=None, start=None, period_from=None)]
    with Store.open(db_path) as store:
        store.add_contracts(many)
        read = list(store.contracts())
        ending = list(store.contracts(ending_after="2026-12-01"))
    assert len(read) == 1204 and len({c.ocid for c in read}) == 1204
    assert read[0].ocid == "ocds-no-end"  # no end date first
    ends = [c.end for c in read[1:]]
    assert ends == sorted(ends)  # type: ignore[type-var]
    assert ending and all(c.end and c.end >= dt.date(2026, 12, 1) for c in ending)


def test_hostile_text_is_stored_cleaned_and_a_bad_period_source_is_refused(db_path: Path) -> None:
    hostile = replace(CONTRACT, title="bad \ud800 surrogate", buyer=Organisation("\ud83d Council"))
    with Store.open(db_path) as store:
        store.add_contracts([hostile])
        (stored,) = store.contracts()
        assert stored.title == "bad \ufffd surrogate"
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute(
                "INSERT INTO contracts (ocid, release_id, release_date, buyer, period_from,"
                " imported_at) VALUES ('x', 'x', 'x', '{}', 'guess', 'x')"
            )


def test_a_secret_in_a_notice_url_is_not_stored(db_path: Path) -> None:
    leaky = replace(CONTRACT, notice_url="https://cf.example/notice?access_token=s3cr3t-VALUE-99")
    with Store.open(db_path) as store:
        store.add_contracts([leaky])
        (stored,) = store.contracts()
    assert stored.notice_url is not None and "s3cr3t-VALUE-99" not in stored.notice_url
