"""What a run concludes: findings, scores, grades, the run itself and its scorecard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from api_audit.models.catalogue import Reply, Research
from api_audit.models.vocabulary import Basis, Criterion, Outcome, ReplyReason, SignIn


@dataclass(frozen=True)
class SetAside:
    """Why a finding no longer counts: a supplier reply the investigator accepted.

    Worked out when a run is scored (scoring/replies.py), never stored: the stored finding
    keeps its own outcome, which is `original_outcome` here.
    """

    reason: ReplyReason
    original_outcome: Outcome
    original_message: str
    reply_date: str  # ISO date of the supplier's reply
    decided: str | None = None  # ISO date the investigator accepted it
    decided_by: str | None = None


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
    set_aside: SetAside | None = None  # taken out of the score by an accepted reply
    # The sentence that decided a wording finding, as read (cleaned, capped, and redacted
    # when stored); None for findings no sentence decided.
    excerpt: str | None = None


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
    # ISO date of the recorded search that found nothing, when the system is at L0 because
    # of it: L0 "as of" that date, never a confident L0 from a blank entry.
    ladder_as_of: str | None = None


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
    # When `run --resume` took the run up again (ISO times, oldest first); empty when the
    # run was gathered in one sitting.
    resumed_at: tuple[str, ...] = ()

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
    # The supplier's right of reply; an accepted one has set its findings aside (visibly),
    # and `findings_set_aside` counts them (kept when `findings` is dropped to save memory).
    replies: tuple[Reply, ...] = ()
    findings_set_aside: int = 0
    # False when the run stored no finding for the system: it was never reached (the run
    # was interrupted first), which is not the same as a system that could not be measured.
    audited: bool = True
    # How far the system was researched (Research; the state derived when not recorded).
    research_state: str = "not-researched"
    research: Research | None = None


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
