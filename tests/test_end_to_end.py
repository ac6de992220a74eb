"""End to end: real HTTP against simulated markets on loopback, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api_audit.cli import main
from api_audit.demo.market import Supplier, default_suppliers, serve_market


def _run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _by_system(document: dict) -> dict[str, dict]:
    return {row["system"]: row for row in document["systems"]}


def test_demo_ranks_the_archetypes(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _run_json(capsys, ["demo", "--format", "json"])
    rows = _by_system(doc)
    score = {k: (v["score"] if v["score"] is not None else -1) for k, v in rows.items()}

    assert rows["openco-waste"]["grade"] in {"A", "B"}
    assert score["openco-waste"] > score["legacysoft-revs"] > score["docsonly-housing"]
    assert score["docsonly-housing"] > score["gatedsoft-care"]
    assert score["docsonly-housing"] > score["shellportal-crm"]
    assert rows["gonesys-parking"]["grade"] == "?"
    assert doc["run"]["tool_version"]
    assert doc["run"]["rubric_version"]


def test_demo_findings_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _by_system(_run_json(capsys, ["demo", "--format", "json"]))

    def finding(system: str, probe: str) -> dict:
        return next(f for f in rows[system]["findings"] if f["probe"] == probe)

    assert finding("gatedsoft-care", "docs-public")["outcome"] == "fail"
    assert "sign-in" in finding("gatedsoft-care", "docs-public")["message"].lower() or "login" in (
        finding("gatedsoft-care", "docs-public")["message"].lower()
    )
    assert finding("shellportal-crm", "docs-public")["outcome"] == "fail"
    assert "soft-200" in finding("shellportal-crm", "docs-public")["message"]
    assert finding("gonesys-parking", "docs-public")["outcome"] == "inconclusive"
    assert finding("openco-waste", "openapi-published")["outcome"] == "pass"


def test_demo_table_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for name in ("OpenCo Waste Platform", "GatedSoft Care Records", "Gone Parking Manager"):
        assert name in out


def _other_market() -> tuple[Supplier, ...]:
    """The demo archetypes, each moved to its own 127.0.0.x address and renamed."""
    moved = []
    for index, supplier in enumerate(default_suppliers(), start=2):
        moved.append(
            Supplier(
                vendor_id=f"v{index}",
                vendor_name=f"Vendor {index}",
                system_id=f"s{index}-{supplier.system_id}",
                system_name=f"System {index}",
                service_areas=supplier.service_areas,
                endpoints=supplier.endpoints,
                routes=supplier.routes,
                fallback=supplier.fallback,
                reachable=supplier.reachable,
                host=f"127.0.0.{index}",
            )
        )
    return tuple(moved)


def test_run_audits_a_market_on_other_loopback_addresses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_market(_other_market()) as market:
        catalogue = market.write_catalogue(tmp_path / "vendors.yaml")
        db = tmp_path / "audit.db"
        doc = _run_json(
            capsys,
            [
                "run",
                "-c",
                str(catalogue),
                "--db",
                str(db),
                "--allow-private",
                "--min-interval",
                "0",
                "-f",
                "json",
            ],
        )
    grades = {row["system"].split("-", 1)[1]: row["grade"] for row in doc["systems"]}
    order = [row["system"].split("-", 1)[1] for row in doc["systems"]]
    assert order[0] == "openco-waste"
    assert grades["gonesys-parking"] == "?"
    assert order.index("docsonly-housing") < order.index("gatedsoft-care")
    assert order.index("docsonly-housing") < order.index("shellportal-crm")

    # The scorecard command reprints the same run from the database alone.
    again = _run_json(capsys, ["scorecard", "--db", str(db), "-f", "json"])
    assert [r["grade"] for r in again["systems"]] == [r["grade"] for r in doc["systems"]]


def test_private_addresses_are_refused_without_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_market(default_suppliers()[:1]) as market:
        catalogue = market.write_catalogue(tmp_path / "vendors.yaml")
        doc = _run_json(
            capsys, ["run", "-c", str(catalogue), "--db", str(tmp_path / "a.db"), "-f", "json"]
        )
    (row,) = doc["systems"]
    assert row["grade"] == "?"
    observed = [f for f in row["findings"] if f["outcome"] != "not_applicable"]
    assert all(f["outcome"] in {"inconclusive", "fail"} for f in observed)
    assert any("blocked" in f["message"] or "refused" in f["message"] for f in observed)
