"""The openness ladder: conditions in three-valued logic, cumulative levels, uncertainty,
the shipped rules on the market archetypes, and the rubric loader's ladder problems."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from api_audit.cli import main
from api_audit.errors import MethodologyError
from api_audit.methodology import default_probe_directory, load_methodology
from api_audit.methodology.examples import run_example
from api_audit.models import (
    SIGN_INS,
    Attestation,
    Finding,
    LadderCondition,
    LadderLevel,
    ProbeExample,
    SignIn,
    System,
)
from api_audit.scoring.ladder import LadderPlace, failed_at_sign_in, judge, ladder_place

SHIPPED = load_methodology()
LADDER = SHIPPED.rubric.ladder
PROBES = {p.id: p for p in SHIPPED.probes}
SEEN = dt.date(2026, 6, 1)


def system(
    *,
    claims: dict[str, bool | str] | None = None,
    protocols: tuple[str, ...] = (),
    standards: tuple[str, ...] = (),
    endpoints: dict[str, str] | None = None,
) -> System:
    attestations = tuple(
        Attestation(claim, value, "https://evidence.example/page", SEEN)
        for claim, value in (claims or {}).items()
    )
    return System(
        "sys",
        "System",
        "v",
        "Vendor",
        ("waste",),
        endpoints or {},
        protocols=protocols,
        standards=standards,
        attestations=attestations,
    )


def found(
    probe: str,
    outcome: str,
    message: str = "",
    *,
    observed: bool = True,
    sign_in: SignIn | None = None,
) -> Finding:
    return Finding(
        "sys",
        probe,
        PROBES[probe].criterion if probe in PROBES else "documented",
        1.0,
        outcome,  # type: ignore[arg-type]
        message or f"{probe} {outcome}",
        observed=observed and outcome != "inconclusive",
        sign_in=sign_in,
    )


SIGN_IN = "redirected to a sign-in page at https://login.example/login"


def results(**outcomes: str) -> list[Finding]:
    """Findings by probe id (underscores for dashes): docs_public="pass" ...; the outcome
    "sign-in" is a fail at a sign-in wall."""
    return [
        found(probe.replace("_", "-"), "fail", SIGN_IN, sign_in="redirect")
        if outcome == "sign-in"
        else found(probe.replace("_", "-"), outcome)
        for probe, outcome in outcomes.items()
    ]


# What a plain site with nothing to offer answers to the probes that judge more than a 404:
# no SOAP service to flag, and no wording either way about sign-up or prices.
QUIET = {
    "not_soap_only": "not_applicable",
    "self_service_signup": "inconclusive",
    "pricing_stated": "inconclusive",
}


def market(**outcomes: str) -> list[Finding]:
    """Every shipped probe fails (as a plain 404 would) unless `outcomes` says otherwise."""
    every = {p.replace("-", "_"): "fail" for p in PROBES}
    return results(**{**every, **QUIET, **outcomes})


def shipped(sys: System, findings: list[Finding]) -> LadderPlace:
    place = ladder_place(LADDER, sys, findings)
    assert place is not None
    return place


def shown(sys: System, findings: list[Finding]) -> str:
    return shipped(sys, findings).shown


# --- conditions, one operator at a time ---------------------------------------------------------


def cond(op: str, **kwargs: object) -> LadderCondition:
    return LadderCondition(op, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "passes", "fails", "observed"),
    [
        ("pass", True, False, True),
        ("fail", False, True, True),
        ("not_applicable", False, False, False),
        ("inconclusive", None, None, False),
        (None, None, None, False),  # the run has no finding for the probe
    ],
)
def test_probe_conditions_are_three_valued(
    outcome: str | None, passes: bool | None, fails: bool | None, observed: bool
) -> None:
    findings = [] if outcome is None else [found("docs-public", outcome)]
    sys = system()
    assert judge(cond("pass", probes=("docs-public",)), sys, findings) is passes
    assert judge(cond("fail", probes=("docs-public",)), sys, findings) is fails
    assert judge(cond("observed", probes=("docs-public",)), sys, findings) is observed


def test_a_list_of_probes_means_any_of_them_and_all_pass_means_every_one() -> None:
    findings = results(docs_public="pass", openapi_published="inconclusive", https="fail")
    sys = system()
    assert judge(cond("pass", probes=("https", "docs-public")), sys, findings) is True
    assert judge(cond("pass", probes=("https", "openapi-published")), sys, findings) is None
    assert judge(cond("all_pass", probes=("docs-public", "https")), sys, findings) is False
    assert (
        judge(cond("all_pass", probes=("docs-public", "openapi-published")), sys, findings) is None
    )


def test_an_unobserved_fail_is_not_observed() -> None:
    findings = [found("openapi-published", "fail", "no spec URL in the catalogue", observed=False)]
    assert judge(cond("observed", probes=("openapi-published",)), system(), findings) is False
    assert judge(cond("fail", probes=("openapi-published",)), system(), findings) is True


@pytest.mark.parametrize("reason", SIGN_INS)
def test_gated_needs_a_sign_in_failure(reason: SignIn) -> None:
    sys = system()
    gated = cond("gated", probes=("docs-public",))
    assert judge(gated, sys, [found("docs-public", "fail", "x", sign_in=reason)]) is True
    # the reason decides, never the wording: sign-in words without it are a plain fail
    assert judge(gated, sys, [found("docs-public", "fail", SIGN_IN)]) is False
    assert (
        judge(gated, sys, [found("docs-public", "fail", "404 Not Found (expected 2xx)")]) is False
    )
    assert judge(gated, sys, [found("docs-public", "pass")]) is False
    assert judge(gated, sys, [found("docs-public", "inconclusive")]) is None


def test_catalogue_conditions_are_two_valued() -> None:
    sys = system(
        claims={"api_exists": True, "api_access_fee": False},
        protocols=("soap",),
        standards=("open311",),
        endpoints={"docs": "https://docs.example/"},
    )
    assert judge(cond("attested", claims=(("api_exists", True),)), sys, []) is True
    assert judge(cond("attested", claims=(("api_access_fee", True),)), sys, []) is False
    assert (
        judge(cond("attested", claims=(("partner_only", False),)), sys, []) is False
    )  # unrecorded
    both = (("api_exists", True), ("api_access_fee", False))
    assert judge(cond("attested", claims=both), sys, []) is True
    assert judge(cond("protocol", words=("rest", "soap")), sys, []) is True
    assert judge(cond("protocol", words=("rest",)), sys, []) is False
    assert judge(cond("standard", words=("open311",)), sys, []) is True
    assert judge(cond("catalogue_endpoint", words=("docs",)), sys, []) is True
    assert judge(cond("catalogue_endpoint", words=("spec", "api_base")), sys, []) is False


def test_the_newest_attestation_of_a_claim_decides() -> None:
    older = Attestation("api_access_fee", True, "https://old.example", dt.date(2025, 1, 1))
    newer = Attestation("api_access_fee", False, "https://new.example", dt.date(2026, 1, 1))
    sys = System("sys", "S", "v", "V", (), {}, attestations=(newer, older))
    assert judge(cond("attested", claims=(("api_access_fee", False),)), sys, []) is True


T = cond("attested", claims=(("api_exists", True),))
F = cond("attested", claims=(("partner_only", True),))
U = cond("pass", probes=("docs-public",))  # no finding: unknown


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("any", children=(F, U)), None),
        (cond("any", children=(U, T)), True),
        (cond("any", children=(F, F)), False),
        (cond("all", children=(T, U)), None),
        (cond("all", children=(U, F)), False),
        (cond("all", children=(T, T)), True),
        (cond("not", children=(T,)), False),
        (cond("not", children=(F,)), True),
        (cond("not", children=(U,)), None),
    ],
)
def test_combinators_follow_kleene_logic(condition: LadderCondition, expected: bool | None) -> None:
    sys = system(claims={"api_exists": True})
    assert judge(condition, sys, []) is expected


# --- levels: cumulative, highest that holds, "?" when undecided ----------------------------------

LEVELS = (
    LadderLevel("L0", "nothing"),
    LadderLevel("L1", "one", T),
    LadderLevel("L2", "two", U),
    LadderLevel("L3", "three", T),
)


def test_a_level_needs_every_lower_level() -> None:
    sys = system(claims={"api_exists": True})
    place = ladder_place(LEVELS, sys, [])
    assert place == LadderPlace(1, 3, "one")  # L3's own rule holds, but L2 is unknown
    assert (place.shown, place.shown_max, place.certain) == ("L1?", "L3", False)
    decided = ladder_place(LEVELS, sys, [found("docs-public", "pass")])
    assert decided == LadderPlace(3, 3, "three")
    assert (decided.shown, decided.certain) == ("L3", True)
    blocked = ladder_place(LEVELS, sys, [found("docs-public", "fail")])
    assert blocked == LadderPlace(1, 1, "one")  # a False level stops the climb
    assert blocked.shown == "L1"


def test_no_ladder_in_the_rubric_means_no_place() -> None:
    assert ladder_place((), system(), []) is None


# --- the shipped rules --------------------------------------------------------------------------


def test_shipped_ladder_has_six_levels_in_order() -> None:
    assert [level.level for level in LADDER] == ["L0", "L1", "L2", "L3", "L4", "L5"]
    assert LADDER[0].requires is None
    assert all(level.requires is not None and level.label for level in LADDER[1:])


OPEN = {
    "docs_public": "pass",
    "docs_anonymous": "pass",
    "openapi_published": "pass",
    "spec_anonymous": "pass",
}
OPEN_DATA = {**OPEN, "open_data_keyless": "pass", "open311": "pass", "pricing_stated": "pass"}
NO_FEE = {"api_access_fee": False}


@pytest.mark.parametrize(
    ("claims", "protocols", "outcomes", "expected"),
    [
        # nothing answers as an API would, nothing is claimed: a confident L0
        ({}, (), {}, "L0"),
        # existence recorded by hand, claimed, or a SOAP service seen; nothing public: L1
        ({"api_exists": True}, (), {}, "L1"),
        ({}, ("soap",), {}, "L1"),
        ({}, (), {"not_soap_only": "fail"}, "L1"),
        # docs behind a sign-in: L2
        ({}, (), {"docs_public": "sign-in", "docs_anonymous": "sign-in"}, "L2"),
        ({"docs_login_required": True}, (), {}, "L2"),
        # public human docs, no spec: L3
        ({}, (), {"docs_public": "pass", "docs_anonymous": "pass"}, "L3"),
        # a public spec anyone can download, nothing says access is gated: L4
        ({}, (), OPEN, "L4"),
        ({}, (), {**OPEN, "openapi_published": "fail", "docs_link_spec": "pass"}, "L4"),
        ({}, (), {**OPEN, "self_service_signup": "pass"}, "L4"),
        # ... unless gatekeeping was seen on the docs or recorded by hand
        ({}, (), {**OPEN, "self_service_signup": "fail"}, "L3"),
        ({"partner_only": True}, (), OPEN, "L3"),
        ({"self_service_keys": False}, (), OPEN, "L3"),
        # sign-up seen outweighs a partner-only record
        ({"partner_only": True}, (), {**OPEN, "self_service_signup": "pass"}, "L4"),
        # L5: L4 plus a sector standard, keyless open data and published pricing
        ({}, (), OPEN_DATA, "L5"),
        (
            {"open_standard_implemented": True, **NO_FEE},
            (),
            {**OPEN, "open_data_keyless": "pass"},
            "L5",
        ),
        ({}, (), {**OPEN_DATA, "open311": "fail"}, "L4"),
        ({}, (), {**OPEN_DATA, "open_data_keyless": "not_applicable"}, "L4"),
        ({}, (), {**OPEN_DATA, "pricing_stated": "fail"}, "L4"),
        # a pricing page that says nothing either way leaves L5 undecided: "at least L4"
        ({}, (), {**OPEN_DATA, "pricing_stated": "inconclusive"}, "L4?"),
        (NO_FEE, (), {**OPEN_DATA, "pricing_stated": "inconclusive"}, "L5"),
        # the L5 evidence without L4's stays where the evidence is (levels are cumulative)
        ({}, (), {**OPEN_DATA, "spec_anonymous": "fail"}, "L3"),
        ({}, (), {**OPEN_DATA, "docs_public": "fail", "docs_anonymous": "fail"}, "L2"),
    ],
)
def test_each_shipped_level(
    claims: dict[str, bool | str],
    protocols: tuple[str, ...],
    outcomes: dict[str, str],
    expected: str,
) -> None:
    assert shown(system(claims=claims, protocols=protocols), market(**outcomes)) == expected


def test_an_unreachable_system_is_unknown_not_l0() -> None:
    inconclusive = [found(p, "inconclusive") for p in PROBES]
    place = shipped(system(), inconclusive)
    assert (place.shown, place.certain) == ("L0?", False)
    # what was recorded by hand still counts, and the rest stays open
    assert shown(system(claims={"api_exists": True}), inconclusive) == "L1?"


def test_an_attestation_stands_in_only_where_nothing_was_observed() -> None:
    sys = system(claims={"docs_public": True})
    unreachable = [found(p, "inconclusive") for p in PROBES]
    assert shown(sys, unreachable) == "L3?"  # L3 on the attestation; L4 undecided
    assert shown(sys, market(docs_public="sign-in")) == "L2"  # the wall seen beats the claim


def test_one_undecided_probe_makes_the_next_level_uncertain() -> None:
    findings = market(
        docs_public="pass",
        docs_anonymous="pass",
        openapi_published="inconclusive",
        spec_anonymous="inconclusive",
    )
    place = shipped(system(), findings)
    assert (place.shown, place.shown_max, place.label) == ("L3?", "L4", LADDER[3].label)


def test_a_probe_the_run_did_not_have_is_unknown() -> None:
    # an old run rescored under rules that name a newer probe: the level it decides is open
    findings = results(docs_public="pass", docs_anonymous="pass", openapi_published="pass")
    assert shown(system(), findings) == "L3?"


# --- sign-in failures, from the real matchers: the reason each kind of wall records ------------

SIGN_IN_WALLS = {
    "401": {"status": 401, "headers": {"www-authenticate": "Bearer"}, "body": "no"},
    "403": {"status": 403, "headers": {"content-type": "text/html"}, "body": "<h1>Forbidden</h1>"},
    "redirect to /login": {
        "status": 200,
        "final_url": "https://api.example.test/login?next=/docs",
        "redirects": [
            {"status": 302, "url": "https://api.example.test/docs", "location": "/login?next=/docs"}
        ],
        "headers": {"content-type": "text/html"},
        "body": "<form><input type=password></form>",
    },
    "sign-in page": {
        "status": 200,
        "final_url": "https://login.microsoftonline.com/common/oauth2/authorize",
        "headers": {"content-type": "text/html"},
        "body": "<p>hello</p>",
    },
    "password form": {
        "status": 200,
        "headers": {"content-type": "text/html"},
        "body": '<html><form method="post"><input name="u"><input type="password" name="p">'
        "</form></html>",
    },
    "redirect to a sign-in host that cannot be fetched": {
        "error": "blocked_address",
        "error_detail": "10.0.0.1 is private",
        "redirects": [
            {
                "status": 302,
                "url": "https://api.example.test/docs",
                "location": "https://sso.example.test/login",
            }
        ],
    },
}
NOT_WALLS = {
    "404": {"status": 404, "headers": {"content-type": "text/html"}, "body": "<h1>Not found</h1>"},
    "soft-200 shell": {
        "status": 200,
        "headers": {"content-type": "text/html"},
        "body": "<div id=root>",
    },
}
BASELINE = {"status": 200, "headers": {"content-type": "text/html"}, "body": "<div id=root>"}
WALLED_PROBES = [p for p in SHIPPED.probes if any(e.matcher == "not_login_wall" for e in p.expect)]


WALL_REASONS: dict[str, SignIn] = {
    "401": "status",
    "403": "status",
    "redirect to /login": "redirect",
    "sign-in page": "sign_in_url",
    "password form": "password_form",
    "redirect to a sign-in host that cannot be fetched": "redirect",
}


@pytest.mark.parametrize("probe", WALLED_PROBES, ids=[p.id for p in WALLED_PROBES])
@pytest.mark.parametrize("wall", SIGN_IN_WALLS)
def test_every_sign_in_wall_a_probe_reports_is_recognised(probe: object, wall: str) -> None:
    example = ProbeExample(wall, "fail", SIGN_IN_WALLS[wall], baseline=BASELINE)
    finding = run_example(probe, example)  # type: ignore[arg-type]
    assert finding.outcome == "fail", finding.message
    assert finding.sign_in == WALL_REASONS[wall], finding.message
    assert failed_at_sign_in(finding)


@pytest.mark.parametrize("probe", WALLED_PROBES, ids=[p.id for p in WALLED_PROBES])
@pytest.mark.parametrize("other", NOT_WALLS)
def test_other_failures_are_not_sign_in_walls(probe: object, other: str) -> None:
    example = ProbeExample(other, "fail", NOT_WALLS[other], baseline=BASELINE)
    finding = run_example(probe, example)  # type: ignore[arg-type]
    # an app shell that names no licence is silent, so inconclusive (issue 11), never a wall
    assert finding.outcome in ("fail", "inconclusive"), finding.message
    assert finding.sign_in is None, finding.message
    assert not failed_at_sign_in(finding)


# --- the demo market ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_rows() -> dict[str, dict[str, Any]]:
    """The demo market's JSON scorecard, by system id (one audit for the module)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--format", "json"]) == 0
    return {row["system"]: row for row in json.loads(out.getvalue())["systems"]}


def test_the_demo_archetypes_land_on_their_rungs(demo_rows: dict[str, dict[str, Any]]) -> None:
    ladder = {system_id: row["ladder"] for system_id, row in demo_rows.items()}
    # the exemplary supplier: spec, sign-up, free of charge, Open311 and keyless open data
    assert ladder["openco-waste"] == "L5"
    assert ladder["docsonly-housing"] == "L3"
    assert ladder["gatedsoft-care"] == "L2"
    assert ladder["shellportal-crm"] in {"L0", "L1"}
    assert ladder["gonesys-parking"] == "L0?"
    assert demo_rows["gonesys-parking"]["ladder_certain"] is False
    assert demo_rows["openco-waste"]["ladder_label"] == LADDER[5].label


METHODOLOGY_DOC = Path(__file__).parent.parent / "docs" / "methodology.md"
_DOC_ROW = re.compile(
    r"^\| (?P<name>[^|]+?) \| (?P<grade>[A-E?]) \| (?P<score>[^|]+?) \| "
    r"(?P<coverage>\d+)% \| (?P<ladder>L\d\??) \|"
)


def test_the_worked_example_in_the_methodology_matches_the_demo(
    demo_rows: dict[str, dict[str, Any]],
) -> None:
    """docs/methodology.md quotes the demo's numbers: re-run `api-audit demo -f json` and
    update the page when the probe set or the rubric changes them."""
    shown = [
        m.groupdict() for m in map(_DOC_ROW.match, METHODOLOGY_DOC.read_text().splitlines()) if m
    ]
    assert len(shown) == len(demo_rows)
    by_name = {row["name"]: row for row in demo_rows.values()}
    for doc_row in shown:
        row = by_name[doc_row["name"]]
        score = "—" if row["score"] is None else f"{row['score']:.1f}"
        assert (doc_row["grade"], doc_row["score"], doc_row["ladder"]) == (
            row["grade"],
            score,
            row["ladder"],
        ), doc_row["name"]
        assert int(doc_row["coverage"]) == round(row["coverage"] * 100), doc_row["name"]
    # the step-by-step part works through DocsOnly Housing
    criteria = demo_rows["docsonly-housing"]["criteria"]
    assert {c: (v["score"], v["coverage"]) for c, v in criteria.items()} == {
        "documented": (3.3, 0.9),
        "free": (10.0, 0.38),
        "standards": (0.0, 1.0),
        "hygiene": (0.0, 1.0),
    }


# --- the loader ---------------------------------------------------------------------------------

RUBRIC_HEAD = """methodology_version: "t"
criterion_weights: {documented: 0.4, free: 0.3, standards: 0.2, hygiene: 0.1}
coverage_floor: 0.5
grade_bands: [{grade: A, min_score: 5}, {grade: E, min_score: 0}]
"""
LADDER_TEXT = """ladder:
  - level: L0
    label: nothing known
  - level: L1
    label: exists
    requires:
      any:
        - attested: {api_exists: true}
        - pass: [docs-public, https]
  - level: L2
    label: gated
    requires: {gated: docs-public}
"""


def _rubric_problems(tmp_path: Path, ladder: str) -> list[str]:
    directory = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), directory)
    (directory / "rubric.yaml").write_text(RUBRIC_HEAD + ladder)
    with pytest.raises(MethodologyError) as caught:
        load_methodology(directory)
    return [str(p).removeprefix(f"{directory}/") for p in caught.value.problems]


def test_a_small_ladder_loads(tmp_path: Path) -> None:
    directory = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), directory)
    (directory / "rubric.yaml").write_text(RUBRIC_HEAD + LADDER_TEXT)
    rubric = load_methodology(directory).rubric
    assert [level.level for level in rubric.ladder] == ["L0", "L1", "L2"]
    assert rubric.ladder[2].requires == LadderCondition("gated", probes=("docs-public",))
    assert rubric.attestations == {}  # no attestations section: no claim is scored


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "pass: [docs-public, https]",
            "pass: [docs-public, htps]",
            "13:31: unknown probe 'htps' (did you mean 'https'?)",
        ),
        (
            "{gated: docs-public}",
            "{gated: docs-pubic}",
            "16:23: unknown probe 'docs-pubic' (did you mean 'docs-public'?)",
        ),
        (
            "        - pass: [docs",
            "        - passes: [docs",
            "13:11: unknown condition 'passes' (did you mean 'pass'?)",
        ),
        (
            "{api_exists: true}",
            "{api_exist: true}",
            "12:22: unknown claim 'api_exist' (did you mean 'api_exists'?)",
        ),
        (
            "{api_exists: true}",
            "{api_exists: [1]}",
            "12:34: a claim's value is true, false or a word",
        ),
        (
            "{gated: docs-public}",
            "{protocol: smtp}",
            "16:26: protocol 'smtp' is not one of rest, soap, graphql, odata, sftp, csv, xml-rpc, "
            "websocket, file-export, other",
        ),
        (
            "      any:\n        - attested: {api_exists: true}\n        - pass: [docs",
            "      any: []\n      # - pass: [docs",
            "11:12: any takes a non-empty list of conditions",
        ),
        ("  - level: L2", "  - level: L3", "14:12: level 'L3' must be 'L2' (in order)"),
        ("    requires: {gated: docs-public}\n", "", "14:5: missing key 'requires'"),
        (
            "    label: nothing known\n",
            "    label: nothing known\n    requires: {pass: https}\n",
            "8:5: L0 always holds: it has no `requires`",
        ),
        (
            "{gated: docs-public}",
            "{gated: docs-public, fail: https}",
            "16:15: a condition is one `operator: argument` pair (pass, all_pass, fail, gated, "
            "observed, attested, protocol, standard, catalogue_endpoint, all, any, not)",
        ),
    ],
)
def test_ladder_problems_are_located(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in LADDER_TEXT
    assert _rubric_problems(tmp_path, LADDER_TEXT.replace(old, new)) == [f"rubric.yaml:{problem}"]
