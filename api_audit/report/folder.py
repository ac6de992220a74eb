"""Write a report folder: index.html, scores.json, summary.md, scores.csv, badges/*.svg.

The folder is written whole or refused: an existing folder that holds anything is left
alone unless the caller forces it (a dated folder from an earlier report the same day
should not be overwritten by accident).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from api_audit.errors import AuditError
from api_audit.report.badges import badge_file_name, render_badge
from api_audit.report.content import ReportContent
from api_audit.report.csv import render_csv
from api_audit.report.html import render_html
from api_audit.report.markdown import render_markdown


def check_folder(folder: Path, *, force: bool) -> None:
    """Refuse a non-empty folder (or a file in the way) unless `force`."""
    if folder.exists() and not folder.is_dir():
        raise AuditError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise AuditError(f"{folder} is not empty (pass --force to write over its reports)")


def write_report(
    folder: Path,
    content: ReportContent,
    scores_json: str,
    extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write every file of the report and return their paths, index.html first."""
    badges = folder / "badges"
    badges.mkdir(parents=True, exist_ok=True)
    files = {
        folder / "index.html": render_html(content, extra),
        folder / "scores.json": scores_json,
        folder / "summary.md": render_markdown(content, extra),
        folder / "scores.csv": render_csv(content),
    }
    for system in content.systems:
        files[badges / badge_file_name(str(system.get("system")))] = render_badge(system)
    for path, text in files.items():
        # newline="" keeps the CSV writer's own line ends; utf-8 for every reader
        path.write_text(text, encoding="utf-8", newline="" if path.suffix == ".csv" else None)
    return list(files)
