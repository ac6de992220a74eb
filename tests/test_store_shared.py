"""A database edited or shared by others: hand edits are named, parallel opens all succeed.

The database is meant to be browsed (and so may be edited) with Datasette or sqlite3. A
cell api-audit would not have written is reported in one line naming table, column and
row (a StoreError, exit 2), never an internal error. Several processes opening the same
new database at once all succeed, and the schema is applied once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database

from api_audit.cli import main
from api_audit.errors import StoreError
from api_audit.models import (
    Attestation,
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    GradeBand,
    Hop,
    Methodology,
    Reply,
    Rubric,
    System,
    Vendor,
)
from api_audit.store import MIGRATIONS, Store

SYSTEM = System(
    id="idox-uniform",
    name="Idox Uniform",
    vendor_id="idox",
    vendor_name="Idox",
    service_areas=("planning",),
    endpoints={"docs": "https://docs.example/uniform"},
    attestations=(
        Attestation("api_access_fee", True, "https://s.example/fees", dt.date(2026, 6, 1)),
    ),
    replies=(Reply(dt.date(2026, 7, 1), "We disagree.", "api_access_fee"),),
)
CATALOGUE = Catalogue(1, (Vendor("idox", "Idox", (SYSTEM,)),), "vendors.yaml", "cat-sha")
METHODOLOGY = Methodology(
    probes=(),
    rubric=Rubric(
        methodology_version="2025.1",
        criterion_weights={"documented": 1.0, "free": 1.0, "standards": 1.0},
        grade_bands=(GradeBand("A", 8.0), GradeBand("E", 0.0)),
        coverage_floor=0.5,
    ),
    sha256="meth-sha",
)
URL = "https://docs.example/uniform"
EXCHANGE = Exchange(
    request=FetchRequest(url=URL, accept="text/html"),
    final_url=URL + "/",
    status=200,
    headers=(("content-type", "text/html"),),
    body=b"<h1>docs</h1>",
    redirects=(Hop(301, URL, URL + "/"),),
    elapsed_ms=12.5,
    started_at="2026-01-01T00:00:01+00:00",
)
FINDING = Finding(
    "idox-uniform", "docs-public", "documented", 2.0, "pass", "docs are public", (), True
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database holding one run with a system, a finding and an exchange."""
    path = tmp_path / "audit.db"
    with Store.open(path) as store:
        run = store.start_run(
            catalogue=CATALOGUE, methodology=METHODOLOGY, tool_version="0.1.0", options={}
        )
        store.save_systems(run.id, [SYSTEM])
        store.add_finding(run.id, FINDING)
        store.add_exchange(run.id, EXCHANGE)
        store.finish_run(run.id)
    return path


def edit(path: Path, sql: str) -> None:
    """What someone with sqlite3 (or Datasette's write plugin) might do."""
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    conn.close()


def _findings_by_system(store: Store) -> object:
    return list(store.findings_by_system(1))


READERS: dict[str, Callable[[Store], object]] = {
    "runs": lambda store: store.run_info(1),
    "systems": lambda store: store.systems(1),
    "findings": lambda store: store.findings(1),
    "findings by system": _findings_by_system,
    "exchanges": lambda store: store.exchanges(1),
}
SYSTEM_ROW = "run 1, system 'idox-uniform'"
FINDING_ROW = "run 1, system 'idox-uniform', probe 'docs-public'"

EDITS = {
    # case: (table, SET clause, reader, "table.column of row ...")
    "options not JSON": (
        "runs",
        "options = 'not json'",
        "runs",
        "runs.options of run 1 is not valid JSON (Expecting value: line 1 column 1 (char 0))",
    ),
    "options a list": (
        "runs",
        "options = '[1, 2]'",
        "runs",
        "runs.options of run 1 should be a JSON object, not a list",
    ),
    "tool version a blob": (
        "runs",
        "tool_version = x'00ff'",
        "runs",
        "runs.tool_version of run 1 should be text, not a blob of 2 bytes",
    ),
    "endpoints cut short": (
        "systems",
        'endpoints = \'{"docs": "https://docs.exa\'',
        "systems",
        f"systems.endpoints of {SYSTEM_ROW} is not valid JSON (Unterminated string starting "
        "at: line 1 column 10 (char 9))",
    ),
    "endpoint a number": (
        "systems",
        "endpoints = '{\"docs\": 3}'",
        "systems",
        f"systems.endpoints of {SYSTEM_ROW} should be a JSON object whose values are strings",
    ),
    "service areas a string": (
        "systems",
        "service_areas = '\"planning\"'",
        "systems",
        f"systems.service_areas of {SYSTEM_ROW} should be a JSON list of strings, not text "
        "('planning')",
    ),
    "attestation without a date": (
        "systems",
        'attestations = \'[{"claim": "api_access_fee", "value": true, '
        '"source": "https://s.example", "seen": "June"}]\'',
        "systems",
        f"systems.attestations of {SYSTEM_ROW} entry 1: 'seen' should be a date, YYYY-MM-DD",
    ),
    "attestation value a list": (
        "systems",
        'attestations = \'[{"claim": "x", "value": [], "source": "s", "seen": "2026-01-01"}]\'',
        "systems",
        f"systems.attestations of {SYSTEM_ROW} entry 1: 'value' should be true, false or text",
    ),
    "reply without text": (
        "systems",
        'replies = \'[{"date": "2026-07-01"}]\'',
        "systems",
        f"systems.replies of {SYSTEM_ROW} entry 1: 'text' is missing",
    ),
    "replies an object": (
        "systems",
        "replies = '{}'",
        "systems",
        f"systems.replies of {SYSTEM_ROW} should be a JSON list of objects, not an object",
    ),
    "name a blob": (
        "systems",
        "name = x'00'",
        "systems",
        f"systems.name of {SYSTEM_ROW} should be text, not a blob of 1 bytes",
    ),
    "evidence not JSON": (
        "findings",
        "evidence = 'GET https://x'",
        "findings",
        f"findings.evidence of {FINDING_ROW} is not valid JSON (Expecting value: line 1 "
        "column 1 (char 0))",
    ),
    "evidence an object": (
        "findings",
        "evidence = '{\"a\": 1}'",
        "findings by system",
        f"findings.evidence of {FINDING_ROW} should be a JSON list of strings, not an object",
    ),
    "weight a word": (
        "findings",
        "weight = 'heavy'",
        "findings",
        f"findings.weight of {FINDING_ROW} should be a number, not text ('heavy')",
    ),
    "criterion unknown": (
        "findings",
        "criterion = 'bogus'",
        "findings by system",
        f"findings.criterion of {FINDING_ROW} is text ('bogus'), not one of documented, "
        "free, standards, hygiene",
    ),
    "headers not pairs": (
        "exchanges",
        "headers = '[[\"content-type\"]]'",
        "exchanges",
        "exchanges.headers of exchange 1 should be a JSON list of [name, value] pairs of strings",
    ),
    "headers not JSON": (
        "exchanges",
        "headers = 'content-type: text/html'",
        "exchanges",
        "exchanges.headers of exchange 1 is not valid JSON (Expecting value: line 1 column 1 "
        "(char 0))",
    ),
    "redirect status a string": (
        "exchanges",
        'redirects = \'[{"status": "301", "url": "u", "location": "l"}]\'',
        "exchanges",
        "exchanges.redirects of exchange 1 entry 1: 'status' should be a whole number, "
        "not text ('301')",
    ),
    "status a word": (
        "exchanges",
        "status = 'ok'",
        "exchanges",
        "exchanges.status of exchange 1 should be a whole number, not text ('ok')",
    ),
    "method unknown": (
        "exchanges",
        "method = 'POST'",
        "exchanges",
        "exchanges.method of exchange 1 is text ('POST'), not one of GET, HEAD",
    ),
    "error unknown": (
        "exchanges",
        "error = 'slow'",
        "exchanges",
        "exchanges.error of exchange 1 is text ('slow'), not one of timeout, deadline, connect, "
        "dns, tls, blocked_address, too_many_redirects, too_large, unsupported_encoding, "
        "protocol, bad_url, robots, host_budget, None",
    ),
    "body not zlib": (
        "bodies",
        "content = x'0102'",
        "exchanges",
        "exchanges.body_sha256 of exchange 1 names a body that is not zlib data (Error -3 "
        "while decompressing data: incorrect header check)",
    ),
}


@pytest.mark.parametrize("case", list(EDITS), ids=list(EDITS))
def test_a_hand_edited_cell_is_named_in_one_line(case: str, db_path: Path) -> None:
    table, assignment, reader, expected = EDITS[case]
    edit(db_path, f"UPDATE {table} SET {assignment}")
    with Store.open(db_path) as store, pytest.raises(StoreError) as caught:
        READERS[reader](store)
    assert str(caught.value) == (
        f"database {db_path}: {expected} (api-audit did not write that: was the database edited?)"
    )


@pytest.mark.parametrize(
    ("table", "assignment"),
    [
        ("runs", "options = '{'"),
        ("systems", "endpoints = '[]'"),
        ("findings", "evidence = 'x'"),
        ("systems", "attestations = '[{}]'"),
    ],
)
def test_the_cli_reports_an_edited_database_as_a_database_error(
    table: str, assignment: str, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scorecard", "--db", str(db_path)]) == 0  # as written, it reads back
    capsys.readouterr()
    edit(db_path, f"UPDATE {table} SET {assignment}")
    assert main(["scorecard", "--db", str(db_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    *notes, line = err.splitlines()
    assert all(note.startswith("note: ") for note in notes)  # the methodology differs
    assert line.startswith(f"api-audit: error: database {db_path}: {table}.")
    assert line.endswith("(api-audit did not write that: was the database edited?)")
    assert "internal error" not in err and "Traceback" not in err


# --- several processes, one new database ---------------------------------------------------

# Each worker imports the store, says it is ready, waits for "go" on stdin, then opens the
# database, so all of them open it within a millisecond or two of each other.
WORKER = textwrap.dedent(
    """\
    import sys
    from api_audit.store import Store
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        with Store.open(sys.argv[1]) as store:
            store.latest_run_id()
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)
    print("ok", flush=True)
    """
)
WORKERS = 8
ROUNDS = 4


def _open_together(path: Path) -> list[str]:
    """Start WORKERS processes, release them at once, and return what each said."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [proc.communicate(timeout=60)[0].strip() for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_processes_opening_a_new_database_together_all_succeed(round_: int, tmp_path: Path) -> None:
    path = tmp_path / f"shared-{round_}.db"
    said = _open_together(path)
    assert said == ["ok"] * WORKERS  # never "database is locked", "duplicate column name"
    with sqlite3.connect(path) as conn:
        applied = [name for (name,) in conn.execute("SELECT name FROM _sqlite_migrations")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    every = [m.name for m in MIGRATIONS.pending(Database(memory=True))]
    assert applied == every  # each once, in order
    assert mode == "wal"
