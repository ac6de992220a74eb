"""rubric.yaml -> the Rubric: criterion weights, grade bands, attestation rules and the ladder."""

from __future__ import annotations

import math
from typing import cast

from api_audit.errors import Problem
from api_audit.loading import (
    PathKey,
    YamlDocument,
    did_you_mean,
)
from api_audit.methodology.checker import MISSING, Checker
from api_audit.methodology.probe_files import MAX_WEIGHT
from api_audit.models import (
    CLAIMS,
    CRITERIA,
    ENDPOINT_KINDS,
    LADDER_OPS,
    PROTOCOLS,
    STANDARDS,
    AttestationRule,
    Criterion,
    GradeBand,
    LadderCondition,
    LadderLevel,
    LadderOp,
    ObservedBy,
    Rubric,
)

_RUBRIC_REQUIRED = ("methodology_version", "criterion_weights", "coverage_floor", "grade_bands")


_RUBRIC_KEYS = (*_RUBRIC_REQUIRED, "attestations", "claimed_vs_observed", "ladder")


_BAND_KEYS = ("grade", "min_score")


_ATTESTATION_RULE_KEYS = ("criterion", "weight", "pass_when", "title")


_CHECK_SECTIONS = ("claims", "standards", "protocols")


_OBSERVED_BY_KEYS = ("probes", "invert")


_LEVEL_KEYS = ("level", "label", "requires")


IGNORE = "ignore"  # an attestation rule that keeps a claim out of the score


class ProbeRefs:
    """Probe ids the rubric names, with where: checked once every probe file is known."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.refs: list[tuple[str, PathKey]] = []

    def add(self, probe_id: str, at: PathKey) -> None:
        self.refs.append((probe_id, at))

    def unknown(self, known: set[str]) -> list[Problem]:
        return [
            self.doc.problem(at, f"unknown probe {probe_id!r}{did_you_mean(probe_id, known)}")
            for probe_id, at in self.refs
            if probe_id not in known
        ]


def read_rubric(check: Checker) -> tuple[Rubric | None, ProbeRefs]:
    refs = ProbeRefs(check.doc)
    data = check.mapping((), check.doc.data, _RUBRIC_KEYS, _RUBRIC_REQUIRED)
    if data is None:
        return None, refs
    version = data.get("methodology_version", MISSING)
    if version is not MISSING and (not isinstance(version, str) or not version.strip()):
        check.error(("methodology_version",), "methodology_version must be text (quote it)")
    checks = _read_claimed_vs_observed(check, data.get("claimed_vs_observed", MISSING), refs)
    rubric = Rubric(
        methodology_version=str(version),
        criterion_weights=_read_criterion_weights(check, data.get("criterion_weights", MISSING)),
        grade_bands=_read_grade_bands(check, data.get("grade_bands", MISSING)),
        coverage_floor=check.number(
            ("coverage_floor",), data.get("coverage_floor", MISSING), "coverage_floor", 0, 1
        ),
        attestations=_read_attestation_rules(check, data.get("attestations", MISSING)),
        claim_checks=checks.get("claims", {}),
        standard_checks=checks.get("standards", {}),
        protocol_checks=checks.get("protocols", {}),
        ladder=_read_ladder(check, data.get("ladder", MISSING), refs),
    )
    return rubric, refs


def _read_criterion_weights(check: Checker, value: object) -> dict[str, float]:
    at: PathKey = ("criterion_weights",)
    data = check.mapping(at, value, CRITERIA, CRITERIA)
    if data is None:
        return {}
    weights: dict[str, float] = {
        c: check.number((*at, c), data[c], c, 0, 1) for c in CRITERIA if c in data
    }
    total = sum(weights.values())
    if len(weights) == len(CRITERIA) and not math.isclose(total, 1.0, abs_tol=1e-9):
        check.error(at, f"criterion weights must add up to 1 (they add up to {total:g})")
    return weights


def _read_grade_bands(check: Checker, value: object) -> tuple[GradeBand, ...]:
    at: PathKey = ("grade_bands",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or not value:
        check.error(at, "grade_bands must be a non-empty list of {grade, min_score}")
        return ()
    bands: list[GradeBand] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        data = check.mapping(item_at, item, _BAND_KEYS, _BAND_KEYS)
        if data is None or not all(k in data for k in _BAND_KEYS):
            continue
        grade = check.text((*item_at, "grade"), data["grade"], "grade")
        if grade == "?":
            check.error((*item_at, "grade"), "grade '?' is kept for too little coverage")
        score = check.number((*item_at, "min_score"), data["min_score"], "min_score", 0, 10)
        if bands and (grade in {b.grade for b in bands} or score >= bands[-1].min_score):
            check.error(item_at, "grade bands must be distinct, highest min_score first")
        bands.append(GradeBand(grade, score))
    if bands and bands[-1].min_score != 0:
        check.error(
            (*at, len(value) - 1, "min_score"),
            "the last grade band must start at 0, so every score gets a grade",
        )
    return tuple(bands)


def _read_attestation_rules(check: Checker, value: object) -> dict[str, AttestationRule | None]:
    """Every catalogue claim gets a rule or an explicit `ignore` (no section: none is scored)."""
    at: PathKey = ("attestations",)
    if value is MISSING:
        return {}
    if not isinstance(value, dict):
        check.error(at, "attestations must map each claim to a rule or `ignore`")
        return {}
    rules: dict[str, AttestationRule | None] = {}
    for claim, rule in value.items():
        claim_at = (*at, str(claim))
        if claim not in CLAIMS:
            check.error(claim_at, f"unknown claim {claim!r}{did_you_mean(claim, CLAIMS)}", key=True)
            continue
        if rule == IGNORE:
            rules[claim] = None
            continue
        parsed = _read_attestation_rule(check, claim_at, rule)
        if parsed is not None:
            rules[claim] = parsed
    missing = [c for c in CLAIMS if c not in value]
    if missing:
        check.error(
            at,
            f"no rule for claim(s) {', '.join(missing)}: give each a rule or `{IGNORE}`",
            key=True,
        )
    return rules


def _read_attestation_rule(check: Checker, at: PathKey, value: object) -> AttestationRule | None:
    if not isinstance(value, dict):
        check.error(at, f"a claim's rule is {{criterion, weight, pass_when, title}} or `{IGNORE}`")
        return None
    data = check.mapping(at, value, _ATTESTATION_RULE_KEYS, _ATTESTATION_RULE_KEYS)
    if data is None or not all(k in data for k in _ATTESTATION_RULE_KEYS):
        return None
    weight = check.number((*at, "weight"), data["weight"], "weight", 0, MAX_WEIGHT)
    if weight == 0:
        check.error((*at, "weight"), f"weight must be more than 0 (use `{IGNORE}` to drop it)")
    pass_when = data["pass_when"]
    if not isinstance(pass_when, bool):
        check.error((*at, "pass_when"), "pass_when must be true or false")
    return AttestationRule(
        criterion=cast(
            Criterion, check.choice((*at, "criterion"), data["criterion"], "criterion", CRITERIA)
        ),
        weight=weight,
        pass_when=pass_when is True,
        title=check.text((*at, "title"), data["title"], "title"),
    )


def _read_claimed_vs_observed(
    check: Checker, value: object, refs: ProbeRefs
) -> dict[str, dict[str, ObservedBy]]:
    """claims / standards / protocols -> word -> the probes that observe the same fact."""
    at: PathKey = ("claimed_vs_observed",)
    if value is MISSING:
        return {}
    data = check.mapping(at, value, _CHECK_SECTIONS)
    if data is None:
        return {}
    vocabularies = {"claims": CLAIMS, "standards": STANDARDS, "protocols": PROTOCOLS}
    sections: dict[str, dict[str, ObservedBy]] = {}
    for section, words in vocabularies.items():
        if section not in data:
            continue
        section_at = (*at, section)
        entries = data[section]
        if not isinstance(entries, dict):
            check.error(section_at, f"{section} must map each word to the probes that observe it")
            continue
        found: dict[str, ObservedBy] = {}
        for word, entry in entries.items():
            word_at = (*section_at, str(word))
            if word not in words:
                what = section.removesuffix("s")
                check.error(
                    word_at, f"unknown {what} {word!r}{did_you_mean(word, words)}", key=True
                )
                continue
            observed_by = _read_observed_by(check, word_at, entry, refs)
            if observed_by is not None:
                found[str(word)] = observed_by
        sections[section] = found
    return sections


def _read_observed_by(
    check: Checker, at: PathKey, value: object, refs: ProbeRefs
) -> ObservedBy | None:
    """`[probe ids]`, one probe id, or `{probes: [...], invert: true}`."""
    invert: object = False
    probes_at = at
    if isinstance(value, dict):
        data = check.mapping(at, value, _OBSERVED_BY_KEYS, ("probes",))
        if data is None or "probes" not in data:
            return None
        invert = data.get("invert", False)
        if not isinstance(invert, bool):
            check.error((*at, "invert"), "invert must be true or false")
        value, probes_at = data["probes"], (*at, "probes")
    probes = _probe_ids(check, probes_at, value, refs)
    return ObservedBy(probes, invert is True) if probes else None


def _probe_ids(check: Checker, at: PathKey, value: object, refs: ProbeRefs) -> tuple[str, ...]:
    """One probe id or a non-empty list of them, each recorded for the cross-file check."""
    if isinstance(value, str) and value:
        refs.add(value, at)
        return (value,)
    if not isinstance(value, list) or not value:
        check.error(at, "give a probe id or a non-empty list of probe ids")
        return ()
    ids: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            check.error((*at, index), "a probe id is text, the name of a probe file")
            continue
        refs.add(item, (*at, index))
        ids.append(item)
    return tuple(ids)


_PROBE_OPS = ("pass", "all_pass", "fail", "gated", "observed")


_WORD_OPS: dict[str, tuple[str, ...]] = {
    "protocol": PROTOCOLS,
    "standard": STANDARDS,
    "catalogue_endpoint": ENDPOINT_KINDS,
}


def _read_ladder(check: Checker, value: object, refs: ProbeRefs) -> tuple[LadderLevel, ...]:
    """Levels L0, L1, ... in order; L0 has no rules, every later level has `requires`."""
    at: PathKey = ("ladder",)
    if value is MISSING:
        return ()
    if not isinstance(value, list) or len(value) < 2:
        check.error(at, "ladder must list the levels L0, L1, ... (at least two) in order")
        return ()
    levels: list[LadderLevel] = []
    for index, item in enumerate(value):
        item_at = (*at, index)
        required = ("level", "label") if index == 0 else _LEVEL_KEYS
        data = check.mapping(item_at, item, _LEVEL_KEYS, required)
        if data is None:
            continue
        name = data.get("level", MISSING)
        if name is not MISSING and name != f"L{index}":
            check.error((*item_at, "level"), f"level {name!r} must be 'L{index}' (in order)")
        if index == 0 and "requires" in data:
            check.error((*item_at, "requires"), "L0 always holds: it has no `requires`", key=True)
        requires = None
        if index > 0 and "requires" in data:
            requires = _read_condition(check, (*item_at, "requires"), data["requires"], refs)
        label = check.text((*item_at, "label"), data.get("label", MISSING), "label")
        levels.append(LadderLevel(f"L{index}", label, requires))
    return tuple(levels)


def _read_condition(  # noqa: PLR0911 - one return per kind of operator, in vocabulary order
    check: Checker, at: PathKey, value: object, refs: ProbeRefs
) -> LadderCondition | None:
    if not isinstance(value, dict) or len(value) != 1:
        check.error(at, f"a condition is one `operator: argument` pair ({', '.join(LADDER_OPS)})")
        return None
    ((key, argument),) = value.items()
    op_at = (*at, str(key))
    if key not in LADDER_OPS:
        check.error(op_at, f"unknown condition {key!r}{did_you_mean(key, LADDER_OPS)}", key=True)
        return None
    op = cast(LadderOp, key)
    if op in _PROBE_OPS:
        if op == "all_pass" and not isinstance(argument, list):
            check.error(op_at, "all_pass takes a list of probe ids")
            return None
        probes = _probe_ids(check, op_at, argument, refs)
        return LadderCondition(op, probes=probes) if probes else None
    if op in _WORD_OPS:
        words = _condition_words(check, op_at, argument, op, _WORD_OPS[op])
        return LadderCondition(op, words=words) if words else None
    if op == "attested":
        claims = _condition_claims(check, op_at, argument)
        return LadderCondition(op, claims=claims) if claims else None
    if op == "not":
        child = _read_condition(check, op_at, argument, refs)
        return LadderCondition(op, children=(child,)) if child else None
    if not isinstance(argument, list) or not argument:
        check.error(op_at, f"{op} takes a non-empty list of conditions")
        return None
    children = [_read_condition(check, (*op_at, i), c, refs) for i, c in enumerate(argument)]
    kept = tuple(c for c in children if c is not None)
    return LadderCondition(op, children=kept) if len(kept) == len(children) else None


def _condition_words(
    check: Checker, at: PathKey, value: object, op: str, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        check.error(at, f"{op} takes a word or a non-empty list of words")
        return ()
    words: list[str] = []
    for index, item in enumerate(items):
        item_at = (*at, index) if isinstance(value, list) else at
        if not isinstance(item, str) or item not in allowed:
            check.error(item_at, f"{op} {item!r} is not one of {', '.join(allowed)}")
            continue
        words.append(item)
    return tuple(words) if len(words) == len(items) else ()


def _condition_claims(
    check: Checker, at: PathKey, value: object
) -> tuple[tuple[str, bool | str], ...]:
    if not isinstance(value, dict) or not value:
        check.error(at, "attested takes a mapping of claim: value, e.g. {api_access_fee: false}")
        return ()
    claims: list[tuple[str, bool | str]] = []
    for claim, claimed in value.items():
        claim_at = (*at, str(claim))
        if claim not in CLAIMS:
            check.error(claim_at, f"unknown claim {claim!r}{did_you_mean(claim, CLAIMS)}", key=True)
        elif not isinstance(claimed, bool | str) or claimed == "":
            check.error(claim_at, "a claim's value is true, false or a word")
        else:
            claims.append((str(claim), claimed))
    return tuple(claims) if len(claims) == len(value) else ()
