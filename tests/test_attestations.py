"""Attestations as findings, claimed vs observed, and the rubric's attestation rules."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from api_audit.audit import run_audit
from api_audit.catalogue import load_catalogue
from api_audit.demo.market import default_suppliers, serve_market
from api_audit.errors import MethodologyError
from api_audit.methodology import default_probe_directory, load_methodology
from api_audit.models import (
    CLAIMS,
    Attestation,
    AttestationRule,
    Disagreement,
    Finding,
    ObservedBy,
    Rubric,
    System,
)
from api_audit.net import FetchOptions
from api_audit.scoring import build_scorecard, score_system
from api_audit.scoring.attestations import (
    attestation_findings,
    find_disagreements,
    latest_attestations,
    observed_fact,
)
from api_audit.store import Store

SHIPPED = load_methodology().rubric
SOURCE = "https://supplier.example/pricing"
SEEN = dt.date(2025, 6, 1)

RUBRIC = replace(
    SHIPPED,
    attestations={
        "api_access_fee": AttestationRule("free", 3, False, "API access costs extra"),
        "self_service_keys": AttestationRule("free", 2, True, "API keys are self-service"),
        "docs_public": AttestationRule("documented", 3, True, "docs are public"),
        "api_exists": None,
    },
    claim_checks={
        "docs_public": ObservedBy(("docs-public",)),
        "docs_login_required": ObservedBy(("docs-anonymous",), invert=True),
    },
    standard_checks={"openapi": ObservedBy(("openapi-published",))},
    protocol_checks={"soap": ObservedBy(("soap-a", "soap-b"))},
)


def attested(claim: str, value: bool | str, *, seen: dt.date = SEEN, quote: str | None = None):
    return Attestation(claim, value, SOURCE, seen, quote=quote)


def system(*attestations: Attestation, **kwargs: object) -> System:
    return System("sys", "S", "v", "V", ("waste",), {}, attestations=attestations, **kwargs)  # type: ignore[arg-type]


def probe(probe_id: str, outcome: str, message: str = "seen", *, observed: bool = True) -> Finding:
    return Finding(
        "sys",
        probe_id,
        "documented",
        3,
        outcome,  # type: ignore[arg-type]
        message,
        observed=observed and outcome != "inconclusive",
    )


# --- attestations become findings -----------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "value", "outcome"),
    [
        ("api_access_fee", True, "fail"),  # pass_when: false
        ("api_access_fee", False, "pass"),
        ("self_service_keys", True, "pass"),  # pass_when: true
        ("self_service_keys", False, "fail"),
    ],
)
def test_pass_when_decides_the_outcome(claim: str, value: bool, outcome: str) -> None:
    (finding,) = attestation_findings(system(attested(claim, value)), RUBRIC)
    rule = RUBRIC.attestations[claim]
    assert rule is not None
    assert finding.outcome == outcome
    assert finding.probe_id == f"attested:{claim}"
    assert (finding.criterion, finding.weight) == ("free", rule.weight)
    assert (finding.basis, finding.observed) == ("attested", False)
    assert (finding.source, finding.seen) == (SOURCE, "2025-06-01")
    assert finding.credit == (1.0 if outcome == "pass" else 0.0)


def test_the_message_says_where_and_when_it_was_seen() -> None:
    (finding,) = attestation_findings(
        system(attested("api_access_fee", True, quote="  an additional\n licence fee ")), RUBRIC
    )
    assert finding.message == (
        f"attested (seen 2025-06-01, {SOURCE}): API access costs extra: yes "
        '("an additional licence fee")'
    )


def test_ignored_and_unruled_claims_make_no_finding() -> None:
    sys = system(attested("api_exists", True), attested("partner_only", True))
    assert attestation_findings(sys, RUBRIC) == ()
    bare = replace(RUBRIC, attestations={})  # a rubric without an attestations section
    assert attestation_findings(system(attested("api_access_fee", True)), bare) == ()


def test_the_newest_attestation_of_a_claim_is_the_one_scored() -> None:
    old = attested("api_access_fee", True, seen=dt.date(2024, 1, 1))
    new = attested("api_access_fee", False, seen=dt.date(2026, 1, 1))
    sys = system(new, old)
    assert latest_attestations(sys) == {"api_access_fee": new}
    (finding,) = attestation_findings(sys, RUBRIC)
    assert (finding.outcome, finding.seen) == ("pass", "2026-01-01")


def test_a_value_that_is_not_yes_or_no_is_inconclusive() -> None:
    (finding,) = attestation_findings(system(attested("api_access_fee", "on request")), RUBRIC)
    assert finding.outcome == "inconclusive"
    assert finding.message.endswith(
        "API access costs extra: 'on request'; not scored: the recorded value is not yes or no"
    )


def test_an_observation_of_the_same_fact_supersedes_the_attestation() -> None:
    sys = system(attested("docs_public", True))
    seen = [probe("docs-public", "fail", "401 Unauthorized: needs an account")]
    (finding,) = attestation_findings(sys, RUBRIC, seen)
    assert finding.outcome == "not_applicable"
    assert finding.message.endswith("; not scored: docs-public observed the same fact (fail)")
    # nothing observed (unreachable, or failed for want of a URL): the attestation counts
    for unseen in (
        [probe("docs-public", "inconclusive")],
        [probe("docs-public", "fail", "no docs URL in the catalogue", observed=False)],
        [],
    ):
        (finding,) = attestation_findings(sys, RUBRIC, unseen)
        assert finding.outcome == "pass"


# --- claimed vs observed --------------------------------------------------------------------


def by_probe(*findings: Finding) -> dict[str, Finding]:
    return {f.probe_id: f for f in findings}


def test_observed_fact() -> None:
    check = ObservedBy(("soap-a", "soap-b"))
    assert observed_fact(check, {}) is None
    passed = probe("soap-b", "pass")
    assert observed_fact(check, by_probe(probe("soap-a", "fail"), passed)) == (True, passed)
    failed = probe("soap-a", "fail")
    assert observed_fact(check, by_probe(failed, probe("soap-b", "not_applicable"))) == (
        False,
        failed,
    )
    # a failure beside one that could not be measured proves nothing yet
    assert observed_fact(check, by_probe(failed, probe("soap-b", "inconclusive"))) is None
    inverted = ObservedBy(("docs-anonymous",), invert=True)
    anonymous = probe("docs-anonymous", "pass")
    assert observed_fact(inverted, by_probe(anonymous)) == (False, anonymous)


def test_an_attested_claim_an_observation_contradicts_is_a_disagreement() -> None:
    sys = system(attested("docs_public", True))
    wall = probe("docs-public", "fail", "redirected to a sign-in page at https://x/login")
    (item,) = find_disagreements(sys, [wall], RUBRIC)
    assert item == Disagreement(
        claim="docs_public",
        claimed=True,
        observed_probe="docs-public",
        observed_outcome="fail",
        message=(
            f"claimed docs are public: yes (attested (seen 2025-06-01, {SOURCE})); "
            "observed docs-public: fail: redirected to a sign-in page at https://x/login"
        ),
        source=SOURCE,
        seen="2025-06-01",
    )
    assert find_disagreements(sys, [probe("docs-public", "pass")], RUBRIC) == ()
    assert find_disagreements(sys, [probe("docs-public", "inconclusive")], RUBRIC) == ()


def test_an_inverted_claim_disagrees_when_the_probe_passes() -> None:
    sys = system(attested("docs_login_required", True))
    (item,) = find_disagreements(sys, [probe("docs-anonymous", "pass")], RUBRIC)
    assert (item.claim, item.claimed, item.observed_outcome) == (
        "docs_login_required",
        True,
        "pass",
    )
    assert find_disagreements(sys, [probe("docs-anonymous", "fail")], RUBRIC) == ()


def test_catalogue_standards_and_protocols_are_claims_too() -> None:
    sys = system(standards=("openapi", "open311"), protocols=("soap", "rest"))
    findings = [
        probe("openapi-published", "fail", "served as text/html"),
        probe("soap-a", "fail", "404 Not Found"),
    ]
    items = find_disagreements(sys, findings, RUBRIC)
    assert [(d.claim, d.claimed, d.observed_probe) for d in items] == [
        ("standard:openapi", True, "openapi-published"),
        ("protocol:soap", True, "soap-a"),
    ]
    assert items[0].message == (
        "the catalogue lists standard openapi; observed openapi-published: fail: served as "
        "text/html"
    )
    assert (items[0].source, items[0].seen) == (None, None)
    # a claim nothing observed is not contradicted
    assert find_disagreements(sys, [probe("openapi-published", "inconclusive")], RUBRIC) == ()


# --- scoring: attested findings count, but never earn a grade on their own ---------------------


def test_attested_findings_enter_score_and_coverage() -> None:
    sys = system(attested("api_access_fee", True), attested("self_service_keys", True))
    findings = [
        probe("docs-public", "pass"),
        *attestation_findings(sys, RUBRIC),
    ]
    rubric = Rubric("t", {"documented": 0.5, "free": 0.5}, SHIPPED.grade_bands, 0.5)
    result = score_system("sys", findings, rubric)
    assert result.criteria["free"].score == 4.0  # 2 of 5 weight passed
    assert result.criteria["free"].coverage == 1.0
    assert (result.score, result.grade) == (7.0, "B")


def test_attestations_alone_leave_the_grade_unknown() -> None:
    sys = system(attested("api_access_fee", False), attested("self_service_keys", True))
    unreachable = [probe("docs-public", "inconclusive")]
    rubric = Rubric("t", {"documented": 0.5, "free": 0.5}, SHIPPED.grade_bands, 0.0)
    result = score_system("sys", [*unreachable, *attestation_findings(sys, RUBRIC)], rubric)
    assert result.criteria["free"].score == 10.0
    assert result.grade == "?"


# --- the rubric's attestation rules ----------------------------------------------------------


def test_the_shipped_rubric_rules_every_claim() -> None:
    assert set(SHIPPED.attestations) == set(CLAIMS)
    assert SHIPPED.attestations["api_exists"] is None
    fee = SHIPPED.attestations["api_access_fee"]
    assert fee == AttestationRule("free", 3, False, "API access costs extra")


RULES = """attestations:
  api_exists: ignore
  api_access_fee: {criterion: free, weight: 3, pass_when: false, title: API access costs extra}
"""


def _problems(tmp_path: Path, section: str, *, all_claims: bool = True) -> list[str]:
    directory = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), directory)
    head = (directory / "rubric.yaml").read_text().split("\nattestations:\n")[0]
    rest = "".join(
        f"  {c}: ignore\n"
        for c in CLAIMS
        if all_claims and c not in ("api_exists", "api_access_fee")
    )
    text = head + "\n" + section + rest
    (directory / "rubric.yaml").write_text(text)
    offset = head.count("\n") + 1
    with pytest.raises(MethodologyError) as caught:
        load_methodology(directory)
    return [_shift(str(p).removeprefix(f"{directory}/"), offset) for p in caught.value.problems]


def _shift(problem: str, offset: int) -> str:
    """rubric.yaml:LINE:COL -> the line within the section, so tests survive rubric edits."""
    name, line, rest = problem.split(":", 2)
    return f"{name}:{int(line) - offset}:{rest}"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "pass_when: false",
            "pass_when: no-fee",
            "rubric.yaml:3:59: pass_when must be true or false",
        ),
        (
            "weight: 3",
            "weight: 0",
            "rubric.yaml:3:45: weight must be more than 0 (use `ignore` to drop it)",
        ),
        (
            "criterion: free",
            "criterion: cheap",
            "rubric.yaml:3:31: criterion 'cheap' is not one of documented, free, standards, "
            "hygiene",
        ),
        (", title: API access costs extra}", "}", "rubric.yaml:3:19: missing key 'title'"),
        (
            "api_exists: ignore",
            "api_exists: skip",
            "rubric.yaml:2:15: a claim's rule is {criterion, weight, pass_when, title} or `ignore`",
        ),
    ],
)
def test_attestation_rule_problems_are_located(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    assert old in RULES
    assert _problems(tmp_path, RULES.replace(old, new)) == [problem]


def test_an_unknown_claim_is_located_and_the_real_one_is_missed(tmp_path: Path) -> None:
    section = RULES.replace("  api_access_fee:", "  api_access_fees:")
    assert _problems(tmp_path, section) == [
        "rubric.yaml:3:3: unknown claim 'api_access_fees' (did you mean 'api_access_fee'?)",
        "rubric.yaml:1:1: no rule for claim(s) api_access_fee: give each a rule or `ignore`",
    ]


def test_every_claim_needs_a_rule_or_ignore(tmp_path: Path) -> None:
    missing = ", ".join(c for c in CLAIMS if c not in ("api_exists", "api_access_fee"))
    assert _problems(tmp_path, RULES, all_claims=False) == [
        f"rubric.yaml:1:1: no rule for claim(s) {missing}: give each a rule or `ignore`"
    ]


def test_claimed_vs_observed_names_real_probes_and_words(tmp_path: Path) -> None:
    directory = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), directory)
    path = directory / "rubric.yaml"
    text = path.read_text()
    text = text.replace("docs_public: [docs-public]", "docs_public: [docs-publik]")
    text = text.replace("    oidc: [oauth-discovery]", "    oidcc: [oauth-discovery]")
    path.write_text(text)
    with pytest.raises(MethodologyError) as caught:
        load_methodology(directory)
    lines = text.splitlines()
    where = {
        word: next(i for i, line in enumerate(lines, 1) if word in line)
        for word in ("docs-publik", "oidcc")
    }
    assert [str(p).removeprefix(f"{directory}/") for p in caught.value.problems] == [
        f"rubric.yaml:{where['oidcc']}:5: unknown standard 'oidcc' (did you mean 'oidc'?)",
        f"rubric.yaml:{where['docs-publik']}:19: unknown probe 'docs-publik' "
        "(did you mean 'docs-public'?)",
    ]


# --- through a real audit run (loopback servers) ----------------------------------------------


def test_an_audit_stores_attestations_beside_observations(tmp_path: Path) -> None:
    """run_audit writes each system's attested findings with its observed ones, and the
    scorecard read back from the database shows claimed vs observed and the replies."""
    openco = default_suppliers()[0]
    with serve_market((openco,)) as market:
        data = market.catalogue()
        (system_entry,) = data["vendors"][0]["systems"]  # type: ignore[index]
        system_entry["standards"] = ["openapi", "fhir"]  # OpenCo serves no FHIR
        system_entry["attestations"] = [
            {"claim": "docs_public", "value": False, "source": SOURCE, "seen": SEEN},
            {"claim": "api_access_fee", "value": True, "source": SOURCE, "seen": SEEN},
            {"claim": "api_exists", "value": True, "source": SOURCE, "seen": SEEN},
        ]
        system_entry["replies"] = [
            {
                "date": dt.date(2026, 7, 1),
                "about": "api_access_fee",
                "status": "open",
                "reason": "fact-disputed",
                "text": "Hosting only.",
                "source": SOURCE,
            }
        ]
        path = tmp_path / "vendors.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        catalogue = load_catalogue(path)
        methodology = load_methodology()
        with Store.open(tmp_path / "audit.db") as store:
            result = run_audit(
                store, catalogue, catalogue.systems, methodology, FetchOptions(allow_private=True)
            )
    with Store.open(tmp_path / "audit.db") as store:
        run_id = result.run.id
        card = build_scorecard(
            store.run_info(run_id), store.systems(run_id), store.findings(run_id), SHIPPED
        )
    (row,) = card.systems
    attested = {f.probe_id: f for f in row.findings if f.basis == "attested"}
    assert set(attested) == {
        "attested:docs_public",
        "attested:api_access_fee",
    }  # api_exists: ignore
    assert attested["attested:api_access_fee"].outcome == "fail"
    assert attested["attested:api_access_fee"].source == SOURCE
    # the docs were seen to be public: the claim is not scored, and it is flagged
    assert attested["attested:docs_public"].outcome == "not_applicable"
    assert [(d.claim, d.observed_outcome) for d in row.disagreements] == [
        ("docs_public", "pass"),
        ("standard:fhir", "fail"),
    ]
    assert [r.text for r in row.replies] == ["Hosting only."]
    assert row.score.grade != "?"
    assert row.score.ladder.rstrip("?") in {"L4", "L5"}
