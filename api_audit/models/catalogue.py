"""The catalogue as loaded: councils, vendors, systems, instances, attestations, replies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from api_audit.errors import Problem
from api_audit.models.vocabulary import ReplyReason, ReplyStatus


@dataclass(frozen=True)
class Council:
    """One local authority from the council register (api_audit/data, mySociety CC BY 4.0)."""

    gss: str  # ONS GSS code, e.g. E09000012; "" for a few past authorities that had none
    code: str  # registry code, e.g. HCK (three letters for most, a few longer)
    name: str  # official name, e.g. "London Borough of Hackney"
    nice_name: str  # short name, e.g. "Hackney"
    nation: str = ""
    region: str = ""
    type_name: str = ""  # e.g. "London borough"
    current: bool = True
    end_date: str | None = None  # ISO date, past authorities only
    replaced_by: str | None = None  # registry code of the successor, when known
    gov_uk_slug: str | None = None

    @property
    def key(self) -> str:
        """How the catalogue refers to this council: the GSS code, else the registry code."""
        return self.gss or self.code


@dataclass(frozen=True)
class EndpointEvidence:
    """An endpoint URL as the catalogue wrote it, with how it is known.

    The URL may hold {slug}, {gss} or {code} placeholders, filled per council instance.
    """

    url: str
    evidence: str | None = None  # an EVIDENCE_LEVELS word
    source: str | None = None  # URL where the endpoint was seen
    note: str | None = None


@dataclass(frozen=True)
class Instance:
    """One council's deployment of a system, with the contract facts that are known."""

    council: str  # Council.key: the GSS code (or registry code when it has none)
    code: str = ""  # the council's registry code, e.g. HCK
    slug: str | None = None  # fills {slug} in the system's URLs
    url: str | None = None  # explicit per-council API base (overrides url_template)
    endpoints: Mapping[str, str] = field(default_factory=dict)  # kind -> URL overrides
    endpoint_evidence: Mapping[str, EndpointEvidence] = field(default_factory=dict)
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    annual_value: float | None = None  # GBP
    source: str | None = None  # URL where the contract facts were seen
    notes: str | None = None


@dataclass(frozen=True)
class Attestation:
    """A fact an investigator recorded by hand, with where and when it was seen."""

    claim: str  # a CLAIMS word
    value: bool | str
    source: str
    seen: dt.date
    quote: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Reply:
    """A supplier's dated right of reply to one finding, and the investigator's decision.

    Shown beside the finding it answers. Only an `accepted` reply changes a score, and
    visibly: scoring/replies.py sets the finding aside (not applicable, or not measured).
    """

    date: dt.date
    text: str
    about: str | None = None  # a probe id, a claim name or "attested:<claim>"
    source: str | None = None  # URL where the reply can be read
    # Runs stored before replies had a status read back as "open" with no reason.
    status: ReplyStatus = "open"
    reason: ReplyReason | None = None
    decided: dt.date | None = None  # accepted/rejected: when the investigator decided
    decided_by: str | None = None
    decision_note: str | None = None


@dataclass(frozen=True)
class Research:
    """How far a system was researched, so a blank entry is never read as "nothing exists".

    `none-found` records a search that found nothing public: every probe whose endpoint is
    missing may then fail, as of `searched`. `endpoints-found` may name in `not_found` the
    endpoint kinds that were looked for and not found (e.g. a spec), with the same effect
    for those kinds alone.
    """

    state: str  # a RESEARCH_STATES word
    searched: dt.date | None = None
    where: tuple[str, ...] = ()  # where it was searched: URLs or short descriptions
    not_found: tuple[str, ...] = ()  # endpoint kinds searched for and not found
    notes: str | None = None


@dataclass(frozen=True)
class System:
    """One product of a vendor, as the catalogue describes it.

    `endpoints` holds only URLs that can be fetched as written. Endpoints whose URL has
    {slug}/{gss}/{code} placeholders are kept in `endpoint_evidence` and filled when the
    system is expanded into one council's instance (catalogue.select_systems); such an
    expanded system has `council` set and the id "{system_id}@{council}".
    """

    id: str
    name: str
    vendor_id: str
    vendor_name: str
    service_areas: tuple[str, ...]
    endpoints: Mapping[str, str]  # EndpointKind -> absolute http(s) URL
    endpoint_evidence: Mapping[str, EndpointEvidence] = field(default_factory=dict)
    protocols: tuple[str, ...] = ()  # PROTOCOLS words, as claimed
    standards: tuple[str, ...] = ()  # STANDARDS words, as claimed
    evidence: str | None = None  # EVIDENCE_LEVELS word for the entry as a whole
    sources: tuple[str, ...] = ()
    notes: str | None = None
    url_template: str | None = None  # per-council API base with placeholders
    instances: tuple[Instance, ...] = ()
    attestations: tuple[Attestation, ...] = ()
    replies: tuple[Reply, ...] = ()
    council: str | None = None  # Council.key when expanded into one council's instance
    research: Research | None = None  # as recorded; None: derived (see `research_state`)
    # Product names and words that identify this system in a contract notice's title or
    # description (issue 13: contract -> system matching).
    keywords: tuple[str, ...] = ()

    def endpoint(self, kind: str) -> str | None:
        return self.endpoints.get(kind)

    @property
    def research_state(self) -> str:
        """As recorded, else "endpoints-found" when the entry lists any URL, else
        "not-researched": an entry nobody recorded a search for was not researched."""
        if self.research is not None:
            return self.research.state
        if self.endpoint_evidence or self.endpoints or self.url_template:
            return "endpoints-found"
        return "not-researched"

    def searched_none(self, kind: str | None) -> Research | None:
        """The recorded search that found no `kind` endpoint (any kind for "none-found"),
        or None when nobody recorded looking for one."""
        research = self.research
        if research is None or research.searched is None:
            return None
        if research.state == "none-found" or (kind is not None and kind in research.not_found):
            return research
        return None


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    systems: tuple[System, ...]
    website: str | None = None
    companies_house: tuple[str, ...] = ()  # Companies House numbers, as quoted strings
    notes: str | None = None
    role: str = "supplier"  # a VENDOR_ROLES word
    aliases: tuple[str, ...] = ()  # other names it trades or appears under (contract notices)


@dataclass(frozen=True)
class Catalogue:
    schema_version: int
    vendors: tuple[Vendor, ...]
    source: str  # path the catalogue was read from
    sha256: str  # hash of the file's bytes, stored with every run
    warnings: tuple[Problem, ...] = ()  # e.g. a reference to a past authority

    @property
    def systems(self) -> tuple[System, ...]:
        return tuple(s for v in self.vendors for s in v.systems)
