"""Structured right of reply: the catalogue's replies, what an accepted one sets aside,
how it is shown (table and JSON), how it is stored, and the whole path through the CLI."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import json
import sqlite3
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from support.catalogues import catalogue_problems, parse_catalogue_text

from api_audit.catalogue import load_catalogue
from api_audit.catalogue.probe_ids import probe_ids_in
from api_audit.cli import main
from api_audit.demo.market import default_suppliers, serve_market
from api_audit.methodology import load_methodology
from api_audit.models import (
    OUTCOMES,
    REPLY_REASONS,
    REPLY_STATUSES,
    Disagreement,
    Finding,
    Outcome,
    Reply,
    ReplyReason,
    ReplyStatus,
    RunInfo,
    Scorecard,
    System,
)
from api_audit.redact import Redactor
from api_audit.report.json import scorecard_json
from api_audit.report.scorecard import REPLIES_LEGEND, print_scorecard
from api_audit.scoring import build_scorecard, score_system
from api_audit.scoring.replies import SET_ASIDE_AS, apply_replies
from api_audit.store.rows import _reply as stored_reply
from api_audit.store.rows import reply_row

RUBRIC = load_methodology().rubric
DATE = dt.date(2026, 11, 1)
DECIDED = dt.date(2026, 11, 20)


def _finding(probe: str = "docs-public", outcome: Outcome = "fail", **kw: object) -> Finding:
    criterion = kw.pop("criterion", "documented")
    return Finding("s", probe, criterion, 3, outcome, "the docs need a sign-in", **kw)  # type: ignore[arg-type]


def _reply(
    status: ReplyStatus = "accepted",
    reason: ReplyReason = "remediated-since",
    about: str = "docs-public",
    **kw: object,
) -> Reply:
    decided = DECIDED if status != "open" else None
    fields: dict[str, object] = {"decided": decided, **kw}
    return Reply(DATE, "We fixed it.", about, "https://r.test/1", status, reason, **fields)  # type: ignore[arg-type]


# --- the pure rule: every status x reason x original outcome ------------------------------------


def _expected(status: str, reason: ReplyReason, original: Outcome) -> Outcome:
    if status != "accepted" or original == "not_applicable":
        return original
    return SET_ASIDE_AS[reason]


@pytest.mark.parametrize(
    ("status", "reason", "original"),
    list(itertools.product(REPLY_STATUSES, REPLY_REASONS, OUTCOMES)),
)
def test_every_status_reason_and_outcome(
    status: ReplyStatus, reason: ReplyReason, original: Outcome
) -> None:
    finding = _finding(outcome=original)
    (after,) = apply_replies([finding], [_reply(status, reason)])
    assert after.outcome == _expected(status, reason, original)
    if status != "accepted":
        assert after == finding  # open and rejected change nothing, not even the message
        return
    assert after.set_aside is not None
    assert (after.set_aside.reason, after.set_aside.original_outcome) == (reason, original)
    assert after.set_aside.original_message == finding.message
    words = reason.replace("-", " ")
    assert after.message == (
        f"set aside: supplier reply accepted 2026-11-20 ({words}); "
        f"was {original.replace('_', ' ')}: the docs need a sign-in"
    )


def test_not_applicable_and_not_measured_by_reason() -> None:
    assert SET_ASIDE_AS == {
        "not-applicable": "not_applicable",
        "remediated-since": "inconclusive",
        "not-detected": "inconclusive",
        "fact-disputed": "inconclusive",
    }


@pytest.mark.parametrize(
    ("about", "probe", "answered"),
    [
        ("docs-public", "docs-public", True),
        ("docs-public", "docs-anonymous", False),
        ("api_access_fee", "attested:api_access_fee", True),
        ("attested:api_access_fee", "attested:api_access_fee", True),
        ("api_access_fee", "attested:docs_public", False),
        ("docs_public", "docs-public", False),  # a claim name answers the attested finding only
    ],
)
def test_a_reply_answers_the_probe_or_claim_it_names(
    about: str, probe: str, answered: bool
) -> None:
    basis = "attested" if probe.startswith("attested:") else "observed"
    finding = _finding(probe, basis=basis)
    (after,) = apply_replies([finding], [_reply(about=about)])
    assert (after.set_aside is not None) is answered


def test_other_findings_and_order_are_kept() -> None:
    findings = [_finding("https", "pass"), _finding(), _finding("utf-8", "fail")]
    after = apply_replies(findings, [_reply()])
    assert [f.probe_id for f in after] == ["https", "docs-public", "utf-8"]
    assert [f.outcome for f in after] == ["pass", "inconclusive", "fail"]


def test_the_newest_accepted_reply_decides_and_applying_twice_changes_nothing() -> None:
    older = _reply(reason="not-applicable", decided=dt.date(2026, 11, 10))
    newer = _reply(reason="fact-disputed", decided=dt.date(2026, 12, 1))
    rejected_later = _reply("rejected", "not-applicable", decided=dt.date(2027, 1, 1))
    for replies in ([older, newer, rejected_later], [newer, older, rejected_later]):
        once = apply_replies([_finding()], replies)
        assert once[0].outcome == "inconclusive"
        assert once[0].set_aside is not None and once[0].set_aside.reason == "fact-disputed"
        assert apply_replies(once, replies) == once


def test_a_stored_reply_without_reason_sets_nothing_aside() -> None:
    hand_edited = replace(_reply(), reason=None)
    assert apply_replies([_finding()], [hand_edited]) == (_finding(),)


# --- scoring: before the score and the ladder -----------------------------------------------------

PASSING = [
    _finding("docs-anonymous", "pass", criterion="free"),
    _finding("openapi-published", "pass"),
]


def _system(*replies: Reply) -> System:
    return System("s", "S", "v", "V", ("waste",), {}, replies=replies)


@pytest.mark.parametrize(("status"), ["open", "rejected"])
def test_open_and_rejected_replies_leave_the_score_alone(status: ReplyStatus) -> None:
    findings = [*PASSING, _finding()]
    plain = score_system("s", findings, RUBRIC, system=_system())
    replied = score_system("s", findings, RUBRIC, system=_system(_reply(status)))
    assert replied == plain


@pytest.mark.parametrize("reason", REPLY_REASONS)
def test_an_accepted_reply_takes_the_finding_out_of_the_score(reason: ReplyReason) -> None:
    findings = [*PASSING, _finding()]
    plain = score_system("s", findings, RUBRIC, system=_system())
    replied = score_system("s", findings, RUBRIC, system=_system(_reply(reason=reason)))
    without = score_system("s", PASSING, RUBRIC, system=_system())
    documented = replied.criteria["documented"]
    assert documented.score == without.criteria["documented"].score
    assert documented.score is not None and documented.score > (
        plain.criteria["documented"].score or 0
    )
    if SET_ASIDE_AS[reason] == "not_applicable":
        assert documented.coverage == plain.criteria["documented"].coverage
    else:  # not measured: out of the denominator, and coverage says so
        assert documented.coverage < plain.criteria["documented"].coverage


def test_the_scorecard_row_carries_the_set_aside_findings() -> None:
    run = RunInfo(1, "2026-11-21T00:00:00", None, "t", "test", "m", "c", "vendors.yaml", "complete")
    card = build_scorecard(run, [_system(_reply())], [*PASSING, _finding()], RUBRIC)
    (row,) = card.systems
    assert row.findings_set_aside == 1
    assert [f.outcome for f in row.findings if f.set_aside] == ["inconclusive"]


# --- shown: the JSON and the table --------------------------------------------------------------


def _card(*replies: Reply) -> Scorecard:
    run = RunInfo(7, "2026-11-21T00:00:00", None, "t", "test-1", "m" * 8, "c", "v", "complete")
    return build_scorecard(run, [_system(*replies)], [*PASSING, _finding()], RUBRIC)


def test_json_marks_the_finding_set_aside_and_lists_its_replies() -> None:
    accepted = _reply(decided_by="AB", decision_note="new docs seen 2026-11-18")
    doc = json.loads(scorecard_json(_card(accepted, _reply("open", "fact-disputed"))))
    (system,) = doc["systems"]
    docs = next(f for f in system["findings"] if f["probe"] == "docs-public")
    assert docs["outcome"] == "inconclusive"
    assert docs["message"].startswith("set aside: supplier reply accepted 2026-11-20")
    assert docs["set_aside"] == {
        "by": "reply",
        "reason": "remediated-since",
        "original_outcome": "fail",
        "original_message": "the docs need a sign-in",
        "reply_date": "2026-11-01",
        "decided": "2026-11-20",
        "decided_by": "AB",
    }
    assert [(r["status"], r["reason"]) for r in docs["replies"]] == [
        ("accepted", "remediated-since"),
        ("open", "fact-disputed"),
    ]
    assert docs["replies"][0]["decision_note"] == "new docs seen 2026-11-18"
    others = [f for f in system["findings"] if f["probe"] != "docs-public"]
    assert all(f["set_aside"] is None and f["replies"] == [] for f in others)


def _table(card: Scorecard) -> list[str]:
    console = Console(width=200, color_system=None, force_terminal=False, record=True)
    print_scorecard(card, console)
    return console.export_text().splitlines()


@pytest.mark.parametrize(
    ("replies", "mark"),
    [
        ((), ""),
        ((_reply("open", "fact-disputed"),), "↩1"),
        ((_reply("rejected", "not-detected"),), "↩1"),
        ((_reply(), _reply("open", "fact-disputed", about="https")), "↩2 ⊘1"),
        ((_reply(about="https"),), "↩1"),  # accepted, but no finding of that probe here
    ],
)
def test_table_marks_replies_and_set_aside_findings(replies: tuple[Reply, ...], mark: str) -> None:
    lines = _table(_card(*replies))
    row = next(line for line in lines if line.startswith("│ S "))
    assert row.split("│")[-2].strip() == mark
    assert (REPLIES_LEGEND.split(" · ")[0] in " ".join(lines)) is bool(replies)


# --- the catalogue ------------------------------------------------------------------------------

HEAD = """\
schema_version: 1
vendors:
  - id: openco
    name: OpenCo
    systems:
      - id: openco-main
        name: Main
        service_areas: [waste]
        replies:
"""
GOOD = {
    "date": "2026-11-01",
    "about": "docs-public",
    "status": "open",
    "reason": "not-detected",
    "text": "Our docs are public.",
    "source": "https://r.test/1",
}


def _with_reply(**changes: object) -> str:
    entry = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    body = yaml.safe_dump([entry], sort_keys=False, default_flow_style=False)
    return HEAD + textwrap.indent(body, " " * 10)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"about": "api_access_fee"},
        {"about": "attested:docs_public"},
        {"status": "accepted", "decided": "2026-11-20"},
        {"status": "rejected", "decided": "2026-11-01", "decided_by": "AB"},
        {
            "status": "accepted",
            "decided": "2026-11-20",
            "decision_note": "seen",
            "reason": "not-applicable",
        },
    ],
)
def test_a_structured_reply_loads(changes: dict[str, object]) -> None:
    (system,) = parse_catalogue_text(_with_reply(**changes)).systems
    (reply,) = system.replies
    assert (reply.about, reply.status) == (
        changes.get("about", "docs-public"),
        changes.get("status", "open"),
    )
    assert reply.reason == changes.get("reason", "not-detected")


BAD_REPLIES = {
    "no about": (
        {"about": None},
        "vendors.yaml:10:13: reply is missing required key 'about' (the probe id or claim "
        "the reply answers, e.g. docs-public or api_access_fee)",
    ),
    "no status": (
        {"status": None},
        "vendors.yaml:10:13: reply is missing required key 'status' (open, accepted or rejected)",
    ),
    "no reason": (
        {"reason": None},
        "vendors.yaml:10:13: reply is missing required key 'reason' (not-applicable, "
        "remediated-since, not-detected, fact-disputed)",
    ),
    "no source": (
        {"source": None},
        "vendors.yaml:10:13: reply is missing required key 'source' (the URL where the "
        "reply can be read or is filed)",
    ),
    "mistyped probe": (
        {"about": "docs-publik"},
        "vendors.yaml:11:20: 'about' must name a probe or a claim, not 'docs-publik' (did "
        "you mean 'docs-public'?) (`api-audit probes list` lists the probes; claims are the "
        "attestation claims)",
    ),
    "mistyped attested claim": (
        {"about": "attested:api_acess_fee"},
        "vendors.yaml:11:20: 'about' must name a probe or a claim, not "
        "'attested:api_acess_fee' (did you mean 'attested:api_access_fee'?) (`api-audit "
        "probes list` lists the probes; claims are the attestation claims)",
    ),
    "unknown status": (
        {"status": "acepted"},
        "vendors.yaml:12:21: unknown reply status 'acepted' (did you mean 'accepted'?)",
    ),
    "unknown reason": (
        {"reason": "remediated"},
        "vendors.yaml:13:21: unknown reply reason 'remediated' (did you mean 'remediated-since'?)",
    ),
    "reason from no list": (
        {"reason": "we disagree"},
        "vendors.yaml:13:21: unknown reply reason 'we disagree' (expected one of: "
        "not-applicable, remediated-since, not-detected, fact-disputed)",
    ),
    "accepted without decided": (
        {"status": "accepted"},
        "vendors.yaml:10:13: a reply with status 'accepted' needs 'decided' (YYYY-MM-DD)",
    ),
    "rejected without decided": (
        {"status": "rejected", "decided_by": "AB"},
        "vendors.yaml:10:13: a reply with status 'rejected' needs 'decided' (YYYY-MM-DD)",
    ),
    "open with a decision": (
        {"decided": "2026-11-20"},
        "vendors.yaml:16:22: an open reply has no 'decided' (set status to accepted or rejected)",
    ),
    "decided before the reply": (
        {"status": "accepted", "decided": "2026-10-01"},
        "vendors.yaml:16:22: decided 2026-10-01 is before date 2026-11-01",
    ),
}


@pytest.mark.parametrize("case", list(BAD_REPLIES), ids=list(BAD_REPLIES))
def test_a_bad_reply_gets_its_located_message(case: str) -> None:
    changes, expected = BAD_REPLIES[case]
    assert catalogue_problems(_with_reply(**changes)) == [expected]


def test_validate_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vendors.yaml"
    path.write_text(_with_reply(reason="remediated"), "utf-8")
    assert main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{path}:13:21: unknown reply reason 'remediated' (did you mean 'remediated-since'?)",
        "api-audit: 1 problem(s) found",
    ]


def test_run_accepts_a_reply_naming_a_probe_of_its_probe_set(tmp_path: Path) -> None:

    path = tmp_path / "vendors.yaml"
    path.write_text(_with_reply(about="my-probe"), "utf-8")
    (probes := tmp_path / "probes").mkdir()
    (probes / "my-probe.yaml").write_text("id: my-probe\n", "utf-8")
    (probes / "rubric.yaml").write_text("{}\n", "utf-8")
    assert probe_ids_in(probes) == {"my-probe"}
    assert load_catalogue(path, probe_ids_in(probes)).systems[0].replies[0].about == "my-probe"


# --- stored: old rows read as open ----------------------------------------------------------------


@pytest.mark.parametrize("status", REPLY_STATUSES)
def test_a_reply_reads_back_as_written(status: ReplyStatus) -> None:

    written = _reply(status, "not-detected", decided_by="AB", decision_note="note")
    row = json.loads(json.dumps(reply_row(written, Redactor(()))))
    assert stored_reply(row) == written


def test_a_reply_stored_before_it_had_a_status_reads_as_open() -> None:
    old = {"date": "2026-07-01", "text": "We disagree.", "about": "docs-public", "source": None}
    read = stored_reply(old)
    assert (read.status, read.reason, read.decided) == ("open", None, None)
    assert apply_replies([_finding()], [read]) == (_finding(),)


# --- end to end: a run through the command line, then its stored run rescored ------------------


# Two facts an investigator recorded about the gated supplier; no probe observes either.
ATTESTATIONS = [
    {"claim": claim, "value": True, "source": "https://a.test/fees", "seen": "2026-10-01"}
    for claim in ("api_access_fee", "partner_only")
]


def _audit(tmp_path: Path, replies: list[dict[str, object]], name: str) -> tuple[Path, dict]:
    """Audit the demo's gated supplier with these replies; the db and its JSON scorecard."""
    (gated,) = [s for s in default_suppliers() if s.system_id == "gatedsoft-care"]
    with serve_market((gated,)) as market:
        data = market.catalogue()
        system = data["vendors"][0]["systems"][0]  # type: ignore[index]
        system["replies"], system["attestations"] = replies, ATTESTATIONS
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
        db = tmp_path / f"{name}.db"
        argv = ["run", "-c", str(path), "--db", str(db), "--allow-private"]
        assert main([*argv, "--min-interval", "0", "--format", "json", "--ignore-robots"]) == 0
    return db, _scorecard_json(db)


def _scorecard_json(db: Path) -> dict:

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["scorecard", "--db", str(db), "--format", "json"]) == 0
    system: dict = json.loads(out.getvalue())["systems"][0]
    return system


def _entry(about: str, status: str, reason: str) -> dict[str, object]:
    entry: dict[str, object] = {**GOOD, "about": about, "status": status, "reason": reason}
    if status != "open":
        entry["decided"] = "2026-11-20"
    return entry


def _outcomes(system: dict) -> dict[str, str]:
    return {f["probe"]: f["outcome"] for f in system["findings"]}


def test_replies_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, plain = _audit(tmp_path, [], "plain")
    replies = [
        _entry("docs-public", "accepted", "remediated-since"),
        _entry("pricing-stated", "accepted", "not-applicable"),
        _entry("https", "rejected", "fact-disputed"),
        _entry("security-txt", "open", "not-detected"),
        _entry("api_access_fee", "accepted", "fact-disputed"),
        _entry("attested:partner_only", "rejected", "fact-disputed"),
    ]
    db, replied = _audit(tmp_path, replies, "replied")
    before, after = _outcomes(plain), _outcomes(replied)
    assert (before["docs-public"], after["docs-public"]) == ("fail", "inconclusive")
    assert (before["pricing-stated"], after["pricing-stated"]) == ("fail", "not_applicable")
    fee = "attested:api_access_fee"
    assert (before[fee], after[fee]) == ("fail", "inconclusive")
    changed = {p for p in before if before[p] != after[p]}
    assert changed == {"docs-public", "pricing-stated", fee}  # rejected and open: nothing
    findings = {f["probe"]: f for f in replied["findings"]}
    assert findings["docs-public"]["set_aside"]["original_outcome"] == "fail"
    assert findings["https"]["set_aside"] is None
    assert [r["status"] for r in findings["https"]["replies"]] == ["rejected"]
    assert replied["coverage"] < plain["coverage"]  # the not-measured ones lower coverage
    for probe in (fee, "attested:partner_only"):  # attested: where and when it was seen
        assert (findings[probe]["source"], findings[probe]["seen"]) == (
            "https://a.test/fees",
            "2026-10-01",
        )
    assert findings[fee]["set_aside"]["original_outcome"] == "fail"
    assert findings["attested:partner_only"]["outcome"] == "fail"

    capsys.readouterr()
    assert main(["scorecard", "--db", str(db)]) == 0
    table = capsys.readouterr().out
    assert "↩6 ⊘3" in table
    assert "Replies: ↩n = n supplier replies on record" in table.replace("\n", " ")


def test_a_run_stored_before_replies_had_a_status_rescores_as_it_did(tmp_path: Path) -> None:
    """Strip status, reason and decision from the stored replies, as an older api-audit
    wrote them: they read as open, and the scorecard is the one without replies."""
    accepted = [_entry("docs-public", "accepted", "remediated-since")]
    db, replied = _audit(tmp_path, accepted, "old")
    _, plain = _audit(tmp_path, [], "none")
    with sqlite3.connect(db) as conn:
        (cell,) = conn.execute("SELECT replies FROM systems").fetchone()
        old = [{k: r[k] for k in ("date", "text", "about", "source")} for r in json.loads(cell)]
        conn.execute("UPDATE systems SET replies = ?", (json.dumps(old),))
    rescored = _scorecard_json(db)
    assert _outcomes(replied)["docs-public"] == "inconclusive"
    keys = ("grade", "score", "coverage", "ladder", "criteria")
    assert [rescored[k] for k in keys] == [plain[k] for k in keys]
    assert _outcomes(rescored) == _outcomes(plain)
    assert [r["status"] for r in rescored["replies"]] == ["open"]


@pytest.mark.parametrize("about", ["docs_public", "attested:docs_public", "docs-public"])
def test_a_disagreement_lists_the_replies_about_its_claim_or_probe(about: str) -> None:
    disagreement = Disagreement("docs_public", True, "docs-public", "fail", "claimed …")
    row = replace(
        _card().systems[0],
        disagreements=(disagreement,),
        replies=(_reply("open", "fact-disputed", about=about),),
    )
    doc = json.loads(scorecard_json(Scorecard(_card().run, (row,))))
    assert [r["about"] for r in doc["systems"][0]["disagreements"][0]["replies"]] == [about]
