"""The methodology as loaded: probes, expectations, the rubric and its ladder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from api_audit.models.vocabulary import Criterion, Outcome


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
    # Send `Origin: https://api-audit.invalid` (evidence.PROBE_ORIGIN), as a browser's
    # cross-origin request does: some servers answer CORS headers only when asked.
    send_origin: bool = False
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
    # The catalogue records a search that found none of the missing endpoints.
    searched_none: bool = False


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
