"""The default catalogue (vendors.yaml) keeps the facts issue 13 relies on: roles, aliases,
keywords, sourced contracts, and a dated search behind every gap."""

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


SEARCHED = dt.date(2026, 12, 2)  # the issue 13 research pass


def test_every_evidence_none_system_records_a_dated_search() -> None:
    undated = [
        s.id
        for s in catalogue().systems
        if s.evidence == "none" and not (s.research and s.research.searched)
    ]
    assert undated == []


def test_no_note_still_says_the_system_was_not_re_searched() -> None:
    stale = [s.id for s in catalogue().systems if "not re-searched" in (s.notes or "")]
    assert stale == []


@pytest.mark.parametrize(
    "system_id",
    [
        "idox-elections",
        "nec-taranto",
        "liquidlogic-lcs-las",
        "liquidlogic-controcc",
        "olm-carefirst",
        "abritas-allocations",
        "civica-elections",
        "civica-parking",
        "civica-financials",
        "xpress-elections",
        "democracy-counts-elections",
        "axiell-library",
        "chipside-parking",
        "technology-one-erp",
        "netcall-liberty-create",
        "sirsidynix-library",
        "mhr-itrent",
    ],
)
def test_systems_searched_with_nothing_public_found_list_no_url(system_id: str) -> None:
    found = system(system_id)
    assert found.research is not None
    assert (found.research.state, found.research.searched) == ("none-found", SEARCHED)
    assert found.research.where
    assert not found.endpoint_evidence


def test_spydus_api_manager_help_is_a_seen_docs_endpoint_and_says_a_fee_applies() -> None:
    spydus = system("civica-spydus")
    assert spydus.evidence == "seen"
    assert spydus.endpoint_evidence["docs"].evidence == "seen"
    claims = {a.claim: a for a in spydus.attestations}
    assert claims["api_access_fee"].value is True
    assert (
        claims["api_access_fee"].quote is not None
        and "fee applies" in claims["api_access_fee"].quote
    )
    assert claims["api_exists"].seen == SEARCHED


def test_liberty_create_api_is_known_from_code_only() -> None:
    liberty = system("netcall-liberty-create")
    assert liberty.evidence == "code"
    assert "localgov_forms" in (liberty.notes or "")


@pytest.mark.parametrize("system_id", ["sirsidynix-library", "mhr-itrent", "access-mosaic"])
def test_integrations_described_by_third_parties_are_attested_not_endpoints(system_id: str) -> None:
    found = system(system_id)
    (exists,) = [a for a in found.attestations if a.claim == "api_exists" and a.seen == SEARCHED]
    assert exists.value is True and exists.source.startswith("https://")
    assert "docs" not in found.endpoint_evidence


def test_mosaic_search_records_docs_and_spec_as_not_found() -> None:
    research = system("access-mosaic").research
    assert research is not None and research.searched == SEARCHED
    assert set(research.not_found) == {"docs", "spec"}


def test_every_recorded_search_says_where() -> None:
    searched = [s for s in catalogue().systems if s.research and s.research.state == "none-found"]
    assert searched
    assert all(s.research and s.research.where and s.research.searched for s in searched)


def test_attestations_are_never_dated_after_the_catalogue_was_written() -> None:
    latest = max(a.seen for s in catalogue().systems for a in s.attestations)
    assert latest <= dt.date(2026, 12, 2)
