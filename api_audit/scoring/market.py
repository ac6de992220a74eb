"""Catalogue + grades (+ matched contracts) in, market figures out: suppliers, shares and
concentration by service area, openness weighted by councils, renewal cohorts; pure.

The rules (docs/json.md "api-audit market" repeats them for readers):

- A *seat* is one council served by one supplier in one service area, from a catalogue
  instance or from an imported contract matched to that council and to that vendor; a
  council is counted once per vendor per area however many instances or contracts say so.
  A contract matched to a system counts in that system's areas; matched only to the vendor,
  in the vendor's areas when all its systems share them (else the area is unknown and the
  contract is left out). A notice the catalogue already holds as an instance (same source
  URL) is counted once.
- Only vendors whose role is `supplier` hold seats: public bodies and data sources are not
  the market, and resellers are never credited (sources/matching.py).
- `share`: the vendor's councils / the councils served in the area. A council served by
  two suppliers in one area counts for both, so shares can add up to more than 1.
- `hhi`: the Herfindahl-Hirschman index on council shares (US DoJ/FTC Merger Guidelines
  2023, Guideline 1): sum of squared percentage shares, 0-10,000, where each
  share is the vendor's seats / all seats in the area; equal to the sum of squared `share`s
  when every council has one supplier in the area, and never above 10,000 when some have two.
- `value_share`: the vendor's known annual values / all known annual values in the area:
  catalogue instances' `annual_value`, imported contracts' value a year (sources/periods.py:
  total over the contract period in years, GBP only, flagged dates left out). A system in
  two areas counts its full value in each. None when no value is known in the area.
- `openness`: each distinct (council, system) pair in the area counts once — a council
  running two systems there counts twice, once for each — bucketed by the system's grade
  (the council's own instance grade where the run has one); never graded: `?`. Contracts
  matched to a vendor but no system name no system, so they are not in it.
- cohorts: a system's instances and matched contracts with a contract end from `today`
  minus RECENTLY_ENDED_DAYS on, by end date; a cohort starts at the earliest end not yet
  in one and takes every end up to `within_months` calendar months later. Only cohorts of
  two or more councils are listed. The same per service area, across systems, listed
  when the cohort spans more than one system (else it is a system cohort already).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from api_audit.catalogue.renewals import RECENTLY_ENDED_DAYS, promoted_sources
from api_audit.models import Catalogue, System, Vendor
from api_audit.sources.matching import MatchedContract
from api_audit.sources.periods import annual_value, trusted_end

OPENNESS_BANDS: tuple[str, ...] = ("A-B", "C", "D-E", "?")
_BAND = {"A": "A-B", "B": "A-B", "C": "C", "D": "D-E", "E": "D-E"}
SUPPLIER = "supplier"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Standing:
    """A system's grade and ladder in the run the figures use."""

    grade: str = "?"
    ladder: str = ""


@dataclass(frozen=True)
class Seat:
    """One council served by one system in one area: an instance or a matched contract."""

    area: str
    vendor: str
    council: str
    system: str | None  # None: a contract matched to the vendor only
    annual_value: float | None
    contract_end: dt.date | None


@dataclass(frozen=True)
class SupplierShare:
    vendor: str
    vendor_name: str
    councils: int
    share: float
    value_share: float | None


@dataclass(frozen=True)
class AreaFigures:
    area: str
    councils: int
    suppliers: tuple[SupplierShare, ...]
    hhi: float
    openness: Mapping[str, float]  # OPENNESS_BANDS -> share of (council, system) pairs
    instances: int  # the pairs `openness` is a share of


@dataclass(frozen=True)
class CohortMember:
    council: str
    system: str
    vendor: str
    contract_end: dt.date
    grade: str
    ladder: str


@dataclass(frozen=True)
class Cohort:
    kind: str  # "system" or "service_area"
    key: str  # the system id or the area
    start: dt.date
    end: dt.date
    members: tuple[CohortMember, ...]


Grades = Mapping[str, Standing]  # system id, or "system@council" for an instance -> standing


def seats(catalogue: Catalogue, matched: Iterable[MatchedContract] = ()) -> tuple[Seat, ...]:
    """Every supplier seat from the catalogue's instances and the matched contracts."""
    suppliers = {v.id: v for v in catalogue.vendors if v.role == SUPPLIER}
    found = [
        Seat(area, vendor.id, i.council, system.id, i.annual_value, i.contract_end)
        for vendor in suppliers.values()
        for system in vendor.systems
        for i in system.instances
        for area in system.service_areas
    ]
    promoted = promoted_sources(catalogue)
    for item in matched:
        found += _contract_seats(item, suppliers, promoted)
    return tuple(found)


def _contract_seats(
    item: MatchedContract, suppliers: Mapping[str, Vendor], promoted: frozenset[str]
) -> list[Seat]:
    contract, council, vendor = item.contract, item.council.target, item.vendor.target
    if council is None or vendor is None or vendor not in suppliers:
        return []
    if contract.notice_url and contract.notice_url.strip() in promoted:
        return []
    systems = {s.id: s for s in suppliers[vendor].systems}
    system = systems.get(item.system.target or "")
    areas = system.service_areas if system else _shared_areas(tuple(systems.values()))
    value = annual_value(contract).value
    sid = system.id if system else None
    # a flagged end date (before its start, past 2080 ...) is kept, never trusted
    return [Seat(a, vendor, council, sid, value, trusted_end(contract)) for a in areas]


def _shared_areas(systems: Sequence[System]) -> tuple[str, ...]:
    """The areas when every system of the vendor has the same ones, else none."""
    kinds = {frozenset(s.service_areas) for s in systems}
    return systems[0].service_areas if len(kinds) == 1 else ()


def standing(grades: Grades, system: str, council: str) -> Standing:
    """The council's own instance standing when the run has one, else the system's."""
    return grades.get(f"{system}@{council}") or grades.get(system) or Standing()


def area_figures(
    found: Sequence[Seat], vendor_names: Mapping[str, str], grades: Grades
) -> tuple[AreaFigures, ...]:
    """The figures for every area with a seat, by area name."""
    by_area: dict[str, list[Seat]] = defaultdict(list)
    for seat in found:
        by_area[seat.area].append(seat)
    return tuple(_area(a, by_area[a], vendor_names, grades) for a in sorted(by_area))


def _area(
    area: str, found: Sequence[Seat], vendor_names: Mapping[str, str], grades: Grades
) -> AreaFigures:
    councils_of: dict[str, set[str]] = defaultdict(set)
    value_of: dict[str, float] = defaultdict(float)
    for seat in found:
        councils_of[seat.vendor].add(seat.council)
        if seat.annual_value is not None:
            value_of[seat.vendor] += seat.annual_value
    councils = len({seat.council for seat in found})
    held = sum(len(c) for c in councils_of.values())
    total_value = sum(value_of.values())
    suppliers = sorted(
        (
            SupplierShare(
                vendor,
                vendor_names.get(vendor, vendor),
                len(served),
                round(len(served) / councils, 4),
                round(value_of[vendor] / total_value, 4) if total_value else None,
            )
            for vendor, served in councils_of.items()
        ),
        key=lambda s: (-s.councils, s.vendor_name.casefold(), s.vendor),
    )
    hhi = sum((100 * len(c) / held) ** 2 for c in councils_of.values())
    openness, pairs = _openness(found, grades)
    return AreaFigures(area, councils, tuple(suppliers), round(hhi, 1), openness, pairs)


def _openness(found: Sequence[Seat], grades: Grades) -> tuple[dict[str, float], int]:
    pairs = {(s.council, s.system) for s in found if s.system is not None}
    counts = dict.fromkeys(OPENNESS_BANDS, 0)
    for council, system in pairs:
        counts[_BAND.get(standing(grades, system, council).grade, "?")] += 1
    total = len(pairs)
    return {band: round(n / total, 4) if total else 0.0 for band, n in counts.items()}, total


def cohorts(
    found: Sequence[Seat], grades: Grades, *, today: dt.date, within_months: int
) -> tuple[Cohort, ...]:
    """Renewal cohorts by system, then by area where they span systems (module docstring)."""
    since = today - dt.timedelta(days=RECENTLY_ENDED_DAYS)
    members = _members(found, grades, since)
    by_system = _grouped(members, lambda m: m.system)
    listed = [c for key, group in by_system for c in _windows("system", key, group, within_months)]
    areas = _grouped(_area_members(found, members), lambda m: m[0])
    for area, group in areas:
        spans = _windows("service_area", area, [m for _, m in group], within_months)
        listed += [c for c in spans if len({m.system for m in c.members}) > 1]
    return tuple(listed)


def _members(found: Sequence[Seat], grades: Grades, since: dt.date) -> list[CohortMember]:
    unique: set[CohortMember] = set()
    for seat in found:
        system, end = seat.system, seat.contract_end
        if system is None or end is None or end < since:
            continue
        place = standing(grades, system, seat.council)
        unique.add(CohortMember(seat.council, system, seat.vendor, end, place.grade, place.ladder))
    return sorted(unique, key=lambda m: (m.contract_end, m.council, m.system))


def _area_members(
    found: Sequence[Seat], members: Sequence[CohortMember]
) -> list[tuple[str, CohortMember]]:
    areas_of: dict[str, set[str]] = defaultdict(set)
    for seat in found:
        if seat.system is not None:
            areas_of[seat.system].add(seat.area)
    return [(area, m) for m in members for area in sorted(areas_of[m.system])]


def _grouped(items: Iterable[_T], key: Callable[[_T], str]) -> list[tuple[str, list[_T]]]:
    groups: dict[str, list[_T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return sorted(groups.items())


def _windows(
    kind: str, key: str, members: Sequence[CohortMember], within_months: int
) -> list[Cohort]:
    """Greedy windows over members sorted by end date; those of two or more councils."""
    found: list[Cohort] = []
    group: list[CohortMember] = []
    for member in members:
        if group and member.contract_end > add_months(group[0].contract_end, within_months):
            found.append(_cohort(kind, key, group))
            group = []
        group.append(member)
    if group:
        found.append(_cohort(kind, key, group))
    return [c for c in found if len({m.council for m in c.members}) > 1]


def _cohort(kind: str, key: str, group: Sequence[CohortMember]) -> Cohort:
    return Cohort(kind, key, group[0].contract_end, group[-1].contract_end, tuple(group))


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved `months` calendar months on (31 Jan + 1 month = 28 or 29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
