"""probes/*.yaml → probe definitions and the rubric, validated.

One probe per file (its `id` is the file name) plus `rubric.yaml`. Everything is checked
against closed vocabularies: keys, criteria, effort, request fields, matcher names and
their arguments (each matcher validates its own), example outcomes. Every problem in
every file is collected and raised together as one MethodologyError, each located as
`file:line:col`. probes/README.md describes the format.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, cast

from api_audit.catalogue.rules import PROBE_ID_RE, PROBE_ID_RULE
from api_audit.errors import MethodologyError, Problem
from api_audit.loading import (
    LocatedValidator,
    PathKey,
    YamlDocument,
    YamlLoadError,
    did_you_mean,
    load_yaml_bytes,
    read_yaml_file,
)
from api_audit.methodology import LINKS, MATCHERS, BadArgument
from api_audit.models import (
    CLAIMS,
    CRITERIA,
    ENDPOINT_KINDS,
    LADDER_OPS,
    OUTCOMES,
    PROTOCOLS,
    SERVICE_AREAS,
    STANDARDS,
    Applicability,
    AttestationRule,
    Criterion,
    Expectation,
    FollowRequest,
    GradeBand,
    LadderCondition,
    LadderLevel,
    LadderOp,
    Methodology,
    ObservedBy,
    Outcome,
    Probe,
    ProbeExample,
    ProbeRequest,
    Rubric,
)

RUBRIC_FILE = "rubric.yaml"
EFFORTS = ("low", "medium", "high")
BASES = ("api_origin", *ENDPOINT_KINDS)
# Exchange.error words (models.Exchange), for examples that show a failed fetch.
EXCHANGE_ERRORS = (
    "timeout",
    "deadline",
    "connect",
    "dns",
    "tls",
    "blocked_address",
    "too_many_redirects",
    "too_large",
    "unsupported_encoding",
    "bad_url",
    "protocol",
    "robots",
)
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
_RUBRIC_REQUIRED = ("methodology_version", "criterion_weights", "coverage_floor", "grade_bands")
_RUBRIC_KEYS = (*_RUBRIC_REQUIRED, "attestations", "claimed_vs_observed", "ladder")
_BAND_KEYS = ("grade", "min_score")
_ATTESTATION_RULE_KEYS = ("criterion", "weight", "pass_when", "title")
_CHECK_SECTIONS = ("claims", "standards", "protocols")
_OBSERVED_BY_KEYS = ("probes", "invert")
_LEVEL_KEYS = ("level", "label", "requires")
IGNORE = "ignore"  # an attestation rule that keeps a claim out of the score


def load_methodology(directory: Path | None = None) -> Methodology:
    """Load and validate the probe set (the built-in one unless `directory` is given)."""
    source = directory if directory is not None else default_probe_directory()
    problems: list[Problem] = []
    files = _methodology_files(source, problems)
    probes: list[Probe] = []
    rubric: Rubric | None = None
    rubric_refs: _ProbeRefs | None = None
    for name, shown, raw in files:
        try:
            doc = load_yaml_bytes(raw, shown)
        except YamlLoadError as exc:
            problems.append(exc.problem)
            continue
        check = _Checker(doc)
        if name == RUBRIC_FILE:
            rubric, rubric_refs = _read_rubric(check)
        else:
            probe = _read_probe(check, name.removesuffix(".yaml"))
            if probe is not None:
                probes.append(probe)
        problems.extend(check.problems)
    names = {name for name, _, _ in files}
    if rubric_refs is not None:  # the rubric may only name probes that have a file
        problems.extend(rubric_refs.unknown({n.removesuffix(".yaml") for n in names}))
    if files and RUBRIC_FILE not in names:
        problems.append(Problem(_join(source, RUBRIC_FILE), 0, 0, "file is missing"))
    if files and names == {RUBRIC_FILE}:
        problems.append(Problem(str(source), 0, 0, "no probe files (*.yaml) found"))
    if problems or rubric is None:
        raise MethodologyError(problems)
    return Methodology(tuple(probes), rubric, methodology_sha256(files))


def default_probe_directory() -> Traversable:
    """The shipped probes: package api_audit.probe_data, or probes/ in a source tree."""
    try:
        return importlib.resources.files("api_audit.probe_data")
    except ModuleNotFoundError:  # running from a source tree that was not installed
        return Path(__file__).resolve().parent.parent / "probes"


def methodology_sha256(files: Iterable[tuple[str, str, bytes]]) -> str:
    """Hash of the sorted file names and bytes: identifies the probe set in a run."""
    digest = hashlib.sha256()
    for name, _, raw in sorted(files):
        digest.update(f"{name}\0{len(raw)}\0".encode())
        digest.update(raw)
    return digest.hexdigest()


def _methodology_files(
    source: Traversable, problems: list[Problem]
) -> list[tuple[str, str, bytes]]:
    """(file name, name shown in messages, bytes) for every *.yaml file, sorted by name."""
    try:
        entries = sorted(source.iterdir(), key=lambda e: e.name)
    except OSError as exc:
        problems.append(Problem(str(source), 0, 0, f"cannot read directory: {exc.strerror}"))
        return []
    files: list[tuple[str, str, bytes]] = []
    for entry in entries:
        if entry.name.endswith(".yml"):
            problems.append(Problem(str(entry), 0, 0, "probe files must end in .yaml"))
        if not entry.name.endswith(".yaml") or entry.is_dir():
            continue
        try:
            files.append((entry.name, str(entry), _read_probe_file(entry)))
        except YamlLoadError as exc:
            problems.append(exc.problem)
    if not files and not problems:
        problems.append(Problem(str(source), 0, 0, "no probe files (*.yaml) found"))
    return files


def _read_probe_file(entry: Traversable) -> bytes:
    """A file of a --probes directory is read as any input file is (a regular file, size
    capped: a FIFO or a device named *.yaml is refused, not waited on or read for ever);
    the shipped probes, which may live inside a wheel, are read as package data."""
    if isinstance(entry, Path):
        return read_yaml_file(entry)
    try:
        return entry.read_bytes()
    except OSError as exc:
        raise YamlLoadError(
            Problem(str(entry), 0, 0, f"cannot read file: {exc.strerror}")
        ) from None


def _join(source: Traversable, name: str) -> str:
    return str(source / name)


# --- a small checker that records problems as it reads ---------------------------------------


MISSING: object = object()  # a required key that is absent (already reported once)


class _Checker(LocatedValidator):
    """Reads one YAML document, recording a located Problem for everything wrong."""

    def mapping(
        self, at: PathKey, value: object, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, object] | None:
        """`value` as a mapping with only `allowed` keys and all `required` ones."""
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.error(at, "must be a mapping of key: value")
            return None
        for key in value:
            if key not in allowed:
                self.error(
                    (*at, str(key)), f"unknown key {key!r}{did_you_mean(key, allowed)}", key=True
                )
        for key in required:
            if key not in value:
                self.error(at, f"missing key {key!r}")
        return cast(dict[str, object], value)

    def text(self, at: PathKey, value: object, what: str) -> str:
        if value is MISSING:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error(at, f"{what} must be non-empty text")
            return ""
        return value

    def choice(self, at: PathKey, value: object, what: str, allowed: Iterable[str]) -> str:
        options = tuple(allowed)
        if value is MISSING:
            return options[0]
        if not isinstance(value, str) or value not in options:
            self.error(at, f"{what} {value!r} is not one of {', '.join(options)}")
            return options[0]
        return value

    def number(self, at: PathKey, value: object, what: str, low: float, high: float) -> float:
        if value is MISSING:
            return low
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.error(at, f"{what} must be a number")
            return low
        if not low <= value <= high:
            self.error(at, f"{what} must be from {low:g} to {high:g}")
        return float(value)


# --- probes ------------------------------------------------------------------------------------


def _read_probe(check: _Checker, stem: str) -> Probe | None:
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


def _read_request(check: _Checker, value: object) -> ProbeRequest:
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
        fallback=fallback,
        candidates=_read_candidates(check, (*at, "candidates"), candidates, base),
        scheme="http" if scheme == "http" else None,
        follow=_read_follow(check, (*at, "follow"), data.get("follow")),
    )


def _read_accept(check: _Checker, at: PathKey, accept: object) -> str | None:
    if accept is not None and (
        not isinstance(accept, str) or not accept.strip() or not accept.isprintable()
    ):
        check.error(at, "accept must be one line of text (an Accept header)")
    return accept if isinstance(accept, str) else None


def _check_path(check: _Checker, at: PathKey, path: object, base: str) -> None:
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


def _read_candidates(check: _Checker, at: PathKey, value: object, base: str) -> tuple[str, ...]:
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


def _read_follow(check: _Checker, at: PathKey, value: object) -> FollowRequest | None:
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


def _read_applies_to(check: _Checker, value: object) -> Applicability:
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
    check: _Checker, at: PathKey, value: object, allowed: Iterable[str]
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


def _read_fallback(check: _Checker, at: PathKey, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        check.error(at, "fallback must be a list of endpoint kinds")
        return ()
    return tuple(
        check.choice((*at, i), kind, "endpoint", ENDPOINT_KINDS) for i, kind in enumerate(value)
    )


def _read_expect(
    check: _Checker,
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


# --- examples ----------------------------------------------------------------------------------


def _read_examples(
    check: _Checker, value: object, request: ProbeRequest
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
    check: _Checker, at: PathKey, value: object, request: ProbeRequest
) -> ProbeExample | None:
    data = check.mapping(at, value, _EXAMPLE_KEYS, ("name", "outcome"))
    if data is None:
        return None
    missing = data.get("endpoint_missing", False)
    if not isinstance(missing, bool):
        check.error((*at, "endpoint_missing"), "endpoint_missing must be true or false")
    if missing is True and "response" in data:
        check.error((*at, "response"), "an example with endpoint_missing has no response", key=True)
    if missing is not True and "response" not in data and not _inapplicable_example(data):
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
    )


def _inapplicable_example(data: Mapping[str, object]) -> bool:
    """An example about applicability alone (other service areas or claims) needs no response."""
    return data.get("outcome") == "not_applicable" and (
        "service_areas" in data or "claimed" in data or "missing_endpoints" in data
    )


def _optional_words(
    check: _Checker, at: PathKey, data: Mapping[str, object], allowed: Iterable[str]
) -> tuple[str, ...] | None:
    key = str(at[-1])
    return _word_list(check, at, data[key], allowed) if key in data else None


def _read_more_responses(
    check: _Checker, at: PathKey, value: object, request: ProbeRequest
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


def _read_response(check: _Checker, at: PathKey, value: object) -> Mapping[str, object]:
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


# --- rubric ------------------------------------------------------------------------------------


class _ProbeRefs:
    """Probe ids the rubric names, with where: checked once every probe file is known."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.refs: list[tuple[str, PathKey]] = []

    def add(self, probe_id: str, at: PathKey) -> None:
        self.refs.append((probe_id, at))

    def unknown(self, known: set[str]) -> list[Problem]:
        return [
            self.doc.problem(at, f"unknown probe {probe_id!r}{did_you_mean(probe_id, known)}")
            for probe_id, at in self.refs
            if probe_id not in known
        ]


def _read_rubric(check: _Checker) -> tuple[Rubric | None, _ProbeRefs]:
    refs = _ProbeRefs(check.doc)
    data = check.mapping((), check.doc.data, _RUBRIC_KEYS, _RUBRIC_REQUIRED)
    if data is None:
        return None, refs
    version = data.get("methodology_version", MISSING)
    if version is not MISSING and (not isinstance(version, str) or not version.strip()):
        check.error(("methodology_version",), "methodology_version must be text (quote it)")
    checks = _read_claimed_vs_observed(check, data.get("claimed_vs_observed", MISSING), refs)
    rubric = Rubric(
        methodology_version=str(version),
        criterion_weights=_read_criterion_weights(check, data.get("criterion_weights", MISSING)),
        grade_bands=_read_grade_bands(check, data.get("grade_bands", MISSING)),
        coverage_floor=check.number(
            ("coverage_floor",), data.get("coverage_floor", MISSING), "coverage_floor", 0, 1
        ),
        attestations=_read_attestation_rules(check, data.get("attestations", MISSING)),
        claim_checks=checks.get("claims", {}),
        standard_checks=checks.get("standards", {}),
        protocol_checks=checks.get("protocols", {}),
        ladder=_read_ladder(check, data.get("ladder", MISSING), refs),
    )
    return rubric, refs


def _read_criterion_weights(check: _Checker, value: object) -> dict[str, float]:
    at: PathKey = ("criterion_weights",)
    data = check.mapping(at, value, CRITERIA, CRITERIA)
    if data is None:
        return {}
    weights: dict[str, float] = {
        c: check.number((*at, c), data[c], c, 0, 1) for c in CRITERIA if c in data
    }
    total = sum(weights.values())
    if len(weights) == len(CRITERIA) and not math.isclose(total, 1.0, abs_tol=1e-9):
        check.error(at, f"criterion weights must add up to 1 (they add up to {total:g})")
    return weights


def _read_grade_bands(check: _Checker, value: object) -> tuple[GradeBand, ...]:
    at: PathKey = ("grade_bands",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.error(at, "grade_bands must be a non-empty list of {grade, min_score}")
        return ()
    bands: list[GradeBand] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        data = check.mapping(item_at, item, _BAND_KEYS, _BAND_KEYS)
        if data is None or not all(k in data for k in _BAND_KEYS):
            continue
        grade = check.text((*item_at, "grade"), data["grade"], "grade")
        if grade == "?":
            check.error((*item_at, "grade"), "grade '?' is kept for too little coverage")
        score = check.number((*item_at, "min_score"), data["min_score"], "min_score", 0, 10)
        if bands and (grade in {b.grade for b in bands} or score >= bands[-1].min_score):
            check.error(item_at, "grade bands must be distinct, highest min_score first")
        bands.append(GradeBand(grade, score))
    if bands and bands[-1].min_score != 0:
        check.error(
            (*at, len(value) - 1, "min_score"),
            "the last grade band must start at 0, so every score gets a grade",
        )
    return tuple(bands)


# --- rubric: attestations, claimed vs observed ------------------------------------------------


def _read_attestation_rules(check: _Checker, value: object) -> dict[str, AttestationRule | None]:
    """Every catalogue claim gets a rule or an explicit `ignore` (no section: none is scored)."""
    at: PathKey = ("attestations",)
    if value is MISSING:
        return {}
    if not isinstance(value, dict):
        check.error(at, "attestations must map each claim to a rule or `ignore`")
        return {}
    rules: dict[str, AttestationRule | None] = {}
    for claim, rule in value.items():
        claim_at = (*at, str(claim))
        if claim not in CLAIMS:
            check.error(claim_at, f"unknown claim {claim!r}{did_you_mean(claim, CLAIMS)}", key=True)
            continue
        if rule == IGNORE:
            rules[claim] = None
            continue
        parsed = _read_attestation_rule(check, claim_at, rule)
        if parsed is not None:
            rules[claim] = parsed
    missing = [c for c in CLAIMS if c not in value]
    if missing:
        check.error(
            at,
            f"no rule for claim(s) {', '.join(missing)}: give each a rule or `{IGNORE}`",
            key=True,
        )
    return rules


def _read_attestation_rule(check: _Checker, at: PathKey, value: object) -> AttestationRule | None:
    if not isinstance(value, dict):
        check.error(at, f"a claim's rule is {{criterion, weight, pass_when, title}} or `{IGNORE}`")
        return None
    data = check.mapping(at, value, _ATTESTATION_RULE_KEYS, _ATTESTATION_RULE_KEYS)
    if data is None or not all(k in data for k in _ATTESTATION_RULE_KEYS):
        return None
    weight = check.number((*at, "weight"), data["weight"], "weight", 0, MAX_WEIGHT)
    if weight == 0:
        check.error((*at, "weight"), f"weight must be more than 0 (use `{IGNORE}` to drop it)")
    pass_when = data["pass_when"]
    if not isinstance(pass_when, bool):
        check.error((*at, "pass_when"), "pass_when must be true or false")
    return AttestationRule(
        criterion=cast(
            Criterion, check.choice((*at, "criterion"), data["criterion"], "criterion", CRITERIA)
        ),
        weight=weight,
        pass_when=pass_when is True,
        title=check.text((*at, "title"), data["title"], "title"),
    )


def _read_claimed_vs_observed(
    check: _Checker, value: object, refs: _ProbeRefs
) -> dict[str, dict[str, ObservedBy]]:
    """claims / standards / protocols -> word -> the probes that observe the same fact."""
    at: PathKey = ("claimed_vs_observed",)
    if value is MISSING:
        return {}
    data = check.mapping(at, value, _CHECK_SECTIONS)
    if data is None:
        return {}
    vocabularies = {"claims": CLAIMS, "standards": STANDARDS, "protocols": PROTOCOLS}
    sections: dict[str, dict[str, ObservedBy]] = {}
    for section, words in vocabularies.items():
        if section not in data:
            continue
        section_at = (*at, section)
        entries = data[section]
        if not isinstance(entries, dict):
            check.error(section_at, f"{section} must map each word to the probes that observe it")
            continue
        found: dict[str, ObservedBy] = {}
        for word, entry in entries.items():
            word_at = (*section_at, str(word))
            if word not in words:
                what = section.removesuffix("s")
                check.error(
                    word_at, f"unknown {what} {word!r}{did_you_mean(word, words)}", key=True
                )
                continue
            observed_by = _read_observed_by(check, word_at, entry, refs)
            if observed_by is not None:
                found[str(word)] = observed_by
        sections[section] = found
    return sections


def _read_observed_by(
    check: _Checker, at: PathKey, value: object, refs: _ProbeRefs
) -> ObservedBy | None:
    """`[probe ids]`, one probe id, or `{probes: [...], invert: true}`."""
    invert: object = False
    probes_at = at
    if isinstance(value, dict):
        data = check.mapping(at, value, _OBSERVED_BY_KEYS, ("probes",))
        if data is None or "probes" not in data:
            return None
        invert = data.get("invert", False)
        if not isinstance(invert, bool):
            check.error((*at, "invert"), "invert must be true or false")
        value, probes_at = data["probes"], (*at, "probes")
    probes = _probe_ids(check, probes_at, value, refs)
    return ObservedBy(probes, invert is True) if probes else None


def _probe_ids(check: _Checker, at: PathKey, value: object, refs: _ProbeRefs) -> tuple[str, ...]:
    """One probe id or a non-empty list of them, each recorded for the cross-file check."""
    if isinstance(value, str) and value:
        refs.add(value, at)
        return (value,)
    if not isinstance(value, list) or not value:
        check.error(at, "give a probe id or a non-empty list of probe ids")
        return ()
    ids: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            check.error((*at, index), "a probe id is text, the name of a probe file")
            continue
        refs.add(item, (*at, index))
        ids.append(item)
    return tuple(ids)


# --- rubric: the openness ladder ---------------------------------------------------------------

_PROBE_OPS = ("pass", "all_pass", "fail", "gated", "observed")
_WORD_OPS: dict[str, tuple[str, ...]] = {
    "protocol": PROTOCOLS,
    "standard": STANDARDS,
    "catalogue_endpoint": ENDPOINT_KINDS,
}


def _read_ladder(check: _Checker, value: object, refs: _ProbeRefs) -> tuple[LadderLevel, ...]:
    """Levels L0, L1, ... in order; L0 has no rules, every later level has `requires`."""
    at: PathKey = ("ladder",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or len(value) < 2:
        check.error(at, "ladder must list the levels L0, L1, ... (at least two) in order")
        return ()
    levels: list[LadderLevel] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        required = ("level", "label") if index == 0 else _LEVEL_KEYS
        data = check.mapping(item_at, item, _LEVEL_KEYS, required)
        if data is None:
            continue
        name = data.get("level", MISSING)
        if name is not MISSING and name != f"L{index}":
            check.error((*item_at, "level"), f"level {name!r} must be 'L{index}' (in order)")
        if index == 0 and "requires" in data:
            check.error((*item_at, "requires"), "L0 always holds: it has no `requires`", key=True)
        requires = None
        if index > 0 and "requires" in data:
            requires = _read_condition(check, (*item_at, "requires"), data["requires"], refs)
        label = check.text((*item_at, "label"), data.get("label", MISSING), "label")
        levels.append(LadderLevel(f"L{index}", label, requires))
    return tuple(levels)


def _read_condition(  # noqa: PLR0911 - one return per kind of operator, in vocabulary order
    check: _Checker, at: PathKey, value: object, refs: _ProbeRefs
) -> LadderCondition | None:
    if not isinstance(value, dict) or len(value) != 1:
        check.error(at, f"a condition is one `operator: argument` pair ({', '.join(LADDER_OPS)})")
        return None
    ((key, argument),) = value.items()
    op_at = (*at, str(key))
    if key not in LADDER_OPS:
        check.error(op_at, f"unknown condition {key!r}{did_you_mean(key, LADDER_OPS)}", key=True)
        return None
    op = cast(LadderOp, key)
    if op in _PROBE_OPS:
        if op == "all_pass" and not isinstance(argument, list):
            check.error(op_at, "all_pass takes a list of probe ids")
            return None
        probes = _probe_ids(check, op_at, argument, refs)
        return LadderCondition(op, probes=probes) if probes else None
    if op in _WORD_OPS:
        words = _condition_words(check, op_at, argument, op, _WORD_OPS[op])
        return LadderCondition(op, words=words) if words else None
    if op == "attested":
        claims = _condition_claims(check, op_at, argument)
        return LadderCondition(op, claims=claims) if claims else None
    if op == "not":
        child = _read_condition(check, op_at, argument, refs)
        return LadderCondition(op, children=(child,)) if child else None
    if not isinstance(argument, list) or not argument:
        check.error(op_at, f"{op} takes a non-empty list of conditions")
        return None
    children = [_read_condition(check, (*op_at, i), c, refs) for i, c in enumerate(argument)]
    kept = tuple(c for c in children if c is not None)
    return LadderCondition(op, children=kept) if len(kept) == len(children) else None


def _condition_words(
    check: _Checker, at: PathKey, value: object, op: str, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        check.error(at, f"{op} takes a word or a non-empty list of words")
        return ()
    words: list[str] = []
    for index, item in enumerate(items):
        item_at = (*at, index) if isinstance(value, list) else at
        if not isinstance(item, str) or item not in allowed:
            check.error(item_at, f"{op} {item!r} is not one of {', '.join(allowed)}")
            continue
        words.append(item)
    return tuple(words) if len(words) == len(items) else ()


def _condition_claims(
    check: _Checker, at: PathKey, value: object
) -> tuple[tuple[str, bool | str], ...]:
    if not isinstance(value, dict) or not value:
        check.error(at, "attested takes a mapping of claim: value, e.g. {api_access_fee: false}")
        return ()
    claims: list[tuple[str, bool | str]] = []
    for claim, claimed in value.items():
        claim_at = (*at, str(claim))
        if claim not in CLAIMS:
            check.error(claim_at, f"unknown claim {claim!r}{did_you_mean(claim, CLAIMS)}", key=True)
        elif not isinstance(claimed, bool | str) or claimed == "":
            check.error(claim_at, "a claim's value is true, false or a word")
        else:
            claims.append((str(claim), claimed))
    return tuple(claims) if len(claims) == len(value) else ()
