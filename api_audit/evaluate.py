"""A probe's plan + the exchanges fetched → a Finding; pure.

The rules, in order (DESIGN.md §4, "inconclusive is not zero"):
0. the probe does not apply to the system (`applies_to`): not_applicable;
1. no target URL in the catalogue: `plan.missing_target` (not measured, unless the
   catalogue records a search that found none and the probe's `when_missing` is fail);
2. the fetch failed (timeout, DNS, blocked address, too large ...): inconclusive;
3. the server answered 5xx or 429: inconclusive (it could not or would not answer now);
4. the expectations in order: the first fail or not_applicable decides; else any
   inconclusive; else pass, with the smallest credit any expectation gave (Swagger 2.0
   earns partial credit);
5. a two-stage probe (`follow`) that passed step 4 finds a URL in the response and judges
   the response to that URL by rules 2-4 with the follow's expectations;
6. a probe with candidates passes on the first candidate that passes; otherwise it is
   inconclusive if any candidate was, and fails if every one failed.

Two-stage probes need a second round of fetching: `follow_up_requests(plans, exchanges)`
lists what the first round's responses point at; fetch those, add them to the exchanges,
then call `evaluate` as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from api_audit.methodology import (
    LINKS,
    MATCHERS,
    MatchContext,
    Verdict,
    describe_status,
    sign_in_redirect,
)
from api_audit.models import (
    EXCHANGE_ERROR_WORDS,
    Exchange,
    Expectation,
    FetchRequest,
    Finding,
    FollowRequest,
    Outcome,
    SignIn,
    obeyed_robots,
)
from api_audit.plan import ProbePlan
from api_audit.text import quote


@dataclass(frozen=True)
class _Judgement:
    """The verdict on one target (one candidate), before it becomes a Finding."""

    outcome: Outcome
    message: str
    credit: float = 0.0
    evidence: tuple[str, ...] = ()
    observed: bool = False
    status: int | None = None  # the target's status, to pick the most telling failure
    sign_in: SignIn | None = None  # a fail at a login wall: which kind
    excerpt: str | None = None  # the sentence that decided a wording verdict


def evaluate(plan: ProbePlan, exchanges: Mapping[str, Exchange], *, now: datetime) -> Finding:
    """The finding for one plan, from the exchanges fetched (keyed by FetchRequest.key)."""
    if not plan.applicable:
        return _finding(plan, _Judgement("not_applicable", plan.missing))
    if plan.target is None:
        return _finding(plan, _Judgement(plan.missing_outcome, plan.missing))
    try:
        judgements = [_judge_target(plan, target, exchanges, now) for target in plan.targets]
        return _finding(plan, _pick(plan, judgements))
    except Exception as exc:
        # Whatever a server sent is that system's finding, never the run's end: a response
        # that trips a matcher in a way no test foresaw is judged "could not measure".
        return _finding(plan, _could_not_judge(plan, exc))


def follow_up_requests(
    plans: Iterable[ProbePlan], exchanges: Mapping[str, Exchange], *, now: datetime
) -> list[FetchRequest]:
    """The second-round requests two-stage probes need, given the first round's exchanges.

    For each plan with `follow` whose target response passed its expectations, the URL the
    follow's link extractor finds in it; distinct, in plan order, leaving out any request
    already in `exchanges`. Fetch these and add them to the exchanges before `evaluate`.
    """
    wanted: dict[str, FetchRequest] = {}
    for plan in plans:
        if plan.probe.request.follow is None or not plan.applicable:
            continue
        try:
            requests = list(_follow_ups(plan, exchanges, now))
        except Exception:  # `evaluate` then says "could not judge" for this plan
            requests = []
        for request in requests:
            if request.key not in exchanges:
                wanted.setdefault(request.key, request)
    return list(wanted.values())


def _follow_ups(
    plan: ProbePlan, exchanges: Mapping[str, Exchange], now: datetime
) -> Iterator[FetchRequest]:
    follow = plan.probe.request.follow
    assert follow is not None  # checked by the caller
    for target in plan.targets:
        exchange = exchanges.get(target.key)
        if exchange is None or _unusable(exchange) is not None:
            continue
        ctx = _context(plan, exchange, exchanges, now)
        if _combine(_verdicts(plan.probe.expect, ctx)).outcome != "pass":
            continue
        request = _follow_request(follow, ctx)
        if request is not None:
            yield request


def _could_not_judge(plan: ProbePlan, exc: Exception) -> _Judgement:
    detail = quote(f"{type(exc).__name__}: {exc}", 160)
    return _Judgement(
        "inconclusive",
        f"could not judge the response (api-audit could not evaluate it: {detail})",
        evidence=tuple(target.key for target in plan.targets),
    )


# --- one target --------------------------------------------------------------------------


def _judge_target(
    plan: ProbePlan, target: FetchRequest, exchanges: Mapping[str, Exchange], now: datetime
) -> _Judgement:
    evidence = tuple(r.key for r in (target, plan.baseline) if r is not None and r.key in exchanges)
    exchange = exchanges.get(target.key)
    if exchange is None:
        return _Judgement(
            "inconclusive", "could not measure: the request was not made", evidence=evidence
        )
    unusable = _unusable(exchange, plan.probe.expect)
    if unusable is not None:
        return _with(unusable, evidence=_with_robots(evidence, exchange))
    ctx = _context(plan, exchange, exchanges, now)
    outcome, message, credit, sign_in, excerpt = _combine(_verdicts(plan.probe.expect, ctx))
    first = _Judgement(outcome, message, credit, evidence, True, exchange.status, sign_in, excerpt)
    follow = plan.probe.request.follow
    if outcome != "pass" or follow is None:
        return first
    return _judge_followed(first, follow, ctx, exchanges, now)


def _judge_followed(
    first: _Judgement,
    follow: FollowRequest,
    ctx: MatchContext,
    exchanges: Mapping[str, Exchange],
    now: datetime,
) -> _Judgement:
    """Rule 5: the link found in a passing first response, and the response to it."""
    found = LINKS[follow.link].extract(ctx)
    if found.url is None:
        no_link = "fail" if found.wrong else follow.when_no_link
        return _with(first, outcome=no_link, message=found.message, credit=0.0)
    request = FetchRequest(url=found.url, accept=follow.accept)
    followed = exchanges.get(request.key)
    if followed is None:
        return _with(
            first,
            outcome="inconclusive",
            message=f"{found.message}; could not measure: it was not fetched",
            credit=0.0,
        )
    evidence = _with_robots((*first.evidence, request.key), followed)
    unusable = _unusable(followed, follow.expect)
    if unusable is not None:
        return _with(unusable, message=f"{found.message}: {unusable.message}", evidence=evidence)
    second = MatchContext(exchange=followed, baseline=None, now=now)
    outcome, message, credit, sign_in, excerpt = _combine(_verdicts(follow.expect, second))
    return _Judgement(
        outcome,
        f"{found.message}: {message}",
        min(credit, first.credit) if outcome == "pass" else 0.0,
        evidence,
        True,
        first.status,
        sign_in,
        excerpt,
    )


def _with_robots(evidence: tuple[str, ...], exchange: Exchange) -> tuple[str, ...]:
    """`evidence`, and the robots.txt whose answer kept `exchange` from being sent: a
    finding blocked by robots.txt cites the file it obeyed (issue 15)."""
    obeyed = obeyed_robots(exchange)
    return evidence if obeyed is None else (*evidence, obeyed.key)


def _unusable(exchange: Exchange, expect: Sequence[Expectation] = ()) -> _Judgement | None:
    """Rules 2 and 3: a failed fetch, a 5xx or a 429 (None when the response can be judged)."""
    if exchange.error is not None or exchange.status is None:
        # A redirect chain that reached a sign-in page is evidence of a login wall even when
        # the sign-in host itself could not be fetched (e.g. it is on a private address).
        sign_in = sign_in_redirect(exchange.redirects)
        if sign_in is not None and any(e.matcher == "not_login_wall" for e in expect):
            message = f"redirected to a sign-in page at {quote(sign_in)}"
            return _Judgement("fail", message, observed=True, sign_in="redirect")
        word = EXCHANGE_ERROR_WORDS[exchange.error] if exchange.error else "no response"
        detail = quote(exchange.error_detail)
        return _Judgement(
            "inconclusive", f"could not measure: {word}" + (f" ({detail})" if detail else "")
        )
    if exchange.status >= 500 or exchange.status == 429:
        kind = "rate limited" if exchange.status == 429 else "server error"
        return _Judgement(
            "inconclusive",
            f"{kind}: {describe_status(exchange.status)}",
            observed=True,
            status=exchange.status,
        )
    return None


def _context(
    plan: ProbePlan, exchange: Exchange, exchanges: Mapping[str, Exchange], now: datetime
) -> MatchContext:
    baseline = exchanges.get(plan.baseline.key) if plan.baseline is not None else None
    return MatchContext(
        exchange=exchange, baseline=baseline, now=now, endpoint_kind=plan.target_kind
    )


def _verdicts(expect: Sequence[Expectation], ctx: MatchContext) -> list[Verdict]:
    return [MATCHERS[e.matcher].match(e.value, ctx) for e in expect]


def _follow_request(follow: FollowRequest, ctx: MatchContext) -> FetchRequest | None:
    found = LINKS[follow.link].extract(ctx)
    return None if found.url is None else FetchRequest(url=found.url, accept=follow.accept)


class _Combined(NamedTuple):
    outcome: Outcome
    message: str
    credit: float
    sign_in: SignIn | None  # the sign-in reason when a login wall decided
    excerpt: str | None  # the sentence that decided, when a wording verdict did


def _combine(verdicts: list[Verdict]) -> _Combined:
    """Rule 4: the first fail or not_applicable decides; else any inconclusive; else pass."""
    decisive = next((v for v in verdicts if v.outcome in ("fail", "not_applicable")), None)
    if decisive is not None:
        return _Combined(
            decisive.outcome, decisive.message, 0.0, decisive.sign_in, decisive.excerpt
        )
    unsure = next((v for v in verdicts if v.outcome == "inconclusive"), None)
    if unsure is not None:
        return _Combined("inconclusive", unsure.message, 0.0, None, unsure.excerpt)
    credit = min((v.credit for v in verdicts), default=1.0)
    excerpt = next((v.excerpt for v in verdicts if v.excerpt is not None), None)
    return _Combined("pass", "; ".join(v.message for v in verdicts), credit, None, excerpt)


def _with(judgement: _Judgement, **changes: object) -> _Judgement:
    return replace(judgement, **changes)  # type: ignore[arg-type]  # mypy cannot check **kwargs


# --- candidates ----------------------------------------------------------------------------


def _pick(plan: ProbePlan, judgements: list[_Judgement]) -> _Judgement:
    """Rule 6: the first pass; else an inconclusive; else all n/a; else the telling fail."""
    evidence = tuple(dict.fromkeys(k for j in judgements for k in j.evidence))
    observed = any(j.observed for j in judgements)
    if len(judgements) == 1:
        return judgements[0]
    labelled = [
        _with(j, message=f"at {_shown_path(t)}: {j.message}")
        for t, j in zip(plan.targets, judgements, strict=True)
    ]
    chosen = next((j for j in labelled if j.outcome == "pass"), None)
    chosen = chosen or next((j for j in labelled if j.outcome == "inconclusive"), None)
    if chosen is None and all(j.outcome == "not_applicable" for j in labelled):
        chosen = labelled[0]
    if chosen is None:
        # The most telling failure: a page that answered (an app shell, a wrong type)
        # says more than a 404 at another candidate.
        failures = [j for j in labelled if j.outcome == "fail"]
        chosen = next((j for j in failures if j.status not in (404, 410)), failures[0])
        others = len(judgements) - 1
        paths = "1 other path" if others == 1 else f"{others} other paths"
        chosen = _with(chosen, message=f"{chosen.message}; {paths} failed too")
    return _with(chosen, evidence=evidence, observed=observed)


def _shown_path(request: FetchRequest) -> str:
    parts = urlsplit(request.url)
    return quote(parts.path + (f"?{parts.query}" if parts.query else ""), 80)


def _finding(plan: ProbePlan, judgement: _Judgement) -> Finding:
    return Finding(
        system_id=plan.system.id,
        probe_id=plan.probe.id,
        criterion=plan.probe.criterion,
        weight=plan.probe.weight,
        outcome=judgement.outcome,
        message=judgement.message,
        evidence=judgement.evidence,
        observed=judgement.observed,
        credit=judgement.credit if judgement.outcome == "pass" else 0.0,
        sign_in=judgement.sign_in if judgement.outcome == "fail" else None,
        excerpt=judgement.excerpt,
    )
