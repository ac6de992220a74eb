"""Render a report's content as one self-contained HTML page (and its SVG charts), from
Jinja2 templates with autoescaping on.

Nothing from a supplier's server or a catalogue is ever marked safe: autoescaping quotes it
for HTML, and every value printed passes `_finalize` first, which shows control and bidi
characters as escapes (Trojan Source, CVE-2021-42574) so the page cannot be made to read
differently from its data. Only http(s) URLs become links (`link` test); anything else,
`javascript:` included, is printed as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChainableUndefined, Environment, PackageLoader
from markupsafe import Markup

from api_audit.report.content import (
    ReportContent,
    Series,
    by_vendor,
    charts,
    headline,
)
from api_audit.text import UNSAFE, escape_controls

# Colours have at least 4.5:1 contrast against white (WCAG 2.1 1.4.3, so white badge text on
# them is readable; 1.4.11 asks 3:1 of the bars), green to red from open to closed.
COLOURS = {
    "A": "#1b5e20",
    "B": "#3b7d41",
    "C": "#8a6500",
    "D": "#b0412e",
    "E": "#b2182b",
    "?": "#767676",
    "L0": "#b2182b",
    "L1": "#b0412e",
    "L2": "#8a6500",
    "L3": "#3b7d41",
    "L4": "#1b5e20",
    "L5": "#00441b",
    "none": "#767676",
}
CHART_WIDTH = 640
LABEL_WIDTH = 200
ROW_HEIGHT = 24
LABEL_CHARS = 28  # a longer group name is cut in the chart; the table beside it has it all
_NOT_IN_URLS = frozenset('"<>`{}|\\^')


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    category: str
    count: int
    colour: str


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: float
    total: int
    rects: tuple[Rect, ...]


@dataclass(frozen=True)
class Chart:
    """A horizontal stacked bar chart laid out for SVG, with its series for the table."""

    id: str
    series: Series
    rows: tuple[ChartRow, ...]
    height: float
    width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH


def layout_chart(chart_id: str, data: Series) -> Chart:
    """Bars scaled to the largest group; a segment's width is its share of that scale."""
    most = max((bar.total for bar in data.bars), default=0) or 1
    scale = (CHART_WIDTH - LABEL_WIDTH - 40) / most
    rows = []
    for index, bar in enumerate(data.bars):
        y, x, rects = 8 + index * ROW_HEIGHT, float(LABEL_WIDTH), []
        for segment in bar.segments:
            if segment.count:
                width = segment.count * scale
                colour = COLOURS.get(segment.category, "#767676")
                rects.append(Rect(x, y, width, segment.category, segment.count, colour))
                x += width
        label = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[: LABEL_CHARS - 1] + "…"
        rows.append(ChartRow(label, y, bar.total, tuple(rects)))
    return Chart(chart_id, data, tuple(rows), 16 + len(rows) * ROW_HEIGHT)


def is_link(value: object) -> bool:
    """True for an absolute http(s) URL with a host and nothing unsafe in it: only these
    become links (a `javascript:` or `data:` URL stays text)."""
    if not isinstance(value, str) or UNSAFE.search(value):
        return False
    # RFC 3986 §2 never allows these raw in a URL: one that has them is shown, not followed
    if any(c.isspace() or c in _NOT_IN_URLS for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)


def _finalize(value: object) -> object:
    """Every printed value: our own markup as is; text with its unsafe characters shown."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return escape_controls(value)
    return "" if value is None else value


def _number(value: object, places: int = 1) -> str:
    return f"{value:.{places}f}" if isinstance(value, int | float) else "—"


def _percent(value: object) -> str:
    return f"{100 * value:.0f}%" if isinstance(value, int | float) else "—"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("api_audit.report", "templates"),
        autoescape=True,  # every template, whatever its name: HTML and SVG alike
        undefined=ChainableUndefined,  # a key an older document lacks prints blank, never raises
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["link"] = is_link
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    return env


def report_title(content: ReportContent) -> str:
    if content.council is not None:
        return f"Open data access of {content.council.name}'s suppliers"
    return "Open data access of local-government suppliers"


def render_html(content: ReportContent, extra: Mapping[str, Any] | None = None) -> str:
    """The whole page; `extra` is room for sections other commands add (market views)."""
    systems = content.systems
    total, graded, shares = headline(systems)
    drawn = tuple(layout_chart(f"chart-{i}", s) for i, s in enumerate(charts(content), 1))
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            content=content,
            title=report_title(content),
            anchors={str(s["system"]): n for n, s in enumerate(systems, 1)},
            run=content.run,
            systems=systems,
            total=total,
            graded=graded,
            shares=shares,
            charts=drawn,
            vendors=by_vendor(systems),
            colours=COLOURS,
            extra=extra or {},
        )
    )
