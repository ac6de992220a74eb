"""`run`'s options live in one frozen value: the engine's options and the run's record
both come from it, and a stored record turns back into the options that made it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from loopback import LoopbackSite

from api_audit.cli import main
from api_audit.cli.options import RunOptions
from api_audit.net import POLITE_MIN_INTERVAL, FetchOptions

CHANGED = RunOptions(
    allow_private=True, concurrency=7, per_host=3, min_interval=0.0, deadline=4.5,
    max_host_errors=9, host_wait_budget=12.0, ignore_robots=True, vendors=("a", "b"),
    systems=("s",), service_areas=("waste",), council="E09000012",
)  # fmt: skip


def test_the_defaults_are_the_polite_ones() -> None:
    options = RunOptions()
    assert options.min_interval == POLITE_MIN_INTERVAL
    assert options.fetch_options() == FetchOptions(min_interval=POLITE_MIN_INTERVAL)


def test_every_option_reaches_the_engine() -> None:
    fetch = CHANGED.fetch_options()
    assert (fetch.concurrency, fetch.per_host, fetch.min_interval, fetch.deadline) == (
        7, 3, 0.0, 4.5,
    )  # fmt: skip
    assert (fetch.host_error_budget, fetch.host_wait_budget) == (9, 12.0)
    assert fetch.respect_robots is False
    assert fetch.allow_private is True


def test_the_record_keeps_the_command_lines_names_and_round_trips() -> None:
    record = CHANGED.recorded()
    assert record == {
        "allow_private": True, "concurrency": 7, "per_host": 3, "min_interval": 0.0,
        "deadline": 4.5, "max_host_errors": 9, "host_wait_budget": 12.0,
        "ignore_robots": True, "vendor": ["a", "b"], "system": ["s"],
        "service_area": ["waste"], "council": "E09000012", "with_contracts": False,
    }  # fmt: skip
    assert json.loads(json.dumps(record)) == record
    assert RunOptions.from_recorded(record) == CHANGED


def test_an_older_record_takes_todays_defaults_for_what_it_lacks() -> None:
    assert RunOptions.from_recorded({"concurrency": 5}) == RunOptions(concurrency=5)


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    made = LoopbackSite()
    yield made
    made.close()


def test_the_run_stores_exactly_what_the_command_line_asked(
    site: LoopbackSite, tmp_path: Path
) -> None:
    catalogue = tmp_path / "vendors.yaml"
    catalogue.write_text(
        "schema_version: 1\nvendors:\n  - id: v\n    name: V\n    systems:\n"
        f"      - id: s\n        name: S\n        service_areas: [waste]\n"
        f"        endpoints: {{docs: '{site.origin}/docs'}}\n",
        "utf-8",
    )
    db = tmp_path / "a.db"
    argv = ["run", "-c", str(catalogue), "--db", str(db), "--allow-private",
            "--min-interval", "0", "--concurrency", "5", "--vendor", "v", "-f", "json"]  # fmt: skip
    assert main(argv) == 0
    with closing(sqlite3.connect(db)) as conn:
        (stored,) = conn.execute("SELECT options FROM runs").fetchone()
    expected = RunOptions(allow_private=True, min_interval=0.0, concurrency=5, vendors=("v",))
    assert RunOptions.from_recorded(json.loads(stored)) == expected
