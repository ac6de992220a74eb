"""Interrupted runs lose nothing, and `run --resume` finishes them (issue 12, item 4).

A real `api-audit run` process audits a slow loopback market: suppliers that answer after a
delay, and one that answers at once but leaves its spec hanging until the test lets it go.
Midway (findings and some of the hanging supplier's exchanges stored) it is stopped:
SIGKILL, SIGINT or SIGTERM. `run --resume` then finishes the same run: the same findings as
an uninterrupted run of the same market, no duplicates, a sound database, and no stored
exchange fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from loopback import LoopbackSite, Route

from api_audit.cli import main
from api_audit.store import Store

PROBES = Path(__file__).parent.parent / "probes"

DOCS_HTML = (
    b"<html><head><title>Developer API documentation</title></head><body><main>"
    b"<h1>API reference</h1><p>Our REST API is free to use. Read the "
    b'<a href="/openapi.json">OpenAPI specification</a>.</p></main></body></html>'
)
SPEC = json.dumps(
    {
        "openapi": "3.0.3",
        "info": {"title": "Collections API", "version": "1.0.0"},
        "paths": {"/v1/rounds": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
).encode()


def _answer(path: str) -> Route:
    if path.startswith("/docs"):
        return (200, {"Content-Type": "text/html; charset=utf-8"}, DOCS_HTML)
    if path.startswith("/openapi.json"):
        return (200, {"Content-Type": "application/json"}, SPEC)
    return (404, {"Content-Type": "text/plain"}, b"not here")


@dataclass
class Market:
    """Slow suppliers (each request answered after a delay), and one whose spec hangs."""

    slow: list[LoopbackSite]
    hanging: LoopbackSite
    release: threading.Event

    @property
    def sites(self) -> list[LoopbackSite]:
        return [*self.slow, self.hanging]

    def hits(self) -> dict[tuple[str, str], int]:
        """(host:port, path) -> requests so far."""
        return {
            (urlsplit(site.origin).netloc, path): count
            for site in self.sites
            for path, count in site.hits.items()
        }


@pytest.fixture
def market() -> Iterator[Market]:
    release = threading.Event()

    def slow(delay: float):  # type: ignore[no-untyped-def]
        def respond(path: str) -> Route:
            time.sleep(delay)
            return _answer(path)

        return respond

    def hanging(path: str) -> Route:
        if path.startswith("/openapi.json"):  # the spec: its probes wait, the others answer
            release.wait(60)
        return _answer(path)

    sites = [LoopbackSite(f"127.0.0.{40 + n}", respond=slow(0.1 * n)) for n in range(1, 7)]
    stuck = LoopbackSite("127.0.0.49", respond=hanging)
    yield Market(sites, stuck, release)
    release.set()
    for site in (*sites, stuck):
        site.close()


def _catalogue(folder: Path, market: Market) -> Path:
    named = [(f"slow-{i}", site) for i, site in enumerate(market.slow)]
    named.append(("hanging", market.hanging))
    vendors = "".join(
        f"  - id: v-{name}\n    name: Vendor {name}\n    systems:\n"
        f"      - id: {name}\n        name: System {name}\n        service_areas: [waste]\n"
        f"        endpoints:\n"
        f"          docs: '{site.origin}/docs'\n"
        f"          spec: '{site.origin}/openapi.json'\n"
        f"          api_base: '{site.origin}/v1'\n"
        for name, site in named
    )
    path = folder / "vendors.yaml"
    path.write_text(f"schema_version: 1\nvendors:\n{vendors}", "utf-8")
    return path


RUN_FLAGS = ("--allow-private", "--min-interval", "0", "--deadline", "120", "--per-host", "4")


def _start(catalogue: Path, db: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "api_audit", "run", "-c", str(catalogue), "--db", str(db),
            *RUN_FLAGS]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not made yet
            return []


def _midway(db: Path, market: Market) -> bool:
    """Some systems' findings stored, and some of the hanging supplier's exchanges."""
    audited = _query(db, "SELECT count(DISTINCT system_id) FROM findings")
    hanging = _query(
        db, f"SELECT count(*) FROM exchanges WHERE url LIKE '{market.hanging.origin}/%'"
    )
    return bool(audited and audited[0][0] >= 1 and hanging and hanging[0][0] >= 1)


def _wait_for(condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _stop_midway(catalogue: Path, db: Path, market: Market, signum: int) -> int:
    process = _start(catalogue, db)
    try:
        _wait_for(lambda: _midway(db, market))
        process.send_signal(signum)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


_TOKEN = re.compile(r"__api_audit_[0-9a-f]+")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?")


def _findings(db: Path, run_id: int) -> list[tuple[object, ...]]:
    """(system, probe, outcome, message, excerpt): the baseline token and times normalised."""
    rows = _query(
        db,
        "SELECT system_id, probe_id, outcome, message, excerpt FROM findings"
        f" WHERE run_id = {run_id} ORDER BY system_id, probe_id",
    )
    return [
        tuple(
            _STAMP.sub("<time>", _TOKEN.sub("<token>", v)) if isinstance(v, str) else v for v in row
        )
        for row in rows
    ]


def _stored_exchanges(db: Path) -> dict[str, tuple[object, ...]]:
    """request key -> (row id, url, started_at) of every stored exchange."""
    rows = _query(db, "SELECT request_key, id, url, started_at FROM exchanges")
    return {str(key): rest for key, *rest in rows}


def _where(url: object) -> tuple[str, str]:
    parts = urlsplit(str(url))
    return parts.netloc, parts.path + (f"?{parts.query}" if parts.query else "")


def _paths_only_stored(
    after: dict[str, tuple[object, ...]], before: set[str]
) -> set[tuple[str, str]]:
    """(host:port, path) the server was asked for only by requests stored before the stop
    (a path can be asked with several Accept headers, each its own request)."""
    keys_by_path: dict[tuple[str, str], set[str]] = {}
    for key, (_, url, _) in after.items():
        keys_by_path.setdefault(_where(url), set()).add(key)
    return {path for path, keys in keys_by_path.items() if keys <= before}


def _assert_sound(db: Path) -> None:
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    assert _query(db, "PRAGMA foreign_key_check") == []
    duplicates = _query(
        db,
        "SELECT run_id, system_id, probe_id FROM findings"
        " GROUP BY run_id, system_id, probe_id HAVING count(*) > 1",
    )
    assert duplicates == []
    assert (
        _query(
            db,
            "SELECT run_id, request_key FROM exchanges GROUP BY run_id, request_key"
            " HAVING count(*) > 1",
        )
        == []
    )


@pytest.mark.parametrize(
    ("signum", "status", "code"),
    [
        (signal.SIGKILL, "running", -signal.SIGKILL),
        (signal.SIGINT, "interrupted", 130),
        (signal.SIGTERM, "interrupted", 143),
    ],
    ids=["SIGKILL", "SIGINT", "SIGTERM"],
)
def test_a_run_stopped_midway_is_resumed_to_what_an_uninterrupted_run_finds(
    tmp_path: Path, market: Market, signum: int, status: str, code: int
) -> None:
    catalogue, db = _catalogue(tmp_path, market), tmp_path / "audit.db"
    assert _stop_midway(catalogue, db, market, signum) == code
    # stopped: a sound database, the run unfinished (killed: no end; caught: interrupted)
    _assert_sound(db)
    assert _query(db, "SELECT id, status, finished_at IS NULL FROM runs") == [
        (1, status, status == "running")
    ]
    stored_before = _stored_exchanges(db)
    hanging_host = urlsplit(market.hanging.origin).netloc
    assert any(_where(url)[0] == hanging_host for _, url, _ in stored_before.values())
    audited_before = {r[0] for r in _query(db, "SELECT DISTINCT system_id FROM findings")}
    assert "hanging" not in audited_before

    market.release.set()
    hits_before = market.hits()
    code, out, err = _cli("run", "--resume", "--db", str(db), "-f", "json")
    assert code == 0, err
    how = "interrupted" if status == "interrupted" else "no recorded end"
    assert f"resuming run 1 ({how}" in err
    assert "Traceback" not in err
    # What was stored before the stop was not fetched again: its rows are untouched, and
    # the server was not asked again for any path only they needed.
    stored_after = _stored_exchanges(db)
    assert {key: stored_after.get(key) for key in stored_before} == stored_before
    hits_after = market.hits()
    asked_again = {
        path: hits_after[path] - hits_before[path]
        for path in _paths_only_stored(stored_after, set(stored_before))
        if hits_after[path] != hits_before[path]
    }
    assert asked_again == {}
    assert len(stored_after) > len(stored_before)  # and what was missing was fetched
    document = json.loads(out)
    assert document["run"]["id"] == 1
    assert document["run"]["status"] == "complete"
    assert document["run"]["finished_at"]
    assert all(row["audited"] for row in document["systems"])

    _assert_sound(db)
    assert _query(db, "SELECT id, status, finished_at IS NOT NULL FROM runs") == [
        (1, "complete", 1)
    ]
    (resumed,) = _query(db, "SELECT resumed_at FROM runs WHERE id = 1")
    assert len(json.loads(str(resumed[0]))) == 1

    # the same findings as one uninterrupted run of the same market
    whole = tmp_path / "whole.db"
    code, _, err = _cli("run", "-c", str(catalogue), "--db", str(whole), *RUN_FLAGS)
    assert code == 0, err
    assert _findings(db, 1) == _findings(whole, 1)
    assert len(_findings(db, 1)) > 0


# --- what is refused, in one line and exit 2 ---------------------------------------------


@pytest.fixture
def stopped(tmp_path: Path, market: Market) -> tuple[Path, Path]:
    """A catalogue and a database holding run 1, stopped by SIGTERM midway."""
    catalogue, db = _catalogue(tmp_path, market), tmp_path / "audit.db"
    assert _stop_midway(catalogue, db, market, signal.SIGTERM) == 143
    market.release.set()
    return catalogue, db


def _refused(*argv: str) -> str:
    code, out, err = _cli(*argv)
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("api-audit: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text + "\n",
        lambda text: text.replace("System slow-0", "System slow-zero"),
        lambda text: "# a comment\n" + text,
    ],
    ids=["trailing-newline", "renamed-system", "comment"],
)
def test_a_changed_catalogue_is_refused_naming_the_file_and_both_hashes(
    stopped: tuple[Path, Path], edit: object
) -> None:
    catalogue, db = stopped
    (recorded,) = _query(db, "SELECT catalogue_sha256 FROM runs")
    assert callable(edit)
    catalogue.write_text(edit(catalogue.read_text("utf-8")), "utf-8")
    now = hashlib.sha256(catalogue.read_bytes()).hexdigest()
    line = _refused("run", "--resume", "--db", str(db))
    assert f"cannot resume run 1: catalogue {catalogue} changed since it started" in line
    assert f"sha256 was {recorded[0]}, now {now}" in line
    assert _query(db, "SELECT status FROM runs") == [("interrupted",)]  # left as it was


def test_a_changed_probe_set_is_refused(stopped: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = stopped
    probes = tmp_path / "probes"
    shutil.copytree(PROBES, probes)
    (probes / "https.yaml").unlink()
    line = _refused("run", "--resume", "--db", str(db), "--probes", str(probes))
    assert "cannot resume run 1: the probe set changed since it started (methodology sha256" in (
        line
    )
    assert str(probes) in line


def test_the_catalogue_may_be_found_where_it_is_now(
    stopped: tuple[Path, Path], tmp_path: Path
) -> None:
    catalogue, db = stopped
    moved = tmp_path / "elsewhere.yaml"
    catalogue.rename(moved)
    line = _refused("run", "--resume", "--db", str(db))  # not where the run recorded it
    assert line.startswith(f"api-audit: error: cannot resume run 1: {catalogue}: cannot read")
    assert line.endswith("(if the catalogue moved, pass --catalogue FILE)")
    code, out, err = _cli("run", "--resume", "1", "-c", str(moved), "--db", str(db), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["run"]["status"] == "complete"
    line = _refused("run", "--resume", "--db", str(db))  # nothing left unfinished
    assert line == f"api-audit: error: nothing to resume: {db} holds no unfinished run"
    line = _refused("run", "--resume", "1", "--db", str(db))
    assert line == "api-audit: error: run 1 is complete; there is nothing to resume"


@pytest.mark.parametrize(
    "flags",
    [
        ("--concurrency", "4"),
        ("--per-host", "2"),
        ("--min-interval", "0"),  # the same value: still refused, it was given
        ("--deadline", "5"),
        ("--allow-private",),
        ("--ignore-robots",),
        ("--vendor", "v-slow-0"),
        ("--system", "slow-0"),
        ("--service-area", "waste"),
        ("--council", "E09000012"),
        ("--max-host-errors", "1"),
        ("--host-wait-budget", "1"),
    ],
)
def test_run_options_with_resume_are_refused(tmp_path: Path, flags: tuple[str]) -> None:
    db = tmp_path / "audit.db"  # refused before the database is looked at
    line = _refused("run", "--resume", "--db", str(db), *flags)
    assert line == (
        "api-audit: error: --resume continues a run with the options it was started with; "
        f"{flags[0]} cannot be given with it (start a new run to change them)"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("--resume",), "nothing to resume: {db} holds no unfinished run"),
        (("--resume", "7"), "no run 7 in {db}"),
        (("--resume", "seven"), "--resume takes one run id (a number), not 'seven'"),
        (("--resume", "1", "2"), "--resume takes one run id (a number), not '1 2'"),
        (("3",), "unexpected argument '3': a run id goes with --resume"),
    ],
)
def test_nothing_to_resume_is_one_line(tmp_path: Path, argv: tuple[str], said: str) -> None:
    db = tmp_path / "empty.db"
    with Store.open(db):
        pass
    line = _refused("run", *argv, "--db", str(db))
    assert said.format(db=db) in line


def test_resume_without_a_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    line = _refused("run", "--resume", "--db", str(db))
    assert line == f"api-audit: error: nothing to resume: no database at {db}"
    assert not db.exists()


def test_a_demo_run_cannot_be_resumed(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert _cli("demo", "--db", str(db), "-f", "json")[0] == 0
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE runs SET status = 'interrupted'")
    line = _refused("run", "--resume", "--db", str(db))
    assert "run 1 is a demo run" in line
