"""Render a History (one system's grade run by run) as a Rich table and as the JSON
document of docs/json.md ("history")."""

from __future__ import annotations

import json
from typing import TextIO

from rich.console import Console
from rich.table import Table

from api_audit.report.json import JSON_FORMAT_VERSION, run_document
from api_audit.report.scorecard import GRADE_STYLES, NOT_AUDITED
from api_audit.system_evidence import History, HistoryRow
from api_audit.text import escape_json_text, safe_markup

RESCORED = "*"


def history_document(history: History) -> dict[str, object]:
    return {
        "format_version": JSON_FORMAT_VERSION,
        "system": history.system_id,
        "name": history.name,
        "scored_under": {
            "methodology_version": history.methodology_version,
            "methodology_sha256": history.methodology_sha256,
        },
        "total_runs": history.total_runs,
        "runs": [_run(row) for row in history.rows],
    }


def write_history_json(history: History, out: TextIO) -> None:
    document = json.dumps(history_document(history), indent=2, ensure_ascii=False)
    out.write(escape_json_text(document) + "\n")


def _run(row: HistoryRow) -> dict[str, object]:
    score = row.scored.score
    return {
        "run": run_document(row.run),
        "audited": row.scored.audited,
        "rescored": row.rescored,
        "grade": score.grade,
        "score": score.score,
        "coverage": score.coverage,
        "ladder": score.ladder or None,
        "ladder_as_of": score.ladder_as_of,
    }


def history_table(history: History) -> Table:
    title = (
        f"history of {safe_markup(history.name)} ({safe_markup(history.system_id)}) · "
        f"graded under methodology {safe_markup(history.methodology_version)} "
        f"({safe_markup(history.methodology_sha256[:12])})"
    )
    caption = (
        "Grades, scores, ladder and coverage are recomputed from each run's stored findings "
        f"under the methodology above · {RESCORED} = the run was made under another "
        "methodology (its own is named)"
    )
    left = history.total_runs - len(history.rows)
    if left > 0:
        caption += f" · {left} older run(s) not shown (--limit)"
    table = Table(title=title, caption=caption, expand=False)
    for name, justify in _COLUMNS:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in history.rows:
        table.add_row(*_cells(row))
    return table


_COLUMNS = (
    ("run", "right"), ("started", "left"), ("status", "left"), ("methodology", "left"),
    ("grade", "center"), ("ladder", "center"), ("score", "right"), ("coverage", "right"),
)  # fmt: skip


def _cells(row: HistoryRow) -> list[str]:
    run, score = row.run, row.scored.score
    made = safe_markup(run.methodology_version) + (f" {RESCORED}" if row.rescored else "")
    head = [str(run.id), safe_markup(run.started_at), safe_markup(run.status), made]
    if not row.scored.audited:
        return [*head, f"[dim]{NOT_AUDITED}[/]", "—", "—", "—"]
    ladder = safe_markup(score.ladder) if score.ladder else "—"
    if score.ladder_as_of:
        ladder += f" as of {safe_markup(score.ladder_as_of)}"
    style = GRADE_STYLES.get(score.grade, "dim")
    number = "—" if score.score is None else f"{score.score:.1f}"
    return [
        *head,
        f"[{style}]{safe_markup(score.grade)}[/]",
        ladder,
        number,
        f"{score.coverage:.0%}",
    ]


def print_history(history: History, console: Console) -> None:
    if not history.rows:
        console.print(f"No run holds {history.system_id}.", markup=False, highlight=False)
        return
    console.print(history_table(history))
