"""Render a Scorecard as a Rich table: one row a system, the grade beside the evidence."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from api_audit.models import CRITERIA, CriterionScore, Scorecard
from api_audit.render.text import safe_markup

GRADE_STYLES = {"A": "bold green", "B": "green", "C": "yellow", "D": "dark_orange", "E": "red"}


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _criterion(cell: CriterionScore | None) -> str:
    if cell is None or cell.score is None:
        return "—"
    return f"{cell.score:.1f}"


def scorecard_table(card: Scorecard) -> Table:
    run = card.run
    table = Table(
        title=f"api-audit scorecard · run {run.id} · methodology {safe_markup(run.rubric_version)}",
        caption="Scores 0–10 · coverage = share of the checks that could be measured · "
        "? = too little measured to grade",
        expand=False,
    )
    table.add_column("system")
    table.add_column("vendor")
    table.add_column("grade", justify="center")
    table.add_column("score", justify="right")
    for criterion in CRITERIA:
        table.add_column(criterion, justify="right")
    table.add_column("coverage", justify="right")
    for row in card.systems:
        score = row.score
        style = GRADE_STYLES.get(score.grade, "dim")
        table.add_row(
            safe_markup(row.name),
            safe_markup(row.vendor_name),
            f"[{style}]{safe_markup(score.grade)}[/]",
            _score(score.score),
            *(_criterion(score.criteria.get(c)) for c in CRITERIA),
            f"{score.coverage:.0%}",
        )
    return table


def print_scorecard(card: Scorecard, console: Console) -> None:
    console.print(scorecard_table(card))
