"""Render a RunDiff: a Rich table of the systems that changed and their findings, or JSON.

Names, messages and versions come from the catalogue, the stored runs and vendors'
servers: every one is cleaned (`quote`) and markup-escaped before Rich sees it, and the
JSON writes control and bidi characters as escapes (as the scorecard's JSON does), so no
stored text can drive a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from api_audit.models import RunInfo
from api_audit.scoring.diff import FindingChange, FindingState, RunDiff, Standing, SystemChange
from api_audit.text import escape_json_text, quote, safe_markup

NAME_CHARS = 60
MESSAGE_CHARS = 120
ARROW = "→"
_Shown = Callable[[Standing], str]  # one column's text for a system's standing
CHANGE_STYLES = {"regressed": "red", "improved": "green", "added": "cyan", "removed": "dim"}
CAPTION = (
    "cause: observed = what was seen changed · methodology = the same evidence judged "
    "differently by the newer methodology · both · regressed = grade or ladder down, or "
    "a finding pass → fail that was observed; ? (not graded) is neither up nor down"
)


def diff_document(result: RunDiff, scored_under: str) -> dict[str, object]:
    """The JSON document (docs/json.md, "api-audit diff")."""
    return {
        "from": result.from_run.id,
        "to": result.to_run.id,
        "methodology": {
            "from": result.from_run.methodology_version,
            "to": result.to_run.methodology_version,
            "scored_under": scored_under,
        },
        "regressed": result.regressed,
        "changes": [change_document(change) for change in result.changes],
    }


def write_diff_json(result: RunDiff, scored_under: str, out: TextIO) -> None:
    text = json.dumps(diff_document(result, scored_under), indent=2, ensure_ascii=False)
    out.write(escape_json_text(text) + "\n")


def change_document(change: SystemChange) -> dict[str, object]:
    return {
        "system": change.system_id,
        "name": change.name,
        "vendor": change.vendor_name,
        "change": change.change,
        "before": _standing_document(change.before),
        "after": _standing_document(change.after),
        "regression": change.regression,
        "cause": change.cause,
        "findings": [_finding_document(f) for f in change.findings],
    }


def _standing_document(place: Standing | None) -> dict[str, object] | None:
    if place is None:
        return None
    return {"grade": place.grade, "ladder": place.ladder, "score": place.score}


def _finding_document(change: FindingChange) -> dict[str, object]:
    return {
        "probe": change.probe,
        "before": _state_document(change.before),
        "after": _state_document(change.after),
        "cause": change.cause,
    }


def _state_document(state: FindingState | None) -> dict[str, str] | None:
    return None if state is None else {"outcome": state.outcome, "message": state.message}


# --- the table -----------------------------------------------------------------------------


def print_diff(result: RunDiff, console: Console) -> None:
    """The systems table, then one table of changed findings per system that has any."""
    console.print(_title(result.from_run, result.to_run))
    if not result.changes:
        console.print("No system changed: same grades, ladder levels and finding outcomes.")
        return
    console.print(_summary(result))
    console.print(systems_table(result))
    for change in result.changes:
        if change.findings:
            console.print(findings_table(change))


def _title(old: RunInfo, new: RunInfo) -> Text:
    return Text(
        f"api-audit diff · run {old.id} {ARROW} run {new.id} · methodology "
        f"{quote(old.methodology_version, 40)} {ARROW} {quote(new.methodology_version, 40)}"
    )


def _summary(result: RunDiff) -> Text:
    regressed = sum(change.regression for change in result.changes)
    systems = "system" if len(result.changes) == 1 else "systems"
    return Text(f"{len(result.changes)} {systems} changed, {regressed} regressed")


def systems_table(result: RunDiff) -> Table:
    table = Table(caption=CAPTION, caption_justify="left", expand=False)
    for column in ("change", "system", "vendor", "grade", "ladder", "score", "cause"):
        table.add_column(column, justify="center" if column in ("grade", "ladder") else "left")
    for change in result.changes:
        style = CHANGE_STYLES.get(change.change, "")
        table.add_row(
            f"[{style}]{change.change}[/]" if style else change.change,
            _name(change.name),
            _name(change.vendor_name),
            _moved(change, lambda p: p.grade),
            _moved(change, lambda p: p.ladder or "—"),
            _moved(change, lambda p: "—" if p.score is None else f"{p.score:.1f}"),
            change.cause,
        )
    return table


def findings_table(change: SystemChange) -> Group:
    table = Table(expand=False)
    table.add_column("probe")
    table.add_column("before")
    table.add_column("after")
    table.add_column("cause")
    for finding in change.findings:
        table.add_row(
            safe_markup(quote(finding.probe, NAME_CHARS)),
            _state(finding.before),
            _state(finding.after),
            finding.cause,
        )
    heading = Text(f"{quote(change.name, NAME_CHARS)} ({quote(change.system_id, NAME_CHARS)})")
    return Group(Text(""), heading, table)


def _name(text: str) -> str:
    return safe_markup(quote(text, NAME_CHARS))


def _moved(change: SystemChange, shown: _Shown) -> str:
    before = "—" if change.before is None else safe_markup(quote(shown(change.before), 12))
    after = "—" if change.after is None else safe_markup(quote(shown(change.after), 12))
    return before if before == after else f"{before} {ARROW} {after}"


def _state(state: FindingState | None) -> str:
    if state is None:
        return "(no finding)"
    return safe_markup(f"{state.outcome}: {quote(state.message, MESSAGE_CHARS)}")
