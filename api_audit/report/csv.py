"""Render a report's systems as CSV (`scores.csv`), one row per system, safe to open in a
spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, tab or carriage return is read as a formula by
Excel, LibreOffice and Google Sheets (OWASP "CSV Injection"): such text cells get a leading
`'`. Numbers we computed are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from api_audit.report.content import ReportContent
from api_audit.text import strip_controls

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CRITERIA_COLUMNS = ("documented", "free", "standards", "hygiene")
HEADER = ("vendor", "system", "name", "grade", "score", "ladder", "coverage", *CRITERIA_COLUMNS)


def safe_cell(value: object) -> object:
    """A text cell cleaned of control characters and made inert; numbers unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = strip_controls(str(value).replace("\r", " ").replace("\n", " "))
        # leading spaces do not stop a spreadsheet reading " =1+1" as a formula
        return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text
    return value


def _criterion(system: Mapping[str, Any], name: str) -> object:
    found = system.get("criteria", {}).get(name)
    return found.get("score") if found else None


def render_csv(content: ReportContent) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for s in content.systems:
        row = (
            s.get("vendor"),
            s.get("system"),
            s.get("name"),
            s.get("grade"),
            s.get("score"),
            s.get("ladder"),
            s.get("coverage"),
            *(_criterion(s, c) for c in CRITERIA_COLUMNS),
        )
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
