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

Basis = Literal["observed", "attested"]
BASES: tuple[Basis, ...] = get_args(Basis)

# Why a failure is a login wall (DESIGN.md §4): the status asked for credentials (401, 403,
# 407), a redirect went to a sign-in page, the final URL is a sign-in page's, or the page is
# a password form. Stored on the finding; the ladder's `gated` condition reads it.
SignIn = Literal["status", "redirect", "sign_in_url", "password_form"]
SIGN_INS: tuple[SignIn, ...] = get_args(SignIn)

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
    in api_audit/methodology/matchers/, its argument exactly as written in YAML (for docs
    and listings), and `value`, that argument as the matcher read it when the probes
    loaded (methodology.expectation() builds one by hand)."""

    matcher: str
    argument: object
    line: int = 0  # line in the probe file, for error messages
    value: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FollowRequest:
    """The second stage of a two-stage probe (probes/README.md "Following a link").

    `link` names an extractor in methodology.LINKS that finds one URL in the first response
    (e.g. the spec a Swagger UI page loads); that URL is fetched with `accept`, and
    `expect` is checked against the second response.
    """

    link: str
    accept: str | None = None
    expect: tuple[Expectation, ...] = ()
    # The outcome when the first response holds no such link.
    when_no_link: Literal["fail", "inconclusive", "not_applicable"] = "fail"


@dataclass(frozen=True)
class Applicability:
    """Which systems a probe applies to; the rest get `not_applicable`.

    A system must be in one of `service_areas` OR claim one of `claimed` (its catalogue
    `standards` or `protocols` words), when either list is given; and it must have every
    endpoint kind in `endpoints`.
    """

    service_areas: tuple[str, ...] = ()
    claimed: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeRequest:
    """What a probe asks for.

    `endpoint` names a catalogue endpoint to request as it is; `path` is a path joined
    to the origin of `base` (an endpoint kind, or "api_origin": the origin of api_base,
    else spec, else docs) when it starts with "/", and to the URL of `base` as a directory
    when it does not. Exactly one of `endpoint`, `path` and `candidates` is set, except
    that `candidates` may go with `endpoint` to discover a URL the catalogue lacks.
    `fallback` names endpoint kinds tried in order when the catalogue lacks `endpoint`.
    """

    endpoint: str | None = None
    path: str | None = None
    base: str = "api_origin"
    method: Literal["GET", "HEAD"] = "GET"
    accept: str | None = None
    when_missing: Literal["fail", "not_applicable"] = "not_applicable"
    compare_random_path: bool = False  # also fetch a random path on the same origin
    fallback: tuple[str, ...] = ()  # endpoint kinds to use, in order, when `endpoint` is absent
    # Paths (as `path`) tried in order; the probe passes on the first that passes.
    candidates: tuple[str, ...] = ()
    scheme: Literal["http"] | None = None  # fetch the http:// form of the URL
    follow: FollowRequest | None = None  # a second request for a URL found in the first


@dataclass(frozen=True)
class ProbeExample:
    """A pass/fail example shipped with a probe and run as a test."""

    name: str
    expect_outcome: Outcome
    response: Mapping[str, object]  # status, headers, body, final_url, redirects, error
    baseline: Mapping[str, object] | None = None  # random-path response, when compared
    endpoint_missing: bool = False
    expect_credit: float | None = None  # the credit a pass must earn, when the example says
    responses: tuple[Mapping[str, object], ...] = ()  # responses to the later candidates
    followed: Mapping[str, object] | None = None  # the response to the followed link
    service_areas: tuple[str, ...] | None = None  # None: the probe's applies_to areas
    claimed: tuple[str, ...] | None = None  # None: the probe's applies_to claims
    missing_endpoints: tuple[str, ...] = ()  # endpoint kinds the example system lacks


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
    applies_to: Applicability = Applicability()
    weight_reason: str = ""  # one line: why this weight


@dataclass(frozen=True)
class GradeBand:
    grade: str
    min_score: float


@dataclass(frozen=True)
class AttestationRule:
    """How one catalogue claim enters the score (rubric.yaml `attestations:`).

    The attested finding passes when the recorded value equals `pass_when`, else fails.
    """

    criterion: Criterion
    weight: float
    pass_when: bool
    title: str  # the claim in plain words, e.g. "API access costs extra"


@dataclass(frozen=True)
class ObservedBy:
    """The probes that observe the same fact as a claim (rubric.yaml `claimed_vs_observed:`).

    The fact is observed true when any of `probes` passes and false when every one that
    was observed failed; `invert` flips that (docs_login_required is observed false
    when docs-anonymous passes).
    """

    probes: tuple[str, ...]
    invert: bool = False


# The closed vocabulary of ladder conditions (rubric.yaml `ladder:`, api_audit/ladder.py).
LadderOp = Literal[
    "pass",  # probe id(s): any of them passed
    "all_pass",  # probe ids: every one passed
    "fail",  # probe id(s): any of them failed
    "gated",  # probe id(s): any of them failed at a sign-in wall
    "observed",  # probe id(s): any of them has a pass or fail resting on a response
    "attested",  # {claim: value}: the catalogue records the claim with that value
    "protocol",  # word(s): the catalogue claims one of these protocols
    "standard",  # word(s): the catalogue claims one of these standards
    "catalogue_endpoint",  # kind(s): the catalogue gives a URL of one of these kinds
    "all",  # conditions: every one holds
    "any",  # conditions: at least one holds
    "not",  # condition: it does not hold
]
LADDER_OPS: tuple[LadderOp, ...] = get_args(LadderOp)


@dataclass(frozen=True)
class LadderCondition:
    """One node of a ladder rule: an operator and its arguments (only those it uses)."""

    op: LadderOp
    probes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # protocol, standard or endpoint-kind words
    claims: tuple[tuple[str, bool | str], ...] = ()
    children: tuple[LadderCondition, ...] = ()


@dataclass(frozen=True)
class LadderLevel:
    """One rung of the openness ladder; `requires` is None only for L0 (always holds)."""

    level: str  # "L0" ... "L5"
    label: str
    requires: LadderCondition | None = None


@dataclass(frozen=True)
class Rubric:
    methodology_version: str
    criterion_weights: Mapping[str, float]
    grade_bands: tuple[GradeBand, ...]  # highest first
    coverage_floor: float  # below this share of applicable weight measured: grade "?"
    # claim -> its scoring rule, or None where the rubric says `ignore`
    attestations: Mapping[str, AttestationRule | None] = field(default_factory=dict)
    # claimed vs observed: claim / standard / protocol word -> the probes that see it
    claim_checks: Mapping[str, ObservedBy] = field(default_factory=dict)
    standard_checks: Mapping[str, ObservedBy] = field(default_factory=dict)
    protocol_checks: Mapping[str, ObservedBy] = field(default_factory=dict)
    ladder: tuple[LadderLevel, ...] = ()  # L0 first; empty when the rubric has no ladder


@dataclass(frozen=True)
class Methodology:
    """The probe set and rubric together, with a hash that identifies them in a run."""

    probes: tuple[Probe, ...]
    rubric: Rubric
    sha256: str


# --- HTTP --------------------------------------------------------------------------------

# Why an exchange has no usable response: the closed vocabulary of Exchange.error, stored
# as these exact words. The engine (api_audit/net) writes them; findings say them in words.
ExchangeError = Literal[
    "timeout",  # the server went quiet for longer than the read (or connect) timeout
    "deadline",  # no complete response within the fetch's total deadline
    "connect",
    "dns",
    "tls",
    "blocked_address",  # the address guard refused the destination
    "too_many_redirects",
    "too_large",
    "unsupported_encoding",
    "protocol",  # a response that is not valid HTTP, or a connection cut short
    "bad_url",
    "robots",  # robots.txt asks us not to, or could not be read
    "host_budget",  # the host was left alone: too many errors, or too much waiting asked
]
EXCHANGE_ERRORS: tuple[ExchangeError, ...] = get_args(ExchangeError)
EXCHANGE_ERROR_WORDS: Mapping[ExchangeError, str] = {
    "timeout": "timed out",
    "deadline": "no complete response in time",
    "connect": "could not connect",
    "dns": "host name not found",
    "tls": "TLS failed",
    "blocked_address": "address blocked",
    "too_many_redirects": "too many redirects",
    "too_large": "response too large",
    "unsupported_encoding": "compressed in an encoding we do not decode",
    "protocol": "malformed HTTP response",
    "bad_url": "not a fetchable URL",
    "robots": "excluded by robots.txt",
    "host_budget": "host given up after repeated errors or too much waiting",
}


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

    `error` is one word of ExchangeError and `error_detail` one human line. Headers are
    the final response's, lower-cased names.
    """

    request: FetchRequest
    final_url: str
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: float = 0.0
    error: ExchangeError | None = None
    error_detail: str = ""
    started_at: str = ""
    # The negotiated TLS version ("TLSv1.3"), when the engine reports it; None otherwise.
    tls_version: str | None = None

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
    # "observed": a probe's verdict; "attested": a catalogue attestation scored by the
    # rubric (probe id "attested:<claim>"), never `observed`, with its source and date.
    basis: Basis = "observed"
    source: str | None = None  # attested: the URL where the fact was seen
    seen: str | None = None  # attested: the ISO date it was seen
    sign_in: SignIn | None = None  # a fail at a login wall: which kind (None otherwise)


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
    # The openness ladder (api_audit/ladder.py): the highest level whose rules hold, with
    # "?" appended when a higher level could not be decided (e.g. "L3?"); "" when the
    # rubric has no ladder. `ladder_max` is the highest level that might hold.
    ladder: str = ""
    ladder_label: str = ""
    ladder_certain: bool = True
    ladder_max: str = ""


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

    @property
    def methodology_version(self) -> str:
        """The rubric's methodology_version the run was made under (stored as rubric_version)."""
        return self.rubric_version


@dataclass(frozen=True)
class ScoredSystem:
    """What a renderer needs for one row: the system, its score, and its findings."""

    system_id: str
    name: str
    vendor_id: str
    vendor_name: str
    score: SystemScore
    findings: tuple[Finding, ...]
    disagreements: tuple[Disagreement, ...] = ()  # claimed vs observed
    replies: tuple[Reply, ...] = ()  # the supplier's right of reply; never scored
    # False when the run stored no finding for the system: it was never reached (the run
    # was interrupted first), which is not the same as a system that could not be measured.
    audited: bool = True


@dataclass(frozen=True)
class Disagreement:
    """A catalogue claim that an observation contradicts (claimed vs observed).

    `claim` is a CLAIMS word for an attestation, or "standard:<word>" / "protocol:<word>"
    for the catalogue's lists. Shown beside the score; it never changes it.
    """

    claim: str
    claimed: bool | str
    observed_probe: str
    observed_outcome: Outcome
    message: str
    source: str | None = None  # the attestation's source URL, when the claim is attested
    seen: str | None = None  # the attestation's date (ISO), when attested


@dataclass(frozen=True)
class Scorecard:
    run: RunInfo
    systems: tuple[ScoredSystem, ...]
