"""Findings + the supplier's replies -> findings, with accepted replies set aside; pure.

DESIGN.md §4, "right of reply": a supplier's dated response is shown beside the finding it
answers and never *silently* changes the score. Open and rejected replies change nothing.
A reply the investigator accepted takes the finding it answers out of the score, visibly
(the message says so and `Finding.set_aside` keeps the original outcome and message):

- reason `not-applicable`: the finding becomes `not_applicable` (out of score and coverage);
- `remediated-since`, `not-detected`, `fact-disputed`: the finding becomes `inconclusive`,
  *not measured*: it leaves the denominator and lowers coverage, as any finding we could not
  measure does. Accepting the reply says the finding does not stand; it does not say what
  a new measurement would find, so no credit is given for it either.
- a finding already `not_applicable` stays so: a reply never brings a finding into the
  denominator.

The newest accepted reply about a finding decides (by decision date, then reply date, then
the later one in the file). Applied wherever scores are computed (score.py), before the
score and the ladder, and by the JSON writer, which reads stored findings back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from api_audit.models import Finding, Outcome, Reply, ReplyReason, SetAside
from api_audit.scoring.attestations import ATTESTED_PREFIX

# What an accepted reply's reason makes of the finding it answers.
SET_ASIDE_AS: dict[ReplyReason, Outcome] = {
    "not-applicable": "not_applicable",
    "remediated-since": "inconclusive",
    "not-detected": "inconclusive",
    "fact-disputed": "inconclusive",
}


def answers(reply: Reply, finding: Finding) -> bool:
    """Whether `reply` is about `finding`: its probe id, or the claim of an attested one
    (named as the claim or as "attested:<claim>")."""
    about = reply.about
    if not about:
        return False
    return about in (finding.probe_id, finding.probe_id.removeprefix(ATTESTED_PREFIX))


def replies_about(finding: Finding, replies: Iterable[Reply]) -> list[Reply]:
    return [reply for reply in replies if answers(reply, finding)]


def apply_replies(findings: Sequence[Finding], replies: Sequence[Reply]) -> tuple[Finding, ...]:
    """Each finding, set aside when an accepted reply answers it; the order is kept."""
    accepted = [r for r in replies if r.status == "accepted" and r.reason is not None]
    if not accepted:
        return tuple(findings)
    return tuple(_set_aside(f, deciding_reply(f, accepted)) for f in findings)


def deciding_reply(finding: Finding, replies: Sequence[Reply]) -> Reply | None:
    """The newest accepted reply about `finding`, or None."""
    found = [
        (r.decided or r.date, r.date, i, r)
        for i, r in enumerate(replies)
        if r.status == "accepted" and r.reason is not None and answers(r, finding)
    ]
    return max(found, key=lambda item: item[:3])[3] if found else None


def _set_aside(finding: Finding, reply: Reply | None) -> Finding:
    if reply is None or reply.reason is None or finding.set_aside is not None:
        return finding  # nothing accepted, or already set aside (applying twice is a no-op)
    outcome = finding.outcome
    if outcome != "not_applicable":
        outcome = SET_ASIDE_AS[reply.reason]
    decided = reply.decided or reply.date
    return replace(
        finding,
        outcome=outcome,
        message=(
            f"set aside: supplier reply accepted {decided.isoformat()} "
            f"({reply.reason.replace('-', ' ')}); was {_words(finding.outcome)}: "
            f"{finding.message}"
        ),
        set_aside=SetAside(
            reason=reply.reason,
            original_outcome=finding.outcome,
            original_message=finding.message,
            reply_date=reply.date.isoformat(),
            decided=reply.decided.isoformat() if reply.decided else None,
            decided_by=reply.decided_by,
        ),
    )


def _words(outcome: Outcome) -> str:
    return outcome.replace("_", " ")
