"""Render a Scorecard as the stable JSON contract of DESIGN.md §7 (docs/json.md)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TextIO

from api_audit.models import (
    CRITERIA,
    Disagreement,
    EvidenceRef,
    Finding,
    Reply,
    Scorecard,
    ScoredSystem,
)
from api_audit.scoring.attestations import ATTESTED_PREFIX
from api_audit.text import escape_json_text

JSON_FORMAT_VERSION = 1


def scorecard_document(card: Scorecard) -> dict[str, object]:
    run = card.run
    return {
        "format_version": JSON_FORMAT_VERSION,
        "run": {
            "id": run.id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "status": run.status,
            "tool_version": run.tool_version,
            "rubric_version": run.rubric_version,
            "methodology_version": run.methodology_version,
            "methodology_sha256": run.methodology_sha256,
            "catalogue_sha256": run.catalogue_sha256,
        },
        "systems": [_system(row) for row in card.systems],
    }


def scorecard_json(card: Scorecard) -> str:
    """The whole document as one string, made by the same writer the CLI streams with."""
    out = io.StringIO()
    write_scorecard_json(card, out)
    return out.getvalue()


FindingsReader = Callable[[str], Sequence[Finding]]
# Request keys -> where each exchange can be checked (Store.evidence, for one run).
EvidenceReader = Callable[[Iterable[str]], Mapping[str, EvidenceRef]]


def write_scorecard_json(
    card: Scorecard,
    out: TextIO,
    findings_for: FindingsReader | None = None,
    evidence_for: EvidenceReader | None = None,
) -> None:
    """Write the same document as `scorecard_json`, one system at a time.

    A large run's document can be tens of megabytes; writing it system by system (and,
    with `findings_for`, reading each system's findings only when it is written) keeps
    memory flat instead of building the whole string first. With `evidence_for`, each
    observed finding lists the exchanges it rests on (URL, final URL, status, body hash,
    time), read one system at a time too.

    Text stays UTF-8 (names read as written), except controls and the characters that
    reorder or hide text (bidi overrides, zero-width): those are written as \\uXXXX
    escapes, so a terminal showing the file cannot be made to show something else.
    """
    document = {**scorecard_document(replace(card, systems=())), "systems": []}
    head = escape_json_text(json.dumps(document, indent=2, ensure_ascii=False))
    # the head ends with '"systems": []\n}': open the list instead and stream its items
    out.write(head[: head.rindex("[]")] + "[")
    for index, scored in enumerate(card.systems):
        row = scored
        if findings_for is not None:
            row = replace(scored, findings=tuple(findings_for(scored.system_id)))
        keys = (key for f in row.findings if f.basis == "observed" for key in f.evidence)
        evidence = evidence_for(keys) if evidence_for is not None else {}
        document = _system(row, evidence)
        item = escape_json_text(json.dumps(document, indent=2, ensure_ascii=False))
        out.write(("," if index else "") + "\n    " + item.replace("\n", "\n    "))
    out.write("\n  ]\n}\n" if card.systems else "]\n}\n")


def _system(
    row: ScoredSystem, evidence: Mapping[str, EvidenceRef] | None = None
) -> dict[str, object]:
    score = row.score
    return {
        "vendor": row.vendor_id,
        "vendor_name": row.vendor_name,
        "system": row.system_id,
        "name": row.name,
        "audited": row.audited,
        "grade": score.grade,
        "score": score.score,
        "coverage": score.coverage,
        "ladder": score.ladder or None,
        "ladder_label": score.ladder_label or None,
        "ladder_certain": score.ladder_certain,
        "ladder_max": score.ladder_max or None,
        "criteria": {
            c: {"score": score.criteria[c].score, "coverage": score.criteria[c].coverage}
            for c in CRITERIA
            if c in score.criteria
        },
        "findings": [_finding(f, row.replies, evidence or {}) for f in row.findings],
        "disagreements": [_disagreement(d, row.replies) for d in row.disagreements],
        "replies": [_reply(r) for r in row.replies],
    }


def _finding(
    finding: Finding, replies: Sequence[Reply], evidence: Mapping[str, EvidenceRef]
) -> dict[str, object]:
    about = {finding.probe_id, finding.probe_id.removeprefix(ATTESTED_PREFIX)}
    return {
        "probe": finding.probe_id,
        "criterion": finding.criterion,
        "outcome": finding.outcome,
        "message": finding.message,
        "basis": finding.basis,
        "source": finding.source,
        "seen": finding.seen,
        "sign_in": finding.sign_in,
        "excerpt": finding.excerpt,
        "evidence": [_evidence(evidence[k]) for k in finding.evidence if k in evidence],
        "replies": [_reply(r) for r in replies if r.about in about],
    }


def _evidence(ref: EvidenceRef) -> dict[str, object]:
    return {
        "url": ref.url,
        "final_url": ref.final_url,
        "status": ref.status,
        "sha256": ref.sha256,
        "fetched_at": ref.fetched_at,
        "error": ref.error,
    }


def _disagreement(item: Disagreement, replies: Sequence[Reply]) -> dict[str, object]:
    about = {item.claim, item.claim.partition(":")[2], item.observed_probe} - {""}
    return {
        "claim": item.claim,
        "claimed": item.claimed,
        "observed_probe": item.observed_probe,
        "observed_outcome": item.observed_outcome,
        "message": item.message,
        "source": item.source,
        "seen": item.seen,
        "replies": [_reply(r) for r in replies if r.about in about],
    }


def _reply(reply: Reply) -> dict[str, object]:
    return {
        "date": reply.date.isoformat(),
        "about": reply.about,
        "text": reply.text,
        "source": reply.source,
    }
