"""One audit run: plan -> fetch -> evaluate -> store. No terminal code lives here.

Systems are worked through by a fixed number of workers (a few per global request slot),
not all at once, so memory stays flat however long the catalogue is: only the systems in
flight hold their exchanges. The HTTP engine fetches every distinct request once per run
however many systems need it, and is told up front how many systems will ask for each
request (`HttpEngine.expect`), so it lets an exchange and its body go as soon as the last
of them has it. Each finding is handed to the store (which writes in batches) the moment
it is known, so an interrupted run keeps what it had.

The audit is typed against two small protocols, not the concrete engine and store:
`Fetcher` (something that fetches each request once, told the demand up front) and
`EvidenceSink` (something that takes a run's systems, exchanges and findings). The real
ones are `net.HttpEngine` and `store.Store`; tests may pass others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from api_audit import __version__
from api_audit.errors import Interrupted
from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.models import (
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    Methodology,
    RunInfo,
    System,
)
from api_audit.net import FetchOptions, HttpEngine, SocketFactory
from api_audit.plan import ProbePlan, api_origin, distinct_requests, plan_probes
from api_audit.scoring.attestations import attestation_findings
from api_audit.signals import stop_signals_cancel, stop_signals_deferred

ProgressCallback = Callable[[System, Sequence[Finding]], None]


class Fetcher(Protocol):
    """What the audit needs of the network (net.HttpEngine is the real one)."""

    def expect(self, requests: Iterable[FetchRequest]) -> None:
        """Each call says one more caller will ask for each of these requests once."""

    async def fetch(self, request: FetchRequest, *, priority: int | None = None) -> Exchange:
        """The exchange for `request`: fetched once per run, however many ask; never raises
        for network trouble (it is an exchange with an error)."""

    @property
    def spare_slots(self) -> int:
        """Request slots free right now (the audit starts more systems while some are)."""

    @property
    def requests_sent(self) -> int:
        """Requests put on the wire so far."""


FetcherFactory = Callable[[], AbstractAsyncContextManager[Fetcher]]


class EvidenceSink(Protocol):
    """What the audit hands its evidence to (store.Store is the real one)."""

    def start_run(
        self,
        *,
        catalogue: Catalogue,
        methodology: Methodology,
        tool_version: str,
        options: Mapping[str, object],
        baseline_token: str | None = None,
    ) -> RunInfo: ...

    def save_systems(self, run_id: int, systems: Sequence[System]) -> None: ...

    def add_exchange(self, run_id: int, exchange: Exchange) -> None: ...

    def add_findings(self, run_id: int, findings: Sequence[Finding]) -> None:
        """One system's findings, kept together: all are stored or none are."""

    def finish_run(self, run_id: int, status: str = "complete") -> None: ...

    def run_info(self, run_id: int) -> RunInfo: ...


class ResumableSink(EvidenceSink, Protocol):
    """An EvidenceSink that can take an unfinished run up again (store.Store is the real one)."""

    def resume_run(
        self, run_id: int, catalogue: Catalogue, baseline_token: str | None = None
    ) -> RunInfo: ...

    def baseline_token(self, run_id: int) -> str | None: ...

    def probes_found(self, run_id: int) -> Mapping[str, frozenset[str]]: ...

    def reusable_request_keys(self, run_id: int) -> frozenset[str]: ...

    def exchanges_for(self, run_id: int, keys: Iterable[str]) -> Mapping[str, Exchange]: ...


# Systems in flight per global request slot. A system's requests mostly wait on its own
# host's limit and spacing, so each system keeps about one request in flight; two per slot
# keep every slot busy while bounding what is held in memory.
SYSTEMS_PER_SLOT = 2
# Beyond that window, more systems start while request slots sit idle (the hosts in flight
# are all waiting out their spacing), up to this many times the window: what a run may hold
# in memory. Checked every WINDOW_TICK seconds, or when a system finishes.
WINDOW_GROWTH = 8
WINDOW_TICK = 0.05


@dataclass(frozen=True)
class AuditResult:
    run: RunInfo
    systems: int  # audited by this call (on a resume: those left)
    findings: int
    requests: int  # distinct requests planned
    requests_sent: int  # requests put on the wire: redirect hops, retries and robots.txt too
    systems_done_before: int = 0  # on a resume: systems the run had finished before
    exchanges_reused: int = 0  # on a resume: stored exchanges used instead of a fetch


@dataclass(frozen=True)
class StoredEvidence:
    """What a resumed run already holds: the request keys of its reusable exchanges, and
    how to read them (with bodies) when a system needs them, so memory stays flat."""

    keys: frozenset[str]
    load: Callable[[Iterable[str]], Mapping[str, Exchange]]


NOTHING_STORED = StoredEvidence(frozenset(), lambda keys: {})


def run_audit(
    store: EvidenceSink,
    catalogue: Catalogue,
    systems: Sequence[System],
    methodology: Methodology,
    fetch_options: FetchOptions,
    *,
    options: dict[str, object] | None = None,
    on_system_done: ProgressCallback | None = None,
    socket_factory: SocketFactory | None = None,
    fetcher: FetcherFactory | None = None,
) -> AuditResult:
    """Audit `systems` into a new run in `store` and return what was done.

    The network is an `HttpEngine` made from `fetch_options` (and `socket_factory`), unless
    `fetcher` makes another `Fetcher`; `fetch_options.concurrency` sizes the window of
    systems in flight either way."""
    # One token per run: every system on an origin shares one baseline request. Kept with
    # the run, so a resumed system asks for the same path (and reuses what was stored).
    token = secrets.token_hex(8)
    run = store.start_run(
        catalogue=catalogue,
        methodology=methodology,
        tool_version=__version__,
        options=options or {},
        baseline_token=token,
    )
    store.save_systems(run.id, systems)
    audit = _Audit(store, run.id, systems, methodology, on_system_done, token=token)
    made = _fetcher(fetch_options, socket_factory, fetcher, audit)
    _audit_to_the_end(store, run.id, audit, made)
    return audit.result(store.run_info(run.id))


def resume_audit(
    store: ResumableSink,
    run_id: int,
    catalogue: Catalogue,
    systems: Sequence[System],
    methodology: Methodology,
    fetch_options: FetchOptions,
    *,
    on_system_done: ProgressCallback | None = None,
    socket_factory: SocketFactory | None = None,
    fetcher: FetcherFactory | None = None,
) -> AuditResult:
    """Finish the unfinished run `run_id` under its own id, and return what was done.

    The caller has checked that `catalogue`, `systems` and `methodology` are the ones the run
    was started with (catalogue and methodology sha256, recorded options). Systems whose
    findings are all stored are left as they are; the others are audited again, with every
    stored exchange used instead of a fetch (only what is missing goes on the wire) and
    follow-up requests computed again. Writes replace, so nothing is duplicated.
    """
    # a run stored before tokens were kept draws one now (its baselines are fetched again)
    token = store.baseline_token(run_id) or secrets.token_hex(8)
    left = systems_left(systems, methodology, store.probes_found(run_id))
    reuse = StoredEvidence(
        store.reusable_request_keys(run_id), lambda keys: store.exchanges_for(run_id, keys)
    )
    store.resume_run(run_id, catalogue, baseline_token=token)  # marked running from here
    audit = _Audit(store, run_id, left, methodology, on_system_done, token=token, reuse=reuse)
    made = _fetcher(fetch_options, socket_factory, fetcher, audit)
    _audit_to_the_end(store, run_id, audit, made)
    return dataclasses.replace(
        audit.result(store.run_info(run_id)), systems_done_before=len(systems) - len(left)
    )


def systems_left(
    systems: Sequence[System], methodology: Methodology, probes_found: Mapping[str, frozenset[str]]
) -> list[System]:
    """The systems whose findings are not all stored. Every probe is planned for every
    system (plan.py), so a system is done only when each probe has a finding for it. A store
    writes one system's findings together, so a partial system is rare; one is audited
    again whole (its findings replace the partial ones)."""
    probe_ids = {probe.id for probe in methodology.probes}
    return [
        system for system in systems if not probe_ids <= probes_found.get(system.id, frozenset())
    ]


def _fetcher(
    fetch_options: FetchOptions,
    socket_factory: SocketFactory | None,
    fetcher: FetcherFactory | None,
    audit: _Audit,
) -> tuple[FetcherFactory, int]:
    """The factory of the run's Fetcher (an HttpEngine unless one is given, which hands
    each robots.txt exchange to the audit to store, and reads a resumed run's stored
    robots.txt instead of asking again), and the concurrency that sizes the window of
    systems in flight."""
    if fetcher is None:

        def fetcher() -> AbstractAsyncContextManager[Fetcher]:
            return HttpEngine(
                fetch_options,
                socket_factory=socket_factory,
                on_robots=audit.keep_robots,
                stored_robots=audit.stored_robots,
            )

    return fetcher, fetch_options.concurrency


def _audit_to_the_end(
    store: EvidenceSink, run_id: int, audit: _Audit, fetcher: tuple[FetcherFactory, int]
) -> None:
    """Run the audit and mark the run: complete, or interrupted however it stopped."""
    try:
        with _collector_tuned():
            asyncio.run(audit.run(*fetcher))
    except BaseException as stop:
        # Whatever ends the run early (a signal, a storage failure, a bug of ours): what
        # was gathered is written and the run is marked, never left `running`.
        if isinstance(stop, Interrupted):
            stop.run_id = run_id
        with stop_signals_deferred(raise_after=False):  # a second Ctrl-C waits for the mark
            store.finish_run(run_id, status="interrupted")
        raise
    with stop_signals_deferred():
        store.finish_run(run_id, status="complete")


def interleave_by_origin(systems: Sequence[System]) -> list[System]:
    """The systems in round-robin order over their API origins.

    Catalogues list a vendor's systems (and a council's instances) together, often on one
    host. Worked through in that order, the systems in flight would all wait on the same
    host's per-host limit and spacing while other hosts sit idle (measured: 5,000 systems
    at 0.5 s spacing ran at ~20 req/s in catalogue order; bench/README.md). Taking one
    system per origin in turn keeps many hosts busy at once. Findings do not depend on
    the order, and the store keeps the catalogue's order.
    """
    queues: dict[str | None, deque[System]] = {}
    for system in systems:
        queues.setdefault(api_origin(system), deque()).append(system)
    ordered: list[System] = []
    while queues:
        for origin in list(queues):
            ordered.append(queues[origin].popleft())
            if not queues[origin]:
                del queues[origin]
    return ordered


@contextmanager
def _collector_tuned() -> Iterator[None]:
    """Python's cycle collector, tuned for the audit's loop.

    The catalogue, methodology and imported modules are long-lived and never garbage, yet
    every full collection traversed them; and the audit allocates fast, so the default
    threshold ran a young collection every 700 allocations. With 200 suppliers the
    collector took ~340 ms of a 3.3 s audit, including pauses of up to 94 ms with no
    request sent. Freezing what exists when the audit starts, and a 10,000 threshold,
    cut that to ~130 ms (bench/README.md, "What each change bought"). Both are undone after.
    """
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class _Audit:
    """The state of one run's fetching: what is planned, stored and counted."""

    def __init__(
        self,
        store: EvidenceSink,
        run_id: int,
        systems: Sequence[System],
        methodology: Methodology,
        on_system_done: ProgressCallback | None,
        *,
        token: str,
        reuse: StoredEvidence = NOTHING_STORED,
    ) -> None:
        self._store = store
        self._run_id = run_id
        self._systems = systems
        self._methodology = methodology
        self._on_system_done = on_system_done
        self._token = token
        self._reuse = reuse
        self._stored_keys: set[str] = set()
        self._reused_keys: set[str] = set()
        self.findings_written = 0
        self.distinct_requests = 0
        self.requests_sent = 0

    def result(self, run: RunInfo) -> AuditResult:
        return AuditResult(
            run=run,
            systems=len(self._systems),
            findings=self.findings_written,
            requests=self.distinct_requests,
            requests_sent=self.requests_sent,
            exchanges_reused=len(self._reused_keys),
        )

    def plans_for(self, system: System) -> list[ProbePlan]:
        """Plans are cheap and pure: made again when needed rather than kept for the run."""
        return plan_probes([system], self._methodology, random_token=self._token)

    async def run(self, fetcher: FetcherFactory, concurrency: int) -> None:
        task = asyncio.current_task()
        assert task is not None  # asyncio.run runs us as a task
        with stop_signals_cancel(task) as received:
            try:
                await self._fetch_all(fetcher, concurrency)
            except asyncio.CancelledError:
                if received:  # SIGINT/SIGTERM: stopped at an await, never mid-write
                    raise Interrupted(received[0]) from None
                raise

    async def _fetch_all(self, fetcher: FetcherFactory, concurrency: int) -> None:
        async with fetcher() as engine:
            keys: set[str] = set()
            for system in self._systems:
                requests = distinct_requests(self.plans_for(system))
                # each system asks for each of its requests once, unless a resume has it
                engine.expect([r for r in requests if r.key not in self._reuse.keys])
                keys.update(r.key for r in requests)
            self.distinct_requests = len(keys)
            del keys
            try:
                await self._feed(engine, concurrency)
            finally:
                self.requests_sent = engine.requests_sent

    async def _feed(self, engine: Fetcher, concurrency: int) -> None:
        """Start systems in round-robin order over their origins, keeping the window full.

        The window is SYSTEMS_PER_SLOT per global slot. It grows, one system per idle slot
        per tick, while slots sit idle, which happens when the systems in flight are all
        waiting out their hosts' spacing (200 suppliers, one per host, at 0.5 s spacing took
        twice the ideal with the fixed window: its second half started only when the first
        finished; bench/README.md).
        """
        waiting = deque(enumerate(interleave_by_origin(self._systems)))
        window = max(1, concurrency * SYSTEMS_PER_SLOT)
        ceiling = window * WINDOW_GROWTH
        running: set[asyncio.Task[None]] = set()
        try:
            while waiting or running:
                room = window - len(running)
                if room <= 0:
                    room = min(engine.spare_slots, ceiling - len(running))
                for _ in range(min(room, len(waiting))):
                    place, system = waiting.popleft()
                    running.add(asyncio.create_task(self._audit_system(engine, system, place)))
                done, running = await asyncio.wait(
                    running, timeout=WINDOW_TICK, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    task.result()  # a system's failure (the store's) ends the run as itself
        except BaseException:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            raise

    async def _audit_system(self, engine: Fetcher, system: System, place: int) -> None:
        # `place` orders this system's requests against other systems' when they queue for
        # a slot: systems started first finish first, follow-ups and redirect hops included.
        plans = self.plans_for(system)
        exchanges = await self._exchanges_for(engine, distinct_requests(plans), place)
        now = datetime.now(UTC)
        # Two-stage probes (a docs page linking its spec or calendar): one more round.
        # Follow-ups are not declared to the engine, so it keeps them for the run: a link
        # shared by many systems (a vendor's docs) is still fetched only once.
        follow_ups = follow_up_requests(plans, exchanges, now=now)
        exchanges.update(await self._exchanges_for(engine, follow_ups, place))
        findings = [evaluate(plan, exchanges, now=now) for plan in plans]
        # the catalogue's attestations, scored by the rubric beside what was observed
        findings += attestation_findings(system, self._methodology.rubric, findings)
        self._store.add_findings(self._run_id, findings)  # together: all or none stored
        self.findings_written += len(findings)
        if self._on_system_done is not None:
            self._on_system_done(system, findings)

    async def _exchanges_for(
        self, engine: Fetcher, requests: Sequence[FetchRequest], place: int
    ) -> dict[str, Exchange]:
        """Each request's exchange: the one stored before a resume, else fetched (once
        per run, by the engine) and stored."""
        wanted = [r.key for r in requests if r.key in self._reuse.keys]
        exchanges = dict(self._reuse.load(wanted)) if wanted else {}
        self._reused_keys.update(exchanges)

        async def fetched(request: FetchRequest) -> Exchange:
            # Kept as it arrives, not when the system's last request has: a run stopped
            # while one request hangs keeps the others, and a resume does not fetch them.
            exchange = await engine.fetch(request, priority=place)
            self._keep_exchange(exchange)
            return exchange

        for exchange in await asyncio.gather(
            *(fetched(r) for r in requests if r.key not in exchanges)
        ):
            exchanges[exchange.request.key] = exchange
        return exchanges

    def keep_robots(self, exchange: Exchange) -> None:
        """Store a robots.txt exchange as evidence like any other (issue 15), once per run."""
        self._keep_exchange(exchange)

    def stored_robots(self, request: FetchRequest) -> Exchange | None:
        """A resumed run's robots.txt exchange for `request`, when it has one: the rules
        its stored refusals obeyed, reused so the host is not asked again."""
        if request.key not in self._reuse.keys:
            return None
        return self._reuse.load([request.key]).get(request.key)

    def _keep_exchange(self, exchange: Exchange) -> None:
        """Store each distinct exchange once, whichever system got it first."""
        if exchange.request.key not in self._stored_keys:
            self._stored_keys.add(exchange.request.key)
            self._store.add_exchange(self._run_id, exchange)
