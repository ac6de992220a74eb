"""The default catalogue (vendors.yaml) keeps the facts issue 13 relies on: roles, aliases,
keywords, sourced contracts, and a recorded search or an "unverified" note behind every gap."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest

from api_audit.catalogue import load_catalogue
from api_audit.models import Catalogue, System, Vendor
from api_audit.models.vocabulary import SERVICE_AREAS

ROOT = Path(__file__).resolve().parent.parent


@cache
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "vendors.yaml")


def vendor(vendor_id: str) -> Vendor:
    (found,) = [v for v in catalogue().vendors if v.id == vendor_id]
    return found


def system(system_id: str) -> System:
    (found,) = [s for s in catalogue().systems if s.id == system_id]
    return found


def test_the_catalogue_is_at_least_a_hundred_systems_and_fills_every_service_area() -> None:
    systems = catalogue().systems
    assert len(systems) >= 100
    covered = {area for s in systems for area in s.service_areas}
    assert covered == set(SERVICE_AREAS)  # education and identity were empty before issue 13


@pytest.mark.parametrize(
    ("vendor_id", "role"),
    [
        ("mhclg", "public-body"),
        ("gds", "public-body"),
        ("ordnance-survey", "public-body"),
        ("lga", "public-body"),
        ("council-published", "public-body"),
        ("uk-gov-procurement", "data-source"),
        ("mysociety", "data-source"),
        ("softcat", "reseller"),
        ("cdw", "reseller"),
        ("scc", "reseller"),
        ("phoenix-software", "reseller"),
        ("idox", "supplier"),
        ("civica", "supplier"),
        ("access-group", "supplier"),
    ],
)
def test_vendor_roles_keep_non_suppliers_out_of_market_shares(vendor_id: str, role: str) -> None:
    assert vendor(vendor_id).role == role


def test_resellers_sell_no_system_of_their_own() -> None:
    resellers = [v for v in catalogue().vendors if v.role == "reseller"]
    assert resellers
    assert all(not v.systems and v.aliases for v in resellers)


@pytest.mark.parametrize(
    ("vendor_id", "alias"),
    [
        ("civica", "CIVICA UK LIMITED"),
        ("civica", "Civica UK Ltd"),
        ("idox", "Idox Software Ltd"),
        ("nec", "NEC Software Solutions UK Limited"),
        ("access-group", "Access UK Limited"),
        ("capita", "Capita Business Services Ltd"),
        ("softcat", "Softcat plc"),
    ],
)
def test_vendors_carry_the_names_they_appear_under_in_notices(vendor_id: str, alias: str) -> None:
    assert alias in vendor(vendor_id).aliases


@pytest.mark.parametrize(
    ("vendor_id", "number"),
    [("civica", "01628868"), ("capita", "02299747"), ("arbor-education", "07790198")],
)
def test_companies_house_numbers_are_the_sourced_ones(vendor_id: str, number: str) -> None:
    assert vendor(vendor_id).companies_house == (number,)


@pytest.mark.parametrize(
    ("system_id", "keyword"),
    [
        ("idox-uniform", "Uniform"),
        ("civica-moderngov", "ModernGov"),
        ("access-mosaic", "Mosaic"),
        ("liquidlogic-lcs-las", "Liquidlogic"),
        ("brightly-confirm", "Confirm"),
        ("whitespace-work-software", "Whitespace"),
        ("bartec-collective", "Bartec"),
        ("civica-revenues-benefits", "Open Revenues"),
        ("capita-academy", "Revenues and Benefits"),
        ("sims", "SIMS"),
    ],
)
def test_systems_carry_the_product_names_of_notice_titles(system_id: str, keyword: str) -> None:
    assert keyword in system(system_id).keywords


def test_every_supplier_system_has_keywords() -> None:
    missing = [
        s.id
        for v in catalogue().vendors
        if v.role == "supplier"
        for s in v.systems
        if not s.keywords
    ]
    assert missing == []


def test_gla_arcus_licence_is_the_one_decision_md3293_gives() -> None:
    (gla,) = [i for i in system("arcus-built-environment").instances if i.council == "E61000001"]
    assert (gla.contract_start, gla.contract_end) == (dt.date(2024, 10, 1), dt.date(2026, 9, 30))
    assert gla.annual_value == 140400  # £280,800 for the two years
    assert gla.source is not None and "md3293" in gla.source


def test_west_berkshire_signed_mosaic_with_the_access_group_in_august_2024() -> None:
    (wb,) = [i for i in system("access-mosaic").instances if i.council == "E06000037"]
    assert wb.contract_start == dt.date(2024, 8, 1)
    assert wb.source == "https://decisionmaking.westberks.gov.uk/mgAi.aspx?ID=97010"


def test_fixmystreet_open311_endpoint_is_seen_not_inferred() -> None:
    fms = system("fixmystreet")
    assert fms.evidence == "seen"
    assert fms.endpoint_evidence["api_base"].evidence == "seen"


@pytest.mark.parametrize(
    ("system_id", "council"),
    [
        ("brightly-confirm", "E09000006"),  # Bromley
        ("symology-insight", "E06000056"),  # Central Bedfordshire
        ("symology-insight", "E08000027"),  # Dudley
        ("boomi-platform", "E10000030"),  # Surrey
        ("arcus-built-environment", "E09000012"),  # Hackney
    ],
)
def test_open311_adapter_integrations_are_instances(system_id: str, council: str) -> None:
    assert council in {i.council for i in system(system_id).instances}


def test_every_evidence_none_system_records_its_search_or_says_it_is_unverified() -> None:
    gaps = [
        s.id
        for s in catalogue().systems
        if s.evidence == "none"
        and not (s.research and s.research.searched)
        and "unverified" not in (s.notes or "").lower()
    ]
    assert gaps == []


def test_every_recorded_search_says_where() -> None:
    searched = [s for s in catalogue().systems if s.research and s.research.state == "none-found"]
    assert searched
    assert all(s.research and s.research.where and s.research.searched for s in searched)


def test_attestations_are_never_dated_after_the_catalogue_was_written() -> None:
    latest = max(a.seen for s in catalogue().systems for a in s.attestations)
    assert latest <= dt.date(2026, 12, 2)
