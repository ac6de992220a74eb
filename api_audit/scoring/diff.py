"""Two scored runs in, what changed between them out: systems, findings, causes; pure.

Three scorecards go in, all scored under one rubric (`scorecard`'s rule: scores are
computed from stored findings, never stored):

- `before`: the older ("from") run's stored findings;
- `after`: the newer ("to") run's stored findings;
- `rejudged`: the older run's *evidence* judged again under the newer run's methodology
  (rejudge.py), or None when both runs were made under the same methodology.

A difference between `before` and `after` is then labelled by where `rejudged` sits:
equal to `before`, the methodology would not have changed it, so what was seen did
(`observed`); equal to `after`, the same evidence under the newer methodology explains it
(`methodology`); equal to neither, `both`. Without `rejudged` every change is `observed`.

A system is listed when its grade, ladder or any finding's outcome changed (a finding set
aside by an accepted reply counts by the outcome it scores with). Regressions (REGRESSION
below) come first, then the other changes, then systems only one run had (added,
removed); each group by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from api_audit.models import Finding, RunInfo, Scorecard, ScoredSystem
from api_audit.scoring.score import UNGRADED

Cause = Literal["observed", "methodology", "both"]
Change = Literal["regressed", "improved", "changed", "added", "removed"]

# Regression, in one place (README "api-audit diff"; `--fail-on-regression` gates on it):
# - the grade went down a band (A > B > C > D > E, the rubric's bands, best first); a move
#   between a letter and "?" is neither up nor down: "?" says too little was measured to
#   grade, not that the system got worse (letter -> "?" is "no longer graded");
# - the ladder level went down (L4 -> L2; "L3?" is level 3, "at least L3");
# - a finding went pass -> fail and what was seen changed (cause observed or both): a
#   methodology that judges the same evidence more strictly is not the supplier's doing.
REGRESSION = "grade down, ladder down, or an observed pass -> fail"


@dataclass(frozen=True)
class Standing:
    """Where a system stood in one run."""

    grade: str
    ladder: str
    score: float | None


@dataclass(frozen=True)
class FindingState:
    outcome: str
    message: str


@dataclass(frozen=True)
class FindingChange:
    """One probe whose outcome differs; None on a side that has no such finding."""

    probe: str
    before: FindingState | None
    after: FindingState | None
    cause: Cause


@dataclass(frozen=True)
class SystemChange:
    system_id: str
    name: str
    vendor_name: str
    change: Change
    before: Standing | None  # None: added in the newer run
    after: Standing | None  # None: removed from the newer run
    cause: Cause
    findings: tuple[FindingChange, ...] = ()

    @property
    def regression(self) -> bool:
        return self.change == "regressed"


@dataclass(frozen=True)
class RunDiff:
    from_run: RunInfo
    to_run: RunInfo
    changes: tuple[SystemChange, ...]

    @property
    def regressed(self) -> bool:
        return any(change.regression for change in self.changes)


def diff_runs(
    before: Scorecard,
    after: Scorecard,
    rejudged: Scorecard | None = None,
    *,
    grade_order: Sequence[str] = ("A", "B", "C", "D", "E"),
) -> RunDiff:
    """What changed from `before` to `after` (see the module docstring for the rules)."""
    old = {row.system_id: row for row in before.systems}
    new = {row.system_id: row for row in after.systems}
    again = {row.system_id: row for row in rejudged.systems} if rejudged is not None else {}
    changes: list[SystemChange] = []
    for system_id, row in new.items():
        if system_id not in old:
            changes.append(_added_or_removed(row, "added"))
            continue
        change = _compare(old[system_id], row, again.get(system_id), grade_order)
        if change is not None:
            changes.append(change)
    changes += [_added_or_removed(row, "removed") for sid, row in old.items() if sid not in new]
    changes.sort(key=_order)
    return RunDiff(before.run, after.run, tuple(changes))


def _compare(
    old: ScoredSystem,
    new: ScoredSystem,
    again: ScoredSystem | None,
    grade_order: Sequence[str],
) -> SystemChange | None:
    findings = _finding_changes(old.findings, new.findings, again.findings if again else None)
    before, after = standing(old), standing(new)
    moved = _headline(before) != _headline(after)
    if not moved and not findings:
        return None
    causes = {c.cause for c in findings}
    if moved:
        causes.add(
            _cause(_headline(before), _headline(standing(again)), _headline(after))
            if again is not None
            else "observed"
        )
    regressed = _stepped_down(before, after, grade_order) or any(
        _observed_pass_to_fail(c) for c in findings
    )
    improved = _stepped_down(after, before, grade_order)
    return SystemChange(
        system_id=new.system_id,
        name=new.name,
        vendor_name=new.vendor_name,
        change="regressed" if regressed else "improved" if improved else "changed",
        before=before,
        after=after,
        cause=_combined(causes),
        findings=findings,
    )


def standing(row: ScoredSystem) -> Standing:
    return Standing(row.score.grade, row.score.ladder, row.score.score)


def _headline(place: Standing) -> tuple[str, str]:
    """What makes a system "changed" on its own: the score moves only with its findings."""
    return place.grade, place.ladder


def _finding_changes(
    old: Sequence[Finding], new: Sequence[Finding], again: Sequence[Finding] | None
) -> tuple[FindingChange, ...]:
    """Probes whose outcome differs, in the newer run's probe order, then dropped probes."""
    before, after = _by_probe(old), _by_probe(new)
    rejudged = _by_probe(again) if again is not None else None
    changes = []
    for probe in [*after, *(p for p in before if p not in after)]:
        was, now = before.get(probe), after.get(probe)
        if _outcome(was) == _outcome(now):
            continue
        would = _outcome(rejudged.get(probe)) if rejudged is not None else None
        changes.append(
            FindingChange(
                probe=probe,
                before=_state(was),
                after=_state(now),
                cause=_cause(_outcome(was), would, _outcome(now))
                if rejudged is not None
                else "observed",
            )
        )
    return tuple(changes)


def _cause(before: object, rejudged: object, after: object) -> Cause:
    """`before` != `after`: which of methodology and observation explains the move (None
    is a side with no such finding: a probe the newer methodology added or dropped)."""
    if rejudged == before:
        return "observed"
    return "methodology" if rejudged == after else "both"


def _combined(causes: set[Cause]) -> Cause:
    if "both" in causes or causes >= {"observed", "methodology"}:
        return "both"
    return "methodology" if causes == {"methodology"} else "observed"


def _by_probe(findings: Sequence[Finding]) -> Mapping[str, Finding]:
    return {finding.probe_id: finding for finding in findings}


def _outcome(finding: Finding | None) -> str | None:
    return None if finding is None else finding.outcome


def _state(finding: Finding | None) -> FindingState | None:
    return None if finding is None else FindingState(finding.outcome, finding.message)


def _observed_pass_to_fail(change: FindingChange) -> bool:
    return (
        change.cause != "methodology"
        and change.before is not None
        and change.after is not None
        and change.before.outcome == "pass"
        and change.after.outcome == "fail"
    )


def _stepped_down(before: Standing, after: Standing, order: Sequence[str]) -> bool:
    """The grade went down a band or the ladder went down a level."""
    return _grade_down(before.grade, after.grade, order) or _level(after.ladder) < _level(
        before.ladder
    )


def _grade_down(before: str, after: str, order: Sequence[str]) -> bool:
    """True when both are letters of `order` and `after` is a worse one; "?" never is."""
    if UNGRADED in (before, after) or before not in order or after not in order:
        return False
    return order.index(after) > order.index(before)


_LEVEL = re.compile(r"^L(\d+)")


def _level(ladder: str) -> int:
    """The ladder level as a number ("L3?" is 3); -1 when the rubric has no ladder, so a
    missing ladder on both sides compares equal and is never a regression."""
    found = _LEVEL.match(ladder)
    return int(found.group(1)) if found else -1


def _added_or_removed(row: ScoredSystem, change: Literal["added", "removed"]) -> SystemChange:
    # A system enters or leaves with the catalogue the run saw: evidence, not methodology.
    place = standing(row)
    return SystemChange(
        system_id=row.system_id,
        name=row.name,
        vendor_name=row.vendor_name,
        change=change,
        before=place if change == "removed" else None,
        after=place if change == "added" else None,
        cause="observed",
    )


_GROUPS: Mapping[Change, int] = {
    "regressed": 0,
    "improved": 1,
    "changed": 1,
    "added": 2,
    "removed": 3,
}


def _order(change: SystemChange) -> tuple[int, str, str]:
    return _GROUPS[change.change], change.name.casefold(), change.system_id
