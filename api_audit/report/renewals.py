"""Render upcoming contract renewals as a Rich table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from api_audit.text import quote, safe_markup


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
    columns = ("council", "system", "vendor", "contract end", "when", "a year", "grade", "from")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(
            safe_markup(str(row["council_name"])),
            safe_markup(str(row["system_name"])),
            safe_markup(_vendor(row)),
            str(row["contract_end"]),
            _when(row["days_left"]),
            _money(row["annual_value"]),
            safe_markup(str(row["grade"] or "not audited")),
            "notice" if row.get("imported") else "catalogue",
        )
    return table


def _vendor(row: dict[str, object]) -> str:
    """The vendor's id; for an imported contract not matched to one, the supplier named."""
    if row.get("vendor"):
        return str(row["vendor"])
    return f"? {quote(str(row.get('supplier') or ''), 40)}".rstrip() if row.get("imported") else "—"
