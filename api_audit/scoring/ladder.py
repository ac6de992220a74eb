"""Findings + catalogue claims + the rubric's ladder rules -> an openness level; pure.

The ladder (rubric.yaml `ladder:`) is a headline beside the grade: L0 no integration
surface known ... L5 open spec, open standard, free and keyless. Its rules are data: each
level after L0 `requires` one condition from a closed vocabulary (models.LadderOp).

Conditions are judged in three-valued (Kleene) logic, because inconclusive is not zero
(DESIGN.md §4): True, False, or None for "could not be decided".
- A probe condition on a finding that is inconclusive, or on a probe the run does not
  have, is None. `not_applicable` is False: the probe does not apply, so it did not pass.
- `observed` is never None: whether a response was received is always known.
- Catalogue conditions (`attested`, `protocol`, `standard`, `catalogue_endpoint`) are True
  or False: an attestation that was not recorded is simply not there.
- `any` is True when one child is True, else None when one is None; `all` is False when
  one child is False, else None when one is None; `not` keeps None.

Levels are cumulative: level k holds when the `requires` of L1..Lk all hold. A system is at
the highest level that holds (True). When a higher level is None (might hold, could not be
decided) the place is uncertain and shown with "?": "L3?" means "at least L3". A system
nothing could be learnt about is "L0?", never a confident L0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from api_audit.models import Attestation, Finding, LadderCondition, LadderLevel, System
from api_audit.scoring.attestations import latest_attestations

Truth = bool | None  # None: could not be decided


@dataclass(frozen=True)
class LadderPlace:
    """Where a system stands: the highest level that holds and the highest that might."""

    level: int
    max_level: int
    label: str

    @property
    def certain(self) -> bool:
        return self.max_level == self.level

    @property
    def shown(self) -> str:
        """The level as shown: "L3", or "L3?" when a higher level could not be decided."""
        return f"L{self.level}" + ("" if self.certain else "?")

    @property
    def shown_max(self) -> str:
        """The highest level that might hold ("L3" when the place is certain)."""
        return f"L{self.max_level}"


def ladder_place(
    levels: Sequence[LadderLevel], system: System, findings: Iterable[Finding]
) -> LadderPlace | None:
    """The system's place on the ladder (None when the rubric has no ladder)."""
    if not levels:
        return None
    evidence = _Evidence(system, findings)
    holds: Truth = True
    level = max_level = 0
    for index, rung in enumerate(levels[1:], start=1):
        required = True if rung.requires is None else evidence.judge(rung.requires)
        holds = _all([holds, required])
        if holds is False:
            break  # cumulative: no higher level can hold
        max_level = index
        if holds is True:
            level = index
    return LadderPlace(level, max_level, levels[level].label)


def judge(condition: LadderCondition, system: System, findings: Iterable[Finding]) -> Truth:
    """One condition on one system: True, False or None (could not be decided)."""
    return _Evidence(system, findings).judge(condition)


def failed_at_sign_in(finding: Finding) -> bool:
    """Whether a probe failed because the resource is behind a sign-in (a login wall): the
    reason the matcher recorded on the finding (models.SignIn), never its wording."""
    return finding.outcome == "fail" and finding.sign_in is not None


class _Evidence:
    """What the conditions look at: the run's probe findings and the catalogue's claims."""

    def __init__(self, system: System, findings: Iterable[Finding]) -> None:
        self.system = system
        self.findings: Mapping[str, Finding] = {
            f.probe_id: f for f in findings if f.basis == "observed"
        }
        self.attested: Mapping[str, Attestation] = latest_attestations(system)

    def judge(self, condition: LadderCondition) -> Truth:  # noqa: PLR0911 - one return per operator
        op = condition.op
        if op in ("pass", "fail", "gated", "observed"):
            return _any(self._probe(op, p) for p in condition.probes)
        if op == "all_pass":
            return _all(self._probe("pass", p) for p in condition.probes)
        if op == "attested":
            return all(self._attested(c, v) for c, v in condition.claims)
        if op == "protocol":
            return any(w in self.system.protocols for w in condition.words)
        if op == "standard":
            return any(w in self.system.standards for w in condition.words)
        if op == "catalogue_endpoint":
            return any(self.system.endpoint(w) for w in condition.words)
        children = [self.judge(c) for c in condition.children]
        if op == "not":
            return None if children[0] is None else not children[0]
        return _all(children) if op == "all" else _any(children)

    def _probe(self, op: str, probe_id: str) -> Truth:
        finding = self.findings.get(probe_id)
        if op == "observed":
            return finding is not None and finding.observed and finding.outcome in ("pass", "fail")
        if finding is None or finding.outcome == "inconclusive":
            return None
        if op == "pass":
            return finding.outcome == "pass"
        if op == "fail":
            return finding.outcome == "fail"
        return failed_at_sign_in(finding)

    def _attested(self, claim: str, value: bool | str) -> bool:
        attestation = self.attested.get(claim)
        return attestation is not None and attestation.value == value


def _any(values: Iterable[Truth]) -> Truth:
    unknown = False
    for value in values:
        if value is True:
            return True
        unknown = unknown or value is None
    return None if unknown else False


def _all(values: Iterable[Truth]) -> Truth:
    unknown = False
    for value in values:
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True
