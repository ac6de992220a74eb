"""The frozen values that pass between pipeline stages; no stage mutates another's output.

catalogue -> plan -> http -> evaluate -> store -> scoring -> render: each stage takes
these types and returns new ones. Mappings inside frozen dataclasses are treated as
read-only by convention (they are built once by the loaders and never changed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from api_audit.errors import Problem

Criterion = Literal["documented", "free", "standards"]
CRITERIA: tuple[Criterion, ...] = get_args(Criterion)

Outcome = Literal["pass", "fail", "inconclusive", "not_applicable"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

EndpointKind = Literal[
    "docs", "spec", "api_base", "portal", "terms", "pricing", "status", "sandbox"
]
ENDPOINT_KINDS: tuple[EndpointKind, ...] = get_args(EndpointKind)

# The fixed service-area vocabulary (README "Service areas" explains each one).
SERVICE_AREAS: tuple[str, ...] = (
    "planning",
    "building-control",
    "public-protection",
    "revenues-benefits",
    "social-care",
    "education",
    "housing",
    "waste",
    "highways",
    "parking",
    "libraries",
    "elections",
    "democracy",
    "crm",
    "payments",
    "finance-hr",
    "assets",
    "directories",
    "geospatial",
    "open-data",
    "notifications",
    "identity",
)

# Catalogue vocabularies (docs/vendors.schema.json is generated from these).
# Protocols a supplier claims a system speaks.
PROTOCOLS: tuple[str, ...] = (
    "rest",
    "soap",
    "graphql",
    "odata",
    "sftp",
    "csv",
    "xml-rpc",
    "websocket",
    "file-export",
    "other",
)

# Standards a supplier claims a system implements.
STANDARDS: tuple[str, ...] = (
    "openapi",
    "swagger2",
    "open311",
    "oruk",
    "hsds",
    "fhir",
    "ogcapi-features",
    "wfs",
    "wms",
    "ical",
    "vcard",
    "ckan",
    "dcat",
    "ocds",
    "odata",
    "json-api",
    "hal",
    "oauth2",
    "oidc",
    "planning-data",
    "waste-services",
    "bs7666",
    "uprn",
    "other",
)

# How a catalogue fact is known (domain reference §0): seen in public material, seen in
# public code/config, inferred from a pattern, or searched for and not found.
EvidenceLevel = Literal["seen", "code", "inferred", "none"]
EVIDENCE_LEVELS: tuple[EvidenceLevel, ...] = get_args(EvidenceLevel)

# Facts an investigator records by hand because probes cannot see them.
CLAIMS: tuple[str, ...] = (
    "api_exists",
    "docs_public",
    "docs_login_required",
    "spec_published",
    "api_access_fee",
    "third_party_access_fee",
    "third_party_access_allowed",
    "sandbox_available",
    "self_service_keys",
    "open_licence",
    "integration_module_sold_separately",
    "partner_only",
    "soap_only",
    "open_standard_implemented",
)


# --- catalogue ---------------------------------------------------------------------------


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
    """A supplier's dated right of reply; shown beside a finding, never changes a score."""

    date: dt.date
    text: str
    about: str | None = None  # a claim name or a probe id
    source: str | None = None


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

    def endpoint(self, kind: str) -> str | None:
        return self.endpoints.get(kind)


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    systems: tuple[System, ...]
    website: str | None = None
    companies_house: str | None = None
    notes: str | None = None


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


# --- methodology -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """One entry of a probe's `expect:` list: a matcher name from the closed vocabulary
    in matchers.py, and its argument exactly as written in YAML."""

    matcher: str
    argument: object
    line: int = 0  # line in the probe file, for error messages


@dataclass(frozen=True)
class ProbeRequest:
    """What a probe asks for.

    `endpoint` names a catalogue endpoint to request as it is; `path` is a path joined
    to the origin of `base` (an endpoint kind, or "api_origin": the origin of api_base,
    else spec, else docs). Exactly one of `endpoint` and `path` is set. `fallback` names
    endpoint kinds tried in order when the catalogue lacks `endpoint`.
    """

    endpoint: str | None = None
    path: str | None = None
    base: str = "api_origin"
    method: Literal["GET", "HEAD"] = "GET"
    accept: str | None = None
    when_missing: Literal["fail", "not_applicable"] = "not_applicable"
    compare_random_path: bool = False  # also fetch a random path on the same origin
    fallback: tuple[str, ...] = ()  # endpoint kinds to use, in order, when `endpoint` is absent


@dataclass(frozen=True)
class ProbeExample:
    """A pass/fail example shipped with a probe and run as a test."""

    name: str
    expect_outcome: Outcome
    response: Mapping[str, object]  # status, headers, body, final_url, redirects, error
    baseline: Mapping[str, object] | None = None  # random-path response, when compared
    endpoint_missing: bool = False
    expect_credit: float | None = None  # the credit a pass must earn, when the example says


@dataclass(frozen=True)
class Probe:
    id: str
    title: str
    criterion: Criterion
    weight: float
    why: str
    why_url: str
    request: ProbeRequest
    expect: tuple[Expectation, ...]
    remediation: str
    effort: Literal["low", "medium", "high"]
    examples: tuple[ProbeExample, ...]
    source: str = ""  # file the probe was loaded from


@dataclass(frozen=True)
class GradeBand:
    grade: str
    min_score: float


@dataclass(frozen=True)
class Rubric:
    methodology_version: str
    criterion_weights: Mapping[str, float]
    grade_bands: tuple[GradeBand, ...]  # highest first
    coverage_floor: float  # below this share of applicable weight measured: grade "?"


@dataclass(frozen=True)
class Methodology:
    """The probe set and rubric together, with a hash that identifies them in a run."""

    probes: tuple[Probe, ...]
    rubric: Rubric
    sha256: str


# --- HTTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchRequest:
    """One HTTP request the plan needs. Equal requests are fetched once per run."""

    url: str
    method: Literal["GET", "HEAD"] = "GET"
    accept: str | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {self.url} accept={self.accept or '*/*'}"


@dataclass(frozen=True)
class Hop:
    status: int
    url: str
    location: str


@dataclass(frozen=True)
class Exchange:
    """One request and its response (or the error that stopped it), kept as evidence.

    `error` is a short machine word (timeout, deadline, connect, dns, tls, blocked_address,
    too_many_redirects, too_large, unsupported_encoding, bad_url, protocol, robots) and
    `error_detail` one human line. Headers are the final response's, lower-cased names.
    """

    request: FetchRequest
    final_url: str
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: float = 0.0
    error: str | None = None
    error_detail: str = ""
    started_at: str = ""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key == lname:
                return value
        return None

    @property
    def content_type(self) -> str:
        """Media type without parameters, lower case ('' when absent)."""
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()


# --- findings and scores -----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A probe's verdict on a system in a run, with the exchanges behind it."""

    system_id: str
    probe_id: str
    criterion: Criterion
    weight: float
    outcome: Outcome
    message: str
    evidence: tuple[str, ...] = ()  # FetchRequest keys of the exchanges used
    observed: bool = False  # True when the verdict rests on a response we received
    credit: float = 1.0  # share of the weight a pass earns (e.g. 0.5 for Swagger 2.0)


@dataclass(frozen=True)
class CriterionScore:
    score: float | None  # 0-10, None when nothing was measured
    coverage: float  # 0-1: share of applicable weight that was measured


@dataclass(frozen=True)
class SystemScore:
    system_id: str
    score: float | None
    coverage: float
    grade: str  # A-E, or "?" when coverage is too low to grade
    criteria: Mapping[str, CriterionScore]


@dataclass(frozen=True)
class RunInfo:
    id: int
    started_at: str
    finished_at: str | None
    tool_version: str
    rubric_version: str
    methodology_sha256: str
    catalogue_sha256: str
    catalogue_source: str
    status: str  # running | complete | interrupted
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoredSystem:
    """What a renderer needs for one row: the system, its score, and its findings."""

    system_id: str
    name: str
    vendor_id: str
    vendor_name: str
    score: SystemScore
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Scorecard:
    run: RunInfo
    systems: tuple[ScoredSystem, ...]
