"""Catalogue attestations -> findings, and claimed vs observed; pure functions.

An attestation is a fact an investigator recorded by hand (vendors.yaml), with the URL where
it was seen and the date. The rubric (`attestations:`) says how each claim is scored:
`attestation_findings` turns a system's attestations into Findings with `basis="attested"`
and probe id `attested:<claim>`, which enter the score and coverage like any probe's. They
never rest on a response we received (`observed` is False), so on their own they cannot
earn a letter grade (scoring.py).

Observation beats attestation (DESIGN.md §4, "claimed vs observed"): when a probe that sees
the same fact (`claimed_vs_observed:`) gave a pass or fail from a real response, the
attested finding is `not_applicable` (kept, with a message saying why) so one fact is not
counted twice, and `find_disagreements` lists every claim an observation contradicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from api_audit.models import (
    Attestation,
    AttestationRule,
    Disagreement,
    Finding,
    ObservedBy,
    Outcome,
    Rubric,
    System,
)

ATTESTED_PREFIX = "attested:"
QUOTE_CHARS = 160


def attested_probe_id(claim: str) -> str:
    return f"{ATTESTED_PREFIX}{claim}"


def latest_attestations(system: System) -> dict[str, Attestation]:
    """The newest attestation of each claim (the later one in the file on equal dates)."""
    latest: dict[str, Attestation] = {}
    for attestation in system.attestations:
        current = latest.get(attestation.claim)
        if current is None or attestation.seen >= current.seen:
            latest[attestation.claim] = attestation
    return latest


def attestation_findings(
    system: System, rubric: Rubric, observed: Sequence[Finding] = ()
) -> tuple[Finding, ...]:
    """One finding per attested claim the rubric scores, in the catalogue's claim order.

    `observed` are the system's probe findings from the same run: a claim whose fact one
    of them observed is superseded (not_applicable) rather than counted twice.
    """
    by_probe = _by_probe(observed)
    findings = []
    for claim, attestation in latest_attestations(system).items():
        rule = rubric.attestations.get(claim)
        if rule is None:  # `ignore`, or a rubric without an attestations section
            continue
        check = rubric.claim_checks.get(claim)
        seen = observed_fact(check, by_probe) if check is not None else None
        findings.append(_attested_finding(system.id, attestation, rule, seen))
    return tuple(findings)


def observed_fact(
    check: ObservedBy, by_probe: Mapping[str, Finding]
) -> tuple[bool, Finding] | None:
    """The fact a claim states, as the probes in `check` observed it, with the deciding finding.

    True when any of them passed on a response we received; False when at least one
    failed that way and none passed or could not be measured; None when nothing was
    observed (not applicable, not run, or inconclusive). `invert` flips the fact.
    """
    findings = [by_probe[p] for p in check.probes if p in by_probe]
    observations = [f for f in findings if is_observation(f)]
    passing = next((f for f in observations if f.outcome == "pass"), None)
    if passing is not None:
        return (not check.invert, passing)
    if observations and not any(f.outcome == "inconclusive" for f in findings):
        return (check.invert, observations[0])
    return None


def is_observation(finding: Finding) -> bool:
    """A probe's pass or fail that rests on a response we received."""
    return finding.basis == "observed" and finding.observed and finding.outcome in ("pass", "fail")


def find_disagreements(
    system: System, findings: Iterable[Finding], rubric: Rubric
) -> tuple[Disagreement, ...]:
    """Every claim of the catalogue (attestations, standards, protocols) that an
    observation contradicts. A claim nothing observed is not a disagreement."""
    by_probe = _by_probe(findings)
    found: list[Disagreement] = []
    for claim, attestation in latest_attestations(system).items():
        check = rubric.claim_checks.get(claim)
        if check is None or not isinstance(attestation.value, bool):
            continue
        seen = observed_fact(check, by_probe)
        if seen is not None and seen[0] != attestation.value:
            rule = rubric.attestations.get(claim)
            title = rule.title if rule is not None else claim.replace("_", " ")
            found.append(_attestation_disagreement(attestation, title, seen[1]))
    for kind, words, checks in (
        ("standard", system.standards, rubric.standard_checks),
        ("protocol", system.protocols, rubric.protocol_checks),
    ):
        for word in words:
            check = checks.get(word)
            seen = observed_fact(check, by_probe) if check is not None else None
            if seen is not None and not seen[0]:
                found.append(_listed_disagreement(kind, word, seen[1]))
    return tuple(found)


# --- building findings and disagreements -------------------------------------------------------


def _attested_finding(
    system_id: str,
    attestation: Attestation,
    rule: AttestationRule,
    seen: tuple[bool, Finding] | None,
) -> Finding:
    said = f"{_attested_as(attestation)}: {rule.title}: {_show_value(attestation.value)}"
    if attestation.quote:
        said += f' ("{_short(attestation.quote)}")'
    outcome: Outcome
    if seen is not None:
        outcome = "not_applicable"
        finding = seen[1]
        said += f"; not scored: {finding.probe_id} observed the same fact ({finding.outcome})"
    elif isinstance(attestation.value, bool):
        outcome = "pass" if attestation.value == rule.pass_when else "fail"
    else:
        outcome = "inconclusive"
        said += "; not scored: the recorded value is not yes or no"
    return Finding(
        system_id=system_id,
        probe_id=attested_probe_id(attestation.claim),
        criterion=rule.criterion,
        weight=rule.weight,
        outcome=outcome,
        message=said,
        observed=False,
        credit=1.0 if outcome == "pass" else 0.0,
        basis="attested",
        source=attestation.source,
        seen=attestation.seen.isoformat(),
    )


def _attestation_disagreement(
    attestation: Attestation, title: str, finding: Finding
) -> Disagreement:
    return Disagreement(
        claim=attestation.claim,
        claimed=attestation.value,
        observed_probe=finding.probe_id,
        observed_outcome=finding.outcome,
        message=(
            f"claimed {title}: {_show_value(attestation.value)} ({_attested_as(attestation)}); "
            f"observed {finding.probe_id}: {finding.outcome}: {finding.message}"
        ),
        source=attestation.source,
        seen=attestation.seen.isoformat(),
    )


def _listed_disagreement(kind: str, word: str, finding: Finding) -> Disagreement:
    return Disagreement(
        claim=f"{kind}:{word}",
        claimed=True,
        observed_probe=finding.probe_id,
        observed_outcome=finding.outcome,
        message=(
            f"the catalogue lists {kind} {word}; "
            f"observed {finding.probe_id}: {finding.outcome}: {finding.message}"
        ),
    )


def _attested_as(attestation: Attestation) -> str:
    return f"attested (seen {attestation.seen.isoformat()}, {attestation.source})"


def _show_value(value: bool | str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(_short(value))


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1] + "…"


def _by_probe(findings: Iterable[Finding]) -> dict[str, Finding]:
    return {f.probe_id: f for f in findings if f.basis == "observed"}
