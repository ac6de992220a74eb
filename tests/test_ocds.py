"""OCDS releases to Contracts (issue 13): the IT filter, where each field comes from, flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_audit.sources.ocds import (
    END_BEFORE_START,
    END_UNPARSEABLE,
    FAR_FUTURE_END,
    NOTICE_URL_FROM_OCID,
    OVER_25_YEARS,
    RELEASE_DATE_UNPARSEABLE,
    START_BEFORE_1990,
    START_UNPARSEABLE,
    NotANotice,
    contract_from_release,
    cpv_codes,
    is_it,
    record_release,
    releases_in,
)


def release(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ocid": "ocds-b5fd17-0001",
        "id": "ocds-b5fd17-0001-1",
        "date": "2025-01-01T00:00:00Z",
        "tender": {"classification": {"scheme": "CPV", "id": "48000000"}},
    }
    return base | fields


@pytest.mark.parametrize(
    ("tender", "expected"),
    [
        ({"classification": {"scheme": "CPV", "id": "48000000-8"}}, ("48000000",)),
        ({"classification": {"scheme": "cpv", "id": " 72267000-4 "}}, ("72267000",)),
        ({"classification": {"id": "72000000"}}, ("72000000",)),  # no scheme: taken as CPV
        ({"classification": {"scheme": "CPV", "id": 48000000}}, ("48000000",)),
        (
            {"additionalClassifications": [{"scheme": "CPV", "id": "72268000-1"}]},
            ("72268000",),
        ),
        ({"items": [{"classification": {"scheme": "CPV", "id": "48760000-3"}}]}, ("48760000",)),
        (
            {
                "classification": {"scheme": "CPV", "id": "30200000-1"},
                "additionalClassifications": [{"scheme": "CPV", "id": "48000000"}],
                "items": [{"classification": {"scheme": "CPV", "id": "48000000-8"}}],
            },
            ("30200000", "48000000"),
        ),
        ({"classification": {"scheme": "UNSPSC", "id": "43230000"}}, ()),
        ({"classification": {"scheme": "CPVS", "id": "48000000"}}, ()),
        ({"classification": {"scheme": "CPV", "id": "4800"}}, ()),
        ({"classification": {"scheme": "CPV", "id": "48000000-88"}}, ()),
        ({"classification": "48000000"}, ()),
        ({"items": "nope", "additionalClassifications": {"id": "48000000"}}, ()),
        ({}, ()),
    ],
)
def test_cpv_codes_are_found_in_the_three_places_and_normalised(
    tender: dict[str, Any], expected: tuple[str, ...]
) -> None:
    assert cpv_codes(release(tender=tender)) == expected


@pytest.mark.parametrize(
    ("code", "it"),
    [
        ("48000000-8", True),
        ("48219300", True),
        ("72000000-5", True),
        ("72267000", True),
        ("90511000", False),  # refuse collection
        ("30200000", False),  # computer equipment: hardware, not software
        ("45261210", False),
        ("79000000", False),
        ("47200000", False),
    ],
)
def test_only_cpv_divisions_48_and_72_are_it(code: str, it: bool) -> None:
    assert is_it(release(tender={"classification": {"scheme": "CPV", "id": code}})) is it


def test_buyer_is_completed_from_its_party_with_every_identifier() -> None:
    contract = contract_from_release(
        release(
            buyer={"id": "GB-CFS-1", "name": "Hackney Council"},
            parties=[
                {
                    "id": "GB-CFS-1",
                    "name": "LONDON BOROUGH OF HACKNEY",
                    "roles": ["buyer"],
                    "identifier": {"scheme": "GB-CFS", "id": "1"},
                    "additionalIdentifiers": [{"scheme": "GB-PPON", "id": "PABC-1234"}],
                }
            ],
        )
    )
    assert contract.buyer.name == "Hackney Council"
    assert contract.buyer.id == "GB-CFS-1"
    assert contract.buyer.identifiers == (("GB-CFS", "1"), ("GB-PPON", "PABC-1234"))


@pytest.mark.parametrize(
    "fields",
    [
        {"parties": [{"id": "p1", "name": "Royal Borough of Greenwich", "roles": ["buyer"]}]},
        {"buyer": {"name": "Royal Borough of Greenwich"}},
        {
            "buyer": {"id": "p1"},
            "parties": [{"id": "p1", "name": "Royal Borough of Greenwich", "roles": []}],
        },
    ],
)
def test_buyer_comes_from_buyer_or_the_party_with_role_buyer(fields: dict[str, Any]) -> None:
    assert contract_from_release(release(**fields)).buyer.name == "Royal Borough of Greenwich"


def test_suppliers_are_joined_to_parties_and_deduplicated() -> None:
    civica = {
        "id": "GB-COH-01628868",
        "name": "CIVICA UK LIMITED",
        "roles": ["supplier"],
        "identifier": {"scheme": "GB-COH", "id": "1628868"},  # leading zero lost upstream
    }
    contract = contract_from_release(
        release(
            parties=[civica],
            awards=[
                {"suppliers": [{"id": "GB-COH-01628868", "name": "Civica UK Ltd"}]},
                {"suppliers": [{"id": "GB-COH-01628868"}, {"name": "Softcat plc"}]},
                {"status": "cancelled", "suppliers": [{"name": "CDW Limited"}]},
                {"suppliers": [{"name": " softcat  PLC "}, {}]},
            ],
        )
    )
    names = [s.name for s in contract.suppliers]
    assert names == ["Civica UK Ltd", "Softcat plc"]
    assert contract.suppliers[0].identifier("GB-COH") == "01628868"


def test_suppliers_fall_back_to_parties_with_role_supplier() -> None:
    contract = contract_from_release(
        release(parties=[{"id": "s", "name": "Idox Software Ltd", "roles": ["supplier"]}])
    )
    assert [s.name for s in contract.suppliers] == ["Idox Software Ltd"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "awards": [
                    {"value": {"amount": 100, "currency": "GBP"}},
                    {"value": {"amount": 50.5, "currency": "GBP"}},
                ],
                "contracts": [{"value": {"amount": 7, "currency": "GBP"}}],
            },
            (150.5, "GBP"),
        ),
        (
            {"awards": [{"value": {"amount": 100, "currency": "GBP"}, "status": "unsuccessful"}]},
            (None, None),
        ),
        ({"contracts": [{"value": {"amount": "48000.00", "currency": "gbp"}}]}, (48000.0, "GBP")),
        (
            {
                "awards": [{"value": {"amount": "n/a"}}],
                "tender": {"value": {"amount": 9, "currency": "EUR"}},
            },
            (9.0, "EUR"),
        ),
        (
            {
                "awards": [
                    {"value": {"amount": 10, "currency": "GBP"}},
                    {"value": {"amount": 20, "currency": "EUR"}},
                ]
            },
            (10.0, "GBP"),
        ),
        ({"awards": [{"value": {"amount": -5, "currency": "GBP"}}]}, (None, None)),
        ({"awards": [{"value": {"amount": True, "currency": "GBP"}}]}, (None, None)),
        ({"awards": [{"value": {"amount": "1e999", "currency": "GBP"}}]}, (None, None)),
        ({"awards": [{"value": "lots"}]}, (None, None)),
    ],
)
def test_value_is_the_awards_then_the_contracts_then_the_tenders(
    fields: dict[str, Any], expected: tuple[float | None, str | None]
) -> None:
    base = release(**fields)
    base["tender"] = base["tender"] | fields.get("tender", {})
    contract = contract_from_release(base)
    assert (contract.value, contract.currency) == expected


AWARD = {"awards": [{"contractPeriod": {"startDate": "2024-04-01", "endDate": "2027-03-31"}}]}
CONTRACT = {"contracts": [{"period": {"startDate": "2025-01-01", "endDate": "2026-12-31"}}]}
TENDER = {"contractPeriod": {"startDate": "2024-06-01T00:00:00Z", "endDate": "2028-05-31"}}


@pytest.mark.parametrize(
    ("fields", "tender", "expected"),
    [
        (AWARD | CONTRACT, TENDER, ("award", "2024-04-01", "2027-03-31")),
        (CONTRACT, TENDER, ("contract", "2025-01-01", "2026-12-31")),
        ({}, TENDER, ("tender", "2024-06-01", "2028-05-31")),
        (
            {
                "awards": [{"contractPeriod": {}}],
                "contracts": [{"period": {"startDate": "2025-01-01"}}],
            },
            {},
            ("contract", "2025-01-01", None),
        ),
        (
            {
                "awards": [
                    {"contractPeriod": {"startDate": "2025-02-01", "endDate": "2026-01-31"}},
                    {"contractPeriod": {"startDate": "2025-01-01", "endDate": "2027-01-31"}},
                ]
            },
            {},
            ("award", "2025-01-01", "2027-01-31"),
        ),
        ({}, {}, (None, None, None)),
    ],
)
def test_period_prefers_awards_then_contracts_then_tender(
    fields: dict[str, Any], tender: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    base = release(**fields)
    base["tender"] = base["tender"] | tender
    contract = contract_from_release(base)
    start = contract.start.isoformat() if contract.start else None
    end = contract.end.isoformat() if contract.end else None
    assert (contract.period_from, start, end) == expected


def test_a_date_with_an_offset_keeps_its_own_calendar_day() -> None:
    period = {"startDate": "2024-04-01T00:00:00+01:00", "endDate": "2027-03-31T23:59:59+01:00"}
    contract = contract_from_release(release(awards=[{"contractPeriod": period}]))
    assert (contract.start, contract.end) == (dt.date(2024, 4, 1), dt.date(2027, 3, 31))


@pytest.mark.parametrize(
    ("start", "end", "flags", "kept"),
    [
        ("2024-04-01", "2027-03-31", (), True),
        ("2025-04-01", "2024-03-31", (END_BEFORE_START,), True),
        ("2025-01-01", "2099-03-31", (OVER_25_YEARS, FAR_FUTURE_END), True),
        ("2070-01-01", "2081-01-01", (FAR_FUTURE_END,), True),
        ("2000-01-01", "2025-01-01", (), True),
        ("2000-01-01", "2025-01-02", (OVER_25_YEARS,), True),
        ("1980-01-01", "2000-01-01", (START_BEFORE_1990,), True),
        ("2024-02-29", "2049-03-01", (OVER_25_YEARS,), True),
        ("TBC", "2027-01-31", (START_UNPARSEABLE,), False),
        ("2025-01-01", "31/12/2027", (END_UNPARSEABLE,), False),
        ("2025-13-01", "2027-02-30", (START_UNPARSEABLE, END_UNPARSEABLE), False),
        (20250101, None, (START_UNPARSEABLE,), False),
    ],
)
def test_implausible_dates_are_kept_and_flagged(
    start: Any, end: Any, flags: tuple[str, ...], kept: bool
) -> None:
    period = {"startDate": start} | ({"endDate": end} if end else {})
    contract = contract_from_release(release(awards=[{"contractPeriod": period}]))
    assert tuple(f for f in contract.flags if f != NOTICE_URL_FROM_OCID) == flags
    if kept:
        assert contract.start == dt.date.fromisoformat(start)
        assert contract.end == (dt.date.fromisoformat(end) if end else None)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2025-06-01T09:00:00+01:00", "2025-06-01T08:00:00Z"),
        ("2025-06-01T08:00:00Z", "2025-06-01T08:00:00Z"),
        ("2025-06-01T08:00:00.123456Z", "2025-06-01T08:00:00Z"),
        ("2025-06-01T08:00:00", "2025-06-01T08:00:00Z"),
        ("2025-06-01", "2025-06-01T00:00:00Z"),
    ],
)
def test_release_dates_are_written_in_one_form_so_newest_compares_as_text(
    date: str, expected: str
) -> None:
    contract = contract_from_release(release(date=date))
    assert (contract.release_date, contract.flags) == (expected, (NOTICE_URL_FROM_OCID,))


@pytest.mark.parametrize("date", ["yesterday", None, 20250101, ""])
def test_an_unreadable_release_date_sorts_oldest_and_is_flagged(date: object) -> None:
    contract = contract_from_release(release(date=date))
    assert contract.release_date == ""
    assert RELEASE_DATE_UNPARSEABLE in contract.flags


@pytest.mark.parametrize(
    ("fields", "url", "built"),
    [
        (
            {
                "awards": [
                    {
                        "documents": [
                            {
                                "noticeType": "UK6",
                                "url": "https://www.find-tender.service.gov.uk/Notice/1",
                            },
                            {
                                "noticeType": "UK7",
                                "url": "https://www.find-tender.service.gov.uk/Notice/2",
                            },
                        ]
                    }
                ]
            },
            "https://www.find-tender.service.gov.uk/Notice/2",
            False,
        ),
        (
            {
                "awards": [
                    {"documents": [{"documentType": "awardNotice", "url": "http://x.example/n"}]}
                ]
            },
            "http://x.example/n",
            False,
        ),
        (
            {
                "awards": [
                    {"documents": [{"documentType": "awardNotice", "url": "javascript:alert(1)"}]}
                ]
            },
            "https://www.contractsfinder.service.gov.uk/Published/OCDS/Record/ocds-b5fd17-0001",
            True,
        ),
        (
            {
                "awards": [
                    {"documents": [{"documentType": "awardNotice", "url": "https://a\x1b[2J.b/"}]}
                ]
            },
            "https://www.contractsfinder.service.gov.uk/Published/OCDS/Record/ocds-b5fd17-0001",
            True,
        ),
        (
            {"ocid": "ocds-h6vhtk-04a1b2"},
            "https://www.find-tender.service.gov.uk/api/1.0/ocdsRecordPackages/ocds-h6vhtk-04a1b2",
            True,
        ),
        ({"ocid": "ocds-xyz123-1"}, None, False),
        ({"ocid": "ocds-b5fd17-../../x"}, None, False),
    ],
)
def test_notice_url_is_a_notice_document_else_built_from_the_ocid(
    fields: dict[str, Any], url: str | None, built: bool
) -> None:
    contract = contract_from_release(release(**fields))
    assert contract.notice_url == url
    assert (NOTICE_URL_FROM_OCID in contract.flags) is built


@pytest.mark.parametrize(
    ("ocid", "source"),
    [
        ("ocds-b5fd17-abc", "contracts-finder"),
        ("ocds-h6vhtk-abc", "find-a-tender"),
        ("ocds-000000-abc", ""),
    ],
)
def test_source_defaults_to_the_service_of_the_ocid_prefix(ocid: str, source: str) -> None:
    assert contract_from_release(release(ocid=ocid)).source == source
    assert contract_from_release(release(ocid=ocid), "file.json").source == "file.json"


def test_a_record_gives_its_compiled_release_else_its_newest() -> None:
    older, newer = (
        release(id="a", date="2025-01-01T00:00:00Z"),
        release(id="b", date="2025-02-01T00:00:00+00:00"),
    )
    compiled = release(id="compiled")
    assert (
        record_release({"ocid": "x", "releases": [older, newer], "compiledRelease": compiled})["id"]
        == "compiled"
    )
    assert record_release({"ocid": "x", "releases": [newer, older]})["id"] == "b"
    assert record_release({"ocid": "x", "releases": [older, newer, {"url": "u"}]})["id"] == "b"
    with pytest.raises(NotANotice):
        record_release({"ocid": "x", "releases": [{"url": "https://linked.example"}]})


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ({"releases": [release(id="1"), release(id="2")]}, ["1", "2"]),
        ({"records": [{"ocid": "x", "compiledRelease": release(id="c")}]}, ["c"]),
        ({"ocid": "x", "releases": [release(id="r")]}, ["r"]),
        (release(id="solo"), ["solo"]),
        ({"releases": []}, []),
        ({"uri": "u", "releases": [{"url": "https://linked"}]}, []),
    ],
)
def test_releases_in_every_shape(value: object, ids: list[str]) -> None:
    assert [r["id"] for r in releases_in(value)] == ids


@pytest.mark.parametrize("value", [[], "text", 3, None, {"hello": "world"}, {"ocid": 5}])
def test_values_that_are_no_notice_say_so(value: object) -> None:
    with pytest.raises(NotANotice):
        list(releases_in(value))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
KEYS = ["tender", "awards", "contracts", "parties", "buyer", "date", "id", "items", "value"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8))
def test_any_shape_of_release_maps_without_raising(fields: dict[str, Any]) -> None:
    value = release(**fields)
    is_it(value)
    contract = contract_from_release(value)
    assert contract.ocid == "ocds-b5fd17-0001"
