"""Render upcoming contract renewals as a Rich table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from api_audit.text import safe_markup


def _money(value: object) -> str:
    return f"£{value:,.0f}" if isinstance(value, int | float) else "—"


def _when(days: object) -> str:
    if not isinstance(days, int):
        return "—"
    return f"ended {-days} days ago" if days < 0 else f"in {days} days"


def renewals_table(
    rows: Sequence[dict[str, object]], within_months: int, graded_by: str = ""
) -> Table:
    table = Table(
        title=f"Contracts ending within {within_months} months",
        caption=safe_markup(graded_by) or None,
    )
    for column in ("council", "system", "vendor", "contract end", "when", "a year", "grade"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            safe_markup(str(row["council_name"])),
            safe_markup(str(row["system_name"])),
            safe_markup(str(row["vendor"])),
            str(row["contract_end"]),
            _when(row["days_left"]),
            _money(row["annual_value"]),
            safe_markup(str(row["grade"] or "not audited")),
        )
    return table
