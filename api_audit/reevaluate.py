"""A run's findings made again from its stored systems and exchanges, without the network; pure.

What `verify` needs to check that a bundle's findings follow from its evidence: the same
plans (plan.py), judged by the same `evaluate` over the exchanges the run kept, plus the
catalogue's attestations, exactly as audit.py made them. Three things the run had that are
not stored as such are recovered from what is:

- the run's random token (the baseline path `/__api_audit_<token>` every probe that
  compares with a random path asked for) is read back from the baseline URLs fetched;
- the time each system was judged (used by matchers that compare a date with "now", e.g.
  security.txt's Expires, RFC 9116 §2.5.5) is taken as the newest start among that
  system's exchanges: audit.py judges a system as soon as its last fetch returns;
- the exchanges are keyed by request key, as the run keyed them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.models import Exchange, FetchRequest, Finding, Methodology, System
from api_audit.plan import BASELINE_PREFIX, distinct_requests, plan_probes
from api_audit.scoring.attestations import attestation_findings

# Any token plan.py accepts; used when the run fetched no baseline (no probe compared).
_ANY_TOKEN = "none"  # noqa: S105 - a URL path part, not a password
_TOKEN_IN_URL = re.compile(re.escape(BASELINE_PREFIX) + r"([A-Za-z0-9_-]{1,64})(?:$|[?#])")


def reevaluate_run(
    systems: Sequence[System],
    exchanges: Iterable[Exchange],
    methodology: Methodology,
) -> list[Finding]:
    """Every finding of every system, judged again from the stored exchanges."""
    by_key = {exchange.request.key: exchange for exchange in exchanges}
    token = run_token(by_key.values())
    findings: list[Finding] = []
    for system in systems:
        findings.extend(reevaluate_system(system, by_key, methodology, token))
    return findings


def reevaluate_system(
    system: System,
    exchanges: Mapping[str, Exchange],
    methodology: Methodology,
    token: str,
) -> list[Finding]:
    """One system's findings, as audit.py's `_audit_system` made them."""
    plans = plan_probes([system], methodology, random_token=token)
    first = distinct_requests(plans)
    fetched = {r.key: exchanges[r.key] for r in first if r.key in exchanges}
    # what the second round asked for (follow_up_requests leaves out what is already
    # fetched, so it is asked of the first round only); the run stored each one it fetched
    follow_ups = follow_up_requests(plans, fetched, now=judged_at(first, exchanges))
    now = judged_at([*first, *follow_ups], exchanges)
    judged = [evaluate(plan, exchanges, now=now) for plan in plans]
    return judged + list(attestation_findings(system, methodology.rubric, judged))


def run_token(exchanges: Iterable[Exchange]) -> str:
    """The run's random token, read from the first baseline URL among the exchanges."""
    for exchange in exchanges:
        found = _TOKEN_IN_URL.search(exchange.request.url)
        if found:
            return found.group(1)
    return _ANY_TOKEN


def judged_at(requests: Iterable[FetchRequest], exchanges: Mapping[str, Exchange]) -> datetime:
    """When the run judged a system: the newest start among its exchanges (the epoch when
    none was fetched or none has a readable time: no matcher then reads the clock)."""
    newest = datetime.fromtimestamp(0, UTC)
    for request in requests:
        exchange = exchanges.get(request.key)
        if exchange is None:
            continue
        try:
            started = datetime.fromisoformat(exchange.started_at)
        except ValueError:
            continue
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        newest = max(newest, started)
    return newest
