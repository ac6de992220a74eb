"""rejudge.py: a stored run's findings made again from its systems and exchanges, with no
network, equal the findings the run stored (what `verify` rests on)."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api_audit.cli import main
from api_audit.methodology import load_methodology
from api_audit.models import Exchange, FetchRequest
from api_audit.rejudge import judged_at, rejudge_run
from api_audit.store import Store


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("reevaluate") / "demo.db"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["demo", "--db", str(db)]) == 0
    return db


def test_a_stored_run_judged_again_gives_its_own_findings(demo_db: Path) -> None:
    with Store.open(demo_db) as store:
        run_id = store.latest_run_id()
        assert run_id is not None
        stored = store.findings(run_id)
        again = rejudge_run(store.systems(run_id), store.exchanges(run_id), load_methodology())
    key = lambda f: (f.system_id, f.probe_id)  # noqa: E731
    assert sorted(again, key=key) == sorted(stored, key=key)


def _exchange(url: str, started_at: str = "") -> Exchange:
    return Exchange(FetchRequest(url), final_url=url, status=200, started_at=started_at)


@pytest.mark.parametrize(
    ("starts", "expected"),
    [
        (["2027-01-02T10:00:00+00:00", "2027-01-02T10:00:05+00:00"], "2027-01-02T10:00:05+00:00"),
        (["2027-01-02T10:00:00", ""], "2027-01-02T10:00:00+00:00"),  # naive: read as UTC
        (["not a time", ""], "1970-01-01T00:00:00+00:00"),
        ([], "1970-01-01T00:00:00+00:00"),
    ],
)
def test_a_system_is_judged_at_its_newest_exchange(starts: list[str], expected: str) -> None:
    exchanges = {
        f"GET https://h.example/{i} accept=*/*": _exchange(f"https://h.example/{i}", start)
        for i, start in enumerate(starts)
    }
    requests = [FetchRequest(f"https://h.example/{i}") for i in range(len(starts) + 1)]
    assert judged_at(requests, exchanges) == datetime.fromisoformat(expected).astimezone(UTC)
