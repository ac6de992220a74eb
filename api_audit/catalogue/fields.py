"""The catalogue's fields, written once: each mapping in vendors.yaml, its keys, their kinds.

The loader reads every field by its kind (`load.py`, `values.py`) and the JSON Schema
describes every field by its kind (`schema.py`), so a new key is one `Field` line here,
plus, when the model keeps it, an attribute of the same name on the model the shape
builds. A field's order here is the order it is read in, the order the schema lists it,
and the order "expected one of" lists the keys (required ones first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from api_audit.catalogue.rules import has_placeholders
from api_audit.models import (
    CLAIMS,
    ENDPOINT_KINDS,
    PROTOCOLS,
    REPLY_REASONS,
    REPLY_STATUSES,
    RESEARCH_STATES,
    SERVICE_AREAS,
    STANDARDS,
    VENDOR_ROLES,
    Attestation,
    EndpointEvidence,
    Instance,
    Reply,
    Research,
    System,
    Vendor,
)

# --- the kinds of value a field may hold --------------------------------------------------


@dataclass(frozen=True)
class SchemaVersion:
    """The format version this api-audit reads."""


@dataclass(frozen=True)
class Text:
    """Text that is not blank."""


@dataclass(frozen=True)
class Id:
    """A slug, unique among the catalogue's vendors (or systems): `scope` says which."""

    scope: str


@dataclass(frozen=True)
class InstanceSlug:
    """A host label or path segment that fills {slug}."""


@dataclass(frozen=True)
class Url:
    """An absolute http(s) URL; with `placeholders`, it may hold {slug}, {gss} and {code}."""

    placeholders: bool = False


@dataclass(frozen=True)
class Urls:
    """A list of URLs without placeholders."""


@dataclass(frozen=True)
class Texts:
    """A list of texts that are not blank."""


@dataclass(frozen=True)
class Evidence:
    """An evidence level: how an entry or URL is known."""


@dataclass(frozen=True)
class Word:
    """One word of a vocabulary; `what` names a word in messages."""

    words: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class Words:
    """A list of vocabulary words, duplicates dropped; with `at_least_one` (the noun
    messages use), an empty list is a problem."""

    words: tuple[str, ...]
    what: str
    at_least_one: str = ""


@dataclass(frozen=True)
class Date:
    """A date, YYYY-MM-DD; with `not_before`, not earlier than that field's date."""

    not_before: str = ""


@dataclass(frozen=True)
class Amount:
    """A number of pounds, at least 0."""


@dataclass(frozen=True)
class CompaniesHouse:
    """Companies House numbers, quoted: one, or a list of them."""


@dataclass(frozen=True)
class CouncilCode:
    """A council in the register, by GSS or registry code."""


@dataclass(frozen=True)
class ClaimValue:
    """What an attestation says: true, false or a short word."""


@dataclass(frozen=True)
class About:
    """What a reply answers: a known probe id, a claim name, or "attested:<claim>"."""


@dataclass(frozen=True)
class Endpoints:
    """A mapping of endpoint kind to a URL or an endpoint mapping (`shape`)."""

    shape: Shape


@dataclass(frozen=True)
class Objects:
    """A list of mappings of one shape."""

    shape: Shape


@dataclass(frozen=True)
class Instances:
    """A system's council instances: at most one per council, each able to fill the
    placeholders of the system's URLs."""

    shape: Shape


@dataclass(frozen=True)
class ResearchRecord:
    """How far a system was researched: one mapping (`shape`) that must agree with the
    system's endpoints, which are read before it."""

    shape: Shape


Kind = (
    SchemaVersion
    | Text
    | Id
    | InstanceSlug
    | Url
    | Urls
    | Texts
    | Evidence
    | Word
    | Words
    | Date
    | Amount
    | CompaniesHouse
    | CouncilCode
    | ClaimValue
    | About
    | Endpoints
    | Objects
    | Instances
    | ResearchRecord
)


# --- fields and shapes ---------------------------------------------------------------------


class Keys(NamedTuple):
    """The keys one kind of mapping may have."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class Field:
    """One key of a mapping; `hint` follows "... is missing required key" when the name
    alone does not say what to write."""

    key: str
    kind: Kind
    required: bool = False
    hint: str = ""

    @property
    def absent(self) -> object:
        """The value when the key is absent: empty for a list or a mapping (a new one each
        time: models keep it), else None."""
        if isinstance(self.kind, Urls | Texts | Objects | Instances | CompaniesHouse):
            return ()
        if isinstance(self.kind, Endpoints):
            return {}
        if isinstance(self.kind, Words) and not self.kind.at_least_one:
            return ()
        return None


# Builds a shape's model from its values (every required one present) and the values
# of the mapping that holds it (a system is built knowing its vendor).
Build = Callable[[dict[str, Any], Mapping[str, Any]], object]
# Rules across a shape's fields, run once every required one was read: each problem as
# (the key it is about, present or not, message); any problem means no model is built.
Check = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


def _no_rules(_: Mapping[str, Any]) -> list[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class Shape:
    """One kind of mapping: its name (in messages and in the schema's $defs), its fields
    in order, and how its values become a model."""

    name: str
    fields: tuple[Field, ...]
    build: Build
    check: Check = _no_rules

    @cached_property
    def keys(self) -> Keys:
        return Keys(
            tuple(f.key for f in self.fields if f.required),
            tuple(f.key for f in self.fields if not f.required),
        )


def _endpoint(values: dict[str, Any], _: Mapping[str, Any]) -> EndpointEvidence:
    return EndpointEvidence(**values)


def _instance(values: dict[str, Any], _: Mapping[str, Any]) -> Instance:
    council, evidence = values["council"], values["endpoints"]
    urls = {kind: e.url for kind, e in evidence.items()}
    return Instance(
        **{**values, "council": council.key, "code": council.code, "endpoints": urls},
        endpoint_evidence=evidence,
    )


def _system(values: dict[str, Any], vendor: Mapping[str, Any]) -> System:
    # An endpoint whose URL has placeholders cannot be fetched until a council fills it.
    evidence = values["endpoints"]
    urls = {kind: e.url for kind, e in evidence.items() if not has_placeholders(e.url)}
    return System(
        **{**values, "endpoints": urls},
        endpoint_evidence=evidence,
        vendor_id=vendor.get("id") or "",
        vendor_name=vendor.get("name") or "",
    )


ENDPOINT = Shape(
    "endpoint",
    (
        Field("url", Url(placeholders=True), required=True),
        Field("evidence", Evidence()),
        Field("source", Url()),
        Field("note", Text()),
    ),
    _endpoint,
)
INSTANCE = Shape(
    "instance",
    (
        Field(
            "council",
            CouncilCode(),
            required=True,
            hint="a GSS code such as E09000012 or a code such as HCK",
        ),
        Field("slug", InstanceSlug()),
        Field("url", Url(placeholders=True)),
        Field("endpoints", Endpoints(ENDPOINT)),
        Field("contract_start", Date()),
        Field("contract_end", Date(not_before="contract_start")),
        Field("annual_value", Amount()),
        Field("source", Url()),
        Field("notes", Text()),
    ),
    _instance,
)
ATTESTATION = Shape(
    "attestation",
    (
        Field("claim", Word(CLAIMS, "claim"), required=True),
        Field("value", ClaimValue(), required=True),
        Field("source", Url(), required=True, hint="the URL where the fact was seen"),
        Field("seen", Date(), required=True, hint="the date it was seen, YYYY-MM-DD"),
        Field("quote", Text()),
        Field("note", Text()),
    ),
    lambda values, _: Attestation(**values),
)
# The keys that record the investigator's decision on a reply.
DECISION_KEYS = ("decided", "decided_by", "decision_note")


def _reply_decision(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An accepted or rejected reply says when it was decided; an open one is undecided."""
    status = values.get("status")
    if status in ("accepted", "rejected") and values.get("decided") is None:
        return [("decided", f"a reply with status '{status}' needs 'decided' (YYYY-MM-DD)")]
    if status == "open":
        return [
            (key, f"an open reply has no '{key}' (set status to accepted or rejected)")
            for key in DECISION_KEYS
            if values.get(key) is not None
        ]
    return []


REPLY = Shape(
    "reply",
    (
        Field("date", Date(), required=True, hint="the date of the supplier's reply, YYYY-MM-DD"),
        Field(
            "about",
            About(),
            required=True,
            hint="the probe id or claim the reply answers, e.g. docs-public or api_access_fee",
        ),
        Field(
            "status",
            Word(REPLY_STATUSES, "reply status"),
            required=True,
            hint="open, accepted or rejected",
        ),
        Field(
            "reason",
            Word(REPLY_REASONS, "reply reason"),
            required=True,
            hint=", ".join(REPLY_REASONS),
        ),
        Field("text", Text(), required=True),
        Field(
            "source", Url(), required=True, hint="the URL where the reply can be read or is filed"
        ),
        Field("decided", Date(not_before="date")),
        Field("decided_by", Text()),
        Field("decision_note", Text()),
    ),
    lambda values, _: Reply(**values),
    _reply_decision,
)
RESEARCH = Shape(
    "research",
    (
        Field(
            "state",
            Word(RESEARCH_STATES, "research state"),
            required=True,
            hint="not-researched, none-found or endpoints-found",
        ),
        Field("searched", Date()),
        Field("where", Texts()),
        Field("not_found", Words(ENDPOINT_KINDS, "endpoint kind")),
        Field("notes", Text()),
    ),
    lambda values, _: Research(**values),
)
SYSTEM = Shape(
    "system",
    (
        Field("id", Id("system"), required=True),
        Field("name", Text(), required=True),
        Field(
            "service_areas",
            Words(SERVICE_AREAS, "service area", at_least_one="area"),
            required=True,
        ),
        Field("endpoints", Endpoints(ENDPOINT)),
        Field("protocols", Words(PROTOCOLS, "protocol")),
        Field("standards", Words(STANDARDS, "standard")),
        Field("evidence", Evidence()),
        Field("sources", Urls()),
        Field("notes", Text()),
        Field("url_template", Url(placeholders=True)),
        Field("instances", Instances(INSTANCE)),
        Field("attestations", Objects(ATTESTATION)),
        Field("replies", Objects(REPLY)),
        Field("keywords", Texts()),
        # Last: it is checked against the endpoints, URL template and instances above.
        Field("research", ResearchRecord(RESEARCH)),
    ),
    _system,
)
VENDOR = Shape(
    "vendor",
    (
        Field("id", Id("vendor"), required=True),
        Field("name", Text(), required=True),
        Field("website", Url()),
        Field("companies_house", CompaniesHouse()),
        Field("role", Word(VENDOR_ROLES, "vendor role")),
        Field("aliases", Texts()),
        Field("notes", Text()),
        Field("systems", Objects(SYSTEM), required=True),
    ),
    lambda values, _: Vendor(**{**values, "role": values["role"] or "supplier"}),
)
CATALOGUE = Shape(
    "catalogue",
    (
        Field("schema_version", SchemaVersion(), required=True),
        Field("vendors", Objects(VENDOR), required=True),
    ),
    lambda values, _: values["vendors"],
)

# The keys of each shape, as the loader and the tests name them.
CATALOGUE_KEYS = CATALOGUE.keys
VENDOR_KEYS = VENDOR.keys
SYSTEM_KEYS = SYSTEM.keys
ENDPOINT_KEYS = ENDPOINT.keys
INSTANCE_KEYS = INSTANCE.keys
ATTESTATION_KEYS = ATTESTATION.keys
REPLY_KEYS = REPLY.keys
RESEARCH_KEYS = RESEARCH.keys
