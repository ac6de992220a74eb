"""Scoring: findings + rubric -> scores, grades, the openness ladder; pure.

`score` turns a system's findings into criterion scores, coverage and a grade; `ladder`
places it on the openness ladder L0-L5; `attestations` turns the catalogue's recorded facts
into findings and finds where they disagree with what was observed. No I/O here.
"""

from api_audit.scoring.attestations import (
    ATTESTED_PREFIX,
    attestation_findings,
    attested_probe_id,
    find_disagreements,
    latest_attestations,
)
from api_audit.scoring.ladder import failed_at_sign_in, judge, ladder_place
from api_audit.scoring.score import UNGRADED, build_scorecard, score_grouped, score_system

__all__ = [
    "ATTESTED_PREFIX",
    "UNGRADED",
    "attestation_findings",
    "attested_probe_id",
    "build_scorecard",
    "failed_at_sign_in",
    "find_disagreements",
    "judge",
    "ladder_place",
    "latest_attestations",
    "score_grouped",
    "score_system",
]
