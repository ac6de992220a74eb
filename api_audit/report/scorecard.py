"""Render a Scorecard as a Rich table: one row a system, the grade beside the evidence."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from api_audit.models import CRITERIA, CriterionScore, Scorecard, ScoredSystem, SystemScore
from api_audit.text import escape_controls, safe_markup

GRADE_STYLES = {"A": "bold green", "B": "green", "C": "yellow", "D": "dark_orange", "E": "red"}
DISAGREES = "≠"
REPLIED = "↩"  # the supplier replied (DESIGN.md §4, right of reply)
SET_ASIDE = "⊘"  # findings an accepted reply took out of the score
REPLIES_LEGEND = (
    f"Replies: {REPLIED}n = n supplier replies on record (shown beside the findings in "
    f"--format json; open and rejected ones change nothing) · {SET_ASIDE}n = n findings "
    "set aside by a reply the investigator accepted (out of the score: not applicable or "
    "not measured, by its reason)"
)


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _criterion(cell: CriterionScore | None, *, partial: bool = False) -> str:
    """A criterion score; in brackets beside a "?" grade, where it rests on too little."""
    if cell is None or cell.score is None:
        return "—"
    return f"({cell.score:.1f})" if partial else f"{cell.score:.1f}"


NOT_AUDITED = "not audited"


def _title(card: Scorecard) -> str:
    run = card.run
    status = "" if run.status == "complete" else f" ({safe_markup(run.status)})"
    return (
        f"api-audit scorecard · run {run.id}{status} · methodology "
        f"{safe_markup(run.methodology_version)} ({safe_markup(run.methodology_sha256[:12])})"
    )


# Below this many columns the four criterion columns are left out: with them, system and
# vendor names shrink to a few letters on an 80-column terminal. The numbers stay one
# `--format json` (or a wider terminal) away, and the caption says so.
FULL_WIDTH = 120


def scorecard_table(card: Scorecard, *, width: int | None = None) -> Table:
    """The table; `width` (the console's) below FULL_WIDTH gives the compact layout."""
    criteria = CRITERIA if width is None or width >= FULL_WIDTH else ()
    caption = (
        "Scores 0–10 · coverage = share of the checks that could be measured · "
        "? = too little measured to grade · ladder L0–L5, L3? = at least L3 (a higher "
        f"level could not be measured) · {DISAGREES}n = n claims contradicted by what was seen"
    )
    if criteria:
        caption += " · (n) = a criterion score beside ?, resting on too little to grade"
    else:
        caption += f" · criterion scores: --format json, or a terminal {FULL_WIDTH} columns wide"
    table = Table(title=_title(card), caption=caption, expand=False)
    table.add_column("system")
    table.add_column("vendor")
    table.add_column("grade", justify="center")
    table.add_column("ladder", justify="center")
    table.add_column("score", justify="right")
    for criterion in criteria:
        table.add_column(criterion, justify="right")
    table.add_column("coverage", justify="right")
    table.add_column("claims", justify="center")
    for row in card.systems:
        score = row.score
        if not row.audited:
            blank = ["—"] * (3 + len(criteria))
            table.add_row(
                safe_markup(row.name), safe_markup(row.vendor_name),
                f"[dim]{NOT_AUDITED}[/]", *blank, "",
            )  # fmt: skip
            continue
        style = GRADE_STYLES.get(score.grade, "dim")
        table.add_row(
            safe_markup(row.name),
            safe_markup(row.vendor_name),
            f"[{style}]{safe_markup(score.grade)}[/]",
            safe_markup(_ladder(score)),
            _score(score.score),
            *(_criterion(score.criteria.get(c), partial=score.grade == "?") for c in criteria),
            f"{score.coverage:.0%}",
            _claims(row),
        )
    return table


def _claims(row: ScoredSystem) -> str:
    """The claims cell: contradicted claims, then the supplier's replies and what they set
    aside, so a score changed by a reply is marked on its own row."""
    marks = [
        f"{DISAGREES}{len(row.disagreements)}" if row.disagreements else "",
        f"{REPLIED}{len(row.replies)}" if row.replies else "",
        f"{SET_ASIDE}{row.findings_set_aside}" if row.findings_set_aside else "",
    ]
    return " ".join(mark for mark in marks if mark)


def _ladder(score: SystemScore) -> str:
    """ "L3", "L3?", or "L0 as of 2026-11-20" where L0 rests on a search that found nothing."""
    if not score.ladder:
        return "—"
    return f"{score.ladder} as of {score.ladder_as_of}" if score.ladder_as_of else score.ladder


def ladder_legend(card: Scorecard) -> list[str]:
    """One line of plain words for each ladder level the table shows, lowest first."""
    labels: dict[str, str] = {}
    for row in card.systems:
        score = row.score
        if score.ladder_as_of:
            labels.setdefault(f"{_level(score)} as of", SEARCHED_NONE)
        elif score.ladder and score.ladder_label:
            labels.setdefault(_level(score), score.ladder_label)
    return [
        f"  {level}  {escape_controls(labels[level], one_line=True)}" for level in sorted(labels)
    ]


SEARCHED_NONE = "nothing public found when the catalogue's research last searched, on that date"


def _level(score: SystemScore) -> str:
    return score.ladder.rstrip("?")


def unfinished_note(card: Scorecard) -> str | None:
    """A plain line for a run that did not complete, or None when it did."""
    run = card.run
    if run.status == "complete":
        return None
    audited = sum(row.audited for row in card.systems)
    total = len(card.systems)
    how = (
        "was interrupted"
        if run.status == "interrupted"
        else "has no recorded end (it is still running, or was killed)"
    )
    missing = total - audited
    shown = f"listed as '{NOT_AUDITED}', not as unreachable"
    if not missing:
        return f"Run {run.id} {how}, after auditing all {total} systems."
    if not audited:
        return f"Run {run.id} {how} before auditing any of its {total} systems: all are {shown}."
    rest = (
        "the other one was never reached and is"
        if missing == 1
        else (f"the other {missing} were never reached and are")
    )
    return f"Run {run.id} {how}: {audited} of {total} systems were audited; {rest} {shown}."


def print_scorecard(card: Scorecard, console: Console) -> None:
    note = unfinished_note(card)
    if note:
        console.print(note, markup=False, highlight=False)
    console.print(scorecard_table(card, width=console.width))
    if any(row.replies for row in card.systems):
        console.print(REPLIES_LEGEND, markup=False, highlight=False)
    legend = ladder_legend(card)
    if legend:
        # labels come from the rubric, but print them literally all the same
        console.print("\n".join(["Ladder levels:", *legend]), markup=False, highlight=False)
