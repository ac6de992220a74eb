"""`run --council`: only that council's systems, each audited at its own instance URLs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import LoopbackSite

from api_audit.catalogue import load_catalogue
from api_audit.catalogue.renewals import upcoming_renewals
from api_audit.cli import main


@pytest.fixture
def servers() -> Iterator[tuple[LoopbackSite, LoopbackSite, LoopbackSite]]:
    """Three hosts answering 404 to everything, remembering each path asked."""
    made = tuple(LoopbackSite(f"127.0.0.{n}") for n in (11, 12, 13))
    yield made
    for server in made:
        server.close()


def _catalogue(tmp_path: Path, vendor_docs: str, hackney: str, camden: str) -> Path:
    text = f"""
schema_version: 1
vendors:
  - id: cloudco
    name: CloudCo
    systems:
      - id: cloudco-planning
        name: CloudCo Planning
        service_areas: [planning]
        endpoints:
          docs: {vendor_docs}/docs
        instances:
          - council: E09000012
            url: {hackney}/api/
            contract_start: 2022-04-01
            contract_end: {(dt.date.today() + dt.timedelta(days=200)).isoformat()}
            annual_value: 85000
          - council: CMD
            url: {camden}/api/
      - id: cloudco-waste
        name: CloudCo Waste
        service_areas: [waste]
        endpoints:
          docs: {vendor_docs}/waste-docs
        instances:
          - council: CMD
            url: {camden}/waste/
"""
    path = tmp_path / "vendors.yaml"
    path.write_text(text, "utf-8")
    return path


def test_council_filter_audits_only_that_councils_instances(
    tmp_path: Path,
    servers: tuple[LoopbackSite, LoopbackSite, LoopbackSite],
    capsys: pytest.CaptureFixture[str],
) -> None:
    vendor, hackney, camden = servers
    catalogue = _catalogue(tmp_path, vendor.origin, hackney.origin, camden.origin)
    argv = ["run", "-c", str(catalogue), "--db", str(tmp_path / "a.db"), "--allow-private"]
    argv += ["--min-interval", "0"]
    assert main([*argv, "--council", "HCK", "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)

    assert [row["system"] for row in doc["systems"]] == ["cloudco-planning@E09000012"]
    assert hackney.paths, "the instance's own host was probed"
    assert camden.paths == [], "another council's instance was not touched"
    assert "/docs" in vendor.paths  # the vendor's central docs are shared by every instance


def test_unknown_council_is_a_usage_error(
    tmp_path: Path,
    servers: tuple[LoopbackSite, LoopbackSite, LoopbackSite],
    capsys: pytest.CaptureFixture[str],
) -> None:
    vendor, hackney, camden = servers
    catalogue = _catalogue(tmp_path, vendor.origin, hackney.origin, camden.origin)
    code = main(["run", "-c", str(catalogue), "--db", str(tmp_path / "a.db"), "--council", "ZZZ"])
    assert code == 2
    assert "unknown council 'ZZZ'" in capsys.readouterr().err
    assert not (vendor.paths or hackney.paths or camden.paths)


def test_renewals_lists_contracts_ending_soon(
    tmp_path: Path,
    servers: tuple[LoopbackSite, LoopbackSite, LoopbackSite],
    capsys: pytest.CaptureFixture[str],
) -> None:
    vendor, hackney, camden = servers
    catalogue = _catalogue(tmp_path, vendor.origin, hackney.origin, camden.origin)
    found = upcoming_renewals(load_catalogue(catalogue), today=dt.date.today(), within_days=365)
    assert [(r.council, r.system.id, r.days_left) for r in found] == [
        ("E09000012", "cloudco-planning", 200)
    ]
    assert upcoming_renewals(load_catalogue(catalogue), today=dt.date.today(), within_days=30) == []

    db = tmp_path / "none.db"
    assert main(["renewals", "-c", str(catalogue), "--db", str(db), "-f", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["renewals"]
    assert row["council_name"] == "Hackney"
    assert row["annual_value"] == 85000
    assert row["grade"] is None
