"""Catalogue systems x probes → the requests to make (deduplicated); pure.

Each (system, probe) pair becomes a ProbePlan: the target request (or why there is none)
and, for probes that compare with a random path, the baseline request. Equal requests are
equal FetchRequests, so the HTTP engine fetches each once per run however many systems or
probes need it (two systems on one origin share their well-known and baseline requests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from api_audit.models import FetchRequest, Methodology, Probe, ProbeRequest, System

# The origin of an API: where its well-known documents live (RFC 8615).
API_ORIGIN_FROM = ("api_base", "spec", "docs")
BASELINE_PREFIX = "/__api_audit_"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ProbePlan:
    system: System
    probe: Probe
    target: FetchRequest | None
    baseline: FetchRequest | None  # a random path on the target's origin, when compared
    missing: str = ""  # why target is None, e.g. "no spec URL in the catalogue"


def plan_probes(
    systems: Sequence[System], methodology: Methodology, random_token: str
) -> list[ProbePlan]:
    """Every probe for every system, in catalogue order then probe order.

    `random_token` makes the baseline path (`/__api_audit_<token>`); one token per run,
    so every probe of one origin with the same Accept shares one baseline request.
    """
    if not _TOKEN.match(random_token):
        raise ValueError("random_token must be 1-64 letters, digits, '-' or '_'")
    return [
        plan_probe(system, probe, random_token)
        for system in systems
        for probe in methodology.probes
    ]


def plan_probe(system: System, probe: Probe, random_token: str) -> ProbePlan:
    """The requests one probe needs for one system."""
    request = probe.request
    url, missing = _target_url(system, request)
    if url is None:
        return ProbePlan(system, probe, None, None, missing)
    target = FetchRequest(url=url, method=request.method, accept=request.accept)
    baseline = None
    if request.compare_random_path:
        # The same Accept as the target, so a server that negotiates content is compared
        # like with like; GET, because the comparison needs the body.
        baseline = FetchRequest(
            url=origin_of(url) + BASELINE_PREFIX + random_token, accept=request.accept
        )
    return ProbePlan(system, probe, target, baseline, "")


def distinct_requests(plans: Iterable[ProbePlan]) -> list[FetchRequest]:
    """Every target and baseline request once, in first-needed order."""
    seen: dict[str, FetchRequest] = {}
    for plan in plans:
        for request in (plan.target, plan.baseline):
            if request is not None and request.key not in seen:
                seen[request.key] = request
    return list(seen.values())


def origin_of(url: str) -> str:
    """scheme://host[:port] of an absolute URL, lower case, without user info."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme.lower()}://{host.lower()}"


def api_origin(system: System) -> str | None:
    """The origin of api_base, else of spec, else of docs; None when there is none."""
    for kind in API_ORIGIN_FROM:
        url = system.endpoint(kind)
        if url:
            return origin_of(url)
    return None


def _target_url(system: System, request: ProbeRequest) -> tuple[str | None, str]:
    """(URL to fetch, "") or (None, why not)."""
    if request.endpoint is not None:
        for kind in (request.endpoint, *request.fallback):
            url = system.endpoint(kind)
            if url:
                return url, ""
        return None, f"no {_either(request.endpoint, *request.fallback)} URL in the catalogue"
    path = request.path or "/"
    if request.base == "api_origin":
        origin = api_origin(system)
        if origin is None:
            return None, "no API origin in the catalogue (no api_base, spec or docs URL)"
    else:
        base_url = system.endpoint(request.base)
        if not base_url:
            return None, f"no {request.base} URL in the catalogue"
        origin = origin_of(base_url)
    return origin + path, ""


def _either(*words: str) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
