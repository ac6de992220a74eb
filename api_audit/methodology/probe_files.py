"""One probe file -> a Probe: its request, expectations (typed once), follow-up and examples."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, cast

from api_audit.catalogue.rules import PROBE_ID_RE, PROBE_ID_RULE
from api_audit.loading import (
    PathKey,
    did_you_mean,
)
from api_audit.methodology.checker import MISSING, Checker
from api_audit.methodology.matchers import LINKS, MATCHERS, BadArgument
from api_audit.models import (
    CRITERIA,
    ENDPOINT_KINDS,
    EXCHANGE_ERRORS,
    OUTCOMES,
    PROBE_ORIGIN,
    PROTOCOLS,
    SERVICE_AREAS,
    STANDARDS,
    Applicability,
    Criterion,
    Expectation,
    FollowRequest,
    Outcome,
    Probe,
    ProbeExample,
    ProbeRequest,
)

EFFORTS = ("low", "medium", "high")


BASES = ("api_origin", *ENDPOINT_KINDS)


MAX_WEIGHT = 10


_PROBE_KEYS = (
    "id",
    "title",
    "criterion",
    "weight",
    "why",
    "why_url",
    "request",
    "expect",
    "remediation",
    "effort",
    "examples",
)


_OPTIONAL_PROBE_KEYS = ("applies_to", "weight_reason")


_REQUEST_KEYS = (
    "endpoint",
    "fallback",
    "path",
    "candidates",
    "base",
    "method",
    "accept",
    "when_missing",
    "compare_random_path",
    "send_origin",
    "scheme",
    "follow",
)


_FOLLOW_KEYS = ("link", "accept", "expect", "when_no_link")


_APPLIES_TO_KEYS = ("service_areas", "claimed", "endpoints")


MAX_CANDIDATES = 5  # each candidate is one request per origin


_EXAMPLE_KEYS = (
    "name",
    "outcome",
    "credit",
    "response",
    "responses",
    "baseline",
    "followed",
    "endpoint_missing",
    "missing_endpoints",
    "searched_none",
    "service_areas",
    "claimed",
)


_RESPONSE_KEYS = (
    "status",
    "headers",
    "body",
    "final_url",
    "redirects",
    "error",
    "error_detail",
    "tls_version",
)


_HOP_KEYS = ("status", "url", "location")


def read_probe(check: Checker, stem: str) -> Probe | None:
    data = check.mapping((), check.doc.data, (*_PROBE_KEYS, *_OPTIONAL_PROBE_KEYS), _PROBE_KEYS)
    if data is None:
        return None
    probe_id = check.text(("id",), data.get("id", MISSING), "id")
    if probe_id and probe_id != stem:
        check.error(("id",), f"id {probe_id!r} must match the file name {stem!r}")
    elif not PROBE_ID_RE.fullmatch(stem):  # an id is printed and stored: plain letters only
        check.error(("id",), f"invalid probe id {stem!r}: {PROBE_ID_RULE}")
    criterion = check.choice(("criterion",), data.get("criterion", MISSING), "criterion", CRITERIA)
    raw_weight = data.get("weight", MISSING)
    weight = check.number(("weight",), raw_weight, "weight", 0, MAX_WEIGHT)
    if raw_weight == 0 and not isinstance(raw_weight, bool):
        check.error(("weight",), "weight must be more than 0 (remove the probe to drop it)")
    why_url = check.text(("why_url",), data.get("why_url", MISSING), "why_url")
    if why_url and not why_url.startswith(("https://", "http://")):
        check.error(("why_url",), "why_url must be an http(s) URL")
    request = _read_request(check, data.get("request", MISSING))
    expect = _read_expect(check, data.get("expect", MISSING), request)
    examples = _read_examples(check, data.get("examples", MISSING), request)
    weight_reason = ""
    if "weight_reason" in data:
        weight_reason = check.text(("weight_reason",), data["weight_reason"], "weight_reason")
    return Probe(
        id=stem,
        title=check.text(("title",), data.get("title", MISSING), "title"),
        criterion=cast(Criterion, criterion),
        weight=weight,
        why=check.text(("why",), data.get("why", MISSING), "why"),
        why_url=why_url,
        request=request,
        expect=expect,
        remediation=check.text(("remediation",), data.get("remediation", MISSING), "remediation"),
        effort=cast(
            Literal["low", "medium", "high"],
            check.choice(("effort",), data.get("effort", MISSING), "effort", EFFORTS),
        ),
        examples=examples,
        source=check.doc.path,
        applies_to=_read_applies_to(check, data.get("applies_to", MISSING)),
        weight_reason=" ".join(weight_reason.split()),
    )


def _read_request(check: Checker, value: object) -> ProbeRequest:
    at: PathKey = ("request",)
    data = check.mapping(at, value, _REQUEST_KEYS)
    if data is None:
        return ProbeRequest(endpoint="docs")
    endpoint, path, candidates = data.get("endpoint"), data.get("path"), data.get("candidates")
    given = [k for k in ("endpoint", "path", "candidates") if data.get(k) is not None]
    if given not in (["endpoint"], ["path"], ["candidates"], ["endpoint", "candidates"]):
        check.error(
            at,
            "give one of endpoint (a catalogue URL), path or candidates (paths under a base); "
            "candidates may also go with endpoint, to look for a URL the catalogue lacks",
        )
    base = check.choice((*at, "base"), data.get("base", "api_origin"), "base", BASES)
    if endpoint is not None:
        check.choice((*at, "endpoint"), endpoint, "endpoint", ENDPOINT_KINDS)
        if "base" in data and candidates is None:
            check.error((*at, "base"), "base goes with path or candidates", key=True)
    if path is not None:
        _check_path(check, (*at, "path"), path, base)
    if endpoint is None and "fallback" in data:
        check.error((*at, "fallback"), "fallback goes with endpoint, not path", key=True)
    fallback = _read_fallback(check, (*at, "fallback"), data.get("fallback", []))
    accept = _read_accept(check, (*at, "accept"), data.get("accept"))
    compare = data.get("compare_random_path", False)
    if not isinstance(compare, bool):
        check.error((*at, "compare_random_path"), "compare_random_path must be true or false")
    send_origin = data.get("send_origin", False)
    if not isinstance(send_origin, bool):
        check.error(
            (*at, "send_origin"),
            f"send_origin must be true or false (true sends Origin: {PROBE_ORIGIN})",
        )
    scheme = data.get("scheme")
    if scheme is not None and scheme != "http":
        check.error((*at, "scheme"), "scheme can only be http (fetch the http:// form of the URL)")
    return ProbeRequest(
        endpoint=endpoint if isinstance(endpoint, str) else None,
        path=path if isinstance(path, str) else None,
        base=base,
        method=cast(
            Literal["GET", "HEAD"],
            check.choice((*at, "method"), data.get("method", "GET"), "method", ("GET", "HEAD")),
        ),
        accept=accept,
        when_missing=cast(
            Literal["fail", "not_applicable"],
            check.choice(
                (*at, "when_missing"),
                data.get("when_missing", "not_applicable"),
                "when_missing",
                ("fail", "not_applicable"),
            ),
        ),
        compare_random_path=compare is True,
        send_origin=send_origin is True,
        fallback=fallback,
        candidates=_read_candidates(check, (*at, "candidates"), candidates, base),
        scheme="http" if scheme == "http" else None,
        follow=_read_follow(check, (*at, "follow"), data.get("follow")),
    )


def _read_accept(check: Checker, at: PathKey, accept: object) -> str | None:
    if accept is not None and (
        not isinstance(accept, str) or not accept.strip() or not accept.isprintable()
    ):
        check.error(at, "accept must be one line of text (an Accept header)")
    return accept if isinstance(accept, str) else None


def _check_path(check: Checker, at: PathKey, path: object, base: str) -> None:
    """A path is joined to the origin when it starts with "/", else to the base URL as a
    directory (probes/README.md "Paths"); it never names a host or climbs with '..'."""
    if (
        not isinstance(path, str)
        or not path
        or path.startswith("//")
        or "#" in path
        or any(ch.isspace() for ch in path)
        or ".." in path.split("?", 1)[0].split("/")
        or ":" in path.split("?", 1)[0].split("/", 1)[0]  # no scheme (http:...) either
    ):
        check.error(at, "a path holds no spaces, '..', '#', scheme or host")
        return
    if not path.startswith("/") and base == "api_origin":
        check.error(
            at,
            f"{path!r} is relative to a URL: give base (an endpoint kind such as api_base), "
            "or start the path with / for the origin",
        )


def _read_candidates(check: Checker, at: PathKey, value: object, base: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        check.error(at, "candidates must be a non-empty list of paths")
        return ()
    if len(value) > MAX_CANDIDATES:
        check.error(at, f"at most {MAX_CANDIDATES} candidates: each is a request per origin")
    if len(set(map(str, value))) != len(value):
        check.error(at, "candidates must be distinct")
    for index, path in enumerate(value):
        _check_path(check, (*at, index), path, base)
    return tuple(str(p) for p in value)


def _read_follow(check: Checker, at: PathKey, value: object) -> FollowRequest | None:
    if value is None:
        return None
    data = check.mapping(at, value, _FOLLOW_KEYS, ("link", "expect"))
    if data is None:
        return None
    link = data.get("link", MISSING)
    if link is not MISSING and link not in LINKS:
        check.error(
            (*at, "link"), f"unknown link {link!r}{did_you_mean(link, LINKS)} (see matchers.LINKS)"
        )
    expect = _read_expect(check, data.get("expect", MISSING), None, at=(*at, "expect"))
    when_no_link = check.choice(
        (*at, "when_no_link"),
        data.get("when_no_link", "fail"),
        "when_no_link",
        ("fail", "inconclusive", "not_applicable"),
    )
    return FollowRequest(
        link=str(link) if isinstance(link, str) else "",
        accept=_read_accept(check, (*at, "accept"), data.get("accept")),
        expect=expect,
        when_no_link=cast(Literal["fail", "inconclusive", "not_applicable"], when_no_link),
    )


def _read_applies_to(check: Checker, value: object) -> Applicability:
    at: PathKey = ("applies_to",)
    if value is MISSING:
        return Applicability()
    data = check.mapping(at, value, _APPLIES_TO_KEYS)
    if data is None:
        return Applicability()
    if not any(data.get(k) for k in _APPLIES_TO_KEYS):
        check.error(at, "give service_areas, claimed or endpoints (or drop applies_to)")
    words = {
        "service_areas": SERVICE_AREAS,
        "claimed": (*STANDARDS, *(p for p in PROTOCOLS if p not in STANDARDS)),
        "endpoints": ENDPOINT_KINDS,
    }
    read = {
        key: _word_list(check, (*at, key), data.get(key, []), allowed)
        for key, allowed in words.items()
    }
    return Applicability(read["service_areas"], read["claimed"], read["endpoints"])


def _word_list(
    check: Checker, at: PathKey, value: object, allowed: Iterable[str]
) -> tuple[str, ...]:
    options = tuple(allowed)
    if not isinstance(value, list):
        check.error(at, "give a list of words")
        return ()
    words: list[str] = []
    for index, word in enumerate(value):
        if word not in options:
            check.error(
                (*at, index),
                f"{word!r} is not one of the known words{did_you_mean(word, options)}",
            )
            continue
        words.append(str(word))
    return tuple(words)


def _read_fallback(check: Checker, at: PathKey, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        check.error(at, "fallback must be a list of endpoint kinds")
        return ()
    return tuple(
        check.choice((*at, i), kind, "endpoint", ENDPOINT_KINDS) for i, kind in enumerate(value)
    )


def _read_expect(
    check: Checker,
    value: object,
    request: ProbeRequest | None,
    *,
    at: PathKey = ("expect",),
) -> tuple[Expectation, ...]:
    """An `expect:` list; `request` is None for a follow's list (which has no baseline)."""
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.error(at, "expect must be a non-empty list of `matcher: argument` entries")
        return ()
    expectations: list[Expectation] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        if not isinstance(item, dict) or len(item) != 1:
            check.error(item_at, "each expectation is one `matcher: argument` pair")
            continue
        ((name, argument),) = item.items()
        spec = MATCHERS.get(str(name))
        if spec is None:
            check.error(
                (*item_at, str(name)),
                f"unknown matcher {name!r}{did_you_mean(name, MATCHERS)}",
                key=True,
            )
            continue
        try:
            value = spec.read(argument)  # parsed once, here; matchers take the typed value
        except BadArgument as exc:
            check.error((*item_at, str(name)), f"{name}: {exc.problem}")
            value = None
        if name == "not_soft_200" and (request is None or not request.compare_random_path):
            check.error(
                (*item_at, str(name)),
                "not_soft_200 needs `compare_random_path: true` in request"
                if request is not None
                else "not_soft_200 cannot check a followed link (it has no random-path baseline)",
                key=True,
            )
        expectations.append(Expectation(str(name), argument, check.line_of(item_at), value))
    return tuple(expectations)


def _read_examples(
    check: Checker, value: object, request: ProbeRequest
) -> tuple[ProbeExample, ...]:
    at: PathKey = ("examples",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.error(at, "examples must be a non-empty list")
        return ()
    examples: list[ProbeExample] = []
    names: set[str] = set()
    for index, item in enumerate(value):
        example = _read_example(check, (*at, index), item, request)
        if example is None:
            continue
        if example.name in names:
            check.error((*at, index, "name"), f"example name {example.name!r} is used twice")
        names.add(example.name)
        examples.append(example)
    outcomes = [item.get("outcome") if isinstance(item, dict) else None for item in value]
    if all(o in OUTCOMES for o in outcomes) and not {"pass", "fail"} <= set(outcomes):
        check.error(
            at, "needs at least one example with outcome pass and one with outcome fail", key=True
        )
    return tuple(examples)


def _read_example(
    check: Checker, at: PathKey, value: object, request: ProbeRequest
) -> ProbeExample | None:
    data = check.mapping(at, value, _EXAMPLE_KEYS, ("name", "outcome"))
    if data is None:
        return None
    missing = data.get("endpoint_missing", False)
    if not isinstance(missing, bool):
        check.error((*at, "endpoint_missing"), "endpoint_missing must be true or false")
    if missing is True and "response" in data:
        check.error((*at, "response"), "an example with endpoint_missing has no response", key=True)
    no_target = missing is True or data.get("searched_none") is True
    if not no_target and "response" not in data and not _inapplicable_example(data):
        check.error(at, "give a response (or endpoint_missing: true)")
    response = _read_response(check, (*at, "response"), data.get("response", {}))
    baseline = None
    if "baseline" in data:
        baseline = _read_response(check, (*at, "baseline"), data["baseline"])
    responses = _read_more_responses(check, (*at, "responses"), data.get("responses"), request)
    followed = None
    if "followed" in data:
        if request.follow is None:
            check.error((*at, "followed"), "followed goes with a request that has follow", key=True)
        followed = _read_response(check, (*at, "followed"), data["followed"])
    searched_none = data.get("searched_none", False)
    if not isinstance(searched_none, bool):
        check.error((*at, "searched_none"), "searched_none must be true or false")
    elif searched_none and not (missing is True or data.get("missing_endpoints")):
        check.error(
            (*at, "searched_none"),
            "searched_none goes with endpoint_missing or missing_endpoints",
            key=True,
        )
    credit = None
    if "credit" in data:
        credit = check.number((*at, "credit"), data["credit"], "credit", 0, 1)
        if data.get("outcome") != "pass":
            check.error((*at, "credit"), "credit goes with outcome pass", key=True)
    return ProbeExample(
        name=check.text((*at, "name"), data.get("name", MISSING), "name"),
        expect_outcome=cast(
            Outcome,
            check.choice((*at, "outcome"), data.get("outcome", MISSING), "outcome", OUTCOMES),
        ),
        response=response,
        baseline=baseline,
        endpoint_missing=missing is True,
        expect_credit=credit,
        responses=responses,
        followed=followed,
        service_areas=_optional_words(check, (*at, "service_areas"), data, SERVICE_AREAS),
        claimed=_optional_words(check, (*at, "claimed"), data, (*STANDARDS, *PROTOCOLS)),
        missing_endpoints=_word_list(
            check, (*at, "missing_endpoints"), data.get("missing_endpoints", []), ENDPOINT_KINDS
        ),
        searched_none=searched_none is True,
    )


def _inapplicable_example(data: Mapping[str, object]) -> bool:
    """An example about applicability alone (other service areas or claims) needs no response."""
    return data.get("outcome") == "not_applicable" and (
        "service_areas" in data or "claimed" in data or "missing_endpoints" in data
    )


def _optional_words(
    check: Checker, at: PathKey, data: Mapping[str, object], allowed: Iterable[str]
) -> tuple[str, ...] | None:
    key = str(at[-1])
    return _word_list(check, at, data[key], allowed) if key in data else None


def _read_more_responses(
    check: Checker, at: PathKey, value: object, request: ProbeRequest
) -> tuple[Mapping[str, object], ...]:
    """Responses to the second and later candidates (the first is `response`)."""
    if value is None:
        return ()
    if not request.candidates:
        check.error(at, "responses go with a request that has candidates", key=True)
        return ()
    if not isinstance(value, list) or not 0 < len(value) < len(request.candidates) + 1:
        check.error(at, "responses must list up to one response per later candidate")
        return ()
    return tuple(_read_response(check, (*at, i), item) for i, item in enumerate(value))


def _read_response(check: Checker, at: PathKey, value: object) -> Mapping[str, object]:
    data = check.mapping(at, value, _RESPONSE_KEYS)
    if data is None:
        return {}
    if "status" in data:
        check.number((*at, "status"), data["status"], "status", 100, 599)
    elif "error" not in data and data:
        check.error(at, "give a status (or an error)")
    if "error" in data:
        check.choice((*at, "error"), data["error"], "error", EXCHANGE_ERRORS)
    headers = data.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in headers.values()
    ):
        check.error((*at, "headers"), "headers must map header names to text")
    for key in ("body", "final_url", "error_detail", "tls_version"):
        if key in data and not isinstance(data[key], str):
            check.error((*at, key), f"{key} must be text")
    redirects = data.get("redirects", [])
    if not isinstance(redirects, list):
        check.error((*at, "redirects"), "redirects must be a list of {status, url, location}")
    else:
        for index, hop in enumerate(redirects):
            hop_at = (*at, "redirects", index)
            hop_data = check.mapping(hop_at, hop, _HOP_KEYS, _HOP_KEYS)
            if hop_data is not None:
                check.number((*hop_at, "status"), hop_data.get("status"), "status", 300, 399)
    return data
