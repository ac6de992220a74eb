"""The two procurement APIs (issue 13) against loopback servers: paging by links.next,
Retry-After, a 503, a malformed page, and a stopped or killed import resumed from its place."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from loopback import LoopbackSite, Route

from api_audit.cli import main
from api_audit.net import FetchOptions, HttpEngine
from api_audit.sources.procurement_apis import (
    SERVICES,
    ApiImport,
    ImportRequest,
    import_fetch_options,
    import_pages,
)
from api_audit.store import Store

PAGES = 4
PER_PAGE = 3


def release(page: int, n: int, cpv: str = "72267000") -> dict[str, Any]:
    return {
        "ocid": f"ocds-h6vhtk-{page:02d}{n:02d}",
        "id": f"ocds-h6vhtk-{page:02d}{n:02d}-1",
        "date": "2025-03-01T00:00:00Z",
        "buyer": {"name": "Hackney Council"},
        "tender": {"classification": {"scheme": "CPV", "id": cpv}},
        "awards": [{"suppliers": [{"name": "Idox Software Ltd"}]}],
    }


def page_body(page: int, *, absolute: str | None = None) -> bytes:
    releases = [release(page, n) for n in range(PER_PAGE - 1)] + [release(page, 99, "90511000")]
    package: dict[str, Any] = {"uri": "u", "version": "1.1", "releases": releases}
    if page < PAGES:
        path = f"/api/1.0/ocdsReleasePackages?cursor=c{page + 1}&limit=100"
        package["links"] = {"next": (absolute or "") + path}
    return json.dumps(package).encode()


JSON = {"Content-Type": "application/json"}


class Service:
    """A Find a Tender stand-in: page N at cursor cN; `trouble` answers chosen pages."""

    def __init__(self) -> None:
        self.trouble: dict[int, list[Route]] = {}
        self.asked: list[int] = []
        self.hold: int | None = None  # a page answered only after 30 s, once
        self.held = threading.Event()
        self.site = LoopbackSite(respond=self.respond)

    def respond(self, path: str) -> Route:
        parts = urlsplit(path)
        if parts.path == "/robots.txt":
            return (404, {}, b"")
        cursor = parse_qs(parts.query).get("cursor", ["c1"])[0]
        page = int(cursor.removeprefix("c"))
        self.asked.append(page)
        if page == self.hold and not self.held.is_set():
            self.held.set()
            time.sleep(30)  # the import is killed while it waits
        queued = self.trouble.get(page)
        if queued:
            return queued.pop(0)
        return (200, JSON, page_body(page))


@pytest.fixture
def service() -> Iterator[Service]:
    running = Service()
    yield running
    running.site.close()


def run_import(service: Service, store: Store, **fields: Any) -> ApiImport:
    asked = ImportRequest(
        service=SERVICES["find-a-tender"],
        base_url=service.site.origin,
        since="2025-01-01",
        **fields,
    )
    options = import_fetch_options(FetchOptions(allow_private=True))

    async def go() -> ApiImport:
        async with HttpEngine(options) as engine:
            return await import_pages(asked, store, engine)

    return asyncio.run(go())


def test_pages_are_followed_to_the_end_and_it_contracts_stored(service: Service) -> None:
    with Store.open(":memory:") as store:
        result = run_import(service, store)
        ocids = sorted(c.ocid for c in store.contracts())
        cursor = store.import_cursor("find-a-tender", "2025-01-01")
    assert (result.finished, result.pages, result.stopped) == (True, PAGES, None)
    assert service.asked == [1, 2, 3, 4]
    assert len(ocids) == PAGES * (PER_PAGE - 1)
    assert (result.summary.read, result.summary.not_it) == (PAGES * PER_PAGE, PAGES)
    assert cursor is not None and cursor.finished and cursor.pages == PAGES


def test_the_first_page_asks_for_the_documented_parameters(service: Service) -> None:
    with Store.open(":memory:") as store:
        run_import(service, store, until="2025-06-30")
    first = next(p for p in service.site.paths if p.startswith("/api/1.0/ocdsReleasePackages"))
    query = parse_qs(urlsplit(first).query)
    assert query == {
        "updatedFrom": ["2025-01-01T00:00:00"],
        "updatedTo": ["2025-06-30T23:59:59"],
        "stages": ["planning,tender,award"],
        "limit": ["100"],
    }


@pytest.mark.parametrize("absolute", [False, True])
def test_links_next_may_be_absolute_or_a_path(service: Service, absolute: bool) -> None:
    origin = service.site.origin if absolute else None
    service.trouble = {p: [(200, JSON, page_body(p, absolute=origin))] for p in range(1, PAGES)}
    with Store.open(":memory:") as store:
        assert run_import(service, store).finished


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_answer_with_retry_after_is_waited_out(service: Service, status: int) -> None:
    service.trouble = {2: [(status, {"Retry-After": "1"}, b"busy")]}
    began = time.monotonic()
    with Store.open(":memory:") as store:
        result = run_import(service, store)
    assert result.finished and result.stopped is None
    assert service.asked.count(2) == 2
    assert time.monotonic() - began >= 0.9


@pytest.mark.parametrize(
    ("route", "says", "malformed"),
    [
        ((503, {}, b"down"), "HTTP 503", False),
        ((500, JSON, b"{}"), "HTTP 500", False),
        ((200, JSON, b"<html>maintenance</html>"), "not usable JSON", True),
        ((200, JSON, b'{"releases": [1, 2'), "not usable JSON", True),
        ((200, JSON, b'{"message": "no"}'), "not an OCDS release or record package", True),
        ((200, JSON, b"[" * 10_000 + b"]" * 10_000), "not usable JSON", True),
        (
            (200, JSON, b'{"releases": [], "links": {"next": "https://elsewhere.example/p"}}'),
            "links.next leaves the service",
            True,
        ),
    ],
)
def test_a_failed_page_stops_the_import_keeping_its_place(
    service: Service, route: Route, says: str, malformed: bool
) -> None:
    service.trouble = {3: [route]}
    with Store.open(":memory:") as store:
        stopped = run_import(service, store)
        assert stopped.stopped is not None and says in stopped.stopped
        assert (stopped.finished, stopped.pages) == (False, 2)
        assert stopped.summary.broken == (1 if malformed else 0)
        assert len(list(store.contracts())) == 2 * (PER_PAGE - 1)
        service.asked.clear()
        resumed = run_import(service, store)
        assert len(list(store.contracts())) == PAGES * (PER_PAGE - 1)
    assert service.asked == [3, 4]
    assert (resumed.resumed_at_page, resumed.finished, resumed.pages) == (3, True, 2)


def test_a_finished_import_starts_again_and_restart_ignores_a_kept_place(
    service: Service,
) -> None:
    with Store.open(":memory:") as store:
        run_import(service, store)
        service.asked.clear()
        again = run_import(service, store)
        assert service.asked == [1, 2, 3, 4] and again.summary.written == 0
        service.trouble = {2: [(503, {}, b"")]}
        run_import(service, store)
        service.asked.clear()
        run_import(service, store, restart=True)
    assert service.asked == [1, 2, 3, 4]


def test_a_page_linking_to_itself_stops(service: Service) -> None:
    loop = json.dumps({"releases": [], "links": {"next": "/api/1.0/ocdsReleasePackages?cursor=c1"}})
    service.trouble = {1: [(200, JSON, loop.encode())] * 2}
    with Store.open(":memory:") as store:
        result = run_import(service, store)
    assert result.stopped == "stopped: a page repeats"


def test_the_command_prints_the_summary_and_exits_2_when_stopped(
    service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "c.db")
    args = ["import", "find-a-tender", "--since", "2025-01-01", "--db", db, "--base-url",
            service.site.origin, "--allow-private", "--min-interval", "0"]  # fmt: skip
    service.trouble = {2: [(503, {}, b"down")]}
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("1 page(s) read (not finished): 3 releases read, 2 IT")
    assert captured.err.count("\n") == 1
    assert "Find a Tender: HTTP 503; 1 page(s) stored this time are kept" in captured.err
    assert main([*args, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["finished"], record["resumed_at_page"], record["pages"]) == (True, 2, 3)


def test_the_base_url_comes_from_the_environment(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_AUDIT_CONTRACTS_FINDER_URL", service.site.origin)
    db = str(tmp_path / "c.db")
    args = ["import", "contracts-finder", "--since", "2025-01-01", "--db", db, "--allow-private",
            "--min-interval", "0"]  # fmt: skip
    service.trouble = {1: [(200, JSON, page_body(4))]}
    assert main(args) == 0
    assert any(
        p.startswith("/Published/Notices/OCDS/Search?publishedFrom=") for p in service.site.paths
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "yesterday"], "is not a date"),
        (["--since", "2025-01-01", "--base-url", "ftp://x"], "is not an http(s) URL"),
        ([], "Missing option '--since'"),
    ],
)
def test_bad_options_exit_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    assert main(["import", "find-a-tender", "--db", str(tmp_path / "c.db"), *args]) == 2
    assert says in capsys.readouterr().err


def test_the_engine_refuses_loopback_without_allow_private(
    service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", "find-a-tender", "--since", "2025-01-01", "--db", str(tmp_path / "c.db"),
            "--base-url", service.site.origin]  # fmt: skip
    assert main(args) == 2
    assert service.asked == []
    assert "blocked" in capsys.readouterr().err


def test_a_killed_import_continues_from_its_cursor(service: Service, tmp_path: Path) -> None:
    """SIGKILL while page 3 is being served; the next run starts at page 3."""
    service.hold = 3
    db = str(tmp_path / "c.db")
    args = [sys.executable, "-m", "api_audit", "import", "find-a-tender", "--since",
            "2025-01-01", "--db", db, "--base-url", service.site.origin, "--allow-private",
            "--min-interval", "0"]  # fmt: skip
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert service.held.wait(60)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    with Store.open(db) as store:
        cursor = store.import_cursor("find-a-tender", "2025-01-01")
        assert cursor is not None and cursor.pages == 2 and not cursor.finished
        assert len(list(store.contracts())) == 2 * (PER_PAGE - 1)
    service.asked.clear()
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "resumed at page 3" in done.stdout
    assert service.asked == [3, 4]
