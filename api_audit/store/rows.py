"""Rows and values: what the store writes for each value, and each value read back."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Mapping
from typing import Any, Final

from api_audit.models import (
    BASES,
    CRITERIA,
    EXCHANGE_ERRORS,
    OUTCOMES,
    REPLY_REASONS,
    REPLY_STATUSES,
    RESEARCH_STATES,
    SIGN_INS,
    Attestation,
    EvidenceRef,
    Exchange,
    ExchangeDetail,
    FetchRequest,
    Finding,
    Hop,
    Reply,
    Research,
    RunInfo,
    System,
)
from api_audit.redact import (
    Redactor,
)
from api_audit.store import cells

RUN_STATUSES: Final = ("running", "complete", "interrupted")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def attestation_row(attestation: Attestation, redactor: Redactor) -> dict[str, object]:
    return {
        "claim": attestation.claim,
        "value": attestation.value,
        "source": redactor.url(attestation.source),
        "seen": attestation.seen.isoformat(),
        "quote": attestation.quote,
        "note": attestation.note,
    }


def _attestation(row: Mapping[str, Any]) -> Attestation:
    value = row.get("value")
    if not isinstance(value, bool | str):
        raise cells.BadCell("value", "should be true, false or text")
    return Attestation(
        claim=cells.text(row, "claim"),
        value=value,
        source=cells.text(row, "source"),
        seen=cells.date(row, "seen"),
        quote=cells.optional_text(row, "quote"),
        note=cells.optional_text(row, "note"),
    )


def reply_row(reply: Reply, redactor: Redactor) -> dict[str, object]:
    return {
        "date": reply.date.isoformat(),
        "text": reply.text,
        "about": reply.about,
        "source": redactor.url(reply.source) if reply.source else None,
        "status": reply.status,
        "reason": reply.reason,
        "decided": reply.decided.isoformat() if reply.decided else None,
        "decided_by": reply.decided_by,
        "decision_note": reply.decision_note,
    }


def _reply(row: Mapping[str, Any]) -> Reply:
    # A run stored before replies had a status (methodology 2026.11 and earlier) holds
    # none: read as "open", which never changes a score, so rescoring it gives what it did.
    return Reply(
        date=cells.date(row, "date"),
        text=cells.text(row, "text"),
        about=cells.optional_text(row, "about"),
        source=cells.optional_text(row, "source"),
        status=cells.optional_one_of(row, "status", REPLY_STATUSES) or "open",
        reason=cells.optional_one_of(row, "reason", REPLY_REASONS),
        decided=cells.date(row, "decided") if row.get("decided") is not None else None,
        decided_by=cells.optional_text(row, "decided_by"),
        decision_note=cells.optional_text(row, "decision_note"),
    )


def research_row(research: Research | None, redactor: Redactor) -> dict[str, object] | None:
    if research is None:
        return None
    return {
        "state": research.state,
        "searched": research.searched.isoformat() if research.searched else None,
        "where": [redactor.text(w) for w in research.where],
        "not_found": list(research.not_found),
        "notes": redactor.text(research.notes) if research.notes else None,
    }


def _research(row: Mapping[str, Any]) -> Research | None:
    if row.get("research") is None:
        return None
    try:
        stored = cells.json_object(row, "research")
        return _research_record(stored)
    except cells.BadCell as exc:
        raise cells.BadCell("research", f"'{exc.column}' {exc.problem}") from None


def _research_record(stored: Mapping[str, Any]) -> Research:
    searched = None if stored.get("searched") is None else cells.date(stored, "searched")
    return Research(
        state=cells.one_of(stored, "state", RESEARCH_STATES),
        searched=searched,
        where=cells.string_list(stored, "where"),
        not_found=cells.string_list(stored, "not_found"),
        notes=cells.optional_text(stored, "notes"),
    )


def hop_row(hop: Hop, redactor: Redactor) -> dict[str, object]:
    return {
        "status": hop.status,
        "url": redactor.url(hop.url),
        "location": redactor.text(hop.location),
    }


def decompress(content: bytes | None, compression: str | None) -> bytes:
    if content is None:
        return b""
    if compression != "zlib":
        raise cells.BadCell("body_sha256", f"names a body of unknown compression {compression!r}")
    try:
        return zlib.decompress(content)
    except (zlib.error, TypeError) as exc:
        raise cells.BadCell("body_sha256", f"names a body that is not zlib data ({exc})") from None


def run_from_row(row: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        id=row["id"],
        started_at=cells.text(row, "started_at"),
        finished_at=cells.optional_text(row, "finished_at"),
        tool_version=cells.text(row, "tool_version"),
        rubric_version=cells.text(row, "rubric_version"),
        methodology_sha256=cells.text(row, "methodology_sha256"),
        catalogue_sha256=cells.text(row, "catalogue_sha256"),
        catalogue_source=cells.text(row, "catalogue_source"),
        status=cells.one_of(row, "status", RUN_STATUSES),
        options=cells.json_object(row, "options"),
        resumed_at=cells.json_strings(row, "resumed_at"),
    )


def system_from_row(row: Mapping[str, Any]) -> System:
    return System(
        id=cells.text(row, "system_id"),
        name=cells.text(row, "name"),
        vendor_id=cells.text(row, "vendor_id"),
        vendor_name=cells.text(row, "vendor_name"),
        service_areas=cells.json_strings(row, "service_areas"),
        endpoints=cells.json_string_map(row, "endpoints"),
        protocols=cells.json_strings(row, "protocols"),
        standards=cells.json_strings(row, "standards"),
        attestations=cells.json_records(row, "attestations", _attestation),
        replies=cells.json_records(row, "replies", _reply),
        council=cells.optional_text(row, "council"),
        research=_research(row),
    )


def finding_from_row(row: Mapping[str, Any]) -> Finding:
    return Finding(
        system_id=cells.text(row, "system_id"),
        probe_id=cells.text(row, "probe_id"),
        criterion=cells.one_of(row, "criterion", CRITERIA),
        weight=cells.number(row, "weight"),
        outcome=cells.one_of(row, "outcome", OUTCOMES),
        message=cells.text(row, "message"),
        evidence=cells.json_strings(row, "evidence"),
        observed=bool(row["observed"]),
        credit=cells.number(row, "credit"),
        basis=cells.one_of(row, "basis", BASES),
        source=cells.optional_text(row, "source"),
        seen=cells.optional_text(row, "seen"),
        sign_in=cells.optional_one_of(row, "sign_in", SIGN_INS),
        excerpt=cells.optional_text(row, "excerpt"),
    )


def _sent_origin(request_key: str) -> str | None:
    """The Origin header a stored request sent: kept only in its key (FetchRequest.key
    ends " origin=<origin>" when one was sent), so no column was needed for it."""
    _, found, origin = request_key.rpartition(" origin=")
    return origin if found and origin and " " not in origin else None


def exchange_from_row(row: Mapping[str, Any]) -> Exchange:
    return Exchange(
        request=FetchRequest(
            url=cells.text(row, "url"),
            method=cells.one_of(row, "method", ("GET", "HEAD")),
            accept=cells.optional_text(row, "accept"),
            origin=_sent_origin(cells.text(row, "request_key")),
        ),
        final_url=cells.text(row, "final_url"),
        status=cells.optional_integer(row, "status"),
        headers=cells.json_pairs(row, "headers"),
        body=decompress(row["content"], row["compression"]),
        redirects=cells.json_records(row, "redirects", _hop),
        elapsed_ms=cells.number(row, "elapsed_ms"),
        error=cells.one_of(row, "error", (*EXCHANGE_ERRORS, None)),
        error_detail=cells.text(row, "error_detail"),
        started_at=cells.text(row, "started_at"),
        tls_version=cells.optional_text(row, "tls_version"),
    )


def evidence_from_row(row: Mapping[str, Any]) -> EvidenceRef:
    return EvidenceRef(
        url=cells.text(row, "url"),
        final_url=cells.text(row, "final_url"),
        status=cells.optional_integer(row, "status"),
        sha256=cells.optional_text(row, "body_sha256"),
        fetched_at=cells.text(row, "started_at"),
        error=cells.one_of(row, "error", (*EXCHANGE_ERRORS, None)),
    )


# The columns `exchange_detail_from_row` reads (headers only for the Content-Type).
DETAIL_COLUMNS: Final = (
    "request_key, method, url, final_url, status, headers, redirects, elapsed_ms, error,"
    " error_detail, body_sha256, body_size, started_at, tls_version"
)


def exchange_detail_from_row(row: Mapping[str, Any]) -> ExchangeDetail:
    content_type = next(
        (value for name, value in cells.json_pairs(row, "headers") if name == "content-type"), ""
    )
    media, _, parameters = content_type.partition(";")
    return ExchangeDetail(
        ref=evidence_from_row(row),
        method=cells.text(row, "method"),
        content_type=media.strip().lower(),
        charset=_charset(parameters),
        size=int(cells.number(row, "body_size")),
        elapsed_ms=cells.number(row, "elapsed_ms"),
        tls_version=cells.optional_text(row, "tls_version"),
        redirects=cells.json_records(row, "redirects", _hop),
        error_detail=cells.text(row, "error_detail"),
    )


def _charset(parameters: str) -> str | None:
    """The charset parameter of a Content-Type (RFC 9110 §8.3.2), unquoted, or None."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')[:40]
    return None


def _hop(row: Mapping[str, Any]) -> Hop:
    status = cells.optional_integer(row, "status")
    if status is None:
        raise cells.BadCell("status", "should be a whole number, not null")
    return Hop(status=status, url=cells.text(row, "url"), location=cells.text(row, "location"))
