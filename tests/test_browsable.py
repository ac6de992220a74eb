"""The database opens in Datasette without setup (issue 12 item 6), checked without Datasette:
foreign keys declared and clean after a run, and views that select without error and agree
with the tables they summarise; an 0006 database upgrades to them with its data kept."""

from __future__ import annotations

import contextlib
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from api_audit.cli import main
from api_audit.store import MIGRATIONS, Store

VIEWS = ("run_summary", "latest_findings", "latest_outcomes", "finding_evidence")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("browse") / "demo.db"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["demo", "--db", str(db)]) == 0
    return db


def _connect(path: Path) -> contextlib.closing[sqlite3.Connection]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return contextlib.closing(conn)


def test_foreign_keys_are_declared_and_clean_after_a_run(demo_db: Path) -> None:
    with _connect(demo_db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        links = {
            (table, row["from"], row["table"])
            for table in ("systems", "findings", "exchanges")
            for row in conn.execute(f"PRAGMA foreign_key_list({table})")
        }
    assert links == {
        ("systems", "run_id", "runs"),
        ("findings", "run_id", "runs"),
        ("exchanges", "run_id", "runs"),
        ("exchanges", "body_sha256", "bodies"),
    }


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_exists_and_selects(demo_db: Path, view: str) -> None:
    with _connect(demo_db) as conn:
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master").fetchall())
        assert kinds[view] == "view"
        rows = conn.execute(f"SELECT * FROM {view}").fetchall()
    assert rows


def test_run_summary_counts_what_the_tables_hold(demo_db: Path) -> None:
    with _connect(demo_db) as conn:
        (summary,) = conn.execute("SELECT * FROM run_summary").fetchall()
        for table in ("systems", "findings", "exchanges"):
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert summary[table] == count
        outcomes = dict(conn.execute("SELECT outcome, count(*) FROM findings GROUP BY outcome"))
    assert {o: summary[o] for o in outcomes} == outcomes
    assert summary["status"] == "complete"


def test_finding_evidence_joins_each_key_to_its_exchange(demo_db: Path) -> None:
    with Store.open(demo_db) as store:
        run_id = store.latest_run_id()
        assert run_id is not None
        expected = set()
        for finding in store.findings(run_id):
            for key, ref in store.evidence(run_id, finding.evidence).items():
                expected.add((finding.system_id, finding.probe_id, key, ref.url, ref.sha256))
        rows = store.db.execute(
            "SELECT v.system_id, v.probe_id, e.request_key, v.url, v.body_sha256"
            " FROM finding_evidence v JOIN exchanges e ON e.id = v.exchange_id"
        ).fetchall()
    assert expected
    assert set(rows) == expected


@pytest.mark.parametrize("newer_status", ["interrupted", "running", "complete"])
def test_latest_views_read_the_newest_complete_run(
    demo_db: Path, tmp_path: Path, newer_status: str
) -> None:
    db = tmp_path / "two.db"
    shutil.copy(demo_db, db)
    with _connect(db) as conn:
        conn.execute(
            "INSERT INTO runs (started_at, status, tool_version, rubric_version,"
            " methodology_sha256, catalogue_sha256, catalogue_source)"
            " SELECT started_at, ?, tool_version, rubric_version, methodology_sha256,"
            " catalogue_sha256, catalogue_source FROM runs WHERE id = 1",
            [newer_status],
        )
        conn.execute(
            "INSERT INTO systems SELECT 2, system_id, vendor_id, vendor_name, name,"
            " service_areas, endpoints, council, protocols, standards, attestations,"
            " replies, research FROM systems WHERE run_id = 1"
        )
        conn.execute(
            "INSERT INTO findings (run_id, system_id, probe_id, criterion, weight, outcome)"
            " SELECT 2, system_id, 'only-in-run-2', 'documented', 1, 'fail'"
            " FROM systems WHERE run_id = 1"
        )
        conn.commit()
        expected_run = 2 if newer_status == "complete" else 1
        for view in ("latest_findings", "latest_outcomes"):
            runs = {r[0] for r in conn.execute(f"SELECT run_id FROM {view}")}
            assert runs == {expected_run}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_database_at_0006_upgrades_to_the_views_keeping_its_data(
    demo_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="0008_browsing_views")
    assert "run_summary" not in db.view_names()
    with _connect(demo_db) as source:
        for table in ("runs", "systems", "bodies", "exchanges", "findings"):
            rows = source.execute(f"SELECT * FROM {table}").fetchall()
            marks = ", ".join("?" for _ in rows[0])
            db.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        assert set(VIEWS) <= set(store.db.view_names())
        (summary,) = store.db.query("SELECT * FROM run_summary")
        assert store.findings(1) and summary["findings"] == len(store.findings(1))
        assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
