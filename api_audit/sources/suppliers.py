"""A notice's suppliers tied to catalogue vendors, resellers told apart; pure.

Identifiers first, then names (reference/procurement-data.md §4), each with its confidence
(docs/contracts.md "Matching"):

    Companies House number (GB-COH) = a vendor's `companies_house`   identifier GB-COH  1.0
    the name or an alias, case and punctuation aside                  name               0.9
    ... with legal suffixes, "The", "&"/"and" evened out              normalised name    0.8
    ... and trade words too (Software, Systems, Solutions, UK ...),
        when only one vendor has that core name                       core name          0.7

A vendor whose `role` is `reseller`, or a supplier on the short list of known resellers
and framework partners below, is recorded as the contract's reseller and never credited
as the product's vendor.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from api_audit.models import Catalogue, Organisation, Vendor
from api_audit.sources.names import name_key, name_words

# Legal forms and group words: "Civica UK Limited" and "CIVICA U.K. LTD." are one company.
_LEGAL = frozenset(
    {"ltd", "limited", "plc", "llp", "lp", "inc", "incorporated", "co", "company", "corp",
     "uk", "gb", "group", "holdings", "holding", "the", "and", "u", "k"}
)  # fmt: skip
# Words that describe a trade rather than name a company: left out for the core name only.
_TRADE = frozenset(
    {"software", "systems", "system", "solutions", "services", "service", "technology",
     "technologies", "consulting", "digital", "it", "international", "global", "europe",
     "computing", "computer", "computers", "business", "public", "sector", "corporation"}
)  # fmt: skip
# Resellers and framework partners that sell many vendors' products (procurement-data.md
# §4), known even when the catalogue does not list them. Core names.
KNOWN_RESELLERS = frozenset(
    {"softcat", "cdw", "scc", "specialist computer centres", "phoenix", "computacenter",
     "bytes", "insight direct", "insight", "trustmarque", "xma", "crayon", "softwareone",
     "misco", "probrand", "jisc"}
)  # fmt: skip
_COH_SCHEMES = frozenset({"GB-COH", "COH"})
_COH_ID = re.compile(r"^GB-COH-(\w+)$", re.IGNORECASE)

IDENTIFIER, NAME, NORMALISED, CORE = 1.0, 0.9, 0.8, 0.7


@dataclass(frozen=True)
class SupplierMatch:
    """What one supplier of a notice is: a vendor (with how it was found), a reseller, or
    unknown."""

    supplier: Organisation
    vendor: Vendor | None = None
    method: str = "none"
    confidence: float = 0.0
    reseller: bool = False

    @property
    def label(self) -> str:
        return self.vendor.id if self.vendor else self.supplier.name


def company_number(value: str) -> str:
    """A Companies House number as registered: upper case, no spaces, eight characters
    (leading zeros restored: "3984070" -> "03984070"; "SC123456" kept)."""
    number = "".join(value.split()).upper()
    return number.zfill(8) if number.isdigit() else number


def legal_words(text: object) -> tuple[str, ...]:
    """A company name without its legal form: "The Access Group Ltd" -> (access,)."""
    return tuple(w for w in name_words(text) if w not in _LEGAL)


def core_name(text: object) -> str:
    """A company name without legal form or trade words: "NEC Software Solutions UK" -> nec."""
    return " ".join(w for w in legal_words(text) if w not in _TRADE)


@dataclass(frozen=True)
class VendorIndex:
    """The catalogue's vendors by Companies House number and by each form of their names."""

    by_number: Mapping[str, tuple[Vendor, ...]]
    by_name: Mapping[str, tuple[Vendor, ...]]
    by_normalised: Mapping[str, tuple[Vendor, ...]]
    by_core: Mapping[str, tuple[Vendor, ...]]

    @classmethod
    def build(cls, catalogue: Catalogue) -> VendorIndex:
        tables: tuple[defaultdict[str, list[Vendor]], ...] = tuple(
            defaultdict(list) for _ in range(4)
        )
        for vendor in catalogue.vendors:
            for number in vendor.companies_house:
                tables[0][company_number(number)].append(vendor)
            for name in (vendor.name, vendor.id, *vendor.aliases, *name_forms(vendor.name)):
                tables[1][name_key(name)].append(vendor)
                tables[2][" ".join(legal_words(name))].append(vendor)
                tables[3][core_name(name)].append(vendor)
        by_number, by_name, by_normalised, by_core = (
            {k: tuple({x.id: x for x in v}.values()) for k, v in t.items() if k} for t in tables
        )
        return cls(by_number, by_name, by_normalised, by_core)

    def match(self, supplier: Organisation) -> SupplierMatch:
        """The vendor a supplier is, or a reseller, or unknown (vendor None)."""
        for number in _numbers(supplier):
            vendors = self.by_number.get(number, ())
            if len(vendors) == 1:
                return self._found(supplier, vendors[0], "identifier GB-COH", IDENTIFIER)
        normalised = " ".join(legal_words(supplier.name))
        for table, key, method, confidence in (
            (self.by_name, name_key(supplier.name), "name", NAME),
            (self.by_normalised, normalised, "normalised name", NORMALISED),
            (self.by_core, core_name(supplier.name), "core name", CORE),
        ):
            vendors = table.get(key, ()) if key else ()
            if len(vendors) == 1:
                return self._found(supplier, vendors[0], method, confidence)
        known = bool({normalised, core_name(supplier.name)} & KNOWN_RESELLERS)
        return SupplierMatch(supplier, reseller=known, method="known reseller" if known else "none")

    @staticmethod
    def _found(supplier: Organisation, vendor: Vendor, method: str, conf: float) -> SupplierMatch:
        return SupplierMatch(supplier, vendor, method, conf, reseller=vendor.role == "reseller")


def name_forms(name: str) -> tuple[str, ...]:
    """Other names a catalogue name holds: "NEC Software Solutions (ex-Northgate)" ->
    "NEC Software Solutions" and the former name "Northgate"; "Granicus (ex-Firmstep)" ->
    "Granicus", "Firmstep". Only former names ("ex", "formerly") are taken from brackets:
    other bracketed words name a parent or a programme, not the supplier."""
    found = _BRACKETS.search(name)
    if found is None:
        return ()
    forms = [name[: found.start()].strip()]
    for part in re.split(r"[,/;]", found.group(1)):
        former = _FORMER.match(part.strip())
        if former:
            forms.append(former.group(1))
    return tuple(f for f in forms if f)


_BRACKETS = re.compile(r"\(([^()]*)\)")
_FORMER = re.compile(r"^(?:ex|formerly|previously|was)\b[\s-]*(.+)$", re.IGNORECASE)


def _numbers(supplier: Organisation) -> tuple[str, ...]:
    """The supplier's Companies House numbers: GB-COH identifiers and a GB-COH-… party id."""
    numbers = [company_number(v) for s, v in supplier.identifiers if s.upper() in _COH_SCHEMES]
    found = _COH_ID.match(supplier.id or "")
    if found:
        numbers.append(company_number(found.group(1)))
    return tuple(dict.fromkeys(n for n in numbers if n))
