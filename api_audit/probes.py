"""probes/*.yaml → probe definitions and the rubric, validated.

One probe per file (its `id` is the file name) plus `rubric.yaml`. Everything is checked
against closed vocabularies: keys, criteria, effort, request fields, matcher names and
their arguments (each matcher validates its own), example outcomes. Every problem in
every file is collected and raised together as one MethodologyError, each located as
`file:line:col`. probes/README.md describes the format.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import math
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, cast

from api_audit.errors import MethodologyError, Problem
from api_audit.matchers import MATCHERS
from api_audit.models import (
    CRITERIA,
    ENDPOINT_KINDS,
    OUTCOMES,
    Criterion,
    Expectation,
    GradeBand,
    Methodology,
    Outcome,
    Probe,
    ProbeExample,
    ProbeRequest,
    Rubric,
)
from api_audit.yamlfile import PathKey, YamlDocument, YamlLoadError, load_yaml_bytes

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
_REQUEST_KEYS = (
    "endpoint",
    "fallback",
    "path",
    "base",
    "method",
    "accept",
    "when_missing",
    "compare_random_path",
)
_EXAMPLE_KEYS = ("name", "outcome", "credit", "response", "baseline", "endpoint_missing")
_RESPONSE_KEYS = ("status", "headers", "body", "final_url", "redirects", "error", "error_detail")
_HOP_KEYS = ("status", "url", "location")
_RUBRIC_KEYS = ("methodology_version", "criterion_weights", "coverage_floor", "grade_bands")
_BAND_KEYS = ("grade", "min_score")


def load_methodology(directory: Path | None = None) -> Methodology:
    """Load and validate the probe set (the built-in one unless `directory` is given)."""
    source = directory if directory is not None else default_probe_directory()
    problems: list[Problem] = []
    files = _methodology_files(source, problems)
    probes: list[Probe] = []
    rubric: Rubric | None = None
    for name, shown, raw in files:
        try:
            doc = load_yaml_bytes(raw, shown)
        except YamlLoadError as exc:
            problems.append(exc.problem)
            continue
        check = _Checker(doc)
        if name == RUBRIC_FILE:
            rubric = _read_rubric(check)
        else:
            probe = _read_probe(check, name.removesuffix(".yaml"))
            if probe is not None:
                probes.append(probe)
        problems.extend(check.problems)
    names = {name for name, _, _ in files}
    if files and RUBRIC_FILE not in names:
        problems.append(Problem(_join(source, RUBRIC_FILE), 0, 0, "file is missing"))
    if files and names == {RUBRIC_FILE}:
        problems.append(Problem(str(source), 0, 0, "no probe files (*.yaml) found"))
    if problems or rubric is None:
        raise MethodologyError(problems)
    return Methodology(tuple(probes), rubric, methodology_sha256(files))


def default_probe_directory() -> Traversable:
    """The shipped probes: package api_audit.methodology, or probes/ in a source tree."""
    try:
        return importlib.resources.files("api_audit.methodology")
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
        if not entry.name.endswith(".yaml") or not entry.is_file():
            continue
        try:
            files.append((entry.name, str(entry), entry.read_bytes()))
        except OSError as exc:
            problems.append(Problem(str(entry), 0, 0, f"cannot read file: {exc.strerror}"))
    if not files and not problems:
        problems.append(Problem(str(source), 0, 0, "no probe files (*.yaml) found"))
    return files


def _join(source: Traversable, name: str) -> str:
    return str(source / name)


# --- a small checker that records problems as it reads ---------------------------------------


MISSING: object = object()  # a required key that is absent (already reported once)


class _Checker:
    """Reads one YAML document, recording a located Problem for everything wrong."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def fail(self, at: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(at, message, key=key))

    def mapping(
        self, at: PathKey, value: object, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, object] | None:
        """`value` as a mapping with only `allowed` keys and all `required` ones."""
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(at, "must be a mapping of key: value")
            return None
        for key in value:
            if key not in allowed:
                self.fail(
                    (*at, str(key)), f"unknown key {key!r}{_did_you_mean(key, allowed)}", key=True
                )
        for key in required:
            if key not in value:
                self.fail(at, f"missing key {key!r}")
        return cast(dict[str, object], value)

    def text(self, at: PathKey, value: object, what: str) -> str:
        if value is MISSING:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(at, f"{what} must be non-empty text")
            return ""
        return value

    def choice(self, at: PathKey, value: object, what: str, allowed: Iterable[str]) -> str:
        options = tuple(allowed)
        if value is MISSING:
            return options[0]
        if not isinstance(value, str) or value not in options:
            self.fail(at, f"{what} {value!r} is not one of {', '.join(options)}")
            return options[0]
        return value

    def number(self, at: PathKey, value: object, what: str, low: float, high: float) -> float:
        if value is MISSING:
            return low
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.fail(at, f"{what} must be a number")
            return low
        if not low <= value <= high:
            self.fail(at, f"{what} must be from {low:g} to {high:g}")
        return float(value)

    def line(self, at: PathKey) -> int:
        return self.doc.value_marks.get(at, (0, 0))[0]


def _did_you_mean(word: object, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- probes ------------------------------------------------------------------------------------


def _read_probe(check: _Checker, stem: str) -> Probe | None:
    data = check.mapping((), check.doc.data, _PROBE_KEYS, _PROBE_KEYS)
    if data is None:
        return None
    probe_id = check.text(("id",), data.get("id", MISSING), "id")
    if probe_id and probe_id != stem:
        check.fail(("id",), f"id {probe_id!r} must match the file name {stem!r}")
    criterion = check.choice(("criterion",), data.get("criterion", MISSING), "criterion", CRITERIA)
    raw_weight = data.get("weight", MISSING)
    weight = check.number(("weight",), raw_weight, "weight", 0, MAX_WEIGHT)
    if raw_weight == 0 and not isinstance(raw_weight, bool):
        check.fail(("weight",), "weight must be more than 0 (remove the probe to drop it)")
    why_url = check.text(("why_url",), data.get("why_url", MISSING), "why_url")
    if why_url and not why_url.startswith(("https://", "http://")):
        check.fail(("why_url",), "why_url must be an http(s) URL")
    request = _read_request(check, data.get("request", MISSING))
    expect = _read_expect(check, data.get("expect", MISSING), request)
    examples = _read_examples(check, data.get("examples", MISSING))
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
    )


def _read_request(check: _Checker, value: object) -> ProbeRequest:
    at: PathKey = ("request",)
    data = check.mapping(at, value, _REQUEST_KEYS)
    if data is None:
        return ProbeRequest(endpoint="docs")
    endpoint = data.get("endpoint")
    path = data.get("path")
    if (endpoint is None) == (path is None):
        check.fail(at, "give exactly one of endpoint (a catalogue URL) or path (under an origin)")
    if endpoint is not None:
        check.choice((*at, "endpoint"), endpoint, "endpoint", ENDPOINT_KINDS)
        if "base" in data:
            check.fail((*at, "base"), "base goes with path, not endpoint", key=True)
    if path is not None:
        _check_path(check, (*at, "path"), path)
        if "fallback" in data:
            check.fail((*at, "fallback"), "fallback goes with endpoint, not path", key=True)
    fallback = _read_fallback(check, (*at, "fallback"), data.get("fallback", []))
    accept = data.get("accept")
    if accept is not None and (
        not isinstance(accept, str) or not accept.strip() or not accept.isprintable()
    ):
        check.fail((*at, "accept"), "accept must be one line of text (an Accept header)")
    compare = data.get("compare_random_path", False)
    if not isinstance(compare, bool):
        check.fail((*at, "compare_random_path"), "compare_random_path must be true or false")
    return ProbeRequest(
        endpoint=endpoint if isinstance(endpoint, str) else None,
        path=path if isinstance(path, str) else None,
        base=check.choice((*at, "base"), data.get("base", "api_origin"), "base", BASES),
        method=cast(
            Literal["GET", "HEAD"],
            check.choice((*at, "method"), data.get("method", "GET"), "method", ("GET", "HEAD")),
        ),
        accept=accept if isinstance(accept, str) else None,
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
    )


def _check_path(check: _Checker, at: PathKey, path: object) -> None:
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.startswith("//")
        or "#" in path
        or any(ch.isspace() for ch in path)
        or ".." in path.split("?", 1)[0].split("/")
    ):
        check.fail(at, "path must start with / and hold no spaces, '..', '#' or host")


def _read_fallback(check: _Checker, at: PathKey, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        check.fail(at, "fallback must be a list of endpoint kinds")
        return ()
    return tuple(
        check.choice((*at, i), kind, "endpoint", ENDPOINT_KINDS) for i, kind in enumerate(value)
    )


def _read_expect(check: _Checker, value: object, request: ProbeRequest) -> tuple[Expectation, ...]:
    at: PathKey = ("expect",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.fail(at, "expect must be a non-empty list of `matcher: argument` entries")
        return ()
    expectations: list[Expectation] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        if not isinstance(item, dict) or len(item) != 1:
            check.fail(item_at, "each expectation is one `matcher: argument` pair")
            continue
        ((name, argument),) = item.items()
        spec = MATCHERS.get(str(name))
        if spec is None:
            check.fail(
                (*item_at, str(name)),
                f"unknown matcher {name!r}{_did_you_mean(name, MATCHERS)}",
                key=True,
            )
            continue
        problem = spec.validate(argument)
        if problem:
            check.fail((*item_at, str(name)), f"{name}: {problem}")
        if name == "not_soft_200" and not request.compare_random_path:
            check.fail(
                (*item_at, str(name)),
                "not_soft_200 needs `compare_random_path: true` in request",
                key=True,
            )
        expectations.append(Expectation(str(name), argument, check.line(item_at)))
    return tuple(expectations)


# --- examples ----------------------------------------------------------------------------------


def _read_examples(check: _Checker, value: object) -> tuple[ProbeExample, ...]:
    at: PathKey = ("examples",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.fail(at, "examples must be a non-empty list")
        return ()
    examples: list[ProbeExample] = []
    names: set[str] = set()
    for index, item in enumerate(value):
        example = _read_example(check, (*at, index), item)
        if example is None:
            continue
        if example.name in names:
            check.fail((*at, index, "name"), f"example name {example.name!r} is used twice")
        names.add(example.name)
        examples.append(example)
    outcomes = [item.get("outcome") if isinstance(item, dict) else None for item in value]
    if all(o in OUTCOMES for o in outcomes) and not {"pass", "fail"} <= set(outcomes):
        check.fail(
            at, "needs at least one example with outcome pass and one with outcome fail", key=True
        )
    return tuple(examples)


def _read_example(check: _Checker, at: PathKey, value: object) -> ProbeExample | None:
    data = check.mapping(at, value, _EXAMPLE_KEYS, ("name", "outcome"))
    if data is None:
        return None
    missing = data.get("endpoint_missing", False)
    if not isinstance(missing, bool):
        check.fail((*at, "endpoint_missing"), "endpoint_missing must be true or false")
    if missing is True and "response" in data:
        check.fail((*at, "response"), "an example with endpoint_missing has no response", key=True)
    if missing is not True and "response" not in data:
        check.fail(at, "give a response (or endpoint_missing: true)")
    response = _read_response(check, (*at, "response"), data.get("response", {}))
    baseline = None
    if "baseline" in data:
        baseline = _read_response(check, (*at, "baseline"), data["baseline"])
    credit = None
    if "credit" in data:
        credit = check.number((*at, "credit"), data["credit"], "credit", 0, 1)
        if data.get("outcome") != "pass":
            check.fail((*at, "credit"), "credit goes with outcome pass", key=True)
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
    )


def _read_response(check: _Checker, at: PathKey, value: object) -> Mapping[str, object]:
    data = check.mapping(at, value, _RESPONSE_KEYS)
    if data is None:
        return {}
    if "status" in data:
        check.number((*at, "status"), data["status"], "status", 100, 599)
    elif "error" not in data and data:
        check.fail(at, "give a status (or an error)")
    if "error" in data:
        check.choice((*at, "error"), data["error"], "error", EXCHANGE_ERRORS)
    headers = data.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in headers.values()
    ):
        check.fail((*at, "headers"), "headers must map header names to text")
    for key in ("body", "final_url", "error_detail"):
        if key in data and not isinstance(data[key], str):
            check.fail((*at, key), f"{key} must be text")
    redirects = data.get("redirects", [])
    if not isinstance(redirects, list):
        check.fail((*at, "redirects"), "redirects must be a list of {status, url, location}")
    else:
        for index, hop in enumerate(redirects):
            hop_at = (*at, "redirects", index)
            hop_data = check.mapping(hop_at, hop, _HOP_KEYS, _HOP_KEYS)
            if hop_data is not None:
                check.number((*hop_at, "status"), hop_data.get("status"), "status", 300, 399)
    return data


# --- rubric ------------------------------------------------------------------------------------


def _read_rubric(check: _Checker) -> Rubric | None:
    data = check.mapping((), check.doc.data, _RUBRIC_KEYS, _RUBRIC_KEYS)
    if data is None:
        return None
    version = data.get("methodology_version", MISSING)
    if version is not MISSING and (not isinstance(version, str) or not version.strip()):
        check.fail(("methodology_version",), "methodology_version must be text (quote it)")
    return Rubric(
        methodology_version=str(version),
        criterion_weights=_read_criterion_weights(check, data.get("criterion_weights", MISSING)),
        grade_bands=_read_grade_bands(check, data.get("grade_bands", MISSING)),
        coverage_floor=check.number(
            ("coverage_floor",), data.get("coverage_floor", MISSING), "coverage_floor", 0, 1
        ),
    )


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
        check.fail(at, f"criterion weights must add up to 1 (they add up to {total:g})")
    return weights


def _read_grade_bands(check: _Checker, value: object) -> tuple[GradeBand, ...]:
    at: PathKey = ("grade_bands",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.fail(at, "grade_bands must be a non-empty list of {grade, min_score}")
        return ()
    bands: list[GradeBand] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        data = check.mapping(item_at, item, _BAND_KEYS, _BAND_KEYS)
        if data is None or not all(k in data for k in _BAND_KEYS):
            continue
        grade = check.text((*item_at, "grade"), data["grade"], "grade")
        if grade == "?":
            check.fail((*item_at, "grade"), "grade '?' is kept for too little coverage")
        score = check.number((*item_at, "min_score"), data["min_score"], "min_score", 0, 10)
        if bands and (grade in {b.grade for b in bands} or score >= bands[-1].min_score):
            check.fail(item_at, "grade bands must be distinct, highest min_score first")
        bands.append(GradeBand(grade, score))
    if bands and bands[-1].min_score != 0:
        check.fail(
            (*at, len(value) - 1, "min_score"),
            "the last grade band must start at 0, so every score gets a grade",
        )
    return tuple(bands)
