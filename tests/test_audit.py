"""One audit run over real loopback servers: flat memory, bounded work, shared requests, and
a host that never answers costing only a bounded share of the run."""

from __future__ import annotations

import dataclasses
import gc
import socket
import time
import tracemalloc
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from loopback import LoopbackSite, RecordingSockets, Route

from api_audit import audit as audit_module
from api_audit.audit import SYSTEMS_PER_SLOT, WINDOW_GROWTH, interleave_by_origin, run_audit
from api_audit.errors import StoreError
from api_audit.methodology import expectation, load_methodology
from api_audit.models import (
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    Methodology,
    ProbeRequest,
    RunInfo,
    System,
    Vendor,
)
from api_audit.net import FetchOptions, HttpEngine
from api_audit.store import Store

BODY = b"<html><head><title>Docs</title></head><body>" + b"d" * (1024 * 1024) + b"</body></html>"


def _docs_under_every_system(path: str) -> Route:
    """A 1 MiB docs page under every /sN/docs, 404 elsewhere."""
    if path.endswith("/docs"):
        return 200, {"Content-Type": "text/html; charset=utf-8"}, BODY
    return 404, {}, b"not found"


@pytest.fixture
def hosts() -> Iterator[list[LoopbackSite]]:
    made = [LoopbackSite(respond=_docs_under_every_system) for _ in range(3)]
    yield made
    for host in made:
        host.close()


@pytest.fixture(scope="module")
def methodology() -> Methodology:
    """Two small probes on the shipped rubric: the docs page against a random path, and
    security.txt on the API origin (shared by every system there). Kept small so these
    tests measure the run, not the matchers, whatever the shipped probes become."""
    shipped = load_methodology(None)
    template = shipped.probes[0]
    status = (expectation("status", "2xx"),)
    docs = replace(
        template,
        id="docs-page",
        request=ProbeRequest(endpoint="docs", accept="text/html", compare_random_path=True),
        expect=status,
        applies_to=type(template.applies_to)(),
    )
    security = replace(
        docs, id="security-txt-page", request=ProbeRequest(path="/.well-known/security.txt")
    )
    return replace(shipped, probes=(docs, security))


def catalogue_of(systems: list[System]) -> Catalogue:
    vendors = tuple(Vendor(id=s.vendor_id, name=s.vendor_name, systems=(s,)) for s in systems)
    return Catalogue(schema_version=1, vendors=vendors, source="test", sha256="0" * 64)


def systems_on(origins: list[str], count: int) -> list[System]:
    return [
        System(
            id=f"s{n}",
            name=f"System {n}",
            vendor_id=f"v{n}",
            vendor_name=f"Vendor {n}",
            service_areas=("waste",),
            endpoints={"docs": f"{origins[n % len(origins)]}/s{n}/docs"},
        )
        for n in range(count)
    ]


def audit(
    systems: list[System],
    methodology: Methodology,
    options: FetchOptions,
    backend: RecordingSockets | None = None,
) -> tuple[Store, int, list[System]]:
    store = Store.open(":memory:")
    done: list[System] = []
    result = run_audit(
        store,
        catalogue_of(systems),
        systems,
        methodology,
        options,
        on_system_done=lambda system, findings: done.append(system),
        socket_factory=backend,
    )
    return store, result.run.id, done


def test_memory_stays_flat_however_many_systems(
    hosts: list[LoopbackSite], methodology: Methodology
) -> None:
    count = 120  # 120 distinct 1 MiB pages: 120 MiB if the run held every body
    systems = systems_on([h.origin for h in hosts], count)
    options = FetchOptions(allow_private=True, concurrency=4)
    tracemalloc.start()
    try:
        store, run_id, done = audit(systems, methodology, options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024
    assert len(done) == count
    findings = store.findings(run_id)
    assert len(findings) == count * len(methodology.probes)
    assert sum(h.hits[f"/s{n}/docs"] for n in range(count) for h in hosts) == count
    store.close()


def test_requests_shared_by_systems_are_fetched_once(
    hosts: list[LoopbackSite], methodology: Methodology
) -> None:
    systems = systems_on([h.origin for h in hosts], 30)
    audit(systems, methodology, FetchOptions(allow_private=True))[0].close()
    for host in hosts:
        assert host.hits["/robots.txt"] == 1
        assert host.hits["/.well-known/security.txt"] == 1  # one origin, ten systems
        assert all(count == 1 for count in host.hits.values())


@dataclass
class InFlight:
    now: int = 0
    peak: int = 0


@pytest.fixture
def systems_in_flight(monkeypatch: pytest.MonkeyPatch) -> InFlight:
    """Counts the systems being audited at once (the audit's window)."""
    count = InFlight()
    original = audit_module._Audit._audit_system

    async def counted(self: Any, engine: HttpEngine, system: System, place: int) -> None:
        count.now += 1
        count.peak = max(count.peak, count.now)
        try:
            await original(self, engine, system, place)
        finally:
            count.now -= 1

    monkeypatch.setattr(audit_module._Audit, "_audit_system", counted)
    return count


def test_systems_in_flight_are_bounded_by_the_concurrency(
    hosts: list[LoopbackSite], methodology: Methodology, systems_in_flight: InFlight
) -> None:
    systems = systems_on([h.origin for h in hosts], 60)
    store, _, done = audit(systems, methodology, FetchOptions(allow_private=True, concurrency=3))
    store.close()
    window = 3 * SYSTEMS_PER_SLOT
    assert window <= systems_in_flight.peak <= window * WINDOW_GROWTH
    assert sorted(s.id for s in done) == sorted(s.id for s in systems)


def test_the_window_grows_while_hosts_wait_out_their_spacing(
    methodology: Methodology, systems_in_flight: InFlight
) -> None:
    """One system per host, spaced starts: the slots sit idle, so more systems start, up
    to the ceiling, instead of the second half waiting for the first to finish."""
    sites = [LoopbackSite(respond=_docs_under_every_system) for _ in range(20)]
    try:
        systems = systems_on([site.origin for site in sites], 20)
        options = FetchOptions(allow_private=True, concurrency=1, min_interval=0.2)
        store, _, done = audit(systems, methodology, options)
        store.close()
    finally:
        for site in sites:
            site.close()
    window = 1 * SYSTEMS_PER_SLOT
    assert window < systems_in_flight.peak <= window * WINDOW_GROWTH
    assert len(done) == 20


@pytest.fixture
def black_hole() -> Iterator[str]:
    """Accepts TCP connections (the kernel does, from the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("respect_robots", [True, False])
def test_a_host_that_never_answers_costs_a_bounded_share_of_the_run(
    hosts: list[LoopbackSite], black_hole: str, methodology: Methodology, respect_robots: bool
) -> None:
    silent = [replace(s, id=f"silent-{s.id}") for s in systems_on([black_hole], 12)]
    systems = silent + systems_on([h.origin for h in hosts], 12)
    deadline = 1.0
    backend = RecordingSockets()
    options = FetchOptions(
        allow_private=True,
        deadline=deadline,
        per_host=2,
        host_error_budget=3,
        respect_robots=respect_robots,
    )
    began = time.monotonic()
    store, run_id, done = audit(systems, methodology, options, backend)
    elapsed = time.monotonic() - began
    # The silent host's 14 requests would take 7 deadlines two at a time; the budget
    # stops it after 3 errors in a row (4 tried: two are in flight when it runs out).
    assert elapsed < deadline * 2 + 1.5
    assert len(done) == len(systems)
    port = int(black_hole.rsplit(":", 1)[1])
    assert backend.ports[port] <= 3 + 2 - 1
    by_system: dict[str, list[Finding]] = {}
    for finding in store.findings(run_id):
        by_system.setdefault(finding.system_id, []).append(finding)
    for system_id, findings in by_system.items():
        if system_id.startswith("silent-"):
            assert {f.outcome for f in findings} == {"inconclusive"}
            for finding in findings:
                said = finding.message
                assert "no complete response in time" in said or "stopped sending to" in said, said
        else:  # answered: the docs page is there, security.txt is not
            outcomes = {f.probe_id: f.outcome for f in findings}
            assert outcomes == {"docs-page": "pass", "security-txt-page": "fail"}
    store.close()


def test_a_store_error_stops_the_run_as_itself(
    hosts: list[LoopbackSite], methodology: Methodology, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Store, run_id: int, findings: Sequence[Finding]) -> None:
        raise StoreError("database is locked")

    monkeypatch.setattr(Store, "add_findings", broken)
    store = Store.open(":memory:")
    systems = systems_on([hosts[0].origin], 5)
    with pytest.raises(StoreError, match="database is locked"):
        run_audit(
            store, catalogue_of(systems), systems, methodology, FetchOptions(allow_private=True)
        )
    run_id = store.latest_run_id()
    assert run_id is not None
    assert store.run_info(run_id).status == "interrupted"
    store.close()
    assert gc.get_freeze_count() == 0  # the collector's tuning is undone on the way out


def test_the_collector_is_tuned_for_the_audit_and_restored_after(
    hosts: list[LoopbackSite], methodology: Methodology, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    during: list[tuple[tuple[int, ...], int]] = []
    original = audit_module._Audit._audit_system

    async def noted(self: Any, engine: HttpEngine, system: System, place: int) -> None:
        during.append((gc.get_threshold(), gc.get_freeze_count()))
        await original(self, engine, system, place)

    monkeypatch.setattr(audit_module._Audit, "_audit_system", noted)
    store, _, _ = audit(
        systems_on([hosts[0].origin], 2), methodology, FetchOptions(allow_private=True)
    )
    store.close()
    assert all(threshold[0] == 10_000 and frozen > 0 for threshold, frozen in during)
    assert len(during) == 2
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)


def test_a_system_without_endpoints_is_reported_done(methodology: Methodology) -> None:
    bare = System(
        id="bare", name="Bare", vendor_id="v", vendor_name="V", service_areas=(), endpoints={}
    )
    store, run_id, done = audit([bare], methodology, FetchOptions())
    assert [s.id for s in done] == ["bare"]
    assert {f.outcome for f in store.findings(run_id)} <= {"not_applicable", "fail"}
    store.close()


def test_systems_are_worked_through_round_robin_over_origins() -> None:
    def system(system_id: str, host: str) -> System:
        return System(system_id, system_id, "v", "V", ("waste",), {"docs": f"https://{host}/d"})

    systems = [system("a1", "a.test"), system("a2", "a.test"), system("a3", "a.test")]
    systems += [system("b1", "b.test"), system("c1", "c.test"), system("c2", "c.test")]
    order = [s.id for s in interleave_by_origin(systems)]
    assert order == ["a1", "b1", "c1", "a2", "c2", "a3"]
    assert sorted(order) == sorted(s.id for s in systems)  # each system exactly once


# --- the seams: the audit needs only a Fetcher and an EvidenceSink ---------------------------


class CannedFetcher:
    """Answers every request with a 404 page and counts what it was asked; no network."""

    def __init__(self) -> None:
        self.expected: list[str] = []
        self.fetched: list[str] = []

    async def __aenter__(self) -> CannedFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def expect(self, requests: Iterable[FetchRequest]) -> None:
        self.expected += [r.key for r in requests]

    async def fetch(self, request: FetchRequest, *, priority: int | None = None) -> Exchange:
        self.fetched.append(request.key)
        return Exchange(request, request.url, 404, (("content-type", "text/plain"),), b"no")

    @property
    def spare_slots(self) -> int:
        return 1

    @property
    def requests_sent(self) -> int:
        return len(self.fetched)


class ListSink:
    """Keeps the run's evidence in lists."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.findings: list[Finding] = []
        self.status = ""
        self.run = RunInfo(1, "2026-12-01", None, "t", "r", "m", "c", "vendors.yaml", "running")

    def start_run(self, **_: object) -> RunInfo:
        return self.run

    def save_systems(self, run_id: int, systems: Sequence[System]) -> None:
        self.systems = list(systems)

    def add_exchange(self, run_id: int, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def add_findings(self, run_id: int, findings: Sequence[Finding]) -> None:
        self.findings.extend(findings)

    def finish_run(self, run_id: int, status: str = "complete") -> None:
        self.status = status

    def run_info(self, run_id: int) -> RunInfo:
        return dataclasses.replace(self.run, status=self.status)


def test_the_audit_runs_on_any_fetcher_and_any_sink(methodology: Methodology) -> None:
    systems = systems_on(["https://a.example", "https://b.example"], 3)
    fetcher, sink = CannedFetcher(), ListSink()
    result = run_audit(
        sink, catalogue_of(systems), systems, methodology, FetchOptions(), fetcher=lambda: fetcher
    )
    assert sink.status == "complete"
    assert result.run.status == "complete"
    assert {f.system_id for f in sink.findings} == {s.id for s in systems}
    assert set(fetcher.fetched) == set(fetcher.expected)  # every planned request asked for
    assert len(sink.exchanges) == len(set(fetcher.fetched))  # each kept once
    assert result.requests_sent == len(fetcher.fetched)
