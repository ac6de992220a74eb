"""What a report shows, as plain values: the scored run (the JSON contract's document) and
the summaries and chart series drawn from it; pure.

Every renderer (HTML, Markdown, CSV, badges) reads the same `ReportContent`, and its
`document` is exactly what `scores.json` holds (`report/json.py`), so the numbers in all the
files agree with `scorecard --format json` by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GRADES = ("A", "B", "C", "D", "E", "?")
# The headline bands the review reports on (issue 14): open, middling, closed, unknown.
BANDS = (("A–B", ("A", "B")), ("C", ("C",)), ("D–E", ("D", "E")), ("?", ("?",)))
NO_LADDER = "none"


@dataclass(frozen=True)
class CouncilView:
    """A report about one council: who it is and its contracts that end soon."""

    code: str
    name: str
    renewals: tuple[Mapping[str, object], ...] = ()
    within_months: int = 18


@dataclass(frozen=True)
class ReportContent:
    """Everything a report renders; `document` is the scorecard JSON contract's document."""

    document: Mapping[str, Any]
    generated: str  # ISO date the report was written
    service_areas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    remediation: Mapping[str, str] = field(default_factory=dict)  # probe id -> remediation
    methodology_version: str = ""  # the methodology the report was scored under
    methodology_sha256: str = ""
    tool_version: str = ""
    council: CouncilView | None = None

    @property
    def systems(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("systems", []))

    @property
    def run(self) -> Mapping[str, Any]:
        return dict(self.document.get("run", {}))


@dataclass(frozen=True)
class Share:
    label: str
    count: int
    percent: int  # of all systems, rounded


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: a category and how many systems fall in it."""

    category: str
    count: int


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]

    @property
    def total(self) -> int:
        return sum(s.count for s in self.segments)


@dataclass(frozen=True)
class Series:
    """A chart's data: one bar per group, each stacked by category (the table beside it)."""

    title: str
    categories: tuple[str, ...]
    bars: tuple[Bar, ...]


def headline(systems: Sequence[Mapping[str, Any]]) -> tuple[int, int, tuple[Share, ...]]:
    """How many systems, how many graded, and the share in each band."""
    grades = Counter(str(s.get("grade")) for s in systems)
    total = len(systems)
    shares = tuple(
        Share(label, n, round(100 * n / total) if total else 0)
        for label, members in BANDS
        for n in [sum(grades[g] for g in members)]
    )
    return total, total - grades["?"], shares


def ladder_level(system: Mapping[str, Any]) -> str:
    """The ladder level as a chart category: "L3?" counts as L3 (the level that holds)."""
    ladder = system.get("ladder")
    return str(ladder).rstrip("?") if ladder else NO_LADDER


def grade_of(system: Mapping[str, Any]) -> str:
    grade = str(system.get("grade"))
    return grade if grade in GRADES else "?"


def vendor_label(system: Mapping[str, Any]) -> str:
    return str(system.get("vendor_name") or system.get("vendor") or "")


def series(
    title: str,
    systems: Sequence[Mapping[str, Any]],
    groups_of: Mapping[str, Iterable[str]],
    category_of: str,
) -> Series:
    """Count systems per (group, category); `groups_of` maps a system id to its groups
    (a system in two service areas counts in both); `category_of` is "grade" or "ladder"."""
    pick = grade_of if category_of == "grade" else ladder_level
    counts: dict[str, Counter[str]] = {}
    for system in systems:
        for group in groups_of.get(str(system.get("system")), ()) or ("(none)",):
            counts.setdefault(group, Counter())[pick(system)] += 1
    categories: tuple[str, ...] = GRADES
    if category_of != "grade":
        categories = tuple(sorted({c for n in counts.values() for c in n}))
    bars = tuple(
        Bar(group, tuple(Segment(c, counts[group][c]) for c in categories))
        for group in sorted(counts)
    )
    return Series(title, categories, bars)


def charts(content: ReportContent) -> tuple[Series, ...]:
    """Grades and ladder levels by service area and by vendor."""
    systems = content.systems
    areas = {str(s["system"]): content.service_areas.get(str(s["system"]), ()) for s in systems}
    vendors = {str(s["system"]): (vendor_label(s),) for s in systems}
    return (
        series("Grades by service area", systems, areas, "grade"),
        series("Ladder levels by service area", systems, areas, "ladder"),
        series("Grades by vendor", systems, vendors, "grade"),
        series("Ladder levels by vendor", systems, vendors, "ladder"),
    )


def by_vendor(systems: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Systems grouped under their vendor, vendors in name order, systems in run order."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for system in systems:
        grouped.setdefault(str(system.get("vendor")), []).append(system)
    return sorted(grouped.items(), key=lambda item: (vendor_label(item[1][0]).lower(), item[0]))
