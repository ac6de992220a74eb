"""A probe's plan + the exchanges fetched → a Finding; pure.

The rules, in order (DESIGN.md §4, "inconclusive is not zero"):
1. no target URL in the catalogue: the probe's `when_missing` outcome;
2. the fetch failed (timeout, DNS, blocked address, too large ...): inconclusive;
3. the server answered 5xx or 429: inconclusive (it could not or would not answer now);
4. the expectations in order: the first fail decides; else any inconclusive; else pass,
   with the smallest credit any expectation gave (Swagger 2.0 earns partial credit).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

from api_audit.matchers import (
    MATCHERS,
    MatchContext,
    Verdict,
    describe_status,
    quote,
    sign_in_redirect,
)
from api_audit.models import (
    ENDPOINT_KINDS,
    Exchange,
    FetchRequest,
    Finding,
    Hop,
    Outcome,
    Probe,
    ProbeExample,
    System,
)
from api_audit.plan import ProbePlan, plan_probe

# Examples are evaluated at this fixed moment, so a security.txt example that expires in
# 2027 gives the same result when the tests run in 2026 or in 2030.
EXAMPLE_NOW = datetime(2026, 11, 1, tzinfo=UTC)
EXAMPLE_ORIGIN = "https://api.example.test"

_ERROR_WORDS = {
    "blocked_address": "address blocked",
    "too_large": "response too large",
    "timeout": "timed out",
    "deadline": "no complete response in time",
    "connect": "could not connect",
    "dns": "host name not found",
    "tls": "TLS failed",
    "too_many_redirects": "too many redirects",
}


def evaluate(plan: ProbePlan, exchanges: Mapping[str, Exchange], *, now: datetime) -> Finding:
    """The finding for one plan, from the exchanges fetched (keyed by FetchRequest.key)."""
    probe = plan.probe
    if plan.target is None:
        return _finding(plan, probe.request.when_missing, plan.missing)
    evidence = tuple(
        r.key for r in (plan.target, plan.baseline) if r is not None and r.key in exchanges
    )
    target = exchanges.get(plan.target.key)
    if target is None:
        return _finding(
            plan, "inconclusive", "could not measure: the request was not made", evidence=evidence
        )
    if target.error is not None or target.status is None:
        return _failed_fetch(plan, target, evidence)
    if target.status >= 500 or target.status == 429:
        kind = "rate limited" if target.status == 429 else "server error"
        return _finding(
            plan,
            "inconclusive",
            f"{kind}: {describe_status(target.status)}",
            evidence=evidence,
            observed=True,
        )
    baseline = exchanges.get(plan.baseline.key) if plan.baseline is not None else None
    ctx = MatchContext(exchange=target, baseline=baseline, now=now)
    verdicts = [MATCHERS[e.matcher].match(e.argument, ctx) for e in probe.expect]
    outcome, message, credit = _combine(verdicts)
    return _finding(plan, outcome, message, evidence=evidence, observed=True, credit=credit)


def _combine(verdicts: list[Verdict]) -> tuple[Outcome, str, float]:
    first_fail = next((v for v in verdicts if v.outcome == "fail"), None)
    if first_fail is not None:
        return "fail", first_fail.message, 0.0
    unsure = next((v for v in verdicts if v.outcome == "inconclusive"), None)
    if unsure is not None:
        return "inconclusive", unsure.message, 0.0
    credit = min((v.credit for v in verdicts), default=1.0)
    return "pass", "; ".join(v.message for v in verdicts), credit


def _failed_fetch(plan: ProbePlan, target: Exchange, evidence: tuple[str, ...]) -> Finding:
    # A redirect chain that reached a sign-in page is evidence of a login wall even when
    # the sign-in host itself could not be fetched (e.g. it is on a private address).
    sign_in = sign_in_redirect(target.redirects)
    if sign_in is not None and any(e.matcher == "not_login_wall" for e in plan.probe.expect):
        return _finding(
            plan,
            "fail",
            f"redirected to a sign-in page at {quote(sign_in)}",
            evidence=evidence,
            observed=True,
        )
    word = _ERROR_WORDS.get(target.error or "", target.error or "no response")
    detail = quote(target.error_detail)
    message = f"could not measure: {word}" + (f" ({detail})" if detail else "")
    return _finding(plan, "inconclusive", message, evidence=evidence)


def _finding(
    plan: ProbePlan,
    outcome: Outcome,
    message: str,
    *,
    evidence: tuple[str, ...] = (),
    observed: bool = False,
    credit: float | None = None,
) -> Finding:
    return Finding(
        system_id=plan.system.id,
        probe_id=plan.probe.id,
        criterion=plan.probe.criterion,
        weight=plan.probe.weight,
        outcome=outcome,
        message=message,
        evidence=evidence,
        observed=observed,
        credit=credit if credit is not None else (1.0 if outcome == "pass" else 0.0),
    )


# --- examples ----------------------------------------------------------------------------------


def exchange_from_example(
    example_response: Mapping[str, object], request: FetchRequest
) -> Exchange:
    """An Exchange as a probe example describes it (status, headers, body, redirects ...)."""
    headers = cast(Mapping[str, object], example_response.get("headers") or {})
    hops = cast(list[Mapping[str, object]], example_response.get("redirects") or [])
    status = example_response.get("status")
    error = example_response.get("error")
    return Exchange(
        request=request,
        final_url=str(example_response.get("final_url") or request.url),
        status=status if isinstance(status, int) else None,
        headers=tuple((str(k).lower(), str(v)) for k, v in headers.items()),
        body=str(example_response.get("body") or "").encode("utf-8"),
        redirects=tuple(
            Hop(int(cast(int, h["status"])), str(h["url"]), str(h["location"])) for h in hops
        ),
        error=str(error) if error is not None else None,
        error_detail=str(example_response.get("error_detail") or ""),
    )


def example_system(probe: Probe, example: ProbeExample) -> System:
    """A catalogue entry with every endpoint on EXAMPLE_ORIGIN (none when missing)."""
    endpoints: dict[str, str] = (
        {}
        if example.endpoint_missing
        else {kind: f"{EXAMPLE_ORIGIN}/{kind}" for kind in ENDPOINT_KINDS}
    )
    return System(
        id=f"example:{probe.id}",
        name=example.name,
        vendor_id="example",
        vendor_name="Example",
        service_areas=(),
        endpoints=endpoints,
    )


def run_example(probe: Probe, example: ProbeExample, *, now: datetime = EXAMPLE_NOW) -> Finding:
    """Evaluate one of a probe's shipped examples, as the tests and `probes show` do."""
    plan = plan_probe(example_system(probe, example), probe, "example")
    exchanges: dict[str, Exchange] = {}
    if plan.target is not None:
        exchanges[plan.target.key] = exchange_from_example(example.response, plan.target)
    if plan.baseline is not None and example.baseline is not None:
        exchanges[plan.baseline.key] = exchange_from_example(example.baseline, plan.baseline)
    return evaluate(plan, exchanges, now=now)
