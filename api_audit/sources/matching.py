"""Contracts tied to councils, vendors and systems, each tie with its method and confidence;
pure: contracts + catalogue + council register in, matches out.

Matching runs when contracts are read, against the catalogue of the day, so a better
catalogue (an alias, a Companies House number, a keyword) improves imports already made.
Nothing is matched silently: every level keeps a `ContractMatch` with its method and
confidence, and a level left unmatched says why in its note. The levels:

- council: buyers.py (GSS identifier, official, other and short names, variants);
- vendor: suppliers.py (Companies House number, names); resellers never credited;
- system: the credited vendor's systems whose `keywords` or name appear in the notice's
  title or description as whole words, case aside: confidence 0.7 (KEYWORD). Several
  systems named, or none, leave the contract at vendor level with a note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from api_audit.catalogue.councils import CouncilRegister
from api_audit.models import Catalogue, Contract, ContractMatch, System, Vendor
from api_audit.sources.buyers import CouncilIndex, learn_buyer_ids, match_buyer
from api_audit.sources.suppliers import SupplierMatch, VendorIndex
from api_audit.text import quote

KEYWORD = 0.7
# Titles and descriptions are the notice's free text: only this much is searched.
TEXT_CHARS = 20_000


@dataclass(frozen=True)
class MatchedContract:
    """A contract with its council, vendor and system matches and the resellers named."""

    contract: Contract
    council: ContractMatch
    vendor: ContractMatch
    system: ContractMatch
    supplier: str  # the supplier credited as vendor, else the first named ("" if none)
    resellers: tuple[str, ...] = ()  # resellers' names as the notice gives them

    @property
    def fully_matched(self) -> bool:
        return None not in (self.council.target, self.vendor.target, self.system.target)


@dataclass(frozen=True)
class Matcher:
    """The catalogue and register prepared for matching (built once per command)."""

    councils: CouncilIndex
    vendors: VendorIndex
    keywords: Mapping[str, tuple[tuple[System, str, re.Pattern[str]], ...]]  # vendor id ->
    learned: Mapping[str, str]  # buyer id -> council key (learn_buyer_ids)

    @classmethod
    def build(
        cls,
        catalogue: Catalogue,
        register: CouncilRegister,
        learn_from: Iterable[Contract] = (),
    ) -> Matcher:
        councils = CouncilIndex.build(register)
        keywords = {v.id: tuple(_system_terms(v)) for v in catalogue.vendors}
        learned = learn_buyer_ids(learn_from, councils)
        return cls(councils, VendorIndex.build(catalogue), keywords, learned)

    def match(self, contract: Contract) -> MatchedContract:
        council = match_buyer(contract, self.councils, self.learned)
        found = [self.vendors.match(s) for s in contract.suppliers]
        resellers = tuple(dict.fromkeys(f.supplier.name for f in found if f.reseller))
        credited = [f for f in found if f.vendor is not None and not f.reseller]
        vendor_match, chosen = self._vendor(contract, credited, resellers)
        system = self._system(contract, chosen) if chosen else _no_system(vendor_match)
        named = [f.supplier.name for f in found if f.supplier.name.strip()]
        supplier = next((f.supplier.name for f in credited if chosen and f.label == chosen.id), "")
        return MatchedContract(
            contract, council, vendor_match, system, supplier or next(iter(named), ""), resellers
        )

    def _vendor(
        self, contract: Contract, credited: list[SupplierMatch], resellers: tuple[str, ...]
    ) -> tuple[ContractMatch, Vendor | None]:
        """One vendor among the suppliers, or none with the reason."""
        vendors = list({f.vendor.id: f.vendor for f in credited if f.vendor is not None}.values())
        if len(vendors) > 1:  # a consortium or lots: the product named decides, if it can
            named = [v for v in vendors if self._systems_named(contract, v)]
            if len(named) == 1:
                vendors = named
        if len(vendors) != 1:
            note = _no_vendor(contract, vendors, resellers)
            return ContractMatch("vendor", None, "none", 0.0, note), None
        best = max((f for f in credited if f.label == vendors[0].id), key=lambda f: f.confidence)
        others = [f.label for f in credited if f.label != vendors[0].id]
        notes = (
            _via(resellers, "also supplied via reseller"),
            f"also supplied by {', '.join(quote(o, 80) for o in others)}" if others else "",
        )
        note = "; ".join(n for n in notes if n)
        chosen = ContractMatch("vendor", vendors[0].id, best.method, best.confidence, note)
        return chosen, vendors[0]

    def _systems_named(self, contract: Contract, vendor: Vendor) -> list[tuple[System, str]]:
        text = f"{contract.title}\n{contract.description}"[:TEXT_CHARS]
        named: dict[str, tuple[System, str]] = {}
        for system, term, pattern in self.keywords.get(vendor.id, ()):
            if system.id not in named and pattern.search(text):
                named[system.id] = (system, term)
        return list(named.values())

    def _system(self, contract: Contract, vendor: Vendor) -> ContractMatch:
        named = self._systems_named(contract, vendor)
        if len(named) == 1:
            system, term = named[0]
            return ContractMatch("system", system.id, f"keyword {quote(term, 60)!r}", KEYWORD)
        if named:
            ids = ", ".join(s.id for s, _ in named)
            return ContractMatch("system", None, "none", 0.0, f"ambiguous: names {ids}")
        note = f"no product keyword of {vendor.id} in the title or description"
        return ContractMatch("system", None, "none", 0.0, note)


def match_contracts(
    contracts: Iterable[Contract], catalogue: Catalogue, register: CouncilRegister
) -> list[MatchedContract]:
    """Every contract matched (buyer ids learned from these same contracts first)."""
    every = list(contracts)
    matcher = Matcher.build(catalogue, register, every)
    return [matcher.match(c) for c in every]


def _system_terms(vendor: Vendor) -> Iterable[tuple[System, str, re.Pattern[str]]]:
    """Each system's keywords and name as whole-word, case-blind patterns, longest first."""
    for system in vendor.systems:
        terms = {t.strip() for t in (*system.keywords, system.name) if t and t.strip()}
        for term in sorted(terms, key=len, reverse=True):
            words = r"\s+".join(re.escape(w) for w in term.split())
            yield system, term, re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def _via(resellers: tuple[str, ...], lead: str) -> str:
    return f"{lead} {', '.join(quote(r, 80) for r in resellers)}" if resellers else ""


def _no_vendor(contract: Contract, vendors: list[Vendor], resellers: tuple[str, ...]) -> str:
    if vendors:
        return f"ambiguous: suppliers are vendors {', '.join(v.id for v in vendors)}"
    if resellers:
        return _via(resellers, "via reseller") + ": a reseller is never credited as the vendor"
    if not any(s.name.strip() for s in contract.suppliers):
        return "no supplier named"
    names = ", ".join(quote(s.name, 80) for s in contract.suppliers[:5] if s.name.strip())
    return f"no catalogue vendor matches the supplier(s): {names}"


def _no_system(vendor: ContractMatch) -> ContractMatch:
    return ContractMatch("system", None, "none", 0.0, "no vendor matched")
