"""`api-audit diff` end to end: real runs against a loopback market that changes between
them, a probe set that changes between them, the errors, and hostile names kept inert."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

import pytest
from rich.console import Console
from support.catalogues import SMALL_CATALOGUE, parse_catalogue_text

from api_audit.cli import main
from api_audit.demo.market import Route, default_suppliers, serve_market
from api_audit.methodology import load_methodology
from api_audit.models import Finding, RunInfo, Scorecard, ScoredSystem, SystemScore
from api_audit.rejudge import NO_BASELINE, baseline_token, rejudge_system
from api_audit.report.diff import print_diff, write_diff_json
from api_audit.scoring.diff import diff_runs
from api_audit.store import Store

REPO = Path(__file__).resolve().parent.parent


@dataclass
class ChangingMarket:
    """The demo market on loopback, its routes editable between runs, and a run command."""

    routes: dict[str, dict[str, Route]]  # system id -> its live route table
    argv: list[str]
    db: Path

    def run(self, capsys: pytest.CaptureFixture[str], *extra: str) -> None:
        code = main([*self.argv, *extra])
        assert code == 0, capsys.readouterr().err
        capsys.readouterr()


@pytest.fixture
def market(tmp_path: Path) -> Iterator[ChangingMarket]:
    suppliers = default_suppliers()  # one "now": the same security.txt in both runs
    routes = {s.system_id: dict(s.routes) for s in suppliers}
    live = tuple(replace(s, routes=routes[s.system_id]) for s in suppliers)
    with serve_market(live) as served:
        catalogue = served.write_catalogue(tmp_path / "vendors.yaml")
        db = tmp_path / "audit.db"
        argv = ["run", "-c", str(catalogue), "--db", str(db), "--allow-private"]
        yield ChangingMarket(routes, [*argv, "--min-interval", "0", "-f", "json"], db)


def _diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["diff", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _withdraw_and_publish(market: ChangingMarket) -> None:
    """OpenCo withdraws its public spec; DocsOnly publishes one (OpenCo's, as its own)."""
    spec = market.routes["openco-waste"].pop("/openapi.json")
    market.routes["docsonly-housing"]["/openapi.json"] = spec


def test_diff_lists_the_supplier_that_withdrew_and_the_one_that_published(
    market: ChangingMarket, capsys: pytest.CaptureFixture[str]
) -> None:
    market.run(capsys)
    _withdraw_and_publish(market)
    market.run(capsys)

    code, out, err = _diff(capsys, "--db", str(market.db), "-f", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert (doc["from"], doc["to"]) == (1, 2)
    assert doc["methodology"]["from"] == doc["methodology"]["to"]
    changes = {c["system"]: c for c in doc["changes"]}
    assert list(changes) == ["openco-waste", "docsonly-housing"]  # the regression first

    withdrew, published = changes["openco-waste"], changes["docsonly-housing"]
    assert withdrew["regression"] is True and withdrew["change"] == "regressed"
    assert published["regression"] is False and published["change"] == "improved"
    assert withdrew["before"]["grade"] < withdrew["after"]["grade"]  # A before B
    assert published["before"]["grade"] > published["after"]["grade"]
    for change in (withdrew, published):
        assert change["cause"] == "observed"
        assert {"openapi-published", "openapi-standard"} <= {f["probe"] for f in change["findings"]}
        for finding in change["findings"]:
            assert finding["cause"] == "observed"
            assert finding["before"]["outcome"] != finding["after"]["outcome"]
            assert finding["before"]["message"] and finding["after"]["message"]
    spec = {f["probe"]: f for f in withdrew["findings"]}["openapi-published"]
    assert (spec["before"]["outcome"], spec["after"]["outcome"]) == ("pass", "fail")
    assert "404" in spec["after"]["message"]
    spec = {f["probe"]: f for f in published["findings"]}["openapi-published"]
    assert (spec["before"]["outcome"], spec["after"]["outcome"]) == ("fail", "pass")

    code, _, _ = _diff(capsys, "--db", str(market.db), "--fail-on-regression")
    assert code == 1
    code, out, _ = _diff(capsys, "--db", str(market.db), "2", "1", "-f", "json")
    backwards = {c["system"]: c["change"] for c in json.loads(out)["changes"]}
    assert (code, backwards) == (0, {"docsonly-housing": "regressed", "openco-waste": "improved"})


def _port_free(text: str) -> str:
    # Loopback ports are ephemeral (32768-60999 on Linux: always five digits, so the
    # columns do not move when the number is replaced).
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


EXPECTED_TABLE = """\
api-audit diff · run 1 → run 2 · methodology 2027.01 → 2027.01
2 systems changed, 1 regressed
┏━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━┓
┃ change    ┃ system                ┃ vendor       ┃ grade ┃ ladder  ┃ score     ┃ cause    ┃
┡━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━┩
│ regressed │ OpenCo Waste Platform │ OpenCo       │ A → B │ L5 → L3 │ 9.4 → 6.6 │ observed │
│ improved  │ DocsOnly Housing      │ DocsOnly Ltd │ D → B │   L3    │ 4.2 → 6.8 │ observed │
└───────────┴───────────────────────┴──────────────┴───────┴─────────┴───────────┴──────────┘
cause: observed = what was seen changed · methodology = the same evidence judged differently
by the newer methodology · both · regressed = grade or ladder down, or a finding pass → fail
that was observed; ? (not graded) is neither up nor down

OpenCo Waste Platform (openco-waste)
┏━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┓
┃ probe              ┃ before                         ┃ after                           ┃ cause    ┃
┡━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━┩
│ data-licence       │ pass: no sign-in page or       │ fail: 404 Not Found (expected   │ observed │
│                    │ password form; 200 OK;         │ 2xx)                            │          │
│                    │ info.license names an open     │                                 │          │
│                    │ licence: 'OGL-3.0'             │                                 │          │
│ docs-link-spec     │ pass: the Redoc page loads     │ fail: the Redoc page loads      │ observed │
│                    │ http://127.0.0.1:PORT/openap… │ http://127.0.0.1:PORT/openapi… │          │
│                    │ no sign-in page or password    │ 404 Not Found (expected 2xx)    │          │
│                    │ form; 200 OK; OpenAPI 3.1.0    │                                 │          │
│                    │ docum…                         │                                 │          │
│ openapi-published  │ pass: no sign-in page or       │ fail: 404 Not Found (expected   │ observed │
│                    │ password form; 200 OK; OpenAPI │ 2xx)                            │          │
│                    │ 3.1.0 document 'Waste          │                                 │          │
│                    │ collections API', 1 path       │                                 │          │
│ openapi-quality    │ pass: no sign-in page or       │ fail: 404 Not Found (expected   │ observed │
│                    │ password form; 200 OK; 8 of 8  │ 2xx)                            │          │
│                    │ quality marks                  │                                 │          │
│ openapi-standard   │ pass: no sign-in page or       │ fail: 404 Not Found (expected   │ observed │
│                    │ password form; 200 OK; OpenAPI │ 2xx)                            │          │
│                    │ 3.1.0 document 'Waste          │                                 │          │
│                    │ collections API', 1 path       │                                 │          │
│ sandbox-advertised │ pass: the spec lists a test    │ inconclusive: advertises no     │ observed │
│                    │ server /sandbox/api/v1         │ sandbox or test environment     │          │
│ spec-anonymous     │ pass: no sign-in page or       │ fail: 404 Not Found (expected   │ observed │
│                    │ password form; 200 OK; a       │ 2xx)                            │          │
│                    │ random path answers 404 Not    │                                 │          │
│                    │ Found                          │                                 │          │
└────────────────────┴────────────────────────────────┴─────────────────────────────────┴──────────┘

DocsOnly Housing (docsonly-housing)
┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┓
┃ probe             ┃ before                          ┃ after                           ┃ cause    ┃
┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━┩
│ openapi-published │ fail: at /openapi.json: 404 Not │ pass: at /openapi.json: no      │ observed │
│                   │ Found (expected 2xx); 4 other   │ sign-in page or password form;  │          │
│                   │ paths failed too                │ 200 OK; OpenAPI 3.1.0 document  │          │
│                   │                                 │ 'Waste collections API', 1 path │          │
│ openapi-standard  │ fail: at /openapi.json: 404 Not │ pass: at /openapi.json: no      │ observed │
│                   │ Found (expected 2xx); 4 other   │ sign-in page or password form;  │          │
│                   │ paths failed too                │ 200 OK; OpenAPI 3.1.0 document  │          │
│                   │                                 │ 'Waste collections API', 1 path │          │
└───────────────────┴─────────────────────────────────┴─────────────────────────────────┴──────────┘
"""


def test_the_diff_table_is_fixed_width_text(
    market: ChangingMarket, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    market.run(capsys)
    _withdraw_and_publish(market)
    market.run(capsys)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    code, out, _ = _diff(capsys, "--db", str(market.db))
    assert code == 0
    shown = "".join(line.rstrip() + "\n" for line in _port_free(out).splitlines())
    assert shown == EXPECTED_TABLE


def _probe_set_without_the_soft_200_check(tmp_path: Path) -> Path:
    """The built-in probes, but spec-anonymous no longer compares with a random path: a
    methodology change that turns a soft-200 app shell's spec from fail to pass."""
    probes = tmp_path / "probes"
    shutil.copytree(REPO / "probes", probes)
    spec = probes / "spec-anonymous.yaml"
    text = spec.read_text("utf-8").replace("  - not_soft_200: true\n", "")
    spec.write_text(text[: text.index("  - name: soft-200 app shell")], "utf-8")
    return probes


def test_a_changed_probe_set_on_the_same_market_is_a_methodology_change(
    market: ChangingMarket, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    probes = _probe_set_without_the_soft_200_check(tmp_path)
    market.run(capsys)
    market.run(capsys, "--probes", str(probes))

    code, out, err = _diff(capsys, "--db", str(market.db), "--probes", str(probes), "-f", "json")
    assert (code, err) == (0, "")
    (change,) = json.loads(out)["changes"]
    assert (change["system"], change["cause"], change["regression"]) == (
        "shellportal-crm",
        "methodology",
        False,
    )
    moved = [
        (f["probe"], f["before"]["outcome"], f["after"]["outcome"], f["cause"])
        for f in change["findings"]
    ]
    assert moved == [("spec-anonymous", "fail", "pass", "methodology")]

    # Without the newer run's probe set the command says what it assumed.
    code, _, err = _diff(capsys, "--db", str(market.db))
    assert code == 0
    assert "note: run 2 was made under methodology" in err
    assert "pass --probes DIR" in err


def test_new_methodology_and_a_changed_market_together_keep_their_causes_apart(
    market: ChangingMarket, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    probes = _probe_set_without_the_soft_200_check(tmp_path)
    market.run(capsys)
    _withdraw_and_publish(market)
    market.run(capsys, "--probes", str(probes))

    code, out, _ = _diff(capsys, "--db", str(market.db), "--probes", str(probes), "-f", "json")
    causes = {c["system"]: c["cause"] for c in json.loads(out)["changes"]}
    assert (code, causes) == (
        0,
        {
            "openco-waste": "observed",
            "docsonly-housing": "observed",
            "shellportal-crm": "methodology",
        },
    )


def test_the_stored_evidence_judged_again_gives_the_stored_findings(
    market: ChangingMarket, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under the run's own methodology, rejudging reproduces every stored outcome: the
    baseline token is found again and every exchange is read back by its key."""
    market.run(capsys)
    methodology = load_methodology(None)
    with Store.open(market.db) as store:
        run = store.run_info(1)
        token = baseline_token(store.request_keys(1))
        assert token != NO_BASELINE
        for system in store.systems(1):
            again = rejudge_system(
                system,
                methodology,
                lambda keys: store.exchanges_for(1, keys),
                token=token,
                now=datetime.fromisoformat(run.started_at),
            )
            stored = {f.probe_id: (f.outcome, f.message) for f in store.findings(1, system.id)}
            assert {f.probe_id: (f.outcome, f.message) for f in again} == stored


@pytest.mark.parametrize(
    ("keys", "token"),
    [
        (["GET https://h.test/__api_audit_ab12cd accept=*/*"], "ab12cd"),
        (
            ["GET https://h.test/docs accept=*/*", "GET http://h:81/__api_audit_x-_9 accept=a"],
            "x-_9",
        ),
        (["GET https://h.test/__api_audit_t/deeper accept=*/*"], "t"),
        (["GET https://h.test/docs accept=*/*"], NO_BASELINE),
        ([], NO_BASELINE),
        (["GET https://h.test/__api_audit_ accept=*/*"], NO_BASELINE),
    ],
)
def test_the_baseline_token_is_read_back_from_the_request_keys(keys: list[str], token: str) -> None:
    assert baseline_token(keys) == token


# --- choosing the runs, and the errors -----------------------------------------------------


def _stored_runs(path: Path, *statuses: str) -> None:
    """Runs with no findings, finished with these statuses (a run per status, in order)."""
    catalogue = parse_catalogue_text(SMALL_CATALOGUE)
    methodology = load_methodology(None)
    with Store.open(path) as store:
        for status in statuses:
            run = store.start_run(
                catalogue=catalogue, methodology=methodology, tool_version="0", options={}
            )
            store.save_systems(run.id, catalogue.systems)
            if status != "running":
                store.finish_run(run.id, status)


@pytest.mark.parametrize(
    ("statuses", "argv", "message"),
    [
        ((), [], "diff needs two complete runs; {db} has 0"),
        (("complete",), [], "diff needs two complete runs; {db} has 1"),
        (("complete", "interrupted"), [], "diff needs two complete runs; {db} has 1"),
        (("complete", "running", "interrupted"), [], "diff needs two complete runs; {db} has 1"),
        (("complete", "complete"), ["2"], "no complete run after run 2 in {db}"),
        (("complete", "complete"), ["1", "9"], "no run 9 in {db}"),
        (("interrupted",), ["1"], "no complete run after run 1 in {db}"),
    ],
)
def test_too_few_or_unknown_runs_are_one_error_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    statuses: tuple[str, ...],
    argv: list[str],
    message: str,
) -> None:
    db = tmp_path / "audit.db"
    _stored_runs(db, *statuses)
    code, out, err = _diff(capsys, "--db", str(db), *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"api-audit: error: {message.format(db=db)}")
    assert len(err.splitlines()) == 1


def test_no_database_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _diff(capsys, "--db", str(tmp_path / "none.db"))
    assert code == 2
    assert err.startswith("api-audit: error: no database at ")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("statuses", "argv", "pair"),
    [
        (("complete", "complete"), [], (1, 2)),
        (("complete", "interrupted", "complete", "running"), [], (1, 3)),
        (("complete", "complete", "complete"), [], (2, 3)),
        (("complete", "complete", "complete"), ["1"], (1, 3)),
        (("complete", "interrupted", "complete"), ["2"], (2, 3)),
        (("complete", "complete", "complete"), ["3", "1"], (3, 1)),
    ],
)
def test_the_runs_compared_default_to_the_newest_complete_ones(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    statuses: tuple[str, ...],
    argv: list[str],
    pair: tuple[int, int],
) -> None:
    db = tmp_path / "audit.db"
    _stored_runs(db, *statuses)
    code, out, _ = _diff(capsys, "--db", str(db), "-f", "json", *argv)
    doc = json.loads(out)
    assert (code, (doc["from"], doc["to"]), doc["changes"]) == (0, pair, [])
    code, out, _ = _diff(capsys, "--db", str(db), *argv)
    assert code == 0
    assert "No system changed" in out


# --- hostile names -------------------------------------------------------------------------

HOSTILE = [
    ("[bold red]Pwned[/]", "[bold red]Pwned[/]"),
    ("[link=https://evil.test]click[/link]", "[link=https://evil.test]click[/link]"),
    ("\x1b[2J\x1b[31mCleared\x1b[0m", "Cleared"),
    ("Bell\x07 and \x9b31m CSI", "CSI"),
    ("Right-to-left \u202eevil\u202c", "evil"),
]


def _hostile_runs(name: str) -> tuple[Scorecard, Scorecard]:
    """A system, vendor, probe, message and methodology version all named `name`, graded A
    with the probe passing, then C with it failing."""

    def card(run_id: int, grade: str, outcome: Literal["pass", "fail"]) -> Scorecard:
        finding = Finding("s", name, "documented", 1.0, outcome, f"{name} said {outcome}")
        score = SystemScore("s", 5.0, 1.0, grade, {}, ladder="L2")
        run = RunInfo(run_id, "t", None, "0", name, "m", "c", "x", "complete")
        return Scorecard(run, (ScoredSystem("s", name, "v", name, score, (finding,)),))

    return card(1, "A", "pass"), card(2, "C", "fail")


@pytest.mark.parametrize(("name", "shown"), HOSTILE)
def test_hostile_names_and_messages_stay_inert_in_the_table(name: str, shown: str) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, legacy_windows=False)
    print_diff(diff_runs(*_hostile_runs(name)), console)
    text = out.getvalue()
    assert not any(c in text for c in "\x1b\x07\x9b\u202e")
    assert shown in text  # markup shown as typed, never applied; controls dropped
    assert "regressed" in text


@pytest.mark.parametrize(("name", "shown"), HOSTILE)
def test_hostile_names_reach_json_escaped(name: str, shown: str) -> None:
    out = io.StringIO()
    write_diff_json(diff_runs(*_hostile_runs(name)), "v", out)
    assert not any(c in out.getvalue() for c in "\x1b\x07\x9b\u202e")
    (change,) = json.loads(out.getvalue())["changes"]
    assert change["name"] == name  # the data kept whole; only its display is cleaned
