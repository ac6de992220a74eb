"""A probe's shipped examples, run as the probe would be: the tests and `probes show` use it.

Each example describes the responses a system might give (the target, later candidates,
the random-path baseline, a followed link); they become exchanges and are judged by
`evaluate`, exactly as a run judges what it fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

from api_audit.evaluate import evaluate, follow_up_requests
from api_audit.models import (
    ENDPOINT_KINDS,
    EXCHANGE_ERRORS,
    Exchange,
    ExchangeError,
    FetchRequest,
    Finding,
    Hop,
    Probe,
    ProbeExample,
    Research,
    System,
)
from api_audit.plan import plan_probe

# Examples are evaluated at this fixed moment, so a security.txt example that expires in
# 2027 gives the same result when the tests run in 2026 or in 2030.
EXAMPLE_NOW = datetime(2026, 11, 1, tzinfo=UTC)
EXAMPLE_ORIGIN = "https://api.example.test"
# What a candidate the example gives no response for answers (probes/README.md).
EXAMPLE_NOT_FOUND: Mapping[str, object] = {
    "status": 404,
    "headers": {"content-type": "text/plain"},
    "body": "Not found",
}


def exchange_from_example(
    example_response: Mapping[str, object], request: FetchRequest
) -> Exchange:
    """An Exchange as a probe example describes it (status, headers, body, redirects ...)."""
    headers = cast(Mapping[str, object], example_response.get("headers") or {})
    hops = cast(list[Mapping[str, object]], example_response.get("redirects") or [])
    status = example_response.get("status")
    error = example_response.get("error")
    tls = example_response.get("tls_version")
    return Exchange(
        request=request,
        final_url=str(example_response.get("final_url") or request.url),
        status=status if isinstance(status, int) else None,
        headers=tuple((str(k).lower(), str(v)) for k, v in headers.items()),
        body=str(example_response.get("body") or "").encode("utf-8"),
        redirects=tuple(
            Hop(int(cast(int, h["status"])), str(h["url"]), str(h["location"])) for h in hops
        ),
        error=_example_error(error),
        error_detail=str(example_response.get("error_detail") or ""),
        tls_version=str(tls) if tls is not None else None,
    )


def _example_error(word: object) -> ExchangeError | None:
    """An example's `error`, which the probe loader has checked is an ExchangeError word."""
    if word is None:
        return None
    for known in EXCHANGE_ERRORS:
        if word == known:
            return known
    raise ValueError(f"{word!r} is not an Exchange error word")


def example_system(probe: Probe, example: ProbeExample) -> System:
    """A catalogue entry with every endpoint on EXAMPLE_ORIGIN (none when missing), in the
    probe's service areas and claiming its standards unless the example says otherwise."""
    endpoints: dict[str, str] = (
        {}
        if example.endpoint_missing
        else {
            kind: f"{EXAMPLE_ORIGIN}/{kind}"
            for kind in ENDPOINT_KINDS
            if kind not in example.missing_endpoints
        }
    )
    areas = example.service_areas
    claimed = example.claimed
    research = None
    if example.searched_none:
        research = Research(
            state="none-found" if example.endpoint_missing else "endpoints-found",
            searched=EXAMPLE_NOW.date(),
            where=("the supplier's website",),
            not_found=() if example.endpoint_missing else example.missing_endpoints,
        )
    return System(
        id=f"example:{probe.id}",
        name=example.name,
        vendor_id="example",
        vendor_name="Example",
        service_areas=probe.applies_to.service_areas if areas is None else areas,
        endpoints=endpoints,
        standards=probe.applies_to.claimed if claimed is None else claimed,
        research=research,
    )


def run_example(probe: Probe, example: ProbeExample, *, now: datetime = EXAMPLE_NOW) -> Finding:
    """Evaluate one of a probe's shipped examples, as the tests and `probes show` do.

    `response` answers the first target, `responses` the later candidates (any left out
    answer 404), `baseline` the random path, and `followed` the followed link.
    """
    plan = plan_probe(example_system(probe, example), probe, "example")
    exchanges: dict[str, Exchange] = {}
    answers = (example.response, *example.responses)
    for index, target in enumerate(plan.targets):
        answer = answers[index] if index < len(answers) else EXAMPLE_NOT_FOUND
        exchanges[target.key] = exchange_from_example(answer, target)
    if plan.baseline is not None and example.baseline is not None:
        exchanges[plan.baseline.key] = exchange_from_example(example.baseline, plan.baseline)
    if example.followed is not None:
        for request in follow_up_requests([plan], exchanges, now=now):
            exchanges[request.key] = exchange_from_example(example.followed, request)
    return evaluate(plan, exchanges, now=now)
