"""`api-audit contracts`, contracts in `renewals`, and `run --council --with-contracts`
(issue 13): stored contracts matched at read time, against the catalogue given."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackSite
from rich.console import Console

from api_audit.catalogue import load_catalogue, parse_catalogue
from api_audit.catalogue.councils import load_register
from api_audit.cli import main
from api_audit.models import Contract, Organisation
from api_audit.report.contracts import contracts_table
from api_audit.sources.matching import Matcher
from api_audit.sources.periods import annual_value
from api_audit.store import Store

TODAY = dt.date.today()
NOTICE = "https://www.contractsfinder.service.gov.uk/notice/uniform-1"

CATALOGUE = """\
schema_version: 1
vendors:
  - id: idox
    name: Idox
    companies_house: ["03984070"]
    systems:
      - id: idox-uniform
        name: Idox Uniform
        keywords: [Uniform]
        service_areas: [planning]
        endpoints: {{docs: "{docs}/uniform-docs"}}
        instances:{instances}
  - id: civica
    name: Civica
    aliases: [Civica UK]
    systems:
      - id: civica-moderngov
        name: Civica ModernGov
        keywords: [ModernGov]
        service_areas: [democracy]
        endpoints: {{docs: "{docs}/moderngov-docs"}}
  - id: softcat
    name: Softcat
    role: reseller
    systems: []
"""


def _catalogue(tmp_path: Path, instances: str = " []", docs: str = "https://docs.test") -> Path:
    path = tmp_path / "vendors.yaml"
    path.write_text(CATALOGUE.format(instances=instances, docs=docs), "utf-8")
    return path


def _contract(ocid: str, buyer: str, supplier: str, title: str, **more: object) -> Contract:
    values: dict[str, object] = {
        "ocid": ocid,
        "release_id": f"{ocid}-1",
        "release_date": "2025-01-01T00:00:00Z",
        "buyer": Organisation(buyer),
        "suppliers": (Organisation(supplier),) if supplier else (),
        "title": title,
        "value": 120000.0,
        "currency": "GBP",
        "start": TODAY - dt.timedelta(days=400),
        "end": TODAY + dt.timedelta(days=100),
        "source": "contracts-finder",
    }
    return Contract(**{**values, **more})  # type: ignore[arg-type]


CONTRACTS = [
    _contract("ocds-1", "LONDON BOROUGH OF HACKNEY", "IDOX SOFTWARE LTD", "Uniform support",
              notice_url=NOTICE),
    _contract("ocds-2", "Kent County Council", "Softcat plc", "Uniform licences",
              end=TODAY + dt.timedelta(days=300)),
    _contract("ocds-3", "Camden Council", "Civica UK Limited", "ModernGov hosting",
              end=TODAY + dt.timedelta(days=1000)),
    _contract("ocds-4", "Nowhere Parish Council", "Acme Ltd", "Websites",
              end=TODAY - dt.timedelta(days=10)),
]  # fmt: skip


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    db = tmp_path / "c.db"
    with Store.open(db) as store:
        store.add_contracts(CONTRACTS)
    return db


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, list[dict[str, object]]]:
    assert main(list(argv)) == 0
    document: dict[str, list[dict[str, object]]] = json.loads(capsys.readouterr().out)
    return document


def test_json_lists_every_contract_with_its_matches(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = _catalogue(tmp_path)
    doc = _json(capsys, "contracts", "-c", str(catalogue), "--db", str(stored), "-f", "json")
    rows = {row["ocid"]: row for row in doc["contracts"]}
    assert set(rows) == {"ocds-1", "ocds-2", "ocds-3", "ocds-4"}
    hackney = rows["ocds-1"]
    for key in ("ocid", "buyer", "council", "supplier", "vendor", "system", "start", "end",
                "value", "currency", "source_url", "match", "flags"):  # fmt: skip
        assert key in hackney
    assert (hackney["council"], hackney["vendor"], hackney["system"]) == (
        "E09000012",
        "idox",
        "idox-uniform",
    )
    assert hackney["source_url"] == NOTICE
    assert hackney["match"] == {
        "council": {"target": "E09000012", "method": "official name", "confidence": 0.95,
                    "note": ""},
        "vendor": {"target": "idox", "method": "core name", "confidence": 0.7, "note": ""},
        "system": {"target": "idox-uniform", "method": "keyword 'Uniform'", "confidence": 0.7,
                   "note": ""},
    }  # fmt: skip
    kent = rows["ocds-2"]
    assert (kent["council"], kent["vendor"], kent["system"]) == ("E10000016", None, None)
    assert "via reseller Softcat plc" in kent["match"]["vendor"]["note"]  # type: ignore[index]
    assert kent["resellers"] == ["Softcat plc"]
    assert rows["ocds-4"]["council"] is None


@pytest.mark.parametrize(
    ("options", "ocids"),
    [
        ((), {"ocds-1", "ocds-2", "ocds-3", "ocds-4"}),
        (("--council", "HCK"), {"ocds-1"}),
        (("--council", "E09000012"), {"ocds-1"}),
        (("--council", "KEN"), {"ocds-2"}),
        (("--vendor", "civica"), {"ocds-3"}),
        (("--vendor", "softcat"), set()),  # a reseller is never credited
        (("--unmatched",), {"ocds-2", "ocds-4"}),
        (("--ending-within", "200"), {"ocds-1"}),
        (("--ending-within", "400"), {"ocds-1", "ocds-2"}),
        (("--council", "HCK", "--unmatched"), set()),
    ],
)
def test_filters(
    tmp_path: Path,
    stored: Path,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    ocids: set[str],
) -> None:
    argv = ["contracts", "-c", str(_catalogue(tmp_path)), "--db", str(stored), "-f", "json"]
    doc = _json(capsys, *argv, *options)
    assert {row["ocid"] for row in doc["contracts"]} == ocids


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--council", "ZZZ"), "unknown council 'ZZZ'"),
        (("--vendor", "idoxx"), "idox"),
    ],
)
def test_unknown_council_or_vendor_is_a_usage_error(
    tmp_path: Path,
    stored: Path,
    capsys: pytest.CaptureFixture[str],
    options: tuple[str, ...],
    message: str,
) -> None:
    argv = ["contracts", "-c", str(_catalogue(tmp_path)), "--db", str(stored), *options]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_no_database_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["contracts", "-c", str(_catalogue(tmp_path)), "--db", str(tmp_path / "none.db")]
    assert main(argv) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_a_better_catalogue_improves_contracts_already_imported(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["contracts", "--db", str(stored), "-f", "json", "--council", "HCK"]
    better = _catalogue(tmp_path)
    text = better.read_text("utf-8").replace("keywords: [Uniform]", "keywords: []")
    poorer = tmp_path / "poorer.yaml"
    poorer.write_text(text, "utf-8")
    before = _json(capsys, *argv, "-c", str(poorer))["contracts"][0]
    after = _json(capsys, *argv, "-c", str(better))["contracts"][0]
    assert (before["vendor"], before["system"]) == ("idox", None)
    assert "no product keyword" in before["match"]["system"]["note"]  # type: ignore[index]
    assert (after["vendor"], after["system"]) == ("idox", "idox-uniform")


def test_the_table_on_a_fixed_width_console(tmp_path: Path) -> None:
    catalogue = load_catalogue(_catalogue(tmp_path))
    matcher = Matcher.build(catalogue, load_register())
    hostile = _contract("ocds-\x1b[2J9", "[bold]Hackney Council\x1b]0;x\x07", "\u202eEvil Ltd", "x")
    rows = [matcher.match(c) for c in [CONTRACTS[0], CONTRACTS[1], hostile]]
    console = Console(width=120, color_system=None, force_terminal=False, record=True)
    console.print(contracts_table(rows))
    text = console.export_text()
    assert "\x1b" not in text
    assert "\u202e" not in text
    lines = [line.rstrip() for line in text.splitlines()]
    assert any(line.startswith("│ Hackney ") and "idox-uniform" in line for line in lines)
    assert any("Kent" in line and "? Softcat plc" in line for line in lines)
    assert any("? [bold]Hackney" in line for line in lines)  # markup shown, not obeyed
    assert max(len(line) for line in lines) <= 120


def test_yaml_prints_instances_to_paste_that_the_catalogue_accepts(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = _catalogue(tmp_path)
    assert main(["contracts", "-c", str(catalogue), "--db", str(stored), "-f", "yaml"]) == 0
    out = capsys.readouterr().out
    assert "# system idox-uniform: Idox Uniform (vendor idox)" in out
    assert "Nothing was written" in out
    entries = yaml.safe_load(out)["instances"]
    assert [e["council"] for e in entries] == ["E09000007", "E09000012"]  # by system id
    entry = entries[1]
    assert entry["council"] == "E09000012"
    assert entry["contract_end"] == TODAY + dt.timedelta(days=100)
    assert entry["source"] == NOTICE
    assert entry["annual_value"] == annual_value(CONTRACTS[0]).value
    assert "left out: not matched to both a council and a system" in out
    # pasted under the system, the catalogue loads with the contract as an instance
    pasted = _catalogue(tmp_path, instances="\n" + _indented(yaml.safe_dump([entry]), 10))
    loaded = load_catalogue(pasted)
    (instance,) = loaded.vendors[0].systems[0].instances
    assert (instance.council, instance.source) == ("E09000012", NOTICE)
    # and once promoted, the contract is not offered again
    assert main(["contracts", "-c", str(pasted), "--db", str(stored), "-f", "yaml"]) == 0
    out = capsys.readouterr().out
    assert [e["council"] for e in yaml.safe_load(out)["instances"]] == ["E09000007"]
    assert "1 contract(s) left out: already in the catalogue" in out


def _indented(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


@pytest.mark.parametrize(
    ("value", "currency", "start", "end", "flags", "expected"),
    [
        (280800.0, "GBP", dt.date(2024, 10, 1), dt.date(2026, 9, 30), (), 140400.0),
        (120000.0, "GBP", dt.date(2025, 4, 1), dt.date(2028, 3, 31), (), 40000.0),
        (120000.0, None, dt.date(2025, 4, 1), dt.date(2028, 3, 31), (), 40000.0),
        (10000.0, "GBP", dt.date(2025, 4, 1), dt.date(2025, 9, 30), (), 10000.0),  # < 1 year
        (10000.0, "EUR", dt.date(2025, 4, 1), dt.date(2026, 3, 31), (), None),
        (None, "GBP", dt.date(2025, 4, 1), dt.date(2026, 3, 31), (), None),
        (10000.0, "GBP", None, dt.date(2026, 3, 31), (), None),
        (10000.0, "GBP", dt.date(2026, 4, 1), dt.date(2025, 3, 31), (), None),
        (10000.0, "GBP", dt.date(2025, 4, 1), dt.date(2099, 3, 31), ("far-future-end",), None),
    ],
)
def test_annual_value_from_the_value_over_the_period(
    value: float | None,
    currency: str | None,
    start: dt.date | None,
    end: dt.date | None,
    flags: tuple[str, ...],
    expected: float | None,
) -> None:
    contract = _contract("o", "b", "s", "t", value=value, currency=currency, start=start,
                         end=end, flags=flags)  # fmt: skip
    worked = annual_value(contract)
    assert worked.value == expected
    assert worked.how


# -- renewals ---------------------------------------------------------------------------


def _renewals(
    capsys: pytest.CaptureFixture[str], catalogue: Path, db: Path, *more: str
) -> list[dict[str, object]]:
    argv = ["renewals", "-c", str(catalogue), "--db", str(db), "-f", "json", *more]
    return _json(capsys, *argv)["renewals"]


def test_renewals_list_imported_contracts_that_end_in_the_window(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _renewals(capsys, _catalogue(tmp_path), stored, "--within", "12")
    assert [(r["council"], r["ocid"], r["imported"]) for r in rows] == [
        ("E09000012", "ocds-1", True),  # 100 days
        ("E10000016", "ocds-2", True),  # 300 days; Camden ends in 1000, the parish is unknown
    ]
    hackney, kent = rows
    assert (hackney["system"], hackney["source"]) == ("idox-uniform", NOTICE)
    assert (kent["vendor"], kent["system"], kent["supplier"]) == (None, None, "Softcat plc")
    assert _renewals(capsys, _catalogue(tmp_path), stored, "--council", "KEN")[0]["ocid"] == (
        "ocds-2"
    )


def test_renewals_do_not_list_a_promoted_contract_twice(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    end = (TODAY + dt.timedelta(days=100)).isoformat()
    instance = f"\n          - council: E09000012\n            contract_end: {end}\n"
    instance += f"            source: {NOTICE}\n"
    rows = _renewals(capsys, _catalogue(tmp_path, instances=instance), stored, "--council", "HCK")
    assert [(r["imported"], r["source"]) for r in rows] == [(False, NOTICE)]


def test_renewals_table_marks_imported_contracts(
    tmp_path: Path,
    stored: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["renewals", "-c", str(_catalogue(tmp_path)), "--db", str(stored)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("Hackney" in line and "Idox Uniform" in line and "notice" in line for line in lines)
    assert any("Kent" in line and "? Softcat plc" in line for line in lines)


# -- run --council --with-contracts ---------------------------------------------------------


@pytest.fixture
def docs_site() -> Iterator[LoopbackSite]:
    site = LoopbackSite("127.0.0.21")
    yield site
    site.close()


@pytest.mark.parametrize(
    ("council", "with_contracts", "systems"),
    [
        ("HCK", False, []),
        ("HCK", True, ["idox-uniform@E09000012"]),
        ("CMD", True, ["civica-moderngov@E09000007"]),
        ("KEN", True, []),  # bought via a reseller: no system known
    ],
)
def test_run_with_contracts_audits_the_systems_a_council_buys(
    tmp_path: Path,
    stored: Path,
    docs_site: LoopbackSite,
    capsys: pytest.CaptureFixture[str],
    council: str,
    with_contracts: bool,
    systems: list[str],
) -> None:
    catalogue = _catalogue(tmp_path, docs=docs_site.origin)
    argv = ["run", "-c", str(catalogue), "--db", str(stored), "--allow-private",
            "--min-interval", "0", "--council", council, "-f", "json"]  # fmt: skip
    argv += ["--with-contracts"] if with_contracts else []
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [row["system"] for row in doc["systems"]] == systems
    assert parse_catalogue(catalogue.read_bytes(), str(catalogue)).systems[0].instances == ()


def test_with_contracts_needs_a_council(
    tmp_path: Path, stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "-c", str(_catalogue(tmp_path)), "--db", str(stored), "--with-contracts"]
    assert main(argv) == 2
    assert "--with-contracts needs --council" in capsys.readouterr().err
