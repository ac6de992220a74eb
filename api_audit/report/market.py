"""Render the market views: the JSON document (docs/json.md "api-audit market") or Rich
tables: suppliers and concentration by service area, renewal cohorts, changes.

Names come from the catalogue and the stored runs: every one is cleaned (`quote`) and
markup-escaped before Rich sees it, and the JSON writes control and bidi characters as
escapes, so no catalogue text can drive a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.table import Table

from api_audit.models import RunInfo
from api_audit.report.diff import change_document, systems_table
from api_audit.scoring.diff import RunDiff
from api_audit.scoring.market import OPENNESS_BANDS, AreaFigures, Cohort, CohortMember
from api_audit.text import escape_json_text, quote, safe_markup

NAME_CHARS = 60


@dataclass(frozen=True)
class MarketView:
    """Everything `market` shows, worked out (scoring/market.py) and ready to render."""

    run: RunInfo | None  # the run grades come from; None: no complete run (all "?")
    areas: tuple[AreaFigures, ...]
    cohorts: tuple[Cohort, ...]
    within_months: int
    council_names: Mapping[str, str]
    changes: RunDiff | None  # None: no previous complete run (`changes_note` says why)
    changes_note: str = ""


def market_document(view: MarketView) -> dict[str, object]:
    """The JSON document (docs/json.md, "api-audit market")."""
    run = view.run
    return {
        "run": None
        if run is None
        else {"id": run.id, "started_at": run.started_at, "rubric_version": run.rubric_version},
        "service_areas": [_area_document(area) for area in view.areas],
        "cohorts": [_cohort_document(c, view.council_names) for c in view.cohorts],
        "within_months": view.within_months,
        "changes_since": None
        if view.changes is None
        else {"from": view.changes.from_run.id, "to": view.changes.to_run.id},
        "changes": []
        if view.changes is None
        else [change_document(c) for c in view.changes.changes],
        "changes_note": view.changes_note or None,
    }


def write_market_json(view: MarketView, out: TextIO) -> None:
    text = json.dumps(market_document(view), indent=2, ensure_ascii=False)
    out.write(escape_json_text(text) + "\n")


def _area_document(area: AreaFigures) -> dict[str, object]:
    return {
        "area": area.area,
        "councils": area.councils,
        "suppliers": [
            {
                "vendor": s.vendor,
                "name": s.vendor_name,
                "councils": s.councils,
                "share": s.share,
                "value_share": s.value_share,
            }
            for s in area.suppliers
        ],
        "hhi": area.hhi,
        "openness": dict(area.openness),
        "instances": area.instances,
    }


def _cohort_document(cohort: Cohort, names: Mapping[str, str]) -> dict[str, object]:
    by_system = cohort.kind == "system"
    first = cohort.members[0]
    return {
        "kind": cohort.kind,
        "system": cohort.key if by_system else None,
        "area": None if by_system else cohort.key,
        "vendor": first.vendor if by_system else None,
        "grade": first.grade if by_system else None,
        "ladder": first.ladder if by_system else None,
        "window": {"from": cohort.start.isoformat(), "to": cohort.end.isoformat()},
        "councils": [_member_document(m, names) for m in cohort.members],
    }


def _member_document(member: CohortMember, names: Mapping[str, str]) -> dict[str, object]:
    return {
        "code": member.council,
        "name": names.get(member.council, member.council),
        "contract_end": member.contract_end.isoformat(),
        "system": member.system,
        "vendor": member.vendor,
        "grade": member.grade,
        "ladder": member.ladder,
    }


# --- the tables -----------------------------------------------------------------------------


def print_market(view: MarketView, console: Console) -> None:
    if not view.areas:
        console.print("No supplier serves a council in the catalogue or the imported contracts.")
    for area in view.areas:
        console.print(area_table(area))
        console.print(openness_line(area))
    console.print(cohorts_table(view.cohorts, view.council_names, view.within_months))
    if view.changes is None:
        console.print(safe_markup(view.changes_note))
    elif not view.changes.changes:
        old, new = view.changes.from_run.id, view.changes.to_run.id
        console.print(f"No system changed from run {old} to run {new}.")
    else:
        console.print(systems_table(view.changes))


def openness_line(area: AreaFigures) -> str:
    shares = " · ".join(f"{band} {area.openness[band]:.0%}" for band in OPENNESS_BANDS)
    return f"openness of {area.instances} council systems (grades): {shares}"


def area_table(area: AreaFigures) -> Table:
    table = Table(
        title=f"{safe_markup(area.area)}: {area.councils} councils · HHI {area.hhi:,.0f}",
        title_justify="left",
    )
    for column in ("supplier", "councils", "share", "value share"):
        table.add_column(column, justify="left" if column == "supplier" else "right")
    for s in area.suppliers:
        table.add_row(
            _name(s.vendor_name),
            str(s.councils),
            f"{s.share:.0%}",
            "—" if s.value_share is None else f"{s.value_share:.0%}",
        )
    return table


def cohorts_table(cohorts: Sequence[Cohort], names: Mapping[str, str], within: int) -> Table:
    table = Table(
        title=f"Renewal cohorts: contracts ending within {within} months of each other",
        caption=None if cohorts else "no two councils' contracts end in one window",
    )
    for column in ("system or area", "window", "councils", "grades"):
        table.add_column(column)
    for cohort in cohorts:
        table.add_row(
            _name(cohort.key) + ("" if cohort.kind == "system" else " (area)"),
            f"{cohort.start.isoformat()} → {cohort.end.isoformat()}",
            ", ".join(_name(names.get(m.council, m.council)) for m in cohort.members),
            ", ".join(_standing(m) for m in cohort.members),
        )
    return table


def _standing(member: CohortMember) -> str:
    return safe_markup(quote(f"{member.grade} {member.ladder}".strip(), 20))


def _name(text: str) -> str:
    return safe_markup(quote(text, NAME_CHARS))
