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
    Research,
    RunInfo,
    Scorecard,
    ScoredSystem,
    SetAside,
)
from api_audit.scoring import UNGRADED
from api_audit.scoring.attestations import ATTESTED_PREFIX
from api_audit.scoring.replies import apply_replies, replies_about
from api_audit.text import escape_json_text

JSON_FORMAT_VERSION = 1


def scorecard_document(card: Scorecard) -> dict[str, object]:
    return {
        "format_version": JSON_FORMAT_VERSION,
        "run": run_document(card.run),
        "systems": [system_document(row) for row in card.systems],
    }


def run_document(run: RunInfo) -> dict[str, object]:
    """The `run` object: one shape wherever a document names the run it comes from."""
    return {
        "id": run.id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "tool_version": run.tool_version,
        "rubric_version": run.rubric_version,
        "methodology_version": run.methodology_version,
        "methodology_sha256": run.methodology_sha256,
        "catalogue_sha256": run.catalogue_sha256,
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
            # stored findings, as scored: an accepted reply sets its finding aside
            stored = findings_for(scored.system_id)
            row = replace(scored, findings=apply_replies(stored, scored.replies))
        keys = (key for f in row.findings if f.basis == "observed" for key in f.evidence)
        evidence = evidence_for(keys) if evidence_for is not None else {}
        document = system_document(row, evidence)
        item = escape_json_text(json.dumps(document, indent=2, ensure_ascii=False))
        out.write(("," if index else "") + "\n    " + item.replace("\n", "\n    "))
    out.write("\n  ]\n}\n" if card.systems else "]\n}\n")


def system_document(
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
        "ladder_as_of": score.ladder_as_of,
        "research": _research(row.research_state, row.research),
        "criteria": {
            c: {
                "score": score.criteria[c].score,
                "coverage": score.criteria[c].coverage,
                # beside a "?" the criterion scores rest on too little to stand for the system
                "partial": score.grade == UNGRADED,
            }
            for c in CRITERIA
            if c in score.criteria
        },
        "findings": [finding_document(f, row.replies, evidence or {}) for f in row.findings],
        "disagreements": [_disagreement(d, row.replies) for d in row.disagreements],
        "replies": [_reply(r) for r in row.replies],
    }


def _research(state: str, research: Research | None) -> dict[str, object]:
    """How far the system was researched, as the run's catalogue recorded it (`recorded`
    false: the state is derived from whether the entry lists any URL)."""
    if research is None:
        return {"state": state, "recorded": False, "searched": None, "where": [], "not_found": []}
    return {
        "state": research.state,
        "recorded": True,
        "searched": research.searched.isoformat() if research.searched else None,
        "where": list(research.where),
        "not_found": list(research.not_found),
    }


def finding_document(
    finding: Finding, replies: Sequence[Reply], evidence: Mapping[str, EvidenceRef]
) -> dict[str, object]:
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
        "evidence": [evidence_document(evidence[k]) for k in finding.evidence if k in evidence],
        "replies": [_reply(r) for r in replies_about(finding, replies)],
        "set_aside": _set_aside(finding.set_aside) if finding.set_aside else None,
    }


def _set_aside(item: SetAside) -> dict[str, object]:
    return {
        "by": "reply",
        "reason": item.reason,
        "original_outcome": item.original_outcome,
        "original_message": item.original_message,
        "reply_date": item.reply_date,
        "decided": item.decided,
        "decided_by": item.decided_by,
    }


def evidence_document(ref: EvidenceRef) -> dict[str, object]:
    return {
        "url": ref.url,
        "final_url": ref.final_url,
        "status": ref.status,
        "sha256": ref.sha256,
        "fetched_at": ref.fetched_at,
        "error": ref.error,
    }


def _disagreement(item: Disagreement, replies: Sequence[Reply]) -> dict[str, object]:
    claim = item.claim.partition(":")[2]  # "standard:openapi" -> "openapi"
    attested = f"{ATTESTED_PREFIX}{item.claim}"  # a reply may name the claim either way
    about = {item.claim, claim, attested, item.observed_probe} - {""}
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
        "status": reply.status,
        "reason": reply.reason,
        "decided": reply.decided.isoformat() if reply.decided else None,
        "decided_by": reply.decided_by,
        "decision_note": reply.decision_note,
    }
