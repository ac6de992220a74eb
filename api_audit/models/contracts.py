"""Contracts as open procurement data publishes them (OCDS notices), with where each came from.

Issue 13: councils' contracts with suppliers, read from Contracts Finder and Find a Tender
(OCDS 1.1 releases). A Contract holds the facts of the newest release of one `ocid` as
published; matching it to a council, a vendor and a system is a separate, later step that
keeps its method and confidence (`ContractMatch`), so an import is never silently credited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Organisation:
    """A buyer or supplier as the notice names it."""

    name: str
    id: str | None = None  # the notice's party id, e.g. GB-CFS-199356 (never a GSS code)
    # (scheme, id) pairs from identifier and additionalIdentifiers: ("GB-COH", "02938479")
    identifiers: tuple[tuple[str, str], ...] = ()

    def identifier(self, scheme: str) -> str | None:
        return next((value for s, value in self.identifiers if s == scheme), None)


@dataclass(frozen=True)
class Contract:
    """The facts of one procurement (the newest release of its ocid), as published."""

    ocid: str
    release_id: str
    release_date: str  # ISO 8601 as published: which release is newest
    buyer: Organisation
    suppliers: tuple[Organisation, ...] = ()
    title: str = ""
    description: str = ""
    value: float | None = None
    currency: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    # where the dates came from: "award" (awards[].contractPeriod), "contract"
    # (contracts[].period) or "tender" (tender.contractPeriod); None when there are none
    period_from: str | None = None
    cpv: tuple[str, ...] = ()  # every CPV code found, 8 digits, in the order found
    notice_url: str | None = None
    source: str = ""  # "contracts-finder", "find-a-tender", or the file it was read from
    # Data-quality flags (kept, never trusted): "end-before-start", "far-future-end", ...
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContractMatch:
    """How a contract was tied to a council, a vendor or a system: never silently."""

    kind: str  # "council" | "vendor" | "system"
    target: str | None  # GSS code (or registry code), vendor id or system id; None: no match
    method: str  # e.g. "identifier GB-COH", "name", "name variant", "keyword 'Uniform'"
    confidence: float  # 0-1
    note: str = ""
