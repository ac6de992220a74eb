"""Render a report's content as Markdown (`summary.md`) for tickets and pull requests.

Every value from a catalogue or a supplier's server goes through `md_text`: on one line,
without control or bidi characters, and with every character CommonMark or GitHub's tables
give a meaning (`|`, backticks, `<`, `[`, `*`, `_` ...) backslash-escaped (CommonMark 0.31
§2.4: any ASCII punctuation may be escaped), so it cannot become a link, an image, HTML, a
code span or a new table cell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from api_audit.report.content import ReportContent, headline
from api_audit.text import quote

# ASCII punctuation with a meaning in CommonMark or GFM (tables, autolinks, emphasis ...).
# ASCII punctuation that can start a link, image, HTML, code span, emphasis, table cell,
# entity or @-mention anywhere in a line (a cell never starts a line, so `-`, `+`, `.`
# and `=` cannot make a list or heading and stay as written).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&@])")
CELL_CHARS = 160


def md_text(value: object, limit: int = CELL_CHARS) -> str:
    """Untrusted text as inert Markdown on one line."""
    text = "" if value is None else str(value)
    return _SPECIAL.sub(r"\\\1", quote(text, limit))


def _number(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "—"


def _percent(value: object) -> str:
    return f"{100 * value:.0f}%" if isinstance(value, int | float) else "—"


def _criterion(system: Mapping[str, Any], name: str) -> str:
    found = system.get("criteria", {}).get(name)
    return _number(found.get("score")) if found else "—"


def render_markdown(content: ReportContent, extra: Mapping[str, Any] | None = None) -> str:
    """Headline numbers, the table of every system, and (from `extra`'s market views) what
    changed since the previous run, regressions first: what a pull request or ticket needs."""
    run, systems = content.run, content.systems
    total, graded, shares = headline(systems)
    about = f" for {md_text(content.council.name)}" if content.council else ""
    lines = [
        f"# Open data access report{about}",
        "",
        f"Run {run.get('id')} ({md_text(run.get('status'))}), started "
        f"{md_text(run.get('started_at'))}; methodology "
        f"{md_text(content.methodology_version)}; api\\-audit {md_text(content.tool_version)}.",
        "",
        f"**{total}** systems, **{graded}** graded: "
        + ", ".join(f"{md_text(s.label)} {s.count} ({s.percent}%)" for s in shares),
        "",
        "| vendor | system | grade | score | ladder | documented | free | standards | hygiene "
        "| coverage |",
        "|---|---|---|--:|---|--:|--:|--:|--:|--:|",
    ]
    for s in systems:
        cells = (
            md_text(s.get("vendor_name") or s.get("vendor")),
            md_text(s.get("name")),
            md_text(s.get("grade")),
            _number(s.get("score")),
            md_text(s.get("ladder") or "—"),
            _criterion(s, "documented"),
            _criterion(s, "free"),
            _criterion(s, "standards"),
            _criterion(s, "hygiene"),
            _percent(s.get("coverage")),
        )
        lines.append("| " + " | ".join(cells) + " |")
    lines += _renewals(content)
    lines += _changes((extra or {}).get("market"))
    return "\n".join(lines) + "\n"


def _changes(market: Mapping[str, Any] | None) -> list[str]:
    """The market views' changes since the previous complete run (`diff`), regressions
    first as `diff` orders them; or the note saying why there are none to show."""
    if not market:
        return []
    since = market.get("changes_since")
    if not since:
        note = market.get("changes_note") or "no previous complete run"
        return ["", "## Changes since the previous run", "", md_text(note, 300)]
    changes = market.get("changes") or []
    lines = ["", f"## Changes since run {md_text(since.get('from'))}", ""]
    if not changes:
        return [*lines, "No system's grade, ladder or findings changed."]
    lines += ["| system | change | before | after | cause |", "|---|---|---|---|---|"]
    for change in changes:
        before, after = change.get("before") or {}, change.get("after") or {}
        cells = (
            change.get("name") or change.get("system"),
            change.get("change"),
            f"{before.get('grade', '—')} {before.get('ladder') or ''}".strip(),
            f"{after.get('grade', '—')} {after.get('ladder') or ''}".strip(),
            change.get("cause"),
        )
        lines.append("| " + " | ".join(md_text(c) for c in cells) + " |")
    return lines


def _renewals(content: ReportContent) -> list[str]:
    if content.council is None or not content.council.renewals:
        return []
    lines = [
        "",
        f"## Contracts ending within {content.council.within_months} months",
        "",
        "| system | vendor | contract end | grade |",
        "|---|---|---|---|",
    ]
    for r in content.council.renewals:
        cells = (r.get("system_name"), r.get("vendor") or r.get("supplier"), r.get("contract_end"))
        grade = md_text(r.get("grade") or "not audited")
        lines.append("| " + " | ".join(md_text(c) for c in cells) + f" | {grade} |")
    return lines
