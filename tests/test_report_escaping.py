"""Issue 14 item 4: nothing a supplier's server or a catalogue says can inject into a
report's HTML, Markdown, CSV or badges, whichever field carries it."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest

from api_audit.report.badges import badge_file_name, render_badge
from api_audit.report.content import CouncilView, ReportContent
from api_audit.report.csv import render_csv, safe_cell
from api_audit.report.html import COLOURS, is_link, render_html
from api_audit.report.markdown import md_text, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title></svg><script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](http://evil.example/x.png)",
    "[bold red]Rich[/] [link=http://evil.example]x[/link]",
    "\x1b[31mred\x1b]8;;http://evil.example\x07link\x1b[0m",
    "abc\u202edcba\u2066bidi\u200b",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "a|b||c",
    "line one\nline two\r\n| x | y |",
    "`code` ``` <b>bold</b> &amp; &lt;",
    "{{ 7*7 }} {% raw %}",
    "@everyone #1 ~~strike~~ *em* _u_",
]


def _document(text: str, url: str = "https://supplier.example/docs") -> dict[str, Any]:
    finding = {
        "probe": "docs-public",
        "criterion": "documented",
        "outcome": "fail",
        "message": text,
        "basis": "observed",
        "source": url,
        "seen": None,
        "excerpt": text,
        "evidence": [
            {
                "url": url,
                "final_url": url,
                "status": 200,
                "sha256": "ab" * 32,
                "fetched_at": "2026-01-01T00:00:00+00:00",
                "error": None,
            }
        ],
        "replies": [
            {"date": "2026-01-02", "about": text, "text": text, "status": "pending", "source": url}
        ],
        "set_aside": None,
    }
    system = {
        "vendor": text,
        "vendor_name": text,
        "system": text,
        "name": text,
        "grade": "C",
        "score": 5.0,
        "coverage": 0.9,
        "ladder": text,
        "ladder_label": text,
        "criteria": {"documented": {"score": 5.0, "coverage": 1.0}},
        "findings": [finding],
        "replies": finding["replies"],
    }
    run = {"id": 1, "started_at": "2026-01-01", "finished_at": None, "status": "complete"}
    return {"format_version": 1, "run": run, "systems": [system]}


def _content(text: str, url: str = "https://supplier.example/docs") -> ReportContent:
    renewal = {
        "system_name": text,
        "vendor": text,
        "supplier": text,
        "contract_end": text,
        "days_left": 30,
        "annual_value": 1000.0,
        "grade": text,
        "source": url,
        "imported": True,
    }
    return ReportContent(
        document=_document(text, url),
        generated="2026-01-03",
        service_areas={text: (text,)},
        remediation={"docs-public": text},
        council=CouncilView("E09000012", text, (renewal,)),
    )


class _Tags(HTMLParser):
    """Every start tag and attribute the browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


SAFE_BASELINE: set[str] = set()


def _tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def baseline_tags() -> set[str]:
    return {tag for tag, _ in _tags(render_html(_content("plain"))).tags}


@pytest.mark.parametrize("text", HOSTILE)
def test_html_gains_no_tag_attribute_or_script(text: str, baseline_tags: set[str]) -> None:
    page = render_html(_content(text))
    found = _tags(page)
    assert {tag for tag, _ in found.tags} <= baseline_tags
    assert "script" not in baseline_tags
    for _, attrs in found.tags:
        assert not [name for name, _ in attrs if name.startswith("on")]
        for name, value in attrs:
            if name in {"href", "src"}:
                assert value is not None
                assert value.startswith(("#", "https://supplier.example/"))
    assert "\x1b" not in page and "\u202e" not in page and "\u2066" not in page


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        'https://ok.example/"><script>alert(1)</script>',
        "https://ok.example/\u202eexe.txt",
    ],
)
def test_only_http_urls_become_links(url: str) -> None:
    page = render_html(_content("plain", url))
    hrefs = [v for _, attrs in _tags(page).tags for n, v in attrs if n == "href"]
    assert all(h is not None and h.startswith(("#", "http://", "https://")) for h in hrefs)
    assert not [h for h in hrefs if h and "script" in h.lower() and "<" in h]
    assert "<script" not in page


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://a.example/x?y=1", True),
        ("http://a.example", True),
        ("HTTPS://A.EXAMPLE/", True),
        ("javascript:alert(1)", False),
        ("https:///nohost", False),
        ("ftp://a.example/", False),
        ("https://a.example/\x1b[0m", False),
        ("https://a.example/ b", False),
        (None, False),
    ],
)
def test_is_link(url: str | None, linked: bool) -> None:
    assert is_link(url) is linked


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_cells_stay_inert(text: str) -> None:
    summary = render_markdown(_content(text))
    assert "\x1b" not in summary and "\u202e" not in summary
    tables = re.split(r"\n(?!\|)", summary)  # each table is a run of lines starting "|"
    for table in (t for t in tables if t.startswith("| ")):
        rows = [re.sub(r"\\.", "", row) for row in table.splitlines()]  # escapes out
        assert len({row.count("|") for row in rows}) == 1  # no row gained or lost a cell
        for row in rows[2:]:
            assert not set(row) & set("<>[]`!&@*_~()")


def _market(text: str) -> dict[str, object]:
    change = {
        "system": "s", "name": text, "change": "regressed", "cause": "observed",
        "before": {"grade": "B", "ladder": "L4"}, "after": {"grade": "D", "ladder": "L3"},
    }  # fmt: skip
    return {"changes_since": {"from": 3, "to": 4}, "changes": [change], "changes_note": None}


@pytest.mark.parametrize("text", HOSTILE)
def test_the_summary_lists_changes_since_the_previous_run_inertly(text: str) -> None:
    summary = render_markdown(_content("Plain name"), {"market": _market(text)})
    section = summary[summary.index("## Changes since run 3") :]
    rows = [re.sub(r"\\.", "", row) for row in section.splitlines() if row.startswith("|")]
    assert len(rows) == 3 and len({row.count("|") for row in rows}) == 1
    assert "| regressed | B L4 | D L3 | observed |" in rows[2]
    assert not set(rows[2]) & set("<>[]`!&@*_~()")


def test_the_summary_says_why_there_are_no_changes() -> None:
    note = {"changes_since": None, "changes": [], "changes_note": "no complete run before run 1"}
    summary = render_markdown(_content("Plain name"), {"market": note})
    assert summary.rstrip().endswith("no complete run before run 1")
    assert "## Changes" not in render_markdown(_content("Plain name"))  # council reports


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_escapes_every_active_character(text: str) -> None:
    cleaned = md_text(text)
    assert "\n" not in cleaned and "\r" not in cleaned
    stripped = cleaned.replace("\\\\", "")
    for char in "<>[]()`|*_~#!&@{}":
        assert stripped.count(char) == stripped.count("\\" + char)


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_cells_never_start_a_formula(text: str) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(_content(text)))))
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])
    for cell in rows[1]:
        assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))
        assert "\x1b" not in cell and "\n" not in cell


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "' =1"),
        ("\r=1", "' =1"),
        ("plain", "plain"),
        (-1.5, -1.5),
        (None, ""),
    ],
)
def test_safe_cell(value: object, shown: object) -> None:
    cell = safe_cell(value)
    if isinstance(shown, str) and shown.startswith("'") and value != shown[1:]:
        assert isinstance(cell, str) and cell.startswith("'")
    else:
        assert cell == shown


@pytest.mark.parametrize("text", HOSTILE)
def test_badges_are_well_formed_and_inert(text: str) -> None:
    svg = render_badge({"system": text, "name": text, "grade": text, "ladder": text})
    root = ET.fromstring(svg)  # well-formed: nothing broke out of an attribute or element
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    assert tags <= {"svg", "title", "rect", "g", "text"}
    assert not [a for el in root.iter() for a in el.attrib if a.startswith("on")]


@pytest.mark.parametrize(
    "system_id", [*HOSTILE, "../../etc/passwd", ".hidden", "a/b\\c", "x" * 300, "", "ok@E09"]
)
def test_badge_file_names_stay_in_the_folder(system_id: str) -> None:
    name = badge_file_name(system_id)
    assert name.endswith(".svg") and "/" not in name and "\\" not in name
    assert not name.startswith(".") and len(name) < 120
    assert all(c.isalnum() or c in "._@-" for c in name)


def test_two_ids_that_clean_alike_get_different_badges() -> None:
    assert badge_file_name("a/b") != badge_file_name("a:b")
    assert badge_file_name("openco-waste") == "openco-waste.svg"


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("key", sorted(COLOURS))
def test_every_grade_and_level_colour_reads_against_white(key: str) -> None:
    """White badge text and the bars on a white page: WCAG 2.1 4.5:1."""
    ratio = 1.05 / (_luminance(COLOURS[key]) + 0.05)
    assert ratio >= 4.5, (key, COLOURS[key], round(ratio, 2))
