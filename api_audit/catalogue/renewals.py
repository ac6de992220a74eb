"""Contracts that end soon: council instances and imported contract notices ordered by
contract end date; pure.

A council checking its suppliers wants to know, before a renewal, how open each system is;
this stage picks the instances whose contract ends inside a window and pairs each with the
system's latest grade when a run has one. Imported contracts matched to a council (issue 13)
are listed beside them, marked `imported` with their notice URL, unless the catalogue
already holds the contract as an instance (same source URL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api_audit.catalogue.councils import load_register
from api_audit.models import Catalogue, Instance, System, Vendor
from api_audit.redact import redact_url
from api_audit.sources.periods import annual_value, trusted_end
from api_audit.text import quote

if TYPE_CHECKING:  # sources/matching.py reads the council register from this package
    from api_audit.sources.matching import MatchedContract

# A contract that ended this many days ago is still listed: it is often rolling on while
# a re-procurement runs, which is exactly when the evidence is wanted.
RECENTLY_ENDED_DAYS = 90


@dataclass(frozen=True)
class Renewal:
    council: str  # GSS code (or registry code)
    council_name: str
    vendor: Vendor
    system: System
    instance: Instance
    days_left: int  # negative once the contract has ended
    grade: str | None = None  # from the latest run that audited the system, if any


def upcoming_renewals(
    catalogue: Catalogue,
    *,
    today: dt.date,
    within_days: int,
    council: str | None = None,
    grades: Mapping[str, str] | None = None,
) -> list[Renewal]:
    """Instances whose contract ends in [today - 90 days, today + within_days], soonest first.

    Recently ended contracts stay in the list for 90 days: they are often rolling on
    while a re-procurement runs, which is exactly when the evidence is wanted.
    `council` is a GSS or registry code already checked by the caller.
    """
    register = load_register()
    wanted = register.lookup(council) if council else None
    grades = grades or {}
    found: list[Renewal] = []
    for vendor in catalogue.vendors:
        for system in vendor.systems:
            for instance in system.instances:
                if wanted is not None and instance.council != wanted.key:
                    continue
                if instance.contract_end is None:
                    continue
                days = (instance.contract_end - today).days
                if not -RECENTLY_ENDED_DAYS <= days <= within_days:
                    continue
                known = register.lookup(instance.council)
                found.append(
                    Renewal(
                        council=instance.council,
                        council_name=known.nice_name if known else instance.council,
                        vendor=vendor,
                        system=system,
                        instance=instance,
                        days_left=days,
                        grade=grades.get(f"{system.id}@{instance.council}", grades.get(system.id)),
                    )
                )
    return sorted(found, key=lambda r: (r.days_left, r.council_name, r.system.id))


def renewal_rows(renewals: Sequence[Renewal]) -> list[dict[str, object]]:
    """Plain rows for JSON output and for the table renderer."""
    return [
        {
            "council": r.council,
            "council_name": r.council_name,
            "vendor": r.vendor.id,
            "system": r.system.id,
            "system_name": r.system.name,
            "contract_start": r.instance.contract_start.isoformat()
            if r.instance.contract_start
            else None,
            "contract_end": r.instance.contract_end.isoformat()
            if r.instance.contract_end
            else None,
            "days_left": r.days_left,
            "annual_value": r.instance.annual_value,
            "grade": r.grade,
            "source": redact_url(r.instance.source) if r.instance.source else None,
            "imported": False,
            "ocid": None,
            "supplier": None,
        }
        for r in renewals
    ]


def contract_renewal_rows(
    matched: Iterable[MatchedContract],
    catalogue: Catalogue,
    *,
    today: dt.date,
    within_days: int,
    council: str | None = None,
    grades: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """Rows (the shape of `renewal_rows`) for imported contracts matched to a council whose
    end falls in the same window, leaving out those the catalogue already holds."""
    register = load_register()
    wanted = register.lookup(council) if council else None
    promoted = promoted_sources(catalogue)
    names = {s.id: s.name for s in catalogue.systems}
    rows: list[dict[str, object]] = []
    for item in matched:
        c, key, end = item.contract, item.council.target, trusted_end(item.contract)
        if key is None or end is None or (wanted is not None and key != wanted.key):
            continue
        days = (end - today).days
        if not -RECENTLY_ENDED_DAYS <= days <= within_days:
            continue
        if c.notice_url and c.notice_url.strip() in promoted:
            continue
        known, system = register.lookup(key), item.system.target
        rows.append(
            {
                "council": key,
                "council_name": known.nice_name if known else key,
                "vendor": item.vendor.target,
                "system": system,
                "system_name": names.get(system or "") or f"contract: {quote(c.title, 80)}",
                "contract_start": c.start.isoformat() if c.start else None,
                "contract_end": end.isoformat(),
                "days_left": days,
                "annual_value": annual_value(c).value,
                "grade": _grade(grades or {}, system, key),
                "source": c.notice_url,
                "imported": True,
                "ocid": c.ocid,
                "supplier": item.supplier,
            }
        )
    return rows


def by_end_date(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """Catalogue and imported rows together, soonest end first."""
    return sorted(
        rows, key=lambda r: (r["days_left"], str(r["council_name"]), str(r["system_name"]))
    )


def _grade(grades: Mapping[str, str], system: str | None, council: str) -> str | None:
    if system is None:
        return None
    return grades.get(f"{system}@{council}", grades.get(system))


def promoted_sources(catalogue: Catalogue) -> frozenset[str]:
    """Source URLs of the catalogue's instances: a contract whose notice URL is one of them
    has been promoted into the catalogue already, and is not listed twice."""
    return frozenset(i.source.strip() for s in catalogue.systems for i in s.instances if i.source)
