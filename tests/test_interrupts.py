"""SIGINT and SIGTERM stop a run cleanly, and unfinished runs say so (issue 9, item 4).

A real `api-audit run` process audits three quick suppliers and one that never answers;
once the quick ones are done it gets a signal. It must write what it gathered, mark the
run interrupted, say so on stderr and exit 128 + the signal number. `scorecard` then shows
the unreached system as "not audited", and `renewals` takes its grades from the newest
*complete* run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import LoopbackSite

from api_audit.cli import main
from api_audit.errors import Interrupted
from api_audit.signals import STOP_SIGNALS, stop_signals_deferred, stop_signals_raise

DOCS = (200, {"Content-Type": "text/html"}, b"<html><title>API docs</title><h1>API</h1></html>")


@pytest.fixture
def market() -> Iterator[tuple[list[LoopbackSite], LoopbackSite]]:
    """Three suppliers that answer at once, and one whose every answer waits forever."""
    release = threading.Event()

    def never(path: str) -> tuple[int, dict[str, str], bytes]:
        release.wait(60)
        return DOCS

    quick = [LoopbackSite(f"127.0.0.{n}", respond=lambda path: DOCS) for n in (21, 22, 23)]
    stuck = LoopbackSite("127.0.0.24", respond=never)
    yield quick, stuck
    release.set()
    for site in (*quick, stuck):
        site.close()


def _catalogue(folder: Path, quick: list[LoopbackSite], stuck: LoopbackSite) -> Path:
    systems = [(f"quick-{i}", site) for i, site in enumerate(quick)] + [("stuck", stuck)]
    vendors = "".join(
        f"  - id: v-{name}\n    name: Vendor {name}\n    systems:\n"
        f"      - id: {name}\n        name: System {name}\n        service_areas: [waste]\n"
        f"        endpoints: {{docs: '{site.origin}/docs'}}\n"
        f"        instances:\n          - council: E09000012\n"
        f"            contract_end: {(dt.date.today() + dt.timedelta(days=100)).isoformat()}\n"
        for name, site in systems
    )
    path = folder / "vendors.yaml"
    path.write_text(f"schema_version: 1\nvendors:\n{vendors}", "utf-8")
    return path


def _wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _quiet_since(sites: list[LoopbackSite], seconds: float) -> bool:
    last = max((t for site in sites for times in site.times.values() for t in times), default=0)
    return last > 0 and time.monotonic() - last > seconds


def _run_until_signalled(
    tmp_path: Path, quick: list[LoopbackSite], stuck: LoopbackSite, signum: int
) -> tuple[subprocess.CompletedProcess[str], Path]:
    catalogue, db = _catalogue(tmp_path, quick, stuck), tmp_path / "audit.db"
    argv = [sys.executable, "-m", "api_audit", "run", "-c", str(catalogue), "--db", str(db),
            "--allow-private", "--min-interval", "0", "--deadline", "120"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        _wait_for(lambda: stuck.hits and _quiet_since(quick, 1.5))
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(argv, process.returncode, out, err), db


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_keeps_what_was_gathered_and_marks_the_run(
    tmp_path: Path,
    market: tuple[list[LoopbackSite], LoopbackSite],
    signum: int,
    code: int,
) -> None:
    quick, stuck = market
    done, db = _run_until_signalled(tmp_path, quick, stuck, signum)
    assert done.returncode == code, done.stderr
    name = signal.Signals(signum).name
    assert f"api-audit: interrupted; stored results are kept ({name}; run 1 marked" in done.stderr
    assert "Traceback" not in done.stderr
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT status, finished_at IS NOT NULL FROM runs").fetchall() == [
            ("interrupted", 1)
        ]
        audited = {r[0] for r in conn.execute("SELECT DISTINCT system_id FROM findings")}
    assert audited == {"quick-0", "quick-1", "quick-2"}  # buffered findings were written


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_an_interrupted_run_says_so_and_shows_unreached_systems_as_not_audited(
    tmp_path: Path, market: tuple[list[LoopbackSite], LoopbackSite]
) -> None:
    quick, stuck = market
    _, db = _run_until_signalled(tmp_path, quick, stuck, signal.SIGTERM)
    code, out, _ = _cli("scorecard", "--db", str(db), "-f", "table")
    assert code == 0
    assert out.startswith(
        "Run 1 was interrupted: 3 of 4 systems were audited; the other one was never reached "
        "and is listed as 'not audited', not as unreachable."
    )
    assert "run 1 (interrupted)" in out
    (stuck_line,) = [line for line in out.splitlines() if "System stuck" in line]
    assert "not audited" in stuck_line
    assert "L0" not in stuck_line
    assert "%" not in stuck_line  # no coverage, as if it had been measured at 0%

    code, out, _ = _cli("scorecard", "--db", str(db), "-f", "json")
    document = json.loads(out)
    assert document["run"]["status"] == "interrupted"
    by_system = {row["system"]: row for row in document["systems"]}
    assert by_system["stuck"]["audited"] is False
    assert all(by_system[f"quick-{i}"]["audited"] for i in range(3))
    assert document["systems"][-1]["system"] == "stuck"  # never-audited systems come last


def test_renewals_take_grades_from_the_newest_complete_run(
    tmp_path: Path, market: tuple[list[LoopbackSite], LoopbackSite]
) -> None:
    quick, stuck = market
    catalogue = _catalogue(tmp_path, quick, stuck)
    db = tmp_path / "audit.db"
    # run 1 completes (the stuck supplier refuses connections by then: inconclusive)
    stuck.close()
    assert _cli("run", "-c", str(catalogue), "--db", str(db), "--allow-private",
                "--min-interval", "0", "--deadline", "2")[0] == 0  # fmt: skip
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:  # run 2: begun, never ended
        conn.execute(
            "INSERT INTO runs (started_at, status, tool_version, rubric_version,"
            " methodology_sha256, catalogue_sha256, catalogue_source)"
            " SELECT started_at, 'running', tool_version, rubric_version, methodology_sha256,"
            " catalogue_sha256, catalogue_source FROM runs WHERE id = 1"
        )
    code, out, _ = _cli("renewals", "-c", str(catalogue), "--db", str(db), "-f", "json")
    rows = json.loads(out)["renewals"]
    assert code == 0
    assert {row["system"] for row in rows if row["grade"]} >= {"quick-0", "quick-1"}
    code, out, _ = _cli("renewals", "-c", str(catalogue), "--db", str(db))
    assert "grades from run 1, the newest complete run (run 2 is running and is not used)" in (
        " ".join(out.split())
    )


# --- the handlers themselves -------------------------------------------------------------


def _signalled_inside(context: contextlib.AbstractContextManager[None], signum: int) -> str:
    """Send ourselves `signum` inside `context`, then finish the work there."""
    with context:
        os.kill(os.getpid(), signum)
        time.sleep(0.2)  # the handler runs here: raising at once, or noting the signal
        return "finished"
    return "not reached"  # only when the context swallows an exception


def test_a_signal_during_the_last_write_waits_for_it_then_raises() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as caught:
        _signalled_inside(stop_signals_deferred(), signal.SIGTERM)
    assert caught.value.signum == signal.SIGTERM
    assert caught.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_during_the_last_write_of_a_failed_run_is_only_noted() -> None:
    assert _signalled_inside(stop_signals_deferred(raise_after=False), signal.SIGINT) == (
        "finished"
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_around_a_command_a_signal_raises_interrupted_and_handlers_come_back(
    signum: int, code: int
) -> None:
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    with pytest.raises(Interrupted) as caught:
        _signalled_inside(stop_signals_raise(), signum)
    assert caught.value.exit_code == code
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before
