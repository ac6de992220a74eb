"""CI gates: `--fail-under GRADE` and `--fail-on-regression` on `run` and `scorecard` exit 1
exactly when they should, after printing in full, with one stderr line naming the systems."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from api_audit.cli import main
from api_audit.demo.market import Route, default_suppliers, serve_market
from api_audit.errors import UsageError
from api_audit.methodology import load_methodology
from api_audit.models import RunInfo, Scorecard, ScoredSystem, SystemScore
from api_audit.scoring.diff import diff_runs
from api_audit.scoring.thresholds import (
    NAMED,
    below_reason,
    check_grade,
    fail_under,
    grade_order,
    regression_reason,
    regressions,
)

ORDER = grade_order(load_methodology(None).rubric)
# The demo market's grades (api-audit demo): one A, two D, two E and one "?".
DEMO = {
    "openco-waste": "A",
    "legacysoft-revs": "D",
    "docsonly-housing": "D",
    "gatedsoft-care": "E",
    "shellportal-crm": "E",
    "gonesys-parking": "?",
}


def _card(grades: dict[str, str], run_id: int = 1, ladder: str = "L2") -> Scorecard:
    run = RunInfo(run_id, "t", None, "0", "v", "m", "c", "x", "complete")
    rows = tuple(
        ScoredSystem(sid, sid, "v", "V", SystemScore(sid, None, 1.0, grade, {}, ladder=ladder), ())
        for sid, grade in grades.items()
    )
    return Scorecard(run, rows)


def test_the_rubric_orders_its_grades_best_first() -> None:
    assert ORDER == ("A", "B", "C", "D", "E")


@pytest.mark.parametrize(
    ("threshold", "below"),
    [
        ("A", {"legacysoft-revs", "docsonly-housing", "gatedsoft-care", "shellportal-crm"}),
        ("B", {"legacysoft-revs", "docsonly-housing", "gatedsoft-care", "shellportal-crm"}),
        ("C", {"legacysoft-revs", "docsonly-housing", "gatedsoft-care", "shellportal-crm"}),
        ("D", {"gatedsoft-care", "shellportal-crm"}),
        ("E", set()),
    ],
)
def test_fail_under_lists_the_letters_worse_than_the_threshold(
    threshold: str, below: set[str]
) -> None:
    assert {row.system_id for row in fail_under(_card(DEMO), threshold, ORDER)} == below


@pytest.mark.parametrize("threshold", ORDER)
@pytest.mark.parametrize("grades", [{"x": "?"}, {"x": "?", "y": "?"}, {}])
def test_an_ungraded_system_never_fails_the_gate(threshold: str, grades: dict[str, str]) -> None:
    assert fail_under(_card(grades), threshold, ORDER) == ()


@pytest.mark.parametrize(("given", "letter"), [("B", "B"), ("b", "B"), (" c ", "C"), ("e", "E")])
def test_a_grade_is_read_case_aside(given: str, letter: str) -> None:
    assert check_grade(given, ORDER) == letter


@pytest.mark.parametrize("given", ["?", "F", "", "AB", "A+", "\x1b[31mA", "1"])
def test_anything_but_a_grade_letter_is_a_usage_error(given: str) -> None:
    with pytest.raises(UsageError, match="--fail-under takes a grade, one of A, B, C, D, E"):
        check_grade(given, ORDER)


@pytest.mark.parametrize(
    ("before", "after", "regressed"),
    [
        ("A", "B", True),
        ("B", "E", True),
        ("B", "A", False),
        ("C", "C", False),
        ("A", "?", False),  # no longer graded is neither up nor down
        ("?", "E", False),
    ],
)
def test_regressions_are_diff_runs_regressions(before: str, after: str, regressed: bool) -> None:
    found = regressions(diff_runs(_card({"s": before}), _card({"s": after}, 2)))
    assert [c.system_id for c in found] == (["s"] if regressed else [])


def test_reason_lines_name_the_systems_escaped_and_capped() -> None:
    hostile = {f"\x1b[2Jsys{i}\n": "E" for i in range(NAMED + 3)}
    line = below_reason("C", fail_under(_card(hostile), "C", ORDER))
    assert line.startswith(f"--fail-under C: {NAMED + 3} systems graded below C: ")
    assert line.endswith(" and 3 more") and "\x1b" not in line and "\n" not in line
    diff = diff_runs(_card({"a": "A"}, ladder="L5"), _card({"a": "C"}, 2, ladder="L3"))
    assert regression_reason(diff, regressions(diff)) == (
        "--fail-on-regression: 1 system regressed since run 1: a (A L5 -> C L3)"
    )


# --- end to end: main([...]) on a loopback market run twice -----------------------------


@dataclass
class GatedMarket:
    routes: dict[str, dict[str, Route]]
    argv: list[str]
    db: Path

    def run(self, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*self.argv, *extra])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    def scorecard(self, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["scorecard", "--db", str(self.db), "-f", "json", *extra])
        captured = capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def market(tmp_path: Path) -> Iterator[GatedMarket]:
    suppliers = default_suppliers()
    routes = {s.system_id: dict(s.routes) for s in suppliers}
    live = tuple(replace(s, routes=routes[s.system_id]) for s in suppliers)
    with serve_market(live) as served:
        catalogue = served.write_catalogue(tmp_path / "vendors.yaml")
        db = tmp_path / "audit.db"
        argv = ["run", "-c", str(catalogue), "--db", str(db), "--allow-private"]
        yield GatedMarket(routes, [*argv, "--min-interval", "0", "-f", "json"], db)


def _withdraw_spec(market: GatedMarket) -> None:
    """OpenCo withdraws its public spec: A L5 -> B L3 (tests/test_diff.py)."""
    market.routes["openco-waste"].pop("/openapi.json")


def _printed_in_full(out: str) -> dict[str, str]:
    return {s["system"]: s["grade"] for s in json.loads(out)["systems"]}


@pytest.mark.parametrize(
    ("threshold", "code", "named"),
    [
        (
            "A",
            1,
            "docsonly-housing (D), gatedsoft-care (E), legacysoft-revs (D), shellportal-crm (E)",
        ),
        ("d", 1, "gatedsoft-care (E), shellportal-crm (E)"),
        ("E", 0, None),
    ],
)
def test_fail_under_on_run_and_scorecard(
    market: GatedMarket,
    capsys: pytest.CaptureFixture[str],
    threshold: str,
    code: int,
    named: str | None,
) -> None:
    for result in (
        market.run(capsys, "--fail-under", threshold),
        market.scorecard(capsys, "--fail-under", threshold),
    ):
        assert result[0] == code
        assert _printed_in_full(result[1]) == DEMO  # printed before the exit
        reasons = [line for line in result[2].splitlines() if "--fail-under" in line]
        if named is None:
            assert reasons == []
        else:
            shown = threshold.upper()
            count = named.count("(")
            assert reasons == [
                f"api-audit: --fail-under {shown}: {count} systems graded below {shown}: "
                + ", ".join(sorted(named.split(", "), key=lambda n: list(DEMO).index(n.split()[0])))
            ]


def test_fail_on_regression_with_no_previous_run_is_not_a_failure(
    market: GatedMarket, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = market.run(capsys, "--fail-on-regression")
    assert (code, _printed_in_full(out)) == (0, DEMO)
    assert (
        "api-audit: --fail-on-regression: no complete run before run 1 to compare with: "
        "not a failure" in err
    )


@pytest.mark.parametrize("change", [True, False])
def test_fail_on_regression_exits_1_exactly_when_a_system_regressed(
    market: GatedMarket, capsys: pytest.CaptureFixture[str], change: bool
) -> None:
    assert market.run(capsys)[0] == 0
    if change:
        _withdraw_spec(market)
    code, out, err = market.run(capsys, "--fail-on-regression")
    assert code == (1 if change else 0)
    assert _printed_in_full(out)["openco-waste"] == ("B" if change else "A")
    reasons = [line for line in err.splitlines() if "--fail-on-regression" in line]
    expected = "api-audit: --fail-on-regression: 1 system regressed since run 1: openco-waste "
    assert [r.startswith(expected) for r in reasons] == ([True] if change else [])
    # the same answer from the stored runs, later
    assert market.scorecard(capsys, "--fail-on-regression")[0] == code
    # the first run has no run before it: never a failure
    assert market.scorecard(capsys, "--fail-on-regression", "--run", "1")[0] == 0


def test_both_gates_report_both_reasons(
    market: GatedMarket, capsys: pytest.CaptureFixture[str]
) -> None:
    market.run(capsys)
    _withdraw_spec(market)
    code, _, err = market.run(capsys, "--fail-on-regression", "--fail-under", "D")
    assert code == 1
    assert [line.split(":")[1].strip() for line in err.splitlines() if "--fail" in line] == [
        "--fail-under D",
        "--fail-on-regression",
    ]


@pytest.mark.parametrize("command", ["run", "scorecard"])
def test_a_bad_threshold_exits_2_before_any_work(
    market: GatedMarket, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    if command == "scorecard":
        market.run(capsys)
        code, out, err = market.scorecard(capsys, "--fail-under", "?")
    else:
        code, out, err = market.run(capsys, "--fail-under", "F")
        assert not market.db.exists()
    assert (code, out) == (2, "")
    assert err.startswith("api-audit: error: --fail-under takes a grade, one of A, B, C, D, E")


def test_the_example_workflow_audits_weekly_and_fails_on_regressions() -> None:
    path = Path(__file__).resolve().parents[1] / ".github/workflows/openness-report.yml"
    workflow = yaml.safe_load(path.read_text("utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    steps = workflow["jobs"]["audit"]["steps"]
    commands = " ".join(str(step.get("run", "")) for step in steps)
    uses = [str(step.get("uses", "")) for step in steps]
    assert "api-audit run --fail-on-regression" in commands
    assert "api-audit report --out reports/" in commands
    assert any(u.startswith("actions/setup-python") for u in uses)
    assert any(u.startswith("actions/cache/restore") for u in uses)
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert "reports/" in upload["with"]["path"] and "api-audit.db" in upload["with"]["path"]
