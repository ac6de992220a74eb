"""A stored run's evidence judged again, without the network; pure.

What `audit.py` does for one system after fetching (plan → evaluate, a second round for
two-stage probes, then the catalogue's attestations), with the exchanges read back from the
store (or an evidence bundle) instead of fetched. Two commands need it:

- `api-audit diff` judges the older run's evidence under the newer run's methodology, so a
  change of verdict on the same evidence (methodology) is told apart from a change in what
  was seen (issue 12);
- `api-audit verify` judges a bundle's evidence under the bundle's own probe set, and the
  findings must come out as the bundle has them.

Two things the run had are not stored as such and are recovered from what is:

- the run's random baseline token (every probe that compares with a random path asked for
  `/__api_audit_<token>` on its origin) is read back from the baseline request keys;
- the time a system was judged (matchers that compare a date with "now", e.g.
  security.txt's Expires, RFC 9116 §2.5.5) is the newest start among that system's
  exchanges: audit.py judges a system as soon as its last fetch returns.

Limits, by construction: a request the older methodology never made has no exchange, so a
probe that asks for it is `inconclusive` ("the request was not made"), exactly as a fetch
that never happened would be.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.models import Exchange, FetchRequest, Finding, Methodology, System
from api_audit.plan import BASELINE_PREFIX, distinct_requests, plan_probes
from api_audit.scoring.attestations import attestation_findings

# Reads a run's exchanges for some request keys (Store.exchanges_for bound to one run, or a
# bundle's): those it has, keyed by request key.
ExchangeLookup = Callable[[Iterable[str]], Mapping[str, Exchange]]

# A run with no baseline request (no probe compares a random path) gets this token; its
# plans then name a baseline the run never fetched, which no exchange will match.
NO_BASELINE = "none"
_TOKEN_IN_KEY = re.compile(re.escape(BASELINE_PREFIX) + r"([A-Za-z0-9_-]{1,64})(?=[ /?#]|$)")


def baseline_token(request_keys: Iterable[str]) -> str:
    """The run's random baseline token, read back from its baseline request's key.

    `audit.py` draws one token per run and plans `/__api_audit_<token>` on each origin; it
    is not stored apart, so the baseline exchanges are found again by their path."""
    for key in request_keys:
        found = _TOKEN_IN_KEY.search(key)
        if found:
            return found.group(1)
    return NO_BASELINE


def rejudge_system(
    system: System,
    methodology: Methodology,
    lookup: ExchangeLookup,
    *,
    token: str,
    now: datetime | None = None,
) -> tuple[Finding, ...]:
    """The findings `methodology` gives `system` on the exchanges `lookup` returns.

    `now` is when the evidence is taken to have been judged; by default, as audit.py did,
    the newest start among the system's exchanges (`judged_at`).
    """
    plans = plan_probes([system], methodology, random_token=token)
    first = distinct_requests(plans)
    exchanges = dict(lookup(r.key for r in first))
    follow_ups = follow_up_requests(plans, exchanges, now=now or judged_at(first, exchanges))
    if follow_ups:
        exchanges.update(lookup(r.key for r in follow_ups))
    when = now or judged_at([*first, *follow_ups], exchanges)
    findings = [evaluate(plan, exchanges, now=when) for plan in plans]
    return (*findings, *attestation_findings(system, methodology.rubric, findings))


def rejudge_run(
    systems: Sequence[System], exchanges: Iterable[Exchange], methodology: Methodology
) -> list[Finding]:
    """Every finding of every system, judged again from the exchanges given."""
    by_key = {exchange.request.key: exchange for exchange in exchanges}
    token = baseline_token(by_key)
    found: list[Finding] = []
    for system in systems:
        found.extend(rejudge_system(system, methodology, lookup_in(by_key), token=token))
    return found


def lookup_in(exchanges: Mapping[str, Exchange]) -> ExchangeLookup:
    """An ExchangeLookup over exchanges already at hand, keyed by request key."""
    return lambda keys: {key: exchanges[key] for key in keys if key in exchanges}


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
