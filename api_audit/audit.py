"""One audit run: plan -> fetch -> evaluate -> store. No terminal code lives here.

Each system is worked through by its own task; the HTTP engine fetches every distinct
request once per run however many systems or probes need it, and each finding is handed
to the store the moment it is known, so an interrupted run keeps what it had.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpcore

from api_audit import __version__
from api_audit.evaluate import evaluate
from api_audit.http import FetchOptions, HttpEngine
from api_audit.models import Catalogue, Exchange, Finding, Methodology, RunInfo, System
from api_audit.plan import ProbePlan, distinct_requests, plan_probes
from api_audit.store import Store

ProgressCallback = Callable[[System, Sequence[Finding]], None]


@dataclass(frozen=True)
class AuditResult:
    run: RunInfo
    systems: int
    findings: int
    requests: int  # distinct requests planned
    requests_sent: int  # requests put on the wire, redirect hops and retries included


def run_audit(
    store: Store,
    catalogue: Catalogue,
    systems: Sequence[System],
    methodology: Methodology,
    fetch_options: FetchOptions,
    *,
    options: dict[str, object] | None = None,
    on_system_done: ProgressCallback | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> AuditResult:
    """Audit `systems` into a new run in `store` and return what was done."""
    run = store.start_run(
        catalogue=catalogue,
        methodology=methodology,
        tool_version=__version__,
        options=options or {},
    )
    store.save_systems(run.id, systems)
    plans = plan_probes(systems, methodology, random_token=secrets.token_hex(8))
    try:
        counts = asyncio.run(
            _audit_plans(store, run.id, plans, fetch_options, on_system_done, network_backend)
        )
    except BaseException:
        store.finish_run(run.id, status="interrupted")
        raise
    store.finish_run(run.id, status="complete")
    return AuditResult(
        run=store.run_info(run.id),
        systems=len(systems),
        findings=counts[0],
        requests=len(distinct_requests(plans)),
        requests_sent=counts[1],
    )


async def _audit_plans(
    store: Store,
    run_id: int,
    plans: Sequence[ProbePlan],
    fetch_options: FetchOptions,
    on_system_done: ProgressCallback | None,
    network_backend: httpcore.AsyncNetworkBackend | None,
) -> tuple[int, int]:
    by_system: dict[str, list[ProbePlan]] = defaultdict(list)
    for plan in plans:
        by_system[plan.system.id].append(plan)
    stored_keys: set[str] = set()
    findings_written = 0

    def keep_exchange(exchange: Exchange) -> None:
        if exchange.request.key not in stored_keys:
            stored_keys.add(exchange.request.key)
            store.add_exchange(run_id, exchange)

    async with HttpEngine(fetch_options, network_backend=network_backend) as engine:

        async def audit_system(system_plans: list[ProbePlan]) -> None:
            nonlocal findings_written
            exchanges = {}
            for exchange in await asyncio.gather(
                *(engine.fetch(r) for r in distinct_requests(system_plans))
            ):
                keep_exchange(exchange)
                exchanges[exchange.request.key] = exchange
            now = datetime.now(UTC)
            findings = [evaluate(plan, exchanges, now=now) for plan in system_plans]
            for finding in findings:
                store.add_finding(run_id, finding)
            findings_written += len(findings)
            if on_system_done is not None:
                on_system_done(system_plans[0].system, findings)

        await asyncio.gather(*(audit_system(p) for p in by_system.values()))
        return findings_written, engine.requests_sent
