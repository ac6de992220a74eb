"""Render an Explanation (one system's findings and the exchanges behind them) as plain
lines for people and as the JSON document of docs/json.md ("explain")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TextIO

from rich.console import Console
from rich.text import Text

from api_audit.models import CRITERIA, ExchangeDetail, Finding, Reply, ScoredSystem
from api_audit.report.body_text import ShownBody, body_summary, more_line, shown_body
from api_audit.report.json import (
    JSON_FORMAT_VERSION,
    evidence_document,
    finding_document,
    run_document,
    system_document,
)
from api_audit.scoring.replies import replies_about
from api_audit.system_evidence import Explanation, ProbeText
from api_audit.text import escape_controls, escape_json_text

LINE_CAP = 2000  # one shown value; a URL or message longer than this is cut, visibly
OUTCOME_STYLES = {"pass": "green", "fail": "red", "inconclusive": "yellow"}
SCORE_KEYS = (
    "grade", "score", "coverage", "ladder", "ladder_label", "ladder_certain", "ladder_max",
    "ladder_as_of", "research", "criteria",
)  # fmt: skip


# --- JSON ---------------------------------------------------------------------------------


def explain_document(ex: Explanation, *, with_bodies: bool = False) -> dict[str, object]:
    """The whole document: the scorecard's system, run and finding shapes, with more."""
    row = ex.scored
    system = system_document(row)
    score = {key: system[key] for key in SCORE_KEYS}
    return {
        "format_version": JSON_FORMAT_VERSION,
        "system": row.system_id,
        "name": row.name,
        "vendor": row.vendor_id,
        "vendor_name": row.vendor_name,
        "council": ex.council,
        "audited": row.audited,
        "run": run_document(ex.run),
        "score": {
            **score,
            "methodology_version": ex.methodology_version,
            "methodology_sha256": ex.methodology_sha256,
            "rescored": ex.run.methodology_sha256 != ex.methodology_sha256,
        },
        "findings": [_finding(f, ex, with_bodies=with_bodies) for f in ex.findings],
        "disagreements": system["disagreements"],
        "replies": system["replies"],
    }


def write_explain_json(ex: Explanation, out: TextIO, *, with_bodies: bool = False) -> None:
    """The document, with unsafe characters as \\u escapes (text.escape_json_text)."""
    document = explain_document(ex, with_bodies=with_bodies)
    out.write(escape_json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n")


def _finding(finding: Finding, ex: Explanation, *, with_bodies: bool) -> dict[str, object]:
    refs = {key: detail.ref for key, detail in ex.exchanges.items()}
    document = finding_document(finding, ex.scored.replies, refs)
    probe = ex.probes.get(finding.probe_id)
    document.update(
        title=probe.title if probe else None,
        why=probe.why if probe and probe.why else None,
        why_url=probe.why_url if probe and probe.why_url else None,
        weight=finding.weight,
        credit=finding.credit,
        evidence=[
            _exchange(ex.exchanges[key], ex, with_bodies=with_bodies)
            for key in finding.evidence
            if key in ex.exchanges
        ],
    )
    return document


def _exchange(detail: ExchangeDetail, ex: Explanation, *, with_bodies: bool) -> dict[str, object]:
    document = evidence_document(detail.ref)
    document.update(
        method=detail.method,
        content_type=detail.content_type or None,
        size=detail.size,
        elapsed_ms=detail.elapsed_ms,
        tls_version=detail.tls_version,
        redirects=[
            {"status": h.status, "url": h.url, "location": h.location} for h in detail.redirects
        ],
        error_detail=detail.error_detail or None,
    )
    if with_bodies:
        body = _body(detail, ex)
        document["body"] = None if body is None else _body_document(body)
    return document


def _body(detail: ExchangeDetail, ex: Explanation) -> ShownBody | None:
    sha = detail.ref.sha256
    stored = ex.bodies.get(sha) if sha else None
    return shown_body(detail, stored) if stored is not None else None


def _body_document(body: ShownBody) -> dict[str, object]:
    return {
        "binary": body.text is None,
        "encoding": body.encoding,
        "text": body.text,
        "shown_bytes": body.shown_bytes,
        "more_bytes": body.more_bytes,
    }


# --- table (plain lines) ------------------------------------------------------------------


def print_explain(ex: Explanation, console: Console, *, with_bodies: bool = False) -> None:
    for line in explain_lines(ex, with_bodies=with_bodies):
        console.print(line, overflow="fold")


def explain_lines(ex: Explanation, *, with_bodies: bool = False) -> Iterator[Text]:
    """The score summary, then each finding with its exchanges, then claims and replies."""
    yield from _summary(ex)
    shown: set[str] = set()
    for finding in ex.findings:
        yield Text("")
        yield from _finding_lines(finding, ex)
        for key in finding.evidence:
            detail = ex.exchanges.get(key)
            if detail is not None:
                yield from _exchange_lines(detail)
                if with_bodies:
                    yield from _body_lines(detail, ex, shown)
    yield from _claims_lines(ex)


def _one(value: object) -> str:
    """A value on one line, unsafe characters shown escaped, cut at LINE_CAP."""
    text = escape_controls(str(value), one_line=True)
    return text if len(text) <= LINE_CAP else text[: LINE_CAP - 1] + "…"


def _summary(ex: Explanation) -> Iterator[Text]:
    row, run = ex.scored, ex.run
    council = f" at council {_one(ex.council)}" if ex.council else ""
    yield Text(
        f"{_one(row.name)} ({_one(row.system_id)}){council} · {_one(row.vendor_name)}", "bold"
    )
    status = "" if run.status == "complete" else f", {_one(run.status)}"
    yield Text(f"run {run.id} ({_one(run.started_at)}{status}) · tool {_one(run.tool_version)}")
    if not row.audited:
        yield Text("not audited: the run stopped before it reached this system")
    yield Text(_score_line(row))
    yield Text("criteria: " + " · ".join(_criterion(row, c) for c in CRITERIA))
    yield Text(f"research: {_one(row.research_state)}{_searched(row)}")
    made = f"{_one(run.methodology_version)} ({_one(run.methodology_sha256[:12])})"
    now = f"{_one(ex.methodology_version)} ({_one(ex.methodology_sha256[:12])})"
    rescored = "" if made == now else "; rescored from its stored findings"
    yield Text(f"methodology: run made under {made}; scored here under {now}{rescored}")


def _score_line(row: ScoredSystem) -> str:
    score = row.score
    number = "—" if score.score is None else f"{score.score:.1f}"
    ladder = _one(score.ladder) if score.ladder else "—"
    if score.ladder_as_of:
        ladder += f" as of {_one(score.ladder_as_of)}"
    label = f" ({_one(score.ladder_label)})" if score.ladder_label else ""
    return (
        f"grade {_one(score.grade)} · score {number} · coverage {score.coverage:.0%}"
        f" · ladder {ladder}{label}"
    )


def _criterion(row: ScoredSystem, criterion: str) -> str:
    cell = row.score.criteria.get(criterion)
    if cell is None or cell.score is None:
        return f"{criterion} — ({0 if cell is None else cell.coverage:.0%})"
    return f"{criterion} {cell.score:.1f} ({cell.coverage:.0%})"


def _searched(row: ScoredSystem) -> str:
    research = row.research
    if research is None or research.searched is None:
        return ""
    return f", searched {research.searched.isoformat()}"


def _finding_lines(finding: Finding, ex: Explanation) -> Iterator[Text]:
    head = Text()
    head.append(finding.outcome, OUTCOME_STYLES.get(finding.outcome, "dim"))
    head.append(f"  {_one(finding.probe_id)} · {finding.criterion}", "bold")
    credit = (
        f", credit {finding.credit:g}" if finding.outcome == "pass" and finding.credit != 1 else ""
    )
    head.append(f" · weight {finding.weight:g}{credit}")
    yield head
    yield from _probe_lines(ex.probes.get(finding.probe_id), ex)
    yield Text(f"  message: {_one(finding.message)}")
    if finding.excerpt:
        yield Text(f"  excerpt: “{_one(finding.excerpt)}”")
    if finding.set_aside is not None:
        aside = finding.set_aside
        yield Text(
            f"  set aside ({_one(aside.reason)}): was {aside.original_outcome}: "
            f"{_one(aside.original_message)}"
        )
    if finding.basis == "attested":
        yield Text(f"  attested: seen {_one(finding.seen or '—')} at {_one(finding.source or '—')}")
    for reply in replies_about(finding, ex.scored.replies):
        yield Text(f"  {_reply(reply)}")


def _probe_lines(probe: ProbeText | None, ex: Explanation) -> Iterator[Text]:
    if probe is None:
        yield Text(f"  (no such probe in methodology {_one(ex.methodology_version)})", "dim")
        return
    yield Text(f"  {_one(probe.title)}")
    if probe.why:
        url = f" ({_one(probe.why_url)})" if probe.why_url else ""
        yield Text(f"  why: {_one(probe.why)}{url}", "dim")


def _reply(reply: Reply) -> str:
    how = _one(reply.status) + (f", {_one(reply.reason)}" if reply.reason else "")
    source = f" ({_one(reply.source)})" if reply.source else ""
    return f"reply {reply.date.isoformat()} [{how}]: “{_one(reply.text)}”{source}"


def _exchange_lines(detail: ExchangeDetail) -> Iterator[Text]:
    ref = detail.ref
    yield Text(f"  {_one(detail.method)} {_one(ref.url)}")
    for hop in detail.redirects:
        yield Text(f"    {hop.status} {_one(hop.url)} → {_one(hop.location)}")
    if ref.final_url != ref.url:
        yield Text(f"    final URL {_one(ref.final_url)}")
    status = "—" if ref.status is None else str(ref.status)
    media = _one(detail.content_type) or "no content type"
    tls = _one(detail.tls_version) if detail.tls_version else "no TLS"
    yield Text(
        f"    status {status} · {media} · {detail.size:,} bytes · {detail.elapsed_ms:.0f} ms"
        f" · {tls} · fetched {_one(ref.fetched_at) or '—'}"
    )
    yield Text(f"    sha256 {_one(ref.sha256) if ref.sha256 else '— (no body)'}")
    if ref.error:
        detail_text = f": {_one(detail.error_detail)}" if detail.error_detail else ""
        yield Text(f"    error {ref.error}{detail_text}", "red")


def _body_lines(detail: ExchangeDetail, ex: Explanation, shown: set[str]) -> Iterator[Text]:
    sha = detail.ref.sha256
    if not sha:
        return
    if sha in shown:
        yield Text("    body: the same as shown above", "dim")
        return
    body = _body(detail, ex)
    if body is None:
        yield Text("    body: not stored", "dim")
        return
    shown.add(sha)
    if body.text is None:
        yield Text(f"    body: {body_summary(body)}")
        return
    yield Text(f"    body ({body.encoding}):")
    yield Text(body.text)
    if body.more_bytes:
        yield Text(f"    {more_line(body)}", "dim")


def _claims_lines(ex: Explanation) -> Iterator[Text]:
    """Claimed vs observed, with the replies about each claim; then replies that answer
    nothing shown above (unless one probe was asked for)."""
    row = ex.scored
    if row.disagreements:
        yield Text("")
        yield Text("claimed vs observed:", "bold")
    for item in row.disagreements:
        yield Text(f"  ≠ {_one(item.claim)}: {_one(item.message)}")
    if len(ex.findings) != len(row.findings):
        return
    answered = {id(r) for f in ex.findings for r in replies_about(f, row.replies)}
    others = [r for r in row.replies if id(r) not in answered]
    if others:
        yield Text("")
        yield Text("other replies:", "bold")
    for reply in others:
        about = f" about {_one(reply.about)}" if reply.about else ""
        yield Text(f"  {_reply(reply)}{about}")
