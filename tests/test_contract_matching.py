"""Matching contracts (issue 13): buyers to councils, suppliers to vendors, notices to
systems, each with its method and confidence, and never silently."""

from __future__ import annotations

import datetime as dt

import pytest
from support.catalogues import parse_catalogue_text

from api_audit.catalogue.councils import load_register
from api_audit.models import Contract, Organisation
from api_audit.sources.buyers import CouncilIndex, learn_buyer_ids, match_buyer
from api_audit.sources.matching import MatchedContract, Matcher, match_contracts
from api_audit.sources.periods import trusted_end

CATALOGUE = parse_catalogue_text(
    """\
    schema_version: 1
    vendors:
      - id: idox
        name: Idox
        companies_house: ["03984070"]
        aliases: [Idox Software]
        systems:
          - id: idox-uniform
            name: Idox Uniform
            keywords: [Uniform]
            service_areas: [planning]
            endpoints: {docs: "https://idox.test/docs"}
          - id: idox-public-access
            name: Idox Public Access
            keywords: [Public Access]
            service_areas: [planning]
            endpoints: {docs: "https://idox.test/pa"}
      - id: civica
        name: Civica
        aliases: [Civica UK]
        systems:
          - id: civica-moderngov
            name: Civica ModernGov
            keywords: [ModernGov, modern.gov]
            service_areas: [democracy]
            endpoints: {docs: "https://civica.test/docs"}
      - id: access-group
        name: The Access Group
        systems:
          - id: access-mosaic
            name: Mosaic
            keywords: [Mosaic]
            service_areas: [social-care]
            endpoints: {docs: "https://access.test/docs"}
      - id: nec
        name: NEC
        systems:
          - id: nec-revenues
            name: NEC Revenues and Benefits
            keywords: [Revenues and Benefits]
            service_areas: [revenues-benefits]
            endpoints: {docs: "https://nec.test/docs"}
      - id: softcat
        name: Softcat
        role: reseller
        aliases: [Softcat plc]
        systems: []
    """
)
REGISTER = load_register()
COUNCILS = CouncilIndex.build(REGISTER)
MATCHER = Matcher.build(CATALOGUE, REGISTER)
START = dt.date(2024, 6, 1)


def _contract(
    buyer: str = "London Borough of Hackney",
    suppliers: tuple[Organisation, ...] = (Organisation("Idox Software Ltd"),),
    title: str = "Uniform planning system support",
    start: dt.date | None = START,
    buyer_id: str | None = None,
    identifiers: tuple[tuple[str, str], ...] = (),
) -> Contract:
    return Contract(
        ocid="ocds-b5fd17-0001",
        release_id="r1",
        release_date="2024-05-01T00:00:00Z",
        buyer=Organisation(buyer, buyer_id, identifiers),
        suppliers=suppliers,
        title=title,
        start=start,
    )


def _council(buyer: str, start: dt.date | None = START) -> tuple[str | None, float, str]:
    found = match_buyer(_contract(buyer, start=start), COUNCILS)
    return found.target, found.confidence, found.note


# -- buyer -> council --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("buyer", "gss"),
    [
        # London boroughs, as written in notices
        ("London Borough of Hackney", "E09000012"),
        ("LONDON BOROUGH OF HACKNEY", "E09000012"),
        ("Hackney Council", "E09000012"),
        ("Hackney London Borough Council", "E09000012"),
        ("  hackney   council. ", "E09000012"),
        ("Hackney", "E09000012"),
        ("London Borough of Hammersmith & Fulham", "E09000013"),
        ("Hammersmith and Fulham Council", "E09000013"),
        ("Royal Borough of Kensington and Chelsea", "E09000020"),
        ("Kensington & Chelsea Council", "E09000020"),
        ("Royal Borough of Greenwich", "E09000011"),
        ("London Borough of Greenwich", "E09000011"),
        ("City of Westminster", "E09000033"),
        ("Westminster City Council", "E09000033"),
        ("The Council of the City of Westminster", "E09000033"),
        ("City of London Corporation", "E09000001"),
        ("London Borough of Richmond upon Thames", "E09000027"),
        ("London Borough of Richmond", "E09000027"),
        ("Richmond Council", "E09000027"),
        # cities, boroughs, metropolitan boroughs
        ("Bristol City Council", "E06000023"),
        ("City of Bristol Council", "E06000023"),
        ("Hull City Council", "E06000010"),
        ("Kingston upon Hull City Council", "E06000010"),
        ("Newcastle City Council", "E08000021"),
        ("Newcastle upon Tyne City Council", "E08000021"),
        ("Newcastle-under-Lyme Borough Council", "E07000195"),
        ("Newcastle under Lyme BC", "E07000195"),
        ("St Helens Council", "E08000013"),
        ("St. Helens Metropolitan Borough Council", "E08000013"),
        ("Saint Helens Council", "E08000013"),
        ("Wigan MBC", "E08000010"),
        ("Wigan Metropolitan Borough Council", "E08000010"),
        ("City of Wakefield Metropolitan District Council", "E08000036"),
        ("Wakefield Council", "E08000036"),
        ("City of Bradford Metropolitan District Council", "E08000032"),
        ("Bradford Council", "E08000032"),
        ("St Albans City and District Council", "E07000240"),
        ("St Albans District Council", "E07000240"),
        ("Borough Council of King's Lynn & West Norfolk", "E07000146"),
        ("Kings Lynn and West Norfolk Borough Council", "E07000146"),
        ("Stockton-on-Tees Borough Council", "E06000004"),
        ("Stockton on Tees Council", "E06000004"),
        ("Royal Borough of Windsor and Maidenhead", "E06000040"),
        ("Windsor & Maidenhead Council", "E06000040"),
        ("Milton Keynes City Council", "E06000042"),
        ("Telford and Wrekin Council", "E06000020"),
        # counties and county-wide unitary authorities
        ("Kent County Council", "E10000016"),
        ("KENT COUNTY COUNCIL", "E10000016"),
        ("Surrey Council", "E10000030"),  # no district of that place: the county
        ("Nottinghamshire County Council", "E10000024"),
        ("Nottingham City Council", "E06000018"),
        ("Leicestershire County Council", "E10000018"),
        ("Leicester City Council", "E06000016"),
        ("Durham County Council", "E06000047"),
        ("County Durham", "E06000047"),
        ("Durham Council", "E06000047"),
        ("Northumberland County Council", "E06000057"),
        ("Northumberland Council", "E06000057"),
        ("Cornwall Council", "E06000052"),
        ("Cornwall County Council", "E06000052"),
        ("Council of the Isles of Scilly", "E06000053"),
        # Wales, Scotland, Northern Ireland
        ("City of Cardiff Council", "W06000015"),
        ("Cardiff Council", "W06000015"),
        ("Cardiff County Council", "W06000015"),
        ("Cyngor Caerdydd", "W06000015"),
        ("Cardiff Council / Cyngor Caerdydd", "W06000015"),
        ("Cyngor Sir Powys", "W06000023"),
        ("Powys County Council", "W06000023"),
        ("Cyngor Gwynedd", "W06000002"),
        ("Cyngor Bwrdeistref Sirol Wrecsam", "W06000006"),
        ("Wrexham County Borough Council", "W06000006"),
        ("City and County of Swansea", "W06000011"),
        ("Rhondda Cynon Taf County Borough Council", "W06000016"),
        ("Comhairle nan Eilean Siar", "S12000013"),
        ("The Highland Council", "S12000017"),
        ("Highland Council", "S12000017"),
        ("City of Edinburgh Council", "S12000036"),
        ("Edinburgh City Council", "S12000036"),
        ("Glasgow City Council", "S12000049"),
        ("Belfast City Council", "N09000003"),
        # annotated names
        ("Kent County Council - ICT Procurement", "E10000016"),
        ("Hackney Council (ICT)", "E09000012"),
    ],
)
def test_buyer_spellings_find_the_council(buyer: str, gss: str) -> None:
    target, confidence, _ = _council(buyer)
    assert target == gss
    assert 0.8 <= confidence <= 1.0


@pytest.mark.parametrize(
    ("buyer", "method", "confidence"),
    [
        ("London Borough of Hackney", "official name", 0.95),
        ("Hackney", "short name", 0.9),
        ("Hackney Council", "name variant", 0.85),
        ("Cyngor Caerdydd", "official other form", 0.95),
    ],
)
def test_each_way_of_matching_a_buyer_keeps_its_method_and_confidence(
    buyer: str, method: str, confidence: float
) -> None:
    found = match_buyer(_contract(buyer), COUNCILS)
    assert (found.kind, found.method, found.confidence) == ("council", method, confidence)


@pytest.mark.parametrize(
    ("buyer", "why"),
    [
        ("Nottingham County Council", "different tier"),  # the county is Nottinghamshire
        ("Durham City Council", "different tier"),  # the old district, not in the register
        ("Leicester County Council", "different tier"),
        ("Kingston Council", "ambiguous"),  # upon Hull or upon Thames
        ("Bedfordshire County Council", "no council"),  # abolished 2009, not in the register
        ("Bedford County Council", "different tier"),  # Bedford is a borough
        ("Hertfordshire District Council", "different tier"),
        ("Hackney Academy Trust", "no council"),
        ("NHS North East London", "no council"),
        ("", "no name"),
        ("   ", "no name"),
        ("Council", "no council"),
        ("\x1b[31mLondon Borough of Hackney\x1b[0m", ""),  # any note stays inert
    ],
)
def test_names_that_do_not_say_one_council_are_left_unmatched_with_a_note(
    buyer: str, why: str
) -> None:
    target, confidence, note = _council(buyer)
    if why:
        assert target is None
        assert confidence == 0.0
        assert why in note
    assert "\x1b" not in note


@pytest.mark.parametrize(
    ("county", "district"),
    [
        ("Surrey County Council", "Surrey Heath Borough Council"),
        ("Norfolk County Council", "North Norfolk District Council"),
        ("Warwickshire County Council", "North Warwickshire Borough Council"),
        ("Derbyshire County Council", "South Derbyshire District Council"),
        ("Lancashire County Council", "Lancaster City Council"),
        ("Staffordshire County Council", "Stafford Borough Council"),
        ("Oxfordshire County Council", "Oxford City Council"),
        ("Gloucestershire County Council", "Gloucester City Council"),
        ("Cambridgeshire County Council", "Cambridge City Council"),
        ("Hertfordshire County Council", "East Hertfordshire District Council"),
    ],
)
def test_a_county_and_a_look_alike_district_are_never_confused(county: str, district: str) -> None:
    county_gss, district_gss = _council(county)[0], _council(district)[0]
    assert county_gss is not None
    assert district_gss is not None
    assert county_gss != district_gss
    assert REGISTER.lookup(county_gss).type_name == "County"  # type: ignore[union-attr]
    assert REGISTER.lookup(district_gss).type_name != "County"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("buyer", "start", "gss", "method"),
    [
        # before the 2023 reorganisation: the county council as it then was
        ("Somerset County Council", dt.date(2021, 5, 1), "E10000027", "official name"),
        ("North Yorkshire County Council", dt.date(2022, 1, 1), "E10000023", "official name"),
        ("Somerset", dt.date(2021, 5, 1), "E10000027", "short name"),
        ("Aylesbury Vale District Council", dt.date(2019, 1, 1), "E07000004", "official name"),
        # after: its one successor, at lower confidence
        ("Somerset County Council", dt.date(2024, 5, 1), "E06000066", "official name, successor"),
        ("North Yorkshire County Council", START, "E06000065", "official name, successor"),
        ("Aylesbury Vale District Council", START, "E06000060", "official name, successor"),
        ("Somerset", START, "E06000066", "short name"),
        ("Somerset Council", dt.date(2021, 5, 1), "E06000066", "official name"),
        # no start date: the current authority when a name fits both
        ("Somerset", None, "E06000066", "short name"),
    ],
)
def test_past_authorities_match_contracts_that_began_before_they_ended(
    buyer: str, start: dt.date | None, gss: str, method: str
) -> None:
    found = match_buyer(_contract(buyer, start=start), COUNCILS)
    assert (found.target, found.method) == (gss, method)
    if "successor" in method:
        assert found.confidence == 0.75
        assert "ended" in found.note


def test_a_past_authority_with_several_successors_is_not_guessed() -> None:
    target, _, note = _council("Northamptonshire County Council", START)
    assert target is None
    assert "North Northamptonshire" in note
    assert "West Northamptonshire" in note


def test_a_gss_identifier_beats_the_name() -> None:
    contract = _contract("Some Shared Service", identifiers=(("GB-GSS", "E09000012"),))
    found = match_buyer(contract, COUNCILS)
    assert (found.target, found.method, found.confidence) == (
        "E09000012",
        "identifier GB-GSS",
        1.0,
    )


def test_buyer_ids_matched_by_name_elsewhere_match_a_notice_without_a_usable_name() -> None:
    named = _contract("London Borough of Hackney", buyer_id="GB-CFS-1234")
    unnamed = _contract("", buyer_id="GB-CFS-1234")
    learned = learn_buyer_ids([named, unnamed], COUNCILS)
    assert learned == {"GB-CFS-1234": "E09000012"}
    found = match_buyer(unnamed, COUNCILS, learned)
    assert (found.target, found.method, found.confidence) == (
        "E09000012",
        "learned identifier",
        0.9,
    )


def test_a_buyer_id_seen_with_two_councils_is_not_learned() -> None:
    one = _contract("London Borough of Hackney", buyer_id="GB-CFS-9")
    other = _contract("Kent County Council", buyer_id="GB-CFS-9")
    assert learn_buyer_ids([one, other], COUNCILS) == {}


# -- supplier -> vendor ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("supplier", "vendor", "method"),
    [
        (Organisation("Idox", None, (("GB-COH", "03984070"),)), "idox", "identifier GB-COH"),
        (Organisation("Anything", None, (("GB-COH", "3984070"),)), "idox", "identifier GB-COH"),
        (Organisation("Anything", "GB-COH-03984070"), "idox", "identifier GB-COH"),
        (Organisation("IDOX SOFTWARE LTD"), "idox", "normalised name"),
        (Organisation("Idox Software Limited"), "idox", "normalised name"),
        (Organisation("Idox plc"), "idox", "normalised name"),
        (Organisation("idox"), "idox", "name"),
        (Organisation("Civica UK Limited"), "civica", "normalised name"),
        (Organisation("CIVICA UK LTD"), "civica", "normalised name"),
        (Organisation("Civica U.K. Ltd."), "civica", "normalised name"),
        (Organisation("Civica Group Holdings"), "civica", "normalised name"),
        (Organisation("Civica Systems Ltd"), "civica", "core name"),
        (Organisation("The Access Group"), "access-group", "name"),
        (Organisation("Access UK Ltd"), "access-group", "normalised name"),
        (Organisation("THE ACCESS GROUP LIMITED"), "access-group", "normalised name"),
        (Organisation("NEC Software Solutions UK Limited"), "nec", "core name"),
        (Organisation("N.E.C."), None, "none"),
    ],
)
def test_suppliers_find_their_vendor_by_number_then_name(
    supplier: Organisation, vendor: str | None, method: str
) -> None:
    found = MATCHER.match(_contract(suppliers=(supplier,)))
    assert (found.vendor.target, found.vendor.method) == (vendor, method)
    assert (
        found.vendor.confidence
        == {
            "identifier GB-COH": 1.0,
            "name": 0.9,
            "normalised name": 0.8,
            "core name": 0.7,
            "none": 0.0,
        }[method]
    )


@pytest.mark.parametrize(
    "reseller",
    [
        Organisation("Softcat plc"),  # role: reseller in the catalogue
        Organisation("SOFTCAT LIMITED"),
        Organisation("CDW Ltd"),  # known reseller, not in the catalogue
        Organisation("Phoenix Software Ltd"),
        Organisation("Computacenter (UK) Limited"),
        Organisation("Specialist Computer Centres plc"),
    ],
)
def test_a_reseller_alone_is_never_credited_as_the_vendor(reseller: Organisation) -> None:
    found = MATCHER.match(_contract(suppliers=(reseller,), title="Idox Uniform licences"))
    assert found.vendor.target is None
    assert found.system.target is None
    assert f"via reseller {reseller.name}" in found.vendor.note
    assert found.resellers == (reseller.name,)


def test_a_reseller_beside_the_vendor_is_recorded_and_the_vendor_credited() -> None:
    suppliers = (Organisation("Softcat plc"), Organisation("Idox Software Ltd"))
    found = MATCHER.match(_contract(suppliers=suppliers))
    assert found.vendor.target == "idox"
    assert found.supplier == "Idox Software Ltd"
    assert found.resellers == ("Softcat plc",)
    assert "Softcat plc" in found.vendor.note


@pytest.mark.parametrize(
    ("suppliers", "title", "vendor"),
    [
        # two vendors: the product named in the title decides
        (("Idox Software Ltd", "Civica UK Ltd"), "ModernGov committee system", "civica"),
        (("Idox Software Ltd", "Civica UK Ltd"), "Uniform planning support", "idox"),
        # neither product named: ambiguous
        (("Idox Software Ltd", "Civica UK Ltd"), "Software support", None),
        # an unknown supplier beside a vendor: the vendor
        (("Idox Software Ltd", "Acme Widgets Ltd"), "Uniform support", "idox"),
        # one vendor under two spellings
        (("Idox Software Ltd", "IDOX PLC"), "Uniform support", "idox"),
    ],
)
def test_several_suppliers(suppliers: tuple[str, ...], title: str, vendor: str | None) -> None:
    organisations = tuple(Organisation(s) for s in suppliers)
    found = MATCHER.match(_contract(suppliers=organisations, title=title))
    assert found.vendor.target == vendor
    if vendor is None:
        assert "ambiguous" in found.vendor.note


@pytest.mark.parametrize(
    ("suppliers", "note"),
    [
        ((), "no supplier named"),
        ((Organisation(""),), "no supplier named"),
        ((Organisation("   "),), "no supplier named"),
        ((Organisation("Acme Widgets Ltd"),), "no catalogue vendor matches"),
        ((Organisation("Ltd"),), "no catalogue vendor matches"),
    ],
)
def test_no_vendor_says_why(suppliers: tuple[Organisation, ...], note: str) -> None:
    found = MATCHER.match(_contract(suppliers=suppliers))
    assert found.vendor.target is None
    assert note in found.vendor.note
    assert found.system.target is None


# -- contract -> system ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "system"),
    [
        ("Uniform planning system support", "idox-uniform"),
        ("UNIFORM licence renewal", "idox-uniform"),
        ("Idox Uniform", "idox-uniform"),
        ("Support for Public Access", "idox-public-access"),
        ("public   access portal hosting", "idox-public-access"),
    ],
)
def test_product_keywords_name_the_system(title: str, system: str) -> None:
    found = MATCHER.match(_contract(title=title))
    assert (found.system.target, found.system.confidence) == (system, 0.7)
    assert found.system.method.startswith("keyword ")


@pytest.mark.parametrize(
    ("title", "why"),
    [
        ("Uniforms for staff", "no product keyword"),  # whole words only
        ("Planning software support", "no product keyword"),
        ("", "no product keyword"),
        ("Uniform and Public Access support", "ambiguous"),
    ],
)
def test_no_single_system_stays_at_vendor_level(title: str, why: str) -> None:
    found = MATCHER.match(_contract(title=title))
    assert found.vendor.target == "idox"
    assert found.system.target is None
    assert why in found.system.note


def test_keywords_are_searched_in_the_description_too_and_in_bounded_text() -> None:
    contract = _contract(title="Software")
    described = Contract(**{**contract.__dict__, "description": "Mosaic " * 10})
    access = (Organisation("The Access Group"),)
    found = MATCHER.match(Contract(**{**described.__dict__, "suppliers": access}))
    assert found.system.target == "access-mosaic"
    far = Contract(**{**described.__dict__, "description": "x " * 20_000 + "Mosaic"})
    assert MATCHER.match(Contract(**{**far.__dict__, "suppliers": access})).system.target is None


def test_match_contracts_matches_each_and_learns_buyer_ids_from_them_all() -> None:
    contracts = [
        _contract("London Borough of Hackney", buyer_id="GB-CFS-77"),
        _contract("", buyer_id="GB-CFS-77"),
    ]
    matched = match_contracts(contracts, CATALOGUE, REGISTER)
    assert [m.council.target for m in matched] == ["E09000012", "E09000012"]
    assert all(isinstance(m, MatchedContract) for m in matched)
    assert matched[0].fully_matched


@pytest.mark.parametrize(
    "name",
    ["\x1b]0;pwned\x07Idox", "Idox\u202e", "[bold]Idox[/bold]", "x" * 100_000, "\ud800"],
)
def test_hostile_names_never_raise(name: str) -> None:
    found = MATCHER.match(_contract(buyer=name, suppliers=(Organisation(name),), title=name))
    for level in (found.council, found.vendor, found.system):
        assert "\x1b" not in level.note
        assert len(level.note) < 1000


BRACKETED = parse_catalogue_text(
    """\
    schema_version: 1
    vendors:
      - id: nec
        name: NEC Software Solutions (ex-Northgate)
        systems: []
      - id: granicus
        name: Granicus (ex-Firmstep)
        systems: []
      - id: liquidlogic
        name: Liquidlogic (System C)
        systems: []
    """
)


@pytest.mark.parametrize(
    ("supplier", "vendor"),
    [
        ("NEC Software Solutions UK Limited", "nec"),
        ("Northgate Public Services (UK) Limited", "nec"),  # the former name
        ("Firmstep Ltd", "granicus"),
        ("Granicus UK Ltd", "granicus"),
        ("Liquidlogic Limited", "liquidlogic"),
        ("System C Healthcare Ltd", None),  # a parent named in brackets is not the supplier
    ],
)
def test_bracketed_former_names_in_the_catalogue_count(supplier: str, vendor: str | None) -> None:
    matcher = Matcher.build(BRACKETED, REGISTER)
    assert matcher.match(_contract(suppliers=(Organisation(supplier),))).vendor.target == vendor


# --- dates flagged as implausible are kept, never trusted ----------------------------------


@pytest.mark.parametrize(
    ("flags", "trusted"),
    [
        ((), True),
        (("notice-url-from-ocid",), True),  # where the URL came from, not a date problem
        (("start-unparseable",), True),  # the end itself is fine
        (("start-before-1990",), True),
        (("end-before-start",), False),
        (("over-25-years",), False),
        (("far-future-end",), False),
        (("end-unparseable",), False),
    ],
)
def test_a_flagged_end_date_is_not_trusted_for_renewals(
    flags: tuple[str, ...], trusted: bool
) -> None:
    contract = Contract(
        "ocds-x", "r1", "2025-01-01T00:00:00Z", Organisation("B"), end=dt.date(2027, 1, 1),
        flags=flags,
    )  # fmt: skip
    assert (trusted_end(contract) is not None) == trusted
