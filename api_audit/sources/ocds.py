"""OCDS notices to Contracts: which releases are IT, and where each fact of one comes from.

Pure: parsed JSON in, `Contract`s out (OCDS 1.1, https://standard.open-contracting.org/1.1/).
Notices are untrusted: any field may be missing, of the wrong type or absurd, and nothing
here raises on them except `NotANotice`, for a value that is no OCDS release at all.

Where each field comes from (docs/contracts.md has the same table for users):

- IT: a CPV code (scheme "CPV", or no scheme) in division 48 (software packages and
  information systems) or 72 (IT services), in `tender.classification`,
  `tender.additionalClassifications[]` or `tender.items[].classification`;
- buyer: `buyer` {id, name}, completed from the party with its id or with role "buyer";
- suppliers: `awards[].suppliers` (awards not cancelled or unsuccessful), each joined to
  `parties` by id for its identifiers; the parties with role "supplier" when no award names any;
- value: the awards' total (one currency), else the contracts' total, else `tender.value`;
- period: the awards' contract periods, else `contracts[].period`, else
  `tender.contractPeriod`: the earliest start and the latest end at the first level that
  has any date (`period_from` says which);
- notice URL: a notice document's URL (UK7, UK6, then award/contract/tender notices), else
  the service's record URL built from the ocid (flag `notice-url-from-ocid`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from api_audit.models import Contract, Organisation

IT_CPV_DIVISIONS = ("48", "72")  # CPV 2008: 48000000 software, 72000000 IT services

# Data-quality flags on dates: such a date is kept as published but must not be trusted
# (OCP data registry notes: "some contract period dates are implausible").
START_UNPARSEABLE = "start-unparseable"  # the start could not be read; kept as None
END_UNPARSEABLE = "end-unparseable"
END_BEFORE_START = "end-before-start"
FAR_FUTURE_END = "far-future-end"  # ends after LATEST_END_YEAR
OVER_25_YEARS = "over-25-years"  # ends more than MAX_YEARS after it starts
START_BEFORE_1990 = "start-before-1990"  # before any e-procurement record of it
RELEASE_DATE_UNPARSEABLE = "release-date-unparseable"  # sorts as oldest
UNTRUSTED_DATE_FLAGS = frozenset(
    {START_UNPARSEABLE, END_UNPARSEABLE, END_BEFORE_START, FAR_FUTURE_END, OVER_25_YEARS,
     START_BEFORE_1990}
)  # fmt: skip
# The flags that make a contract's end date unusable (a renewal date, an annual value).
END_UNTRUSTED_FLAGS = frozenset({END_UNPARSEABLE, END_BEFORE_START, FAR_FUTURE_END, OVER_25_YEARS})
# Not about quality: the notice URL was built from the ocid, not published in the notice.
NOTICE_URL_FROM_OCID = "notice-url-from-ocid"

LATEST_END_YEAR = 2080
MAX_YEARS = 25
EARLIEST_START_YEAR = 1990
MAX_TEXT = 10_000  # characters kept of a title or description
MAX_URL = 2048

# The two services (procurement-data.md §1): ocid prefix -> (source, record URL template).
SERVICES = {
    "ocds-b5fd17-": (
        "contracts-finder",
        "https://www.contractsfinder.service.gov.uk/Published/OCDS/Record/{ocid}",
    ),
    "ocds-h6vhtk-": (
        "find-a-tender",
        "https://www.find-tender.service.gov.uk/api/1.0/ocdsRecordPackages/{ocid}",
    ),
}
# Notice documents, most telling first: Procurement Act UK7 (contract details) and UK6
# (award), then OCDS documentType codes.
_NOTICE_RANKS = {"UK7": 0, "UK6": 1, "contractNotice": 3, "awardNotice": 2, "tenderNotice": 4}
_DROPPED_AWARDS = frozenset({"cancelled", "unsuccessful"})
_CPV = re.compile(r"(\d{8})(?:-\d)?")


class NotANotice(ValueError):
    """A value that is not an OCDS release, record or package."""


@dataclass(frozen=True)
class Period:
    start: dt.date | None
    end: dt.date | None
    source: str | None  # "award" | "contract" | "tender"
    flags: tuple[str, ...] = ()


# -- what a document holds ----------------------------------------------------------------


def releases_in(value: object, within: str | None = None) -> Iterator[Mapping[str, Any]]:
    """The releases a parsed value holds: a release package's releases, each record's
    chosen release (`record_release`), a record's, or the value itself as a release.
    `within` says which array the value was an item of ("releases" or "records"), if any.
    Raises NotANotice for a value that is none of these (an empty package holds none)."""
    if not isinstance(value, Mapping):
        raise NotANotice("not a JSON object")
    if within == "records" or _is_record(value):
        yield record_release(value)
    elif isinstance(value.get("ocid"), str):
        yield value
    elif within is None and isinstance(value.get("releases"), list):
        for item in value["releases"]:
            if not _is_linked_release(item):
                yield from releases_in(item, "releases")
    elif within is None and isinstance(value.get("records"), list):
        for item in value["records"]:
            yield from releases_in(item, "records")
    elif not _is_linked_release(value):
        raise NotANotice("not an OCDS release, record or package (no ocid)")


def record_release(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """A record's `compiledRelease` when it has one, else its newest release."""
    compiled = record.get("compiledRelease")
    if isinstance(compiled, Mapping) and isinstance(compiled.get("ocid"), str):
        return compiled
    releases = [r for r in _list(record.get("releases")) if isinstance(r.get("ocid"), str)]
    if not releases:
        raise NotANotice("a record with neither a compiledRelease nor a release")
    return max(releases, key=lambda r: (release_date(r)[0], _text(r.get("id"))))


def _is_record(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("ocid"), str) and (
        "compiledRelease" in value or isinstance(value.get("releases"), list)
    )


def _is_linked_release(value: object) -> bool:
    """A record's pointer to a release published elsewhere: {url, date, tag}, no ocid."""
    return isinstance(value, Mapping) and "url" in value and "ocid" not in value


# -- one release --------------------------------------------------------------------------


def is_it(release: Mapping[str, Any]) -> bool:
    """Whether any of the release's CPV codes is in an IT division (48, 72)."""
    return any(code.startswith(IT_CPV_DIVISIONS) for code in cpv_codes(release))


def cpv_codes(release: Mapping[str, Any]) -> tuple[str, ...]:
    """Every CPV code of the tender, 8 digits (a check digit "-8" dropped), in order found."""
    tender = _obj(release.get("tender"))
    found = [tender.get("classification"), *_list(tender.get("additionalClassifications"))]
    found += [item.get("classification") for item in _list(tender.get("items"))]
    codes: dict[str, None] = {}
    for classification in found:
        code = _cpv(classification)
        if code is not None:
            codes.setdefault(code)
    return tuple(codes)


def _cpv(classification: object) -> str | None:
    if not isinstance(classification, Mapping):
        return None
    scheme = classification.get("scheme")
    if scheme is not None and (not isinstance(scheme, str) or scheme.strip().upper() != "CPV"):
        return None  # CPVS supplementary codes, UNSPSC, ...: not CPV
    raw = classification.get("id")
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else _text(raw)
    matched = _CPV.fullmatch(text.strip())
    return matched.group(1) if matched else None


def contract_from_release(release: Mapping[str, Any], source: str = "") -> Contract:
    """The Contract a release describes (whether it is IT is `is_it`'s question).
    `source` defaults to the service its ocid prefix names."""
    ocid = _text(release.get("ocid")).strip()
    if not ocid:
        raise NotANotice("a release without an ocid")
    date, date_flags = release_date(release)
    parties = _parties(release)
    period = contract_period(release)
    value, currency = contract_value(release)
    url, url_flags = notice_url(release, ocid)
    return Contract(
        ocid=ocid,
        release_id=_text(release.get("id")) or ocid,
        release_date=date,
        buyer=buyer_of(release, parties),
        suppliers=suppliers_of(release, parties),
        title=_clipped(_obj(release.get("tender")).get("title")),
        description=_clipped(_obj(release.get("tender")).get("description")),
        value=value,
        currency=currency,
        start=period.start,
        end=period.end,
        period_from=period.source,
        cpv=cpv_codes(release),
        notice_url=url,
        source=source or _service(ocid) or "",
        flags=date_flags + period.flags + url_flags,
    )


def release_date(release: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The release date in one form, UTC "YYYY-MM-DDTHH:MM:SSZ", so that the store's
    comparison of dates as text finds the newest whatever offset each was published with;
    "" (oldest of all) with a flag when it cannot be read."""
    moment = _datetime(release.get("date"))
    if moment is None:
        return "", (RELEASE_DATE_UNPARSEABLE,)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), ()


# -- organisations ------------------------------------------------------------------------


def _parties(release: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _list(release.get("parties"))


def buyer_of(release: Mapping[str, Any], parties: list[Mapping[str, Any]]) -> Organisation:
    """`buyer`, completed from its party (by id, else the first with role "buyer")."""
    named = _obj(release.get("buyer"))
    named_id = _text(named.get("id")) or None
    party = _party_by_id(parties, named_id) if named_id else None
    if party is None:
        party = next((p for p in parties if "buyer" in _roles(p)), None)
    party = party or {}
    return Organisation(
        name=_name(named.get("name")) or _name(party.get("name")),
        id=named_id or _text(party.get("id")) or None,
        identifiers=identifiers_of(party),
    )


def suppliers_of(
    release: Mapping[str, Any], parties: list[Mapping[str, Any]]
) -> tuple[Organisation, ...]:
    """The awards' suppliers joined to their parties; else the parties with role supplier.
    One entry per party id (else per Companies House number, else per name)."""
    named = [s for award in _live_awards(release) for s in _list(award.get("suppliers"))]
    if not named:
        named = [p for p in parties if "supplier" in _roles(p)]
    found: dict[str, Organisation] = {}
    for supplier in named:
        organisation = _supplier(supplier, parties)
        key = _dedupe_key(organisation)
        if key is not None:
            found.setdefault(key, organisation)
    return tuple(found.values())


def _supplier(named: Mapping[str, Any], parties: list[Mapping[str, Any]]) -> Organisation:
    named_id = _text(named.get("id")) or None
    party = (_party_by_id(parties, named_id) if named_id else None) or {}
    identifiers = identifiers_of(party) or identifiers_of(named)
    return Organisation(
        name=_name(named.get("name")) or _name(party.get("name")),
        id=named_id,
        identifiers=identifiers,
    )


def _dedupe_key(organisation: Organisation) -> str | None:
    if organisation.id:
        return "id:" + organisation.id
    number = organisation.identifier("GB-COH")
    if number:
        return "coh:" + number
    name = " ".join(organisation.name.casefold().split())
    return "name:" + name if name else None


def identifiers_of(party: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(scheme, id) of a party's `identifier` and `additionalIdentifiers`, deduplicated."""
    found: dict[tuple[str, str], None] = {}
    for identifier in [party.get("identifier"), *_list(party.get("additionalIdentifiers"))]:
        item = _obj(identifier)
        scheme, value = _text(item.get("scheme")).strip(), _id_text(item.get("id")).strip()
        if scheme.upper() == "GB-COH":  # Companies House numbers: 8 characters, no spaces
            scheme, value = "GB-COH", "".join(value.split()).upper()
            value = value.zfill(8) if value.isdigit() else value
        if scheme and value:
            found.setdefault((scheme[:40], value[:80]))
    return tuple(found)


def _live_awards(release: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Awards but those cancelled or unsuccessful (OCDS awardStatus codelist)."""
    awards = _list(release.get("awards"))
    return [a for a in awards if _text(a.get("status")) not in _DROPPED_AWARDS]


def _party_by_id(parties: list[Mapping[str, Any]], party_id: str) -> Mapping[str, Any] | None:
    return next((p for p in parties if _text(p.get("id")) == party_id), None)


def _roles(party: Mapping[str, Any]) -> set[str]:
    return set(_list_of_text(party.get("roles")))


# -- money and time -----------------------------------------------------------------------


def contract_value(release: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The awards' total, else the contracts' total, else the tender's value."""
    awards = [
        a for a in _list(release.get("awards")) if _text(a.get("status")) not in _DROPPED_AWARDS
    ]
    for values in (
        [a.get("value") for a in awards],
        [c.get("value") for c in _list(release.get("contracts"))],
        [_obj(release.get("tender")).get("value")],
    ):
        total = _total(values)
        if total is not None:
            return total
    return None, None


def _total(values: Iterable[object]) -> tuple[float, str | None] | None:
    """The sum of the amounts when they share one currency; else the first amount."""
    amounts = [a for a in map(_amount, values) if a is not None]
    if not amounts:
        return None
    currencies = {currency for _, currency in amounts}
    if len(currencies) > 1:
        return amounts[0]
    return sum(amount for amount, _ in amounts), amounts[0][1]


def _amount(value: object) -> tuple[float, str | None] | None:
    item = _obj(value)
    raw = item.get("amount")
    if isinstance(raw, bool):
        return None
    try:
        amount = float(raw) if isinstance(raw, int | float | str) else math.nan
    except (ValueError, OverflowError):
        return None
    if not math.isfinite(amount) or amount < 0:
        return None
    currency = _text(item.get("currency")).strip().upper()[:3] or None
    return amount, currency


def contract_period(release: Mapping[str, Any]) -> Period:
    """Dates from the first level that has any: awards, then contracts, then tender."""
    levels = (
        ("award", [a.get("contractPeriod") for a in _list(release.get("awards"))]),
        ("contract", [c.get("period") for c in _list(release.get("contracts"))]),
        ("tender", [_obj(release.get("tender")).get("contractPeriod")]),
    )
    for source, periods in levels:
        starts = [_obj(p).get("startDate") for p in periods if _obj(p).get("startDate")]
        ends = [_obj(p).get("endDate") for p in periods if _obj(p).get("endDate")]
        if starts or ends:
            return _period(source, starts, ends)
    return Period(None, None, None)


def _period(source: str, starts: list[object], ends: list[object]) -> Period:
    flags: list[str] = []
    start_dates = [d for d in map(_date, starts) if d is not None]
    end_dates = [d for d in map(_date, ends) if d is not None]
    if len(start_dates) < len(starts):
        flags.append(START_UNPARSEABLE)
    if len(end_dates) < len(ends):
        flags.append(END_UNPARSEABLE)
    start = min(start_dates, default=None)
    end = max(end_dates, default=None)
    flags += implausible_dates(start, end)
    return Period(start, end, source, tuple(flags))


def implausible_dates(start: dt.date | None, end: dt.date | None) -> list[str]:
    """Flags for dates that are kept but must not be trusted."""
    flags = []
    if start is not None and end is not None:
        if end < start:
            flags.append(END_BEFORE_START)
        elif _years_after(start, MAX_YEARS) < end:
            flags.append(OVER_25_YEARS)
    if end is not None and end.year > LATEST_END_YEAR:
        flags.append(FAR_FUTURE_END)
    if start is not None and start.year < EARLIEST_START_YEAR:
        flags.append(START_BEFORE_1990)
    return flags


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, or past year 9999
        return (
            dt.date.max
            if day.year + years > dt.MAXYEAR
            else day.replace(day=28, year=day.year + years)
        )


def _date(value: object) -> dt.date | None:
    """The calendar date as published ("2028-03-31T23:59:59+01:00" is 31 March)."""
    text = _text(value).strip()[:40]
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _datetime(value: object) -> dt.datetime | None:
    text = _text(value).strip()[:40]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    # OCDS requires an offset; a date without one is taken as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# -- notice URL ---------------------------------------------------------------------------


def notice_url(release: Mapping[str, Any], ocid: str) -> tuple[str | None, tuple[str, ...]]:
    """The best notice document's URL; else the service's record URL built from the ocid."""
    documents = [d for a in _list(release.get("awards")) for d in _list(a.get("documents"))]
    documents += [d for c in _list(release.get("contracts")) for d in _list(c.get("documents"))]
    documents += _list(_obj(release.get("tender")).get("documents"))
    ranked = sorted(
        (rank, index, url)
        for index, document in enumerate(documents)
        if (rank := _notice_rank(document)) is not None and (url := _url(document.get("url")))
    )
    if ranked:
        return ranked[0][2], ()
    for prefix, (_, template) in SERVICES.items():
        if ocid.startswith(prefix) and re.fullmatch(r"[A-Za-z0-9-]{1,100}", ocid):
            return template.format(ocid=ocid), (NOTICE_URL_FROM_OCID,)
    return None, ()


def _notice_rank(document: Mapping[str, Any]) -> int | None:
    for field in ("noticeType", "documentType"):
        rank = _NOTICE_RANKS.get(_text(document.get(field)).strip())
        if rank is not None:
            return rank
    return None


def _url(value: object) -> str | None:
    text = _text(value).strip()
    if len(text) > MAX_URL or not re.match(r"https?://[^\s/]", text, re.IGNORECASE):
        return None
    return None if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text) else text


def _service(ocid: str) -> str | None:
    return next((name for prefix, (name, _) in SERVICES.items() if ocid.startswith(prefix)), None)


# -- untrusted values ---------------------------------------------------------------------


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _list_of_text(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id_text(value: object) -> str:
    """Identifiers are sometimes published as numbers (a Companies House number as 2938479
    loses its leading zero, so it is only taken as text when it is text or an integer)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _name(value: object) -> str:
    return " ".join(_text(value).split())[:500]


def _clipped(value: object) -> str:
    return _text(value).strip()[:MAX_TEXT]
