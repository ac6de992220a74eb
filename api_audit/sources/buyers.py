"""A contract notice's buyer tied to a council in the register (GSS code kept); pure.

Buyers are named, not coded: OCDS buyer ids are Contracts Finder or Find a Tender party ids,
never GSS codes (reference/procurement-data.md §2), so the name decides, in this order and
with this confidence (docs/contracts.md "Matching"):

    GSS code among the buyer's identifiers      identifier            1.0
    the register's official name                official name         0.95
    a Welsh or other official form (below)      official other form  0.95
    the register's short name                   short name            0.9
    place + council type ("X City Council",
    "London Borough of X", "Cyngor Sir X")       name variant          0.85
    a buyer id other notices matched by name    learned identifier    0.9 (only if the name fails)
    a past authority's one successor            ... successor         0.75

A place names one council only if the type words agree: "X County Council" is never the
district of X, and "X District/Borough/City Council" is never the county (England's two
tiers, e.g. Nottinghamshire County Council and Nottingham City Council); a bare "X Council"
matching both tiers is ambiguous and left unmatched with a note. Past authorities (register
`end_date`) match only contracts that started before they ended; a later contract goes to the
one authority that replaced it, or stays unmatched when several did (Northamptonshire).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from api_audit.catalogue.councils import CouncilRegister
from api_audit.models import Contract, ContractMatch, Council, Organisation
from api_audit.sources.names import name_key, name_parts, name_words
from api_audit.text import quote

# Words that say which tier a council is. "sir"/"sirol" (county), "bwrdeistref" (borough)
# and "dinas" (city) are the Welsh forms.
_COUNTY = frozenset({"county", "sir", "sirol"})
_DISTRICT = frozenset(
    {"borough", "district", "city", "metropolitan", "london", "royal", "bwrdeistref", "dinas"}
)
_AFTER_PLACE = frozenset({"council", "corporation", "and"}) | _COUNTY | _DISTRICT
_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("the",),
    ("council", "of", "the", "city", "of"),
    ("council", "of", "the"),
    ("london", "borough", "of"),
    ("royal", "borough", "of"),
    ("metropolitan", "borough", "of"),
    ("county", "borough", "of"),
    ("borough", "council", "of"),
    ("borough", "of"),
    ("city", "and", "county", "of"),
    ("city", "of"),
    ("county", "of"),
    ("county",),
    ("cyngor", "bwrdeistref", "sirol"),
    ("cyngor", "dinas", "a", "sir"),
    ("cyngor", "sir"),
    ("cyngor", "dinas"),
    ("cyngor",),
)
_ABBREVIATIONS = {
    "mbc": ("metropolitan", "borough", "council"),
    "cbc": ("county", "borough", "council"),
    "bc": ("borough", "council"),
    "dc": ("district", "council"),
}
# Official names the register does not hold: the Welsh names of Welsh councils (each
# council's own bilingual name, Welsh Language Standards) and one English form.
OTHER_OFFICIAL_NAMES: Mapping[str, tuple[str, ...]] = {
    "AGY": ("Cyngor Sir Ynys Môn",),
    "BGE": ("Cyngor Bwrdeistref Sirol Pen-y-bont ar Ogwr",),
    "BGW": ("Cyngor Bwrdeistref Sirol Blaenau Gwent",),
    "CAY": ("Cyngor Bwrdeistref Sirol Caerffili",),
    "CGN": ("Cyngor Sir Ceredigion",),
    "CMN": ("Cyngor Sir Gâr", "Cyngor Sir Caerfyrddin"),
    "CRF": ("Cyngor Caerdydd", "Cyngor Dinas Caerdydd"),
    "CWY": ("Cyngor Bwrdeistref Sirol Conwy",),
    "DEN": ("Cyngor Sir Ddinbych",),
    "FLN": ("Cyngor Sir y Fflint",),
    "GWN": ("Cyngor Gwynedd",),
    "MON": ("Cyngor Sir Fynwy",),
    "MTY": ("Cyngor Bwrdeistref Sirol Merthyr Tudful",),
    "NTL": ("Cyngor Bwrdeistref Sirol Castell-nedd Port Talbot",),
    "NWP": ("Cyngor Dinas Casnewydd",),
    "PEM": ("Cyngor Sir Penfro",),
    "POW": ("Cyngor Sir Powys",),
    "RCT": ("Cyngor Bwrdeistref Sirol Rhondda Cynon Taf",),
    "SWA": ("Cyngor Dinas a Sir Abertawe",),
    "TOF": ("Cyngor Bwrdeistref Sirol Torfaen",),
    "VGL": ("Cyngor Bro Morgannwg",),
    "WRX": ("Cyngor Bwrdeistref Sirol Wrecsam",),
    "ELS": ("Western Isles Council", "Na h-Eileanan Siar"),
}
_GSS = re.compile(r"^[ENSWK]\d{8}$")
_UPON = re.compile(r" (?:upon|on|in) ")
# One tier only: England's counties; districts, London boroughs, NI districts and the City.
_COUNTY_TYPES = frozenset({"County"})
_DISTRICT_TYPES = frozenset(
    {"Non-metropolitan district", "Metropolitan district", "London borough", "NI district",
     "City corporation"}
)  # fmt: skip
# Wales and Scotland have had single-tier councils since 1996: no county/district clash.
_SINGLE_TIER_TYPES = frozenset({"Welsh unitary authority", "Scottish unitary authority"})
_BOTH = frozenset({"county", "district"})

IDENTIFIER, LEARNED, OFFICIAL, OTHER_FORM, SHORT, VARIANT, SUCCESSOR = (
    1.0, 0.9, 0.95, 0.95, 0.9, 0.85, 0.75
)  # fmt: skip


def parse_place(words: tuple[str, ...]) -> tuple[str, frozenset[str]]:
    """A council name's place and the type words around it: "London Borough of Hackney"
    -> ("hackney", {london, borough}); "Wigan MBC" -> ("wigan", {metropolitan, borough})."""
    if words and words[-1] in _ABBREVIATIONS:
        words = words[:-1] + _ABBREVIATIONS[words[-1]]
    kinds: set[str] = set()
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if words[: len(prefix)] == prefix and len(words) > len(prefix):
                kinds.update(w for w in prefix if w in _COUNTY | _DISTRICT)
                words, stripped = words[len(prefix) :], True
                break
    while len(words) > 1 and words[-1] in _AFTER_PLACE:
        kinds.add(words[-1])
        words = words[:-1]
    return " ".join(words), frozenset(kinds)


def tiers(kinds: frozenset[str]) -> frozenset[str]:
    """Which tiers type words allow: "county" alone the county, "borough"/"district"/
    "city" alone a district, both (a Welsh county borough) or none ("X Council") either."""
    county, district = bool(kinds & _COUNTY), bool(kinds & _DISTRICT)
    if county != district:
        return frozenset({"county"}) if county else frozenset({"district"})
    return _BOTH


def council_tiers(council: Council) -> frozenset[str]:
    """The tiers a council can be named as: fixed by its type, or for an English unitary
    authority by its own name ("Durham County Council": a county; "Leicester City Council":
    a city, never "Leicester County Council")."""
    if council.type_name in _COUNTY_TYPES:
        return frozenset({"county"})
    if council.type_name in _DISTRICT_TYPES:
        return frozenset({"district"})
    if council.type_name in _SINGLE_TIER_TYPES:
        return _BOTH
    if council.type_name == "Unitary authority":
        return tiers(parse_place(name_words(council.name))[1])
    return frozenset()  # combined authorities: matched by their full names only


@dataclass(frozen=True)
class _Found:
    """What a name alone says: a council, or none with the reason."""

    council: Council | None
    method: str
    confidence: float
    note: str = ""


@dataclass(frozen=True)
class CouncilIndex:
    """The register's names, in the forms a notice may use, for fast lookup."""

    register: CouncilRegister
    official: Mapping[str, tuple[Council, ...]]
    other_forms: Mapping[str, tuple[Council, ...]]
    short: Mapping[str, tuple[Council, ...]]
    places: Mapping[str, tuple[Council, ...]]
    codes: Mapping[str, Council] = field(default_factory=dict)

    @classmethod
    def build(cls, register: CouncilRegister) -> CouncilIndex:
        official, other, short, places = (defaultdict(list) for _ in range(4))
        for council in register:
            official[name_key(council.name)].append(council)
            short[name_key(council.nice_name)].append(council)
            for name in OTHER_OFFICIAL_NAMES.get(council.code, ()):
                other[name_key(name)].append(council)
            if council_tiers(council):
                for name in {council.name, council.nice_name}:
                    place = parse_place(name_words(name))[0]
                    places[place].append(council)
                    # "Richmond" for Richmond upon Thames, "Stockton" for Stockton-on-Tees;
                    # a clash (Kingston upon Hull / upon Thames) makes the short form ambiguous
                    places[_UPON.split(place)[0]].append(council)
        codes = {c.gss: c for c in register if c.gss}
        return cls(
            register,
            official=_frozen(official),
            other_forms=_frozen(other),
            short=_frozen(short),
            places=_frozen(places),
            codes=codes,
        )

    def by_name(self, text: str, start: dt.date | None) -> _Found:
        """The council a name means, tried as written then by place and type words."""
        key = name_key(text)
        if not key:
            return _Found(None, "none", 0.0, "the buyer has no name")
        for table, method, confidence in (
            (self.official, "official name", OFFICIAL),
            (self.other_forms, "official other form", OTHER_FORM),
            (self.short, "short name", SHORT),
        ):
            if key in table:
                return self._choose(table[key], method, confidence, start)
        place, kinds = parse_place(name_words(text))
        named = self.places.get(place, ())
        fitting = tuple(c for c in named if tiers(kinds) & council_tiers(c))
        if fitting:
            return self._choose(fitting, "name variant", VARIANT, start)
        if named:
            return _Found(None, "none", 0.0, _wrong_tier(text, named))
        return _Found(None, "none", 0.0, f"no council in the register is named {_q(text)}")

    def _choose(
        self, found: tuple[Council, ...], method: str, confidence: float, start: dt.date | None
    ) -> _Found:
        """One council among those a name fits, by which existed when the contract began."""
        found = tuple(dict.fromkeys(found))
        if len(found) == 1 and (found[0].current or start is None or _existed(found[0], start)):
            note = "" if found[0].current or start else _past_note(found[0], "no start date")
            return _Found(found[0], method, confidence, note)
        if start is not None:
            then = [c for c in found if not c.current and _existed(c, start)]
            now = [c for c in found if c.current]
            pick = then if len(then) == 1 else now if not then and len(now) == 1 else []
            if pick:
                return _Found(pick[0], method, confidence, _past_note(pick[0], ""))
        else:
            now = [c for c in found if c.current]
            if len(now) == 1:
                return _Found(now[0], method, confidence)
        if all(not c.current for c in found) and len(found) == 1:
            return self._successor(found[0], method, start)
        names = "; ".join(f"{c.name} ({c.key})" for c in found)
        return _Found(None, "none", 0.0, f"ambiguous: the name fits {names}")

    def _successor(self, past: Council, method: str, start: dt.date | None) -> _Found:
        """A past authority named on a contract that began after it ended: its successor
        when exactly one authority replaced it."""
        codes = [c for c in (past.replaced_by or "").split(",") if c.strip()]
        ended = f"{past.name} ended {past.end_date}, before the contract began ({start})"
        nexts = [n for n in (self.register.lookup(c) for c in codes) if n is not None]
        if len(nexts) == 1:
            after = f"{ended}; matched to its successor {nexts[0].name}"
            return _Found(nexts[0], f"{method}, successor", SUCCESSOR, after)
        replaced = ", ".join(n.name for n in nexts) or "nobody recorded"
        return _Found(None, "none", 0.0, f"{ended}; replaced by {replaced}: cannot tell which")


def match_buyer(
    contract: Contract, index: CouncilIndex, learned: Mapping[str, str] | None = None
) -> ContractMatch:
    """The council that bought: by GSS identifier, by name (whole, then each part of a
    bilingual or annotated name), then by a buyer id other notices matched by name."""
    buyer = contract.buyer
    for scheme, value in buyer.identifiers:
        council = index.codes.get(value.strip().upper()) if _GSS.match(value.strip()) else None
        if council is not None:
            return _match(council, f"identifier {scheme}", IDENTIFIER)
    found = index.by_name(buyer.name, contract.start)
    for part in name_parts(buyer.name) if found.council is None else ():
        in_part = index.by_name(part, contract.start)
        if in_part.council is not None:
            note = f"matched on part of the name: {_q(part)}"
            return _match(in_part.council, in_part.method, in_part.confidence, note)
    if found.council is not None:
        return _match(found.council, found.method, found.confidence, found.note)
    for key in buyer_keys(buyer):
        code = (learned or {}).get(key)
        council = index.register.lookup(code) if code else None
        if council is not None:
            note = f"buyer id {_q(key)} is matched by name on other notices; {found.note}"
            return _match(council, "learned identifier", LEARNED, note)
    return ContractMatch("council", None, "none", 0.0, found.note)


def learn_buyer_ids(contracts: Iterable[Contract], index: CouncilIndex) -> dict[str, str]:
    """Buyer ids whose notices were all matched by name to one council (confidence 0.85
    or more), so a notice with the same id and a missing or odd name can use them. An id
    seen with two councils is not learned."""
    seen: dict[str, str | None] = {}
    for contract in contracts:
        keys = buyer_keys(contract.buyer)
        if not keys:
            continue
        found = index.by_name(contract.buyer.name, contract.start)
        if found.council is None or found.confidence < VARIANT:
            continue
        for key in keys:
            before = seen.setdefault(key, found.council.key)
            if before != found.council.key:
                seen[key] = None
    return {key: code for key, code in seen.items() if code is not None}


def buyer_keys(buyer: Organisation) -> tuple[str, ...]:
    """The buyer's ids as notices spell them: the party id and each scheme-id pair."""
    keys = [buyer.id] if buyer.id else []
    keys += [f"{scheme}-{value}" for scheme, value in buyer.identifiers if scheme and value]
    return tuple(dict.fromkeys(k[:200] for k in keys))


def _match(council: Council, method: str, confidence: float, note: str = "") -> ContractMatch:
    return ContractMatch("council", council.key, method, confidence, note)


def _existed(council: Council, start: dt.date) -> bool:
    ended = council.end_date
    return council.current or (ended is not None and start.isoformat() < ended)


def _past_note(council: Council, why: str) -> str:
    if council.current:
        return ""
    reason = f" ({why})" if why else ""
    return f"a past authority, ended {council.end_date}{reason}"


def _wrong_tier(text: str, named: tuple[Council, ...]) -> str:
    names = "; ".join(f"{c.name} ({c.key})" for c in named)
    return f"{_q(text)} names a different tier of council from {names}: not matched"


def _frozen(table: Mapping[str, list[Council]]) -> dict[str, tuple[Council, ...]]:
    return {key: tuple(values) for key, values in table.items() if key}


def _q(text: str) -> str:
    return repr(quote(text, 80))
