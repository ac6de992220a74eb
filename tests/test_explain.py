"""`api-audit explain` and `history` (issue 12 items 1-2): every finding with the exchanges
behind it, grades run by run, and vendor text kept inert on the way to a terminal or JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from api_audit.cli import main
from api_audit.models import (
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    GradeBand,
    Hop,
    Methodology,
    Reply,
    Rubric,
    System,
    Vendor,
)
from api_audit.report.explain import explain_document, print_explain, write_explain_json
from api_audit.report.history import history_document, print_history
from api_audit.store import Store
from api_audit.system_evidence import (
    ProbeText,
    choose_run,
    explain_system,
    resolve_system,
    system_history,
)
from api_audit.text import UNSAFE

SYSTEM = System(
    id="acme-waste",
    name="Acme Waste",
    vendor_id="acme",
    vendor_name="Acme",
    service_areas=("waste",),
    endpoints={"docs": "https://docs.acme.example/"},
    replies=(Reply(dt.date(2026, 7, 1), "Docs are public to customers.", about="docs-public"),),
)
INSTANCE = replace(SYSTEM, id="acme-waste@E09000012", council="E09000012", replies=())
CATALOGUE = Catalogue(1, (Vendor("acme", "Acme", (SYSTEM, INSTANCE)),), "vendors.yaml", "cat")
RUBRIC = Rubric(
    methodology_version="test-1",
    criterion_weights={"documented": 1.0, "free": 1.0, "standards": 1.0},
    grade_bands=(GradeBand("A", 8.0), GradeBand("C", 4.0), GradeBand("E", 0.0)),
    coverage_floor=0.5,
)
METHODOLOGY = Methodology(probes=(), rubric=RUBRIC, sha256="a" * 64)
PROBES = {"docs-public": ProbeText("Docs are published", "GDS says so.", "https://gds.example")}
DOCS = "https://docs.acme.example/"
RANDOM = "https://docs.acme.example/__random"


def _exchange(url: str, **changes: Any) -> Exchange:
    base = Exchange(
        request=FetchRequest(url=url, accept="text/html"),
        final_url=url + "login",
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=b"<form><input type=password></form>",
        redirects=(Hop(302, url, "/login"),),
        elapsed_ms=12.4,
        started_at="2026-11-27T10:00:01+00:00",
        tls_version="TLSv1.3",
    )
    return replace(base, **changes)


def _finding(system_id: str = SYSTEM.id, **changes: Any) -> Finding:
    base = Finding(
        system_id,
        "docs-public",
        "documented",
        3,
        "fail",
        "redirected to a sign-in page",
        evidence=(FetchRequest(DOCS, accept="text/html").key, FetchRequest(RANDOM).key),
        observed=True,
        excerpt="Sign in to read the docs.",
    )
    return replace(base, **changes)


def _store_run(
    store: Store,
    exchanges: list[Exchange],
    findings: list[Finding],
    *,
    status: str = "complete",
    methodology: Methodology = METHODOLOGY,
) -> int:
    run = store.start_run(
        catalogue=CATALOGUE, methodology=methodology, tool_version="0.1.0", options={}
    )
    store.save_systems(run.id, CATALOGUE.systems)
    for item in exchanges:
        store.add_exchange(run.id, item)
    for finding in findings:
        store.add_finding(run.id, finding)
    store.finish_run(run.id, status)
    return run.id


def _standard_run(store: Store, **changes: Any) -> int:
    exchanges = [
        _exchange(DOCS),
        _exchange(RANDOM, request=FetchRequest(RANDOM), final_url=RANDOM, status=404,
                  headers=(), body=b"", redirects=(), tls_version=None,
                  error=None),
    ]  # fmt: skip
    attested = Finding(
        SYSTEM.id, "attested:api_access_fee", "free", 2, "pass", "attested: no fee",
        basis="attested", source="https://s.example/p", seen="2026-06-01",
    )  # fmt: skip
    return _store_run(store, exchanges, [_finding(), attested], **changes)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "explain.db") as opened:
        yield opened


def _plain(width: int = 100) -> Console:
    return Console(width=width, color_system=None, force_terminal=False, record=True)


def _explained(store: Store, run_id: int, **options: Any) -> Any:
    found = explain_system(store, SYSTEM.id, run_id, METHODOLOGY, **options)
    return replace(found, probes=PROBES)


# --- the table, exactly ---------------------------------------------------------------------


def test_the_table_shows_each_finding_with_its_exchanges(store: Store) -> None:
    run_id = _standard_run(store)
    console = _plain()
    print_explain(_explained(store, run_id), console)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    started = store.run_info(run_id).started_at
    assert lines == [
        "Acme Waste (acme-waste) · Acme",
        f"run {run_id} ({started}) · tool 0.1.0",
        "grade C · score 5.0 · coverage 67% · ladder —",
        "criteria: documented 0.0 (100%) · free 10.0 (100%) · standards — (0%) · hygiene — (0%)",
        "research: endpoints-found",
        "methodology: run made under test-1 (aaaaaaaaaaaa); scored here under test-1 "
        "(aaaaaaaaaaaa)",
        "",
        "pass  attested:api_access_fee · free · weight 2",
        "  (no such probe in methodology test-1)",
        "  message: attested: no fee",
        "  attested: seen 2026-06-01 at https://s.example/p",
        "",
        "fail  docs-public · documented · weight 3",
        "  Docs are published",
        "  why: GDS says so. (https://gds.example)",
        "  message: redirected to a sign-in page",
        "  excerpt: “Sign in to read the docs.”",
        "  reply 2026-07-01 [open]: “Docs are public to customers.”",
        "  GET https://docs.acme.example/",
        "    302 https://docs.acme.example/ → /login",
        "    final URL https://docs.acme.example/login",
        "    status 200 · text/html · 34 bytes · 12 ms · TLSv1.3 · fetched "
        "2026-11-27T10:00:01+00:00",
        "    sha256 " + _sha(b"<form><input type=password></form>"),
        "  GET https://docs.acme.example/__random",
        "    status 404 · no content type · 0 bytes · 12 ms · no TLS · fetched "
        "2026-11-27T10:00:01+00:00",
        "    sha256 — (no body)",
    ]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_json_is_the_scorecard_shape_with_more(store: Store) -> None:
    run_id = _standard_run(store)
    document = explain_document(_explained(store, run_id, body_bytes=4097), with_bodies=True)
    assert (document["system"], document["council"], document["audited"]) == (
        "acme-waste", None, True,
    )  # fmt: skip
    assert document["run"]["id"] == run_id
    assert document["score"]["grade"] == "C"
    assert document["score"]["rescored"] is False
    fail = next(f for f in document["findings"] if f["probe"] == "docs-public")
    assert fail["evidence"][0] == {
        "url": DOCS,
        "final_url": DOCS + "login",
        "status": 200,
        "sha256": _sha(b"<form><input type=password></form>"),
        "fetched_at": "2026-11-27T10:00:01+00:00",
        "error": None,
        "method": "GET",
        "content_type": "text/html",
        "size": 34,
        "elapsed_ms": 12.4,
        "tls_version": "TLSv1.3",
        "redirects": [{"status": 302, "url": DOCS, "location": "/login"}],
        "error_detail": None,
        "body": {
            "binary": False,
            "encoding": "utf-8",
            "text": "<form><input type=password></form>",
            "shown_bytes": 34,
            "more_bytes": 0,
        },
    }
    assert fail["evidence"][1]["body"] is None  # no body was received
    assert (fail["title"], fail["why"], fail["weight"], fail["credit"]) == (
        "Docs are published", "GDS says so.", 3, 1.0,
    )  # fmt: skip
    assert [r["text"] for r in fail["replies"]] == ["Docs are public to customers."]
    attested = next(f for f in document["findings"] if f["basis"] == "attested")
    assert (attested["source"], attested["seen"], attested["evidence"]) == (
        "https://s.example/p", "2026-06-01", [],
    )  # fmt: skip


def test_without_body_the_json_has_no_body_key(store: Store) -> None:
    document = explain_document(_explained(store, _standard_run(store)))
    for finding in document["findings"]:
        for item in finding["evidence"]:
            assert "body" not in item


def test_an_accepted_reply_shows_the_finding_set_aside(store: Store) -> None:
    accepted = Reply(
        dt.date(2026, 7, 1), "We fixed it.", about="docs-public", status="accepted",
        reason="remediated-since", decided=dt.date(2026, 7, 9),
    )  # fmt: skip
    system = replace(SYSTEM, replies=(accepted,))
    catalogue = replace(CATALOGUE, vendors=(Vendor("acme", "Acme", (system,)),))
    run = store.start_run(
        catalogue=catalogue, methodology=METHODOLOGY, tool_version="0", options={}
    )
    store.save_systems(run.id, (system,))
    store.add_finding(run.id, _finding())
    store.finish_run(run.id)
    found = _explained(store, run.id)
    console = _plain(200)
    print_explain(found, console)
    text = console.export_text()
    assert "inconclusive  docs-public" in text
    assert "set aside (remediated-since): was fail: redirected to a sign-in page" in text
    assert "reply 2026-07-01 [accepted, remediated-since]: “We fixed it.”" in text
    (finding,) = explain_document(found)["findings"]
    assert finding["set_aside"]["original_outcome"] == "fail"


# --- hostile text stays inert ---------------------------------------------------------------

HOSTILE = [
    "\x1b[31mred\x1b[0m",
    "\x1b]0;retitled\x07",
    "\x9b2J",
    "left\u202eright\u2066x\u2069",
    "zero\u200bwidth\ufeff",
    "[bold red]pwn[/] [link=https://evil.example]x[/link]",
    ":smile: :thumbs_up:",
    "cr\rreturn",
    "line\u2028sep",
    "lone \ud800 surrogate",
    "<script>alert(1)</script>",
]


def _hostile_store(store: Store, text: str) -> int:
    url = "https://docs.acme.example/" + text
    evil = _exchange(
        DOCS,
        final_url=url,
        headers=(("content-type", f"text/html; charset={text}"),),
        body=("<p>" + text * 3 + "</p>").encode("utf-8", "surrogatepass"),
        redirects=(Hop(302, DOCS, text),),
        error="protocol",
        error_detail=text,
    )
    finding = _finding(message=f"saw {text}", excerpt=text, evidence=(evil.request.key,))
    return _store_run(store, [evil], [finding])


def _outputs(store: Store, run_id: int) -> tuple[str, str]:
    found = _explained(store, run_id, body_bytes=4097)
    console = _plain(120)
    print_explain(found, console, with_bodies=True)
    out = io.StringIO()
    write_explain_json(found, out, with_bodies=True)
    return console.export_text(), out.getvalue()


@pytest.mark.parametrize("text", HOSTILE)
def test_vendor_text_reaches_neither_terminal_nor_json_raw(store: Store, text: str) -> None:
    table, document = _outputs(store, _hostile_store(store, text))
    for output in (table, document):
        assert UNSAFE.search(output) is None, repr(output)
    assert "😄" not in table and "👍" not in table  # :smile: stays words
    if "[bold red]" in text:
        assert "[bold red]pwn[/]" in table  # markup shown, not obeyed
    parsed = json.loads(document)
    (finding,) = parsed["findings"]
    assert finding["message"].startswith("saw ")
    assert finding["evidence"][0]["body"]["text"] is not None


def test_a_huge_message_and_body_are_capped(store: Store) -> None:
    huge = "A" * 200_000
    run_id = _hostile_store(store, huge)
    table, document = _outputs(store, run_id)
    assert len(table) < 30_000
    assert "… 595,911 more bytes" in " ".join(table.split())
    body = json.loads(document)["findings"][0]["evidence"][0]["body"]
    assert (body["shown_bytes"], body["more_bytes"]) == (4096, 600_007 - 4096)


# --- choosing the system and the run --------------------------------------------------------


def test_a_council_instance_is_named_by_either_code(store: Store) -> None:
    _standard_run(store)
    assert resolve_system(store, "acme-waste@E09000012") == INSTANCE.id
    assert resolve_system(store, "acme-waste@hck") == INSTANCE.id
    assert resolve_system(store, "acme-waste@e09000012") == INSTANCE.id


@pytest.mark.parametrize(
    ("wanted", "said"),
    [
        ("acme-wast", "no system 'acme-wast' in any stored run (did you mean 'acme-waste'?)"),
        ("acme-waste@XYZ", "no system 'acme-waste@XYZ' in any stored run (did you mean"),
        ("\x1b[2Jzz", "no system '\\x1b[2Jzz' in any stored run"),
    ],
)
def test_an_unknown_system_is_one_line_with_a_guess(store: Store, wanted: str, said: str) -> None:
    _standard_run(store)
    with pytest.raises(Exception, match="no system") as caught:
        resolve_system(store, wanted)
    assert str(caught.value).startswith(said)


def test_the_newest_complete_run_is_the_default(store: Store) -> None:
    first = _standard_run(store)
    _standard_run(store, status="interrupted")
    assert choose_run(store, SYSTEM.id, None) == first
    newest = _standard_run(store)
    assert choose_run(store, SYSTEM.id, None) == newest
    assert choose_run(store, SYSTEM.id, first) == first


def test_with_no_complete_run_the_newest_is_used(store: Store) -> None:
    only = _standard_run(store, status="interrupted")
    assert choose_run(store, SYSTEM.id, None) == only


# --- history -------------------------------------------------------------------------------


def test_history_lists_runs_newest_first_rescored(store: Store) -> None:
    older = replace(METHODOLOGY, rubric=replace(RUBRIC, methodology_version="test-0"))
    older = replace(older, sha256="b" * 64)
    first = _standard_run(store, methodology=older)
    second = _standard_run(store, status="interrupted")
    other = System("other", "Other", "o", "O", (), {})
    run = store.start_run(
        catalogue=replace(CATALOGUE, vendors=(Vendor("o", "O", (other,)),)),
        methodology=METHODOLOGY, tool_version="0", options={},
    )  # fmt: skip
    store.save_systems(run.id, (other,))  # a run without the system: not listed
    store.finish_run(run.id)
    history = system_history(store, SYSTEM.id, METHODOLOGY)
    document = history_document(history)
    assert [r["run"]["id"] for r in document["runs"]] == [second, first]
    assert [r["rescored"] for r in document["runs"]] == [False, True]
    assert [r["run"]["methodology_version"] for r in document["runs"]] == ["test-1", "test-0"]
    assert [r["run"]["status"] for r in document["runs"]] == ["interrupted", "complete"]
    assert {(r["grade"], r["score"], r["coverage"]) for r in document["runs"]} == {("C", 5.0, 0.67)}
    console = _plain(140)
    print_history(history, console)
    rows = [line.split("│")[1:-1] for line in console.export_text().splitlines() if "│" in line]
    assert [[cell.strip() for cell in row][:6] for row in rows[:2]] == [
        [str(second), store.run_info(second).started_at, "interrupted", "test-1", "C", "—"],
        [str(first), store.run_info(first).started_at, "complete", "test-0 *", "C", "—"],
    ]
    limited = history_document(system_history(store, SYSTEM.id, METHODOLOGY, limit=1))
    assert (len(limited["runs"]), limited["total_runs"]) == (1, 2)


def test_history_marks_a_run_that_never_reached_the_system(store: Store) -> None:
    _store_run(store, [], [], status="interrupted")
    (row,) = history_document(system_history(store, SYSTEM.id, METHODOLOGY))["runs"]
    assert (row["audited"], row["grade"]) == (False, "?")


# --- through the command line ---------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["explain", "acme-wast"], "did you mean 'acme-waste'?"),
        (["history", "nope"], "no system 'nope' in any stored run"),
        (["explain", "acme-waste", "--probe", "docs-publik"], "did you mean 'docs-public'?"),
        (["explain", "acme-waste", "--run", "99"], "no run 99"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    db = tmp_path / "cli.db"
    with Store.open(db) as opened:
        _standard_run(opened)
    code, out, err = _cli(*args, "--db", str(db))
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and said in err, err


def test_cli_without_a_database_says_so(tmp_path: Path) -> None:
    code, _, err = _cli("explain", "x", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no database at" in err
