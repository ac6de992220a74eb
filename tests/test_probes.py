"""The shipped probe set: every example runs as a test; the loader reports every problem in
every file as file:line:col; the probe set's hash is stable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from api_audit.errors import MethodologyError
from api_audit.methodology import default_probe_directory, load_methodology
from api_audit.methodology.examples import run_example
from api_audit.models import CRITERIA, Applicability, Probe, ProbeExample

SHIPPED = load_methodology()
EXAMPLES = [(probe, example) for probe in SHIPPED.probes for example in probe.examples]


@pytest.mark.parametrize(
    ("probe", "example"), EXAMPLES, ids=[f"{p.id}: {e.name}" for p, e in EXAMPLES]
)
def test_shipped_example(probe: Probe, example: ProbeExample) -> None:
    finding = run_example(probe, example)
    assert finding.outcome == example.expect_outcome, finding.message
    if example.expect_credit is not None:
        assert finding.credit == example.expect_credit
    assert finding.message


def test_the_issue_2_probe_set_is_shipped() -> None:
    assert {p.id for p in SHIPPED.probes} >= {
        "docs-public",
        "openapi-published",
        "api-catalog",
        "docs-anonymous",
        "spec-anonymous",
        "oauth-discovery",
        "security-txt",
        "https",
    }
    assert {p.criterion for p in SHIPPED.probes} == {"documented", "free", "standards", "hygiene"}
    assert [p.id for p in SHIPPED.probes] == sorted(p.id for p in SHIPPED.probes)


@pytest.mark.parametrize("probe", SHIPPED.probes, ids=[p.id for p in SHIPPED.probes])
def test_every_probe_has_pass_and_fail_examples(probe: Probe) -> None:
    outcomes = {e.expect_outcome for e in probe.examples}
    assert {"pass", "fail"} <= outcomes
    assert probe.why_url.startswith("https://")
    assert Path(probe.source).name == f"{probe.id}.yaml"


SECTOR_STANDARDS = {
    "open311": {"highways", "waste", "crm", "parking", "public-protection"},
    "open-referral": {"directories", "social-care", "education", "crm"},
    "ogc-api-features": {"geospatial", "planning", "highways", "assets"},
    "fhir-capability": {"social-care"},
    "icalendar": {"waste", "democracy", "libraries"},
    "ckan-api": {"open-data"},
}


def test_the_issue_4_probe_library_is_shipped() -> None:
    ids = {p.id for p in SHIPPED.probes}
    assert len(ids) >= 25
    assert ids >= {
        "openapi-quality",
        "docs-link-spec",
        "apis-json",
        "changelog-published",
        "versioned-api",
        "self-service-signup",
        "pricing-stated",
        "open-data-keyless",
        "open-data-cors",
        "data-licence",
        "sandbox-advertised",
        "rate-limits-published",
        "http-redirects-to-https",
        "tls-version",
        "json-responses",
        "utf-8",
        "problem-json-errors",
        "deprecation-signals",
        "not-soap-only",
        "odata-metadata",
        "graphql",
        *SECTOR_STANDARDS,
    }


@pytest.mark.parametrize("probe", SHIPPED.probes, ids=[p.id for p in SHIPPED.probes])
def test_every_probe_says_why_its_weight_and_fixes(probe: Probe) -> None:
    assert probe.weight_reason, "say why the weight in one line (weight_reason)"
    assert "\n" not in probe.weight_reason
    assert probe.remediation and probe.effort in ("low", "medium", "high")
    assert len(probe.request.candidates) <= 5


@pytest.mark.parametrize(("probe_id", "areas"), SECTOR_STANDARDS.items())
def test_sector_standards_apply_only_to_their_areas(probe_id: str, areas: set[str]) -> None:
    probe = next(p for p in SHIPPED.probes if p.id == probe_id)
    assert set(probe.applies_to.service_areas) == areas
    assert probe.applies_to.claimed  # a claim of the standard brings it in too
    assert probe.criterion == "standards"
    # A data standard leads the criterion where it applies, but one missing standard must
    # not sink a system: 3 of the 13 or more weight points every system's standards
    # criterion has. Calendar feeds are a bonus (looked for on the docs page alone).
    assert probe.weight == (1 if probe_id == "icalendar" else 3)


HYGIENE = {"https", "http-redirects-to-https", "tls-version", "utf-8", "security-txt"}


def test_standards_are_led_by_open_data_and_interface_standards() -> None:
    """Methodology 2027.01: generic web hygiene has its own, small criterion; what
    "standards" measures is the open standards that decide interoperability."""
    by_criterion = {
        c: {p.id: p.weight for p in SHIPPED.probes if p.criterion == c} for c in CRITERIA
    }
    assert set(by_criterion["hygiene"]) == HYGIENE
    standards = by_criterion["standards"]
    assert not HYGIENE & set(standards)
    leaders = {
        probe_id for probe_id, weight in standards.items() if weight == max(standards.values())
    }
    assert leaders == {"openapi-standard", *SECTOR_STANDARDS} - {"icalendar"}
    assert standards["oauth-discovery"] >= 2
    weights = SHIPPED.rubric.criterion_weights
    assert weights["hygiene"] < weights["standards"] / 2
    # Every system is asked these whatever its service area: interface standards
    # outweigh hygiene within what applies to all.
    everywhere = {p.id for p in SHIPPED.probes if p.applies_to == Applicability()}
    general = sum(w for i, w in standards.items() if i in everywhere)
    assert (
        general * weights["standards"] > sum(by_criterion["hygiene"].values()) * weights["hygiene"]
    )


@pytest.mark.parametrize("probe_id", ["odata-metadata", "graphql"])
def test_protocols_apply_only_where_claimed(probe_id: str) -> None:
    probe = next(p for p in SHIPPED.probes if p.id == probe_id)
    assert probe.applies_to.service_areas == ()
    assert probe.applies_to.claimed


def test_fakes_are_shown_failing() -> None:
    """Every sector or protocol standard ships a fake (app shell, wrong type, truncated
    JSON or a login redirect) as a failing example."""
    for probe_id in [*SECTOR_STANDARDS, "odata-metadata", "graphql", "apis-json"]:
        probe = next(p for p in SHIPPED.probes if p.id == probe_id)
        failing = " ".join(e.name for e in probe.examples if e.expect_outcome == "fail")
        assert any(
            word in failing for word in ("shell", "truncated", "cut off", "content type", "HTML")
        ), probe_id


def test_shipped_rubric() -> None:
    rubric = SHIPPED.rubric
    assert rubric.methodology_version == "2027.01"
    assert sum(rubric.criterion_weights.values()) == pytest.approx(1.0)
    assert [b.grade for b in rubric.grade_bands] == ["A", "B", "C", "D", "E"]
    assert rubric.coverage_floor == 0.5


# --- the hash ----------------------------------------------------------------------------------


def _copy_shipped(tmp_path: Path) -> Path:
    target = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), target)
    return target


def test_sha256_is_stable_and_follows_the_bytes(tmp_path: Path) -> None:
    copy = _copy_shipped(tmp_path)
    assert load_methodology(copy).sha256 == SHIPPED.sha256  # same bytes anywhere
    assert load_methodology().sha256 == SHIPPED.sha256
    rubric = copy / "rubric.yaml"
    rubric.write_text(rubric.read_text() + "# a comment is a change too\n")
    assert load_methodology(copy).sha256 != SHIPPED.sha256


def test_sha256_ignores_other_files(tmp_path: Path) -> None:
    copy = _copy_shipped(tmp_path)
    (copy / "NOTES.txt").write_text("not part of the methodology")
    assert load_methodology(copy).sha256 == SHIPPED.sha256


# --- loader errors -----------------------------------------------------------------------------

RUBRIC = """\
methodology_version: "test"
criterion_weights: {documented: 0.4, free: 0.3, standards: 0.2, hygiene: 0.1}
coverage_floor: 0.5
grade_bands:
  - {grade: A, min_score: 8}
  - {grade: E, min_score: 0}
"""

PROBE = """\
id: sample
title: A sample probe
criterion: documented
weight: 2
why: Because.
why_url: https://example.test/why
request:
  endpoint: docs
  accept: text/html
  compare_random_path: true
expect:
  - status: 2xx
  - not_soft_200: true
remediation: Do it.
effort: low
examples:
  - name: ok
    outcome: pass
    response: {status: 200, body: hello}
    baseline: {status: 404}
  - name: missing
    outcome: fail
    response: {status: 404}
"""


def _problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    directory = tmp_path / "probes"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    with pytest.raises(MethodologyError) as caught:
        load_methodology(directory)
    return [str(p) for p in caught.value.problems]


def _probe_problems(tmp_path: Path, old: str, new: str, name: str = "sample.yaml") -> list[str]:
    assert old in PROBE
    return _problems(tmp_path, {"rubric.yaml": RUBRIC, name: PROBE.replace(old, new)})


def test_the_sample_probe_is_valid(tmp_path: Path) -> None:
    directory = tmp_path / "probes"
    directory.mkdir()
    (directory / "rubric.yaml").write_text(RUBRIC)
    (directory / "sample.yaml").write_text(PROBE)
    (probe,) = load_methodology(directory).probes
    assert probe.request.when_missing == "not_applicable"
    assert [e.matcher for e in probe.expect] == ["status", "not_soft_200"]
    assert [e.line for e in probe.expect] == [12, 13]
    assert [run_example(probe, e).outcome for e in probe.examples] == ["pass", "fail"]


def test_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, "remediation:", "remedation:") == [
        f"{path}:14:1: unknown key 'remedation' (did you mean 'remediation'?)",
        f"{path}:1:1: missing key 'remediation'",
    ]


def test_bad_matcher_name(tmp_path: Path) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, "  - status: 2xx", "  - stauts: 2xx") == [
        f"{path}:12:5: unknown matcher 'stauts' (did you mean 'status'?)",
    ]


def test_bad_matcher_argument(tmp_path: Path) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, "  - status: 2xx", "  - status: ok") == [
        f"{path}:12:13: status: 'ok' is not a status: use a code such as 200 or a class "
        "such as 2xx",
    ]


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, "id: sample", "id: simple") == [
        f"{path}:1:5: id 'simple' must match the file name 'sample'",
    ]


def test_bad_criterion(tmp_path: Path) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, "criterion: documented", "criterion: cheap") == [
        f"{path}:3:12: criterion 'cheap' is not one of documented, free, standards, hygiene",
    ]


def test_soft_200_needs_a_random_path(tmp_path: Path) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, "  compare_random_path: true\n", "") == [
        f"{path}:12:5: not_soft_200 needs `compare_random_path: true` in request",
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("effort: low", "effort: tiny", "15:9: effort 'tiny' is not one of low, medium, high"),
        ("weight: 2", "weight: heavy", "4:9: weight must be a number"),
        ("weight: 2", "weight: 11", "4:9: weight must be from 0 to 10"),
        (
            "why_url: https://example.test/why",
            "why_url: example.test",
            "6:10: why_url must be an http(s) URL",
        ),
        (
            "  endpoint: docs",
            "  endpoint: manual",
            "8:13: endpoint 'manual' is not one of docs, "
            "spec, api_base, portal, terms, pricing, status, sandbox",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  path: /x",
            "8:3: give one of endpoint (a catalogue URL), path or candidates (paths under a "
            "base); candidates may also go with endpoint, to look for a URL the catalogue lacks",
        ),
        (
            "  endpoint: docs",
            "  path: x",
            "8:9: 'x' is relative to a URL: give base (an endpoint kind such as api_base), or "
            "start the path with / for the origin",
        ),
        (
            "  endpoint: docs",
            "  path: http://evil.test/x",
            "8:9: a path holds no spaces, '..', '#', scheme or host",
        ),
        (
            "  endpoint: docs",
            "  path: /a/../b",
            "8:9: a path holds no spaces, '..', '#', scheme or host",
        ),
        (
            "  endpoint: docs",
            "  candidates: [/a, /b, /c, /d, /e, /f]",
            "8:15: at most 5 candidates: each is a request per origin",
        ),
        (
            "  endpoint: docs",
            "  candidates: [/a, /a]",
            "8:15: candidates must be distinct",
        ),
        (
            "  endpoint: docs",
            "  candidates: []",
            "8:15: candidates must be a non-empty list of paths",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  base: api_base",
            "9:3: base goes with path or candidates",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  scheme: ftp",
            "9:11: scheme can only be http (fetch the http:// form of the URL)",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  follow: {link: swagger, expect: [status: 2xx]}",
            "9:18: unknown link 'swagger' (see matchers.LINKS)",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  follow: {link: api_description}",
            "9:11: missing key 'expect'",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  follow: {link: api_description, expect: [not_soft_200: true]}",
            "9:44: not_soft_200 cannot check a followed link (it has no random-path baseline)",
        ),
        (
            "  endpoint: docs",
            "  endpoint: docs\n  follow: {link: api_description, expect: [status: 2xx], "
            "when_no_link: pass}",
            "9:72: when_no_link 'pass' is not one of fail, inconclusive, not_applicable",
        ),
        (
            "effort: low",
            "effort: low\napplies_to: {service_areas: [waste, bins]}",
            "16:37: 'bins' is not one of the known words",
        ),
        (
            "effort: low",
            "effort: low\napplies_to: {claimed: [open-311]}",
            "16:24: 'open-311' is not one of the known words (did you mean 'open311'?)",
        ),
        (
            "effort: low",
            "effort: low\napplies_to: {}",
            "16:13: give service_areas, claimed or endpoints (or drop applies_to)",
        ),
        (
            "effort: low",
            "effort: low\nweight_reason: ''",
            "16:16: weight_reason must be non-empty text",
        ),
        (
            "response: {status: 404}",
            "response: {status: 404}\n    responses: [{status: 200}]",
            "24:5: responses go with a request that has candidates",
        ),
        (
            "response: {status: 404}",
            "response: {status: 404}\n    followed: {status: 200}",
            "24:5: followed goes with a request that has follow",
        ),
        (
            "response: {status: 404}",
            "response: {status: 404}\n    service_areas: [bins]",
            "24:21: 'bins' is not one of the known words",
        ),
        ("  accept: text/html", "  accept: text/html\n  verb: GET", "10:3: unknown key 'verb'"),
        (
            "    outcome: fail",
            "    outcome: failed",
            "22:14: outcome 'failed' is not one of pass, fail, inconclusive, not_applicable",
        ),
        (
            "    outcome: fail",
            "    outcome: pass",
            "16:1: needs at least one example with outcome pass and one with outcome fail",
        ),
        (
            "response: {status: 404}",
            "response: {status: 404, error: oops}",
            "23:36: error 'oops' is not one of timeout, deadline, connect, dns, tls, "
            "blocked_address, too_many_redirects, too_large, unsupported_encoding, protocol, "
            "bad_url, robots, host_budget",
        ),
        (
            "  - status: 2xx",
            "  - status: 2xx\n    content_type: text/html",
            "12:5: each expectation is one `matcher: argument` pair",
        ),
    ],
)
def test_probe_problems(tmp_path: Path, old: str, new: str, problem: str) -> None:
    path = tmp_path / "probes" / "sample.yaml"
    assert _probe_problems(tmp_path, old, new) == [f"{path}:{problem}"]


def test_all_problems_in_all_files_are_reported(tmp_path: Path) -> None:
    directory = tmp_path / "probes"
    problems = _problems(
        tmp_path,
        {
            "rubric.yaml": RUBRIC.replace("hygiene: 0.1}", "hygiene: 0.0}"),
            "sample.yaml": PROBE.replace("criterion: documented", "criterion: cheap"),
            "other.yaml": PROBE.replace("  - status: 2xx", "  - stauts: 2xx"),
            "broken.yaml": "id: [\n",
            "legacy.yml": PROBE,
        },
    )
    assert problems == [
        f"{directory}/legacy.yml: probe files must end in .yaml",
        f"{directory}/broken.yaml:2:1: invalid YAML: did not find expected node content",
        f"{directory}/other.yaml:1:5: id 'sample' must match the file name 'other'",
        f"{directory}/other.yaml:12:5: unknown matcher 'stauts' (did you mean 'status'?)",
        f"{directory}/rubric.yaml:2:20: criterion weights must add up to 1 (they add up to 0.9)",
        f"{directory}/sample.yaml:3:12: criterion 'cheap' is not one of documented, free, "
        "standards, hygiene",
    ]


def test_error_message_is_the_first_problem_and_a_count(tmp_path: Path) -> None:
    directory = tmp_path / "probes"
    directory.mkdir()
    (directory / "rubric.yaml").write_text(RUBRIC)
    (directory / "sample.yaml").write_text(PROBE.replace("effort: low", "effort: tiny"))
    (directory / "other.yaml").write_text(PROBE.replace("id: sample", "id: other\nextra: 1"))
    with pytest.raises(MethodologyError) as caught:
        load_methodology(directory)
    assert str(caught.value) == (f"{directory}/other.yaml:2:1: unknown key 'extra' (and 1 more)")


def test_missing_rubric_and_empty_directory(tmp_path: Path) -> None:
    directory = tmp_path / "probes"
    assert _problems(tmp_path, {"sample.yaml": PROBE}) == [
        f"{directory}/rubric.yaml: file is missing"
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MethodologyError, match="no probe files"):
        load_methodology(empty)
    with pytest.raises(MethodologyError, match="cannot read directory"):
        load_methodology(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'methodology_version: "test"',
            "methodology_version: 2026.11",
            "1:22: methodology_version must be text (quote it)",
        ),
        ("hygiene: 0.1}", "hygiene: 0.1, speed: 0}", "2:79: unknown key 'speed'"),
        ("coverage_floor: 0.5", "coverage_floor: 50", "3:17: coverage_floor must be from 0 to 1"),
        (
            "{grade: E, min_score: 0}",
            "{grade: E, min_score: 1}",
            "6:27: the last grade band must start at 0, so every score gets a grade",
        ),
        (
            "{grade: E, min_score: 0}",
            "{grade: A, min_score: 0}",
            "6:5: grade bands must be distinct, highest min_score first",
        ),
        (
            "{grade: E, min_score: 0}",
            "{grade: '?', min_score: 0}",
            "6:13: grade '?' is kept for too little coverage",
        ),
    ],
)
def test_rubric_problems(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in RUBRIC
    path = tmp_path / "probes" / "rubric.yaml"
    assert _problems(tmp_path, {"rubric.yaml": RUBRIC.replace(old, new), "sample.yaml": PROBE}) == [
        f"{path}:{problem}"
    ]
