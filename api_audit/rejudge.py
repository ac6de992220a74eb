"""A stored run's evidence judged again under another methodology, without the network; pure.

What `audit.py` does for one system after fetching (plan → evaluate, a second round for
two-stage probes, then the catalogue's attestations), with the exchanges read back from the
store instead of fetched. `api-audit diff` judges the older run's evidence under the newer
run's methodology this way, so a change of verdict on the same evidence (methodology) is
told apart from a change in what was seen (issue 12).

Limits, by construction: a request the older methodology never made has no exchange, so a
probe that asks for it is `inconclusive` ("the request was not made"), exactly as a fetch
that never happened would be.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.models import Exchange, Finding, Methodology, System
from api_audit.plan import BASELINE_PREFIX, distinct_requests, plan_probes
from api_audit.scoring.attestations import attestation_findings

# Reads a run's exchanges for some request keys (Store.exchanges_for, bound to one run).
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
    now: datetime,
) -> tuple[Finding, ...]:
    """The findings `methodology` gives `system` on the exchanges `lookup` returns.

    `now` should be when the evidence was fetched (the run's start), so date checks (an
    expired security.txt) judge it as of then, not as of today.
    """
    plans = plan_probes([system], methodology, random_token=token)
    exchanges = dict(lookup(r.key for r in distinct_requests(plans)))
    follow_ups = follow_up_requests(plans, exchanges, now=now)
    if follow_ups:
        exchanges.update(lookup(r.key for r in follow_ups))
    findings = [evaluate(plan, exchanges, now=now) for plan in plans]
    return (*findings, *attestation_findings(system, methodology.rubric, findings))
