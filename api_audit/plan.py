"""Catalogue systems x probes → the requests to make (deduplicated); pure.

Each (system, probe) pair becomes a ProbePlan: whether the probe applies to the system, its
target request (or why there is none), any later candidate requests, and, for probes that
compare with a random path, the baseline request. Equal requests are equal FetchRequests, so
the HTTP engine fetches each once per run however many systems or probes need it (two
systems on one origin share their well-known and baseline requests).

Paths (probes/README.md "Paths"): "/x" is joined to the origin of the base; "x" (no leading
slash) to the base URL as a directory, so `services.json` under https://h/open311/v2 is
https://h/open311/v2/services.json. A probe's second-stage (`follow`) requests depend on
what the first responses say: evaluate.follow_up_requests plans them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from api_audit.models import (
    PROBE_ORIGIN,
    Applicability,
    FetchRequest,
    Methodology,
    Outcome,
    Probe,
    ProbeRequest,
    Research,
    System,
)

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
    alternatives: tuple[FetchRequest, ...] = ()  # later candidates, in the probe's order
    applicable: bool = True  # False: the probe does not apply to this system (see missing)
    target_kind: str | None = None  # the catalogue endpoint kind the target came from
    # The outcome when there is no target: see `missing_target`.
    missing_outcome: Outcome = "not_applicable"

    @property
    def targets(self) -> tuple[FetchRequest, ...]:
        """The target and its alternatives: the probe passes on the first that passes."""
        return () if self.target is None else (self.target, *self.alternatives)


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
    reason = inapplicable_reason(system, probe.applies_to)
    if reason:
        return ProbePlan(system, probe, None, None, reason, applicable=False)
    request = probe.request
    urls, kind, missing = _target_urls(system, request)
    if request.scheme == "http" and urls:
        urls, no_http_form = _http_forms(urls)
        if no_http_form:
            return ProbePlan(system, probe, None, None, no_http_form, applicable=False)
    if not urls:
        outcome, missing = missing_target(system, request, missing)
        return ProbePlan(system, probe, None, None, missing, missing_outcome=outcome)
    sent_origin = PROBE_ORIGIN if request.send_origin else None
    targets = [
        FetchRequest(url=u, method=request.method, accept=request.accept, origin=sent_origin)
        for u in urls
    ]
    baseline = None
    if request.compare_random_path:
        # The same Accept (and Origin) as the target, so a server that negotiates content
        # is compared like with like; GET, because the comparison needs the body.
        baseline = FetchRequest(
            url=origin_of(urls[0]) + BASELINE_PREFIX + random_token,
            accept=request.accept,
            origin=sent_origin,
        )
    return ProbePlan(system, probe, targets[0], baseline, "", tuple(targets[1:]), True, kind)


def missing_target(system: System, request: ProbeRequest, lacking: str) -> tuple[Outcome, str]:
    """(outcome, message) for a probe with no URL to fetch: a gap in our research is not
    the supplier's failure (methodology 2027.01, rubric.yaml "silence").

    `when_missing: not_applicable` probes (optional endpoints: pricing, terms, sandbox)
    do not apply. A `when_missing: fail` probe fails only where the catalogue records a
    search that found no such URL, as of its date; otherwise it was not measured
    (inconclusive), which lowers coverage instead of the score.
    """
    if request.when_missing == "not_applicable":
        return "not_applicable", lacking
    research = system.searched_none(request.endpoint)
    if research is not None:
        return "fail", f"{lacking}: {describe_search(research)}"
    state = system.research_state.replace("-", " ")
    return "inconclusive", f"not measured: {lacking} (research state: {state})"


def describe_search(research: Research) -> str:
    """ "none found when searched on 2026-11-20 (supplier website, G-Cloud)"."""
    where = f" ({'; '.join(research.where)})" if research.where else ""
    searched = research.searched.isoformat() if research.searched else "an unknown date"
    return f"none found when searched on {searched}{where}"


def inapplicable_reason(system: System, applies: Applicability) -> str:
    """Why a probe with these `applies_to` rules does not apply to a system ("" if it does)."""
    if applies.service_areas or applies.claimed:
        claims = {*system.standards, *system.protocols}
        if not (set(system.service_areas) & set(applies.service_areas)) and not (
            claims & set(applies.claimed)
        ):
            wanted = _either(*applies.service_areas) + " systems" if applies.service_areas else ""
            if applies.claimed:
                claimed = f"a claim of {_either(*applies.claimed)}"
                wanted = f"{wanted} or {claimed}" if wanted else f"systems with {claimed}"
            this = ", ".join(system.service_areas) or "in no service area"
            return f"applies to {wanted}; this one is {this}"
    absent = [kind for kind in applies.endpoints if not system.endpoint(kind)]
    if absent:
        return f"applies to systems with a {_either(*absent)} URL in the catalogue"
    return ""


def distinct_requests(plans: Iterable[ProbePlan]) -> list[FetchRequest]:
    """Every target and baseline request once, in first-needed order."""
    seen: dict[str, FetchRequest] = {}
    for plan in plans:
        for request in (*plan.targets, plan.baseline):
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


def join_path(base_url: str, path: str) -> str:
    """A probe path joined to a URL: "/x" to its origin, "x" to it as a directory."""
    if path.startswith("/"):
        return origin_of(base_url) + path
    parts = urlsplit(base_url)
    directory = parts.path if parts.path.endswith("/") else parts.path + "/"
    origin = origin_of(base_url)  # lower case, without user info, as for "/x" paths
    return origin + urlunsplit(("", "", directory, "", "")) + path


def _target_urls(system: System, request: ProbeRequest) -> tuple[list[str], str | None, str]:
    """(URLs to fetch in order, the endpoint kind they came from, "") or ([], None, why not)."""
    lacking = ""
    if request.endpoint is not None:
        kinds = (request.endpoint, *request.fallback)
        for kind in kinds:
            url = system.endpoint(kind)
            if url:
                return [url], kind, ""
        lacking = f"no {_either(*kinds)} URL in the catalogue"
        if not request.candidates:
            return [], None, lacking
    paths = request.candidates or (request.path or "/",)
    urls: list[str] = []
    for path in paths:
        base_url, why = _base_url(system, request.base, relative=not path.startswith("/"))
        if base_url is None:
            return [], None, f"{lacking}, and {why}" if lacking else why
        url = join_path(base_url, path)
        if url not in urls:
            urls.append(url)
    return urls, None, ""


def _base_url(system: System, base: str, *, relative: bool) -> tuple[str | None, str]:
    """The URL a path is joined to, or (None, why there is none)."""
    if base == "api_origin" and not relative:
        origin = api_origin(system)
        if origin is None:
            return None, "no API origin in the catalogue (no api_base, spec or docs URL)"
        return origin, ""
    url = system.endpoint(base)
    return (url, "") if url else (None, f"no {base} URL in the catalogue")


def _http_forms(urls: list[str]) -> tuple[list[str], str]:
    """(the http:// form of each https URL, "") for `scheme: http`; or ([], why not): the
    URL is http already (the https probe judges that one fact, so it is not counted twice),
    or it names a port other than 443, whose http counterpart cannot be known."""
    forms: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() != "https":
            return [], "the catalogue URL is http already (the https probe judges it)"
        if parts.port not in (None, 443):
            return [], f"the URL names port {parts.port}, so its http form is unknown"
        netloc = parts.netloc.rpartition("@")[2].removesuffix(":443")
        forms.append(urlunsplit(("http", netloc, parts.path, parts.query, "")))
    return forms, ""


def _either(*words: str) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
