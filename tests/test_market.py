"""Market views: shares, HHI, openness weighted by councils, renewal cohorts (pure), and
`api-audit market` end to end, with changes since the previous run."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from support.catalogues import parse_catalogue_text

from api_audit.cli import main
from api_audit.demo.market import Route, default_suppliers, serve_market
from api_audit.models import Catalogue, Contract, ContractMatch, Organisation
from api_audit.report.market import MarketView, market_document, print_market
from api_audit.scoring.market import (
    AreaFigures,
    Grades,
    Standing,
    add_months,
    area_figures,
    cohorts,
    seats,
)
from api_audit.sources.matching import MatchedContract

COUNCILS = [f"E090000{n:02d}" for n in range(1, 30)]  # London boroughs, all in the register
TODAY = dt.date(2027, 1, 1)


def _catalogue(vendors: list[dict[str, object]]) -> Catalogue:
    text = yaml.safe_dump({"schema_version": 1, "vendors": vendors}, sort_keys=False)
    return parse_catalogue_text(text)


def _vendor(
    vid: str,
    systems: list[tuple[str, list[str], list[dict[str, object]]]],
    role: str = "supplier",
) -> dict[str, object]:
    """A vendor with systems (id, service areas, instances)."""
    return {
        "id": vid,
        "name": vid.title(),
        "role": role,
        "systems": [
            {
                "id": sid,
                "name": sid,
                "service_areas": areas,
                "endpoints": {"docs": f"https://{sid}.test/"},
                "instances": instances,
            }
            for sid, areas, instances in systems
        ],
    }


def _at(*councils: int, **facts: object) -> list[dict[str, object]]:
    return [{"council": COUNCILS[c], **facts} for c in councils]


def _areas(
    catalogue: Catalogue, grades: Grades | None = None, **kw: object
) -> dict[str, AreaFigures]:
    found = seats(catalogue, **kw)  # type: ignore[arg-type]
    names = {v.id: v.name for v in catalogue.vendors}
    return {a.area: a for a in area_figures(found, names, grades or {})}


# --- shares and concentration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "hhi"),
    [
        ([1], 10_000),
        ([5], 10_000),
        ([1, 1], 5_000),
        ([3, 3], 5_000),
        ([2, 1, 1], 3_750),  # 50² + 25² + 25²
        ([1, 1, 1, 1], 2_500),
        ([3, 1], 6_250),  # 75² + 25²
        ([1, 1, 1], 3_333.3),
    ],
)
def test_hhi_is_the_sum_of_squared_percentage_council_shares(counts: list[int], hhi: float) -> None:
    start, vendors = 0, []
    for i, n in enumerate(counts):
        vendors.append(_vendor(f"v{i}", [(f"s{i}", ["waste"], _at(*range(start, start + n)))]))
        start += n
    (area,) = _areas(_catalogue(vendors)).values()
    assert area.hhi == hhi
    assert area.councils == sum(counts)
    assert [s.share for s in area.suppliers] == [
        round(n / sum(counts), 4) for n in sorted(counts, reverse=True)
    ]


@pytest.mark.parametrize("role", ["public-body", "data-source", "reseller"])
def test_only_suppliers_hold_seats(role: str) -> None:
    catalogue = _catalogue(
        [
            _vendor("open", [("open-waste", ["waste"], _at(0, 1))]),
            _vendor("other", [("other-waste", ["waste"], _at(2, 3, 4))], role=role),
        ]
    )
    area = _areas(catalogue)["waste"]
    assert (area.hhi, area.councils, [s.vendor for s in area.suppliers]) == (10_000, 2, ["open"])
    assert area.instances == 2


@pytest.mark.parametrize("copies", [2, 3])
def test_a_council_counts_once_per_vendor_per_area(copies: int) -> None:
    """Two systems of one vendor at one council, or the same council listed twice."""
    catalogue = _catalogue(
        [
            _vendor(
                "acme",
                [(f"acme-{i}", ["planning"], _at(0)) for i in range(copies)]
                + [("acme-x", ["planning"], _at(1))],
            ),
            _vendor("bee", [("bee-p", ["planning"], _at(2, 3))]),
        ]
    )
    area = _areas(catalogue)["planning"]
    assert [(s.vendor, s.councils, s.share) for s in area.suppliers] == [
        ("acme", 2, 0.5),
        ("bee", 2, 0.5),
    ]
    assert area.hhi == 5_000
    assert area.instances == copies + 3  # every (council, system) pair, for openness


def test_a_council_with_two_suppliers_counts_for_both_and_hhi_stays_in_range() -> None:
    catalogue = _catalogue(
        [
            _vendor("acme", [("acme-p", ["planning"], _at(0, 1))]),
            _vendor("bee", [("bee-p", ["planning"], _at(1))]),
        ]
    )
    area = _areas(catalogue)["planning"]
    assert area.councils == 2
    assert [(s.vendor, s.share) for s in area.suppliers] == [("acme", 1.0), ("bee", 0.5)]
    assert area.hhi == round((100 * 2 / 3) ** 2 + (100 / 3) ** 2, 1)  # seats: 2 of 3, 1 of 3


def test_a_system_in_two_areas_counts_in_each() -> None:
    catalogue = _catalogue(
        [_vendor("acme", [("acme-rb", ["revenues-benefits", "finance-hr"], _at(0))])]
    )
    assert set(_areas(catalogue)) == {"revenues-benefits", "finance-hr"}


@pytest.mark.parametrize(
    ("values", "shares"),
    [
        ((300.0, 100.0), (0.75, 0.25)),
        ((None, 100.0), (0.0, 1.0)),
        ((None, None), (None, None)),
        ((50.0, 50.0), (0.5, 0.5)),
    ],
)
def test_value_share_is_of_the_known_annual_values(
    values: tuple[float | None, float | None], shares: tuple[float | None, float | None]
) -> None:
    def facts(value: float | None) -> dict[str, object]:
        return {} if value is None else {"annual_value": value}

    catalogue = _catalogue(
        [
            _vendor("acme", [("acme-w", ["waste"], _at(0, **facts(values[0])))]),
            _vendor("bee", [("bee-w", ["waste"], _at(1, **facts(values[1])))]),
        ]
    )
    by_vendor = {s.vendor: s.value_share for s in _areas(catalogue)["waste"].suppliers}
    assert (by_vendor["acme"], by_vendor["bee"]) == shares


# --- openness weighted by councils ------------------------------------------------------------


@pytest.mark.parametrize(
    ("grades", "openness"),
    [
        ({}, {"A-B": 0.0, "C": 0.0, "D-E": 0.0, "?": 1.0}),
        ({"acme-w": "A", "bee-w": "E"}, {"A-B": 0.75, "C": 0.0, "D-E": 0.25, "?": 0.0}),
        ({"acme-w": "B", "bee-w": "?"}, {"A-B": 0.75, "C": 0.0, "D-E": 0.0, "?": 0.25}),
        ({"acme-w": "C"}, {"A-B": 0.0, "C": 0.75, "D-E": 0.0, "?": 0.25}),
        # a council's own instance grade wins over the system's
        (
            {"acme-w": "A", f"acme-w@{COUNCILS[0]}": "D", "bee-w": "C"},
            {"A-B": 0.5, "C": 0.25, "D-E": 0.25, "?": 0.0},
        ),
    ],
)
def test_openness_is_weighted_by_council_systems(
    grades: dict[str, str], openness: dict[str, float]
) -> None:
    catalogue = _catalogue(
        [
            _vendor("acme", [("acme-w", ["waste"], _at(0, 1, 2))]),
            _vendor("bee", [("bee-w", ["waste"], _at(2))]),  # council 2 runs both: counts twice
        ]
    )
    area = _areas(catalogue, {k: Standing(v, "L1") for k, v in grades.items()})["waste"]
    assert (dict(area.openness), area.instances, area.councils) == (openness, 4, 3)


# --- imported contracts --------------------------------------------------------------------------


def _matched(
    council: str | None, vendor: str | None, system: str | None, **facts: object
) -> MatchedContract:
    contract = Contract("ocds-1", "r1", "2026-01-01", Organisation("Buyer"), **facts)  # type: ignore[arg-type]
    return MatchedContract(
        contract,
        ContractMatch("council", council, "name" if council else "none", 1.0),
        ContractMatch("vendor", vendor, "name" if vendor else "none", 1.0),
        ContractMatch("system", system, "keyword" if system else "none", 0.7),
        "Supplier",
    )


def test_matched_contracts_add_councils_and_values() -> None:
    catalogue = _catalogue(
        [
            _vendor("acme", [("acme-w", ["waste"], _at(0))]),
            _vendor("bee", [("bee-w", ["waste"], _at(1, source="https://notice.test/1"))]),
            _vendor("gov", [("gov-w", ["waste"], [])], role="public-body"),
        ]
    )
    period = {
        "value": 300_000.0,
        "currency": "GBP",
        "start": dt.date(2025, 1, 1),
        "end": dt.date(2027, 12, 31),
    }
    matched = [
        _matched(COUNCILS[2], "acme", "acme-w", **period),  # a new council for acme
        _matched(COUNCILS[0], "acme", None, **period),  # vendor only; acme has one area set
        _matched(COUNCILS[3], "gov", "gov-w"),  # a public body: no seat
        _matched(None, "bee", "bee-w"),  # no council: no seat
        _matched(COUNCILS[4], None, None),  # no vendor: no seat
        _matched(COUNCILS[1], "bee", "bee-w", notice_url="https://notice.test/1", value=9e9),
    ]
    area = _areas(catalogue, matched=matched)["waste"]
    assert [(s.vendor, s.councils, s.value_share) for s in area.suppliers] == [
        ("acme", 2, 1.0),
        ("bee", 1, 0.0),  # its one notice is the catalogue's instance: counted once
    ]
    assert area.councils == 3
    assert area.instances == 3  # the vendor-only contract names no system


def test_a_vendor_only_contract_is_left_out_when_the_area_is_unknown() -> None:
    catalogue = _catalogue(
        [_vendor("acme", [("acme-w", ["waste"], []), ("acme-p", ["planning"], [])])]
    )
    assert _areas(catalogue, matched=[_matched(COUNCILS[0], "acme", None)]) == {}


@pytest.mark.parametrize(("flags", "end"), [((), "2027-12-31"), (("over-25-years",), None)])
def test_a_contract_seat_carries_only_a_trusted_end(
    flags: tuple[str, ...], end: str | None
) -> None:
    """Cohorts group by contract end: a date flagged implausible must not place a council."""
    catalogue = _catalogue([_vendor("acme", [("acme-w", ["waste"], [])])])
    matched = [_matched(COUNCILS[0], "acme", "acme-w", end=dt.date(2027, 12, 31), flags=flags)]
    (seat,) = seats(catalogue, matched)
    assert (seat.contract_end.isoformat() if seat.contract_end else None) == end


# --- renewal cohorts ---------------------------------------------------------------------------


def _ends(
    system: str, *ends: str, vendor: str = "acme", areas: tuple[str, ...] = ("waste",)
) -> dict[str, object]:
    instances = [{"council": COUNCILS[i], "contract_end": end} for i, end in enumerate(ends)]
    return {"id": system, "areas": list(areas), "instances": instances}


def _cohorts(
    within: int, *systems: dict[str, object], grades: Grades | None = None
) -> list[tuple[str, str, list[str]]]:
    catalogue = _catalogue(
        [_vendor("acme", [(str(s["id"]), s["areas"], s["instances"]) for s in systems])]  # type: ignore[misc]
    )
    found = cohorts(seats(catalogue), grades or {}, today=TODAY, within_months=within)
    return [(c.kind, f"{c.start}..{c.end}", [m.council for m in c.members]) for c in found]


@pytest.mark.parametrize(
    ("within", "ends", "windows"),
    [
        (12, ["2027-03-01", "2027-09-30", "2028-02-28"], [("2027-03-01..2028-02-28", [0, 1, 2])]),
        (12, ["2027-03-01", "2028-03-01", "2028-03-02"], [("2027-03-01..2028-03-01", [0, 1])]),
        (
            6,
            ["2027-03-01", "2027-09-01", "2027-09-02", "2028-01-01"],
            [("2027-03-01..2027-09-01", [0, 1]), ("2027-09-02..2028-01-01", [2, 3])],
        ),
        (12, ["2027-03-01", "2029-03-01"], []),  # no window holds two councils
        (12, ["2026-01-01", "2026-02-01"], []),  # ended long ago (before today - 90 days)
        (1, ["2026-10-15", "2026-11-01"], [("2026-10-15..2026-11-01", [0, 1])]),  # recently ended
    ],
)
def test_a_system_cohort_holds_the_ends_within_the_window_of_its_first(
    within: int, ends: list[str], windows: list[tuple[str, list[int]]]
) -> None:
    expected = [("system", span, [COUNCILS[i] for i in members]) for span, members in windows]
    assert _cohorts(within, _ends("acme-w", *ends)) == expected


def test_an_area_cohort_spans_systems_and_carries_each_grade() -> None:
    one = _ends("acme-w", "2027-03-01")
    other = {
        "id": "acme-x",
        "areas": ["waste"],
        "instances": [{"council": COUNCILS[5], "contract_end": "2027-05-01"}],
    }
    grades = {"acme-w": Standing("A", "L5"), "acme-x": Standing("D", "L1")}
    catalogue = _catalogue(
        [_vendor("acme", [(str(s["id"]), s["areas"], s["instances"]) for s in (one, other)])]
    )  # type: ignore[misc]
    (cohort,) = cohorts(seats(catalogue), grades, today=TODAY, within_months=3)
    assert (cohort.kind, cohort.key) == ("service_area", "waste")
    assert [(m.council, m.system, m.grade, m.ladder) for m in cohort.members] == [
        (COUNCILS[0], "acme-w", "A", "L5"),
        (COUNCILS[5], "acme-x", "D", "L1"),
    ]


def test_no_area_cohort_repeats_a_system_cohort() -> None:
    assert [k for k, _, _ in _cohorts(12, _ends("acme-w", "2027-03-01", "2027-04-01"))] == [
        "system"
    ]


@pytest.mark.parametrize(
    ("day", "months", "moved"),
    [
        ("2027-01-31", 1, "2027-02-28"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2027-03-15", 12, "2028-03-15"),
        ("2027-11-30", 3, "2028-02-29"),
        ("2027-06-01", 0, "2027-06-01"),
    ],
)
def test_add_months_keeps_to_the_calendar(day: str, months: int, moved: str) -> None:
    assert add_months(dt.date.fromisoformat(day), months) == dt.date.fromisoformat(moved)


# --- rendering ---------------------------------------------------------------------------------


HOSTILE = ["[bold red]x[/]", "\x1b[2Jboom", "=cmd|' /C calc'!A0", "\u202eevil"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_vendor_names_stay_inert(name: str) -> None:
    catalogue = _catalogue(
        [_vendor("acme", [("acme-w", ["waste"], _at(0, 1, contract_end="2027-03-01"))])]
    )
    catalogue = replace(catalogue, vendors=(replace(catalogue.vendors[0], name=name),))
    found = seats(catalogue)
    view = MarketView(
        run=None,
        areas=area_figures(found, {"acme": name}, {}),
        cohorts=cohorts(found, {}, today=TODAY, within_months=12),
        within_months=12,
        council_names={COUNCILS[0]: name},
        changes=None,
        changes_note="no database",
    )
    out = io.StringIO()
    print_market(view, Console(file=out, width=200, color_system=None, legacy_windows=False))
    text = out.getvalue()
    assert "\x1b" not in text and "\u202e" not in text
    if name.startswith("["):
        assert "[bold red]x[/]" in text  # shown as written, not obeyed
    assert (
        json.loads(json.dumps(market_document(view)))["service_areas"][0]["suppliers"][0]["name"]
        == name
    )


# --- the command --------------------------------------------------------------------------------


def _market(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["market", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_market_json_gives_hhi_and_council_shares_from_the_catalogue_instances(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "vendors.yaml"
    vendors = [
        _vendor("acme", [("acme-p", ["planning"], _at(0, 1, 2, contract_end="2027-06-30"))]),
        _vendor("bee", [("bee-p", ["planning"], _at(3, annual_value=1000.0))]),
        _vendor("mhclg", [("gov-p", ["planning"], _at(4, 5, 6, 7))], role="public-body"),
        _vendor("cf", [("cf-data", ["waste"], _at(0))], role="data-source"),
    ]
    catalogue.write_text(yaml.safe_dump({"schema_version": 1, "vendors": vendors}), "utf-8")
    code, out, err = _market(
        capsys, "-c", str(catalogue), "--db", str(tmp_path / "no.db"), "-f", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    (planning,) = doc["service_areas"]
    assert planning["area"] == "planning" and planning["councils"] == 4
    assert planning["hhi"] == 75**2 + 25**2
    assert [
        (s["vendor"], s["councils"], s["share"], s["value_share"]) for s in planning["suppliers"]
    ] == [
        ("acme", 3, 0.75, 0.0),
        ("bee", 1, 0.25, 1.0),
    ]
    assert planning["openness"] == {"A-B": 0.0, "C": 0.0, "D-E": 0.0, "?": 1.0}
    (cohort,) = doc["cohorts"]
    assert (cohort["kind"], cohort["system"], cohort["vendor"], cohort["grade"]) == (
        "system",
        "acme-p",
        "acme",
        "?",
    )
    assert [c["code"] for c in cohort["councils"]] == COUNCILS[:3]
    assert cohort["councils"][0]["name"] == "City of London"
    assert (doc["run"], doc["changes"], doc["changes_since"]) == (None, [], None)
    assert "no database" in doc["changes_note"]

    code, out, _ = _market(
        capsys,
        "-c",
        str(catalogue),
        "--db",
        str(tmp_path / "no.db"),
        "--service-area",
        "waste",
        "-f",
        "json",
    )
    assert (code, json.loads(out)["service_areas"]) == (0, [])


@pytest.mark.parametrize("area", ["plannin", "[red]x", "\x1b[2J"])
def test_an_unknown_service_area_is_one_error_line(
    area: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "vendors.yaml"
    catalogue.write_text(
        yaml.safe_dump({"schema_version": 1, "vendors": [_vendor("acme", [("a", ["waste"], [])])]})
    )
    code, out, err = _market(capsys, "-c", str(catalogue), "--service-area", area)
    assert (code, out) == (2, "")
    assert err.startswith("api-audit: error: unknown service area") and "\x1b" not in err
    assert len(err.splitlines()) == 1


@pytest.fixture
def changing(tmp_path: Path) -> Iterator[tuple[dict[str, dict[str, Route]], list[str]]]:
    """The demo market on loopback, with instances added: OpenCo at three councils whose
    contracts end together, DocsOnly at one."""
    suppliers = default_suppliers()
    routes = {s.system_id: dict(s.routes) for s in suppliers}
    live = tuple(replace(s, routes=routes[s.system_id]) for s in suppliers)
    with serve_market(live) as served:
        document = served.catalogue()
        for vendor in document["vendors"]:  # type: ignore[attr-defined]
            system = vendor["systems"][0]
            if system["id"] == "openco-waste":
                system["instances"] = _at(0, 1, 2, contract_end="2027-06-30")
            elif system["id"] == "docsonly-housing":
                system["instances"] = _at(3)
        catalogue = tmp_path / "vendors.yaml"
        catalogue.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
        common = ["-c", str(catalogue), "--db", str(tmp_path / "audit.db")]
        yield routes, common


def test_market_shows_grades_and_changes_since_the_previous_run_regressions_first(
    changing: tuple[dict[str, dict[str, Route]], list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    routes, common = changing
    run = ["run", *common, "--allow-private", "--min-interval", "0", "-f", "json"]
    assert main(run) == 0
    code, out, _ = _market(capsys, *common, "-f", "json")
    doc = json.loads(out)
    assert (code, doc["run"]["id"], doc["changes"], doc["changes_since"]) == (0, 1, [], None)
    assert doc["changes_note"] == "no complete run before run 1: no changes to show"
    waste = {a["area"]: a for a in doc["service_areas"]}["waste"]
    assert waste["openness"]["A-B"] == 1.0 and waste["hhi"] == 10_000
    assert doc["cohorts"][0]["grade"] == "A"

    spec = routes["openco-waste"].pop("/openapi.json")  # OpenCo withdraws, DocsOnly publishes
    routes["docsonly-housing"]["/openapi.json"] = spec
    assert main(run) == 0
    code, out, _ = _market(capsys, *common, "-f", "json")
    doc = json.loads(out)
    assert doc["changes_since"] == {"from": 1, "to": 2}
    assert [(c["system"], c["change"]) for c in doc["changes"]] == [
        ("openco-waste", "regressed"),
        ("docsonly-housing", "improved"),
    ]
    assert doc["cohorts"][0]["grade"] == "B"
    # grades from a named run: run 1's, with nothing before it to compare
    code, out, _ = _market(capsys, *common, "--run", "1", "-f", "json")
    assert json.loads(out)["cohorts"][0]["grade"] == "A"

    code, out, _ = _market(capsys, *common)
    assert code == 0
    for text in ("waste: 3 councils · HHI 10,000", "openco-waste", "regressed", "Renewal cohorts"):
        assert text in out
