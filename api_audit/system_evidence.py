"""One system's stored evidence read back: which run, its findings rescored, the exchanges
behind them, and its grade run by run (for `explain` and `history`).

Scores are never stored (DESIGN.md §3): they are recomputed here from the stored findings
with `scoring.score_grouped`, the function `scorecard` scores a run with, so `explain`,
`history` and `scorecard` cannot disagree about a grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from api_audit.errors import UsageError
from api_audit.loading.suggest import did_you_mean
from api_audit.loading.wording import quoted
from api_audit.models import (
    ExchangeDetail,
    Finding,
    Methodology,
    RunInfo,
    ScoredSystem,
    StoredBody,
    System,
)
from api_audit.scoring import score_grouped
from api_audit.scoring.attestations import ATTESTED_PREFIX
from api_audit.store import Store


@dataclass(frozen=True)
class ProbeText:
    """What a probe asks and why, from the methodology the run is scored under."""

    title: str
    why: str = ""
    why_url: str = ""


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` shows: the system as the run saw it, rescored, and the findings
    asked for (all, or one probe's) with the exchanges and (with --body) bodies behind them."""

    run: RunInfo
    scored: ScoredSystem  # findings with accepted replies set aside, as scored
    council: str | None
    findings: tuple[Finding, ...]  # the ones shown, in probe order
    probes: Mapping[str, ProbeText]
    exchanges: Mapping[str, ExchangeDetail]  # request key -> how it went
    bodies: Mapping[str, StoredBody]  # body sha256 -> its start; empty without --body
    methodology_version: str  # what the score was computed under
    methodology_sha256: str


@dataclass(frozen=True)
class HistoryRow:
    """One run's view of the system, scored under the current methodology."""

    run: RunInfo
    scored: ScoredSystem
    rescored: bool  # the run was made under another methodology than it is scored here


@dataclass(frozen=True)
class History:
    system_id: str
    name: str
    rows: tuple[HistoryRow, ...]  # newest first
    total_runs: int  # how many runs hold the system (rows may be fewer: --limit)
    methodology_version: str
    methodology_sha256: str


def resolve_system(store: Store, wanted: str) -> str:
    """The stored system id `wanted` names: itself, or `id@COUNCIL` with the council given
    by either of its codes (GSS or three-letter); else a usage error with a did-you-mean."""
    known = store.system_ids()
    if wanted in known:
        return wanted
    system, at, council = wanted.rpartition("@")
    if at and system:
        from api_audit.catalogue.councils import load_register  # noqa: PLC0415 - only for @

        found = load_register().lookup(council)
        if found is not None and f"{system}@{found.key}" in known:
            return f"{system}@{found.key}"
    if not known:
        raise UsageError(f"no system {quoted(wanted)}: the database holds no runs yet")
    raise UsageError(f"no system {quoted(wanted)} in any stored run{did_you_mean(wanted, known)}")


def choose_run(store: Store, system_id: str, run_id: int | None) -> int:
    """`run_id` when that run holds the system; else the newest complete run that does, or,
    when none completed, the newest run that does."""
    if run_id is not None:
        store.run_info(run_id)  # a missing run is its own error
        if store.system(run_id, system_id) is None:
            held = ", ".join(str(r) for r in store.runs_with_system(system_id)[:5])
            raise UsageError(
                f"run {run_id} did not audit {quoted(system_id)} (runs that did: {held})"
            )
        return run_id
    complete = store.runs_with_system(system_id, status="complete")
    return complete[0] if complete else store.runs_with_system(system_id)[0]


def rescore(
    run: RunInfo, system: System, findings: list[Finding], methodology: Methodology
) -> ScoredSystem:
    """The system's row as `scorecard` scores it (accepted replies applied, ladder, claims)."""
    groups = [(system.id, findings)] if findings else []
    (row,) = score_grouped(run, [system], groups, methodology.rubric).systems
    return row


def explain_system(
    store: Store,
    system_id: str,
    run_id: int,
    methodology: Methodology,
    *,
    probe: str | None = None,
    body_bytes: int = 0,
) -> Explanation:
    run = store.run_info(run_id)
    system = store.system(run_id, system_id)
    if system is None:  # choose_run checked; a concurrent prune is still one clear line
        raise UsageError(f"run {run_id} did not audit {quoted(system_id)}")
    scored = rescore(run, system, store.findings(run_id, system_id), methodology)
    shown = _only_probe(scored.findings, probe, run_id, system_id)
    keys = [key for finding in shown if finding.basis == "observed" for key in finding.evidence]
    exchanges = store.exchange_details(run_id, keys)
    read: dict[str, StoredBody] = {}
    if body_bytes > 0:  # --body: the start of each body, never the whole of it
        for detail in exchanges.values():
            sha = detail.ref.sha256
            if sha and sha not in read:
                found = store.body(sha, body_bytes)
                if found is not None:
                    read[sha] = found
    return Explanation(
        run=run,
        scored=scored,
        council=system.council,
        findings=shown,
        probes=probe_texts(methodology),
        exchanges=exchanges,
        bodies=read,
        methodology_version=methodology.rubric.methodology_version,
        methodology_sha256=methodology.sha256,
    )


def _only_probe(
    findings: tuple[Finding, ...], probe: str | None, run_id: int, system_id: str
) -> tuple[Finding, ...]:
    if probe is None:
        return findings
    chosen = tuple(f for f in findings if f.probe_id == probe)
    if not chosen:
        ids = [f.probe_id for f in findings]
        raise UsageError(
            f"run {run_id} has no finding of probe {quoted(probe)} for {quoted(system_id)}"
            + did_you_mean(probe, ids)
        )
    return chosen


def probe_texts(methodology: Methodology) -> dict[str, ProbeText]:
    """Probe id -> what it asks and why; attested claims by their rubric title."""
    texts = {p.id: ProbeText(p.title, p.why, p.why_url) for p in methodology.probes}
    for claim, rule in methodology.rubric.attestations.items():
        if rule is not None:
            texts[f"{ATTESTED_PREFIX}{claim}"] = ProbeText(f"attested: {rule.title}")
    return texts


def system_history(
    store: Store, system_id: str, methodology: Methodology, limit: int | None = None
) -> History:
    """The system in each run that holds it, newest first, at most `limit` runs; each run's
    findings are read and scored one run at a time."""
    run_ids = store.runs_with_system(system_id)
    rows: list[HistoryRow] = []
    name = system_id
    for run_id in run_ids[:limit]:
        run = store.run_info(run_id)
        system = store.system(run_id, system_id)
        if system is None:  # gone since the listing: nothing to show for it
            continue
        name = name if rows else system.name  # the newest run's name for the system
        scored = rescore(run, system, store.findings(run_id, system_id), methodology)
        rows.append(HistoryRow(run, scored, run.methodology_sha256 != methodology.sha256))
    return History(
        system_id=system_id,
        name=name,
        rows=tuple(rows),
        total_runs=len(run_ids),
        methodology_version=methodology.rubric.methodology_version,
        methodology_sha256=methodology.sha256,
    )
