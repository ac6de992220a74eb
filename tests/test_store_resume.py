"""What the store keeps for `run --resume` (issue 12, item 4): the run taken up again under
its own id, what it can reuse read back, and duplicates impossible in the database itself."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from test_store import CATALOGUE, METHODOLOGY, SYSTEM, exchange, finding

from api_audit.audit import systems_left
from api_audit.errors import StoreError
from api_audit.methodology import load_methodology
from api_audit.models import Probe
from api_audit.store import BODY_CAP, FLUSH_ROWS, Store


def start(store: Store, token: str | None = "abc123") -> int:
    run = store.start_run(
        catalogue=CATALOGUE,
        methodology=METHODOLOGY,
        tool_version="0.1.0",
        options={},
        baseline_token=token,
    )
    return run.id


@pytest.mark.parametrize("status", ["running", "interrupted"])
def test_an_unfinished_run_is_taken_up_again_under_its_own_id(tmp_path: Path, status: str) -> None:
    with Store.open(tmp_path / "a.db") as store:
        run_id = start(store)
        if status == "interrupted":
            store.finish_run(run_id, "interrupted")
        assert store.newest_unfinished_run_id() == run_id
        for sitting in (1, 2):
            run = store.resume_run(run_id, CATALOGUE, baseline_token="new")
            assert (run.id, run.status, run.finished_at) == (run_id, "running", None)
            assert len(run.resumed_at) == sitting
            assert store.baseline_token(run_id) == "abc123"  # the run's own, kept
            store.finish_run(run_id, "interrupted")
        store.resume_run(run_id, CATALOGUE)
        store.finish_run(run_id)
        assert store.newest_unfinished_run_id() is None
        with pytest.raises(StoreError, match="run 1 is complete; there is nothing to resume"):
            store.resume_run(run_id, CATALOGUE)
        with pytest.raises(StoreError, match="no run 9"):
            store.resume_run(9, CATALOGUE)


def test_a_run_stored_without_a_token_gets_one_when_resumed() -> None:
    with Store.open(":memory:") as store:
        run_id = start(store, token=None)
        assert store.baseline_token(run_id) is None
        store.resume_run(run_id, CATALOGUE, baseline_token="drawn")
        assert store.baseline_token(run_id) == "drawn"


def test_the_newest_unfinished_run_skips_complete_ones() -> None:
    with Store.open(":memory:") as store:
        first, second = start(store), start(store)
        store.finish_run(second)
        assert store.newest_unfinished_run_id() == first
        store.finish_run(first, "interrupted")
        assert store.newest_unfinished_run_id() == first
        third = start(store)
        assert store.newest_unfinished_run_id() == third


def test_stored_exchanges_come_back_whole_and_truncated_ones_are_not_reused() -> None:
    with Store.open(":memory:") as store:
        run_id = start(store)
        small = exchange("https://a.example/docs")
        bodiless = replace(exchange("https://a.example/none"), body=b"", status=None)
        huge = exchange("https://a.example/huge", body=b"x" * (BODY_CAP + 1))
        for each in (small, bodiless, huge):
            store.add_exchange(run_id, each)
        store.flush()
        keys = store.reusable_request_keys(run_id)
        assert keys == {small.request.key, bodiless.request.key}
        back = store.exchanges_for(run_id, [*keys, "GET https://nowhere accept=*/*"])
        assert back == {small.request.key: small, bodiless.request.key: bodiless}
        assert store.reusable_request_keys(run_id + 1) == frozenset()


def test_one_systems_findings_are_written_together(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.db") as store:
        run_id = start(store)
        many = [finding(f"probe-{n:03}") for n in range(FLUSH_ROWS * 3)]
        store.add_findings(run_id, many)  # more than a batch: still one write, after all
        with sqlite3.connect(tmp_path / "a.db") as other:
            count = other.execute("SELECT count(*) FROM findings").fetchone()[0]
        assert count == len(many)
        assert store.probes_found(run_id) == {SYSTEM.id: frozenset(f.probe_id for f in many)}


@pytest.mark.parametrize(
    ("sql", "values"),
    [
        (
            "INSERT INTO findings (run_id, system_id, probe_id, criterion, weight, outcome)"
            " VALUES (?, 'idox-uniform', 'docs-public', 'documented', 1, 'fail')",
            [],
        ),
        (
            "INSERT INTO exchanges (run_id, request_key, method, url, final_url)"
            " VALUES (?, ?, 'GET', 'https://docs.example/uniform', 'x')",
            ["GET https://docs.example/uniform accept=text/html"],
        ),
    ],
    ids=["finding", "exchange"],
)
def test_duplicates_are_impossible_in_the_database_itself(sql: str, values: list[str]) -> None:
    with Store.open(":memory:") as store:
        run_id = start(store)
        store.add_exchange(run_id, exchange())
        store.add_finding(run_id, finding("docs-public"))
        store.flush()
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            store.db.execute(sql, [run_id, *values])
        # what the store itself writes again replaces, never adds
        store.add_exchange(run_id, exchange())
        store.add_finding(run_id, finding("docs-public", outcome="fail"))
        store.flush()
        assert len(store.exchanges(run_id)) == 1
        assert [f.outcome for f in store.findings(run_id)] == ["fail"]


def _probe(probe_id: str) -> Probe:
    return replace(load_methodology(None).probes[0], id=probe_id)


@pytest.mark.parametrize(
    ("found", "left"),
    [
        ({}, ["a", "b"]),
        ({"a": {"p1", "p2"}}, ["b"]),
        ({"a": {"p1"}, "b": {"p1", "p2"}}, ["a"]),  # a partial system is audited again
        ({"a": {"p1", "p2", "attested:x"}, "b": {"p2", "p1"}}, []),
        ({"c": {"p1", "p2"}}, ["a", "b"]),  # another system's findings do not count
    ],
)
def test_the_systems_left_are_those_missing_a_probe(
    found: dict[str, set[str]], left: list[str]
) -> None:
    systems = [replace(SYSTEM, id="a"), replace(SYSTEM, id="b")]
    methodology = replace(METHODOLOGY, probes=(_probe("p1"), _probe("p2")))
    frozen = {k: frozenset(v) for k, v in found.items()}
    assert [s.id for s in systems_left(systems, methodology, frozen)] == left


def test_resumed_at_is_read_back_as_the_run_was_stored(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.db") as store:
        run_id = start(store)
        assert store.run_info(run_id).resumed_at == ()
        store.db.execute("UPDATE runs SET resumed_at = ? WHERE id = ?", [json.dumps(["t"]), run_id])
        assert store.run_info(run_id).resumed_at == ("t",)
        store.db.execute("UPDATE runs SET resumed_at = '{}' WHERE id = ?", [run_id])
        with pytest.raises(StoreError, match=r"runs\.resumed_at of run 1"):
            store.run_info(run_id)
