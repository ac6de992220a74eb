"""The probe library as text: docs/probes.md (Markdown), `probes list/show` (Rich), JSON.

Everything here is a pure function of the loaded methodology, so docs/probes.md is
generated, never edited, and a test fails when it drifts from the probe files:

    python -m api_audit.report.probe_docs > docs/probes.md

The Markdown leaves out the methodology hash and version (they cover rubric.yaml too), so
only a change to the probes or the matcher vocabulary changes it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from api_audit.methodology import LINKS, MATCHERS, load_methodology
from api_audit.models import (
    CRITERIA,
    PROBE_ORIGIN,
    Applicability,
    Expectation,
    Finding,
    Methodology,
    Probe,
)
from api_audit.text import safe_markup, strip_controls

REGENERATE = "python -m api_audit.report.probe_docs > docs/probes.md"


# --- plain descriptions shared by every format --------------------------------------------------


def describe_request(probe: Probe) -> str:
    """One sentence: what is fetched, with which Accept, and what happens without a URL."""
    request = probe.request
    method = request.method
    if request.endpoint is not None:
        kinds = " or ".join((request.endpoint, *request.fallback))
        what = f"{method} the catalogue's {kinds} URL"
        if request.candidates:
            paths = ", ".join(f"`{p}`" for p in request.candidates)
            what += f"; without one, the first of {paths} under {request.base} that passes"
    elif request.candidates:
        paths = ", ".join(f"`{p}`" for p in request.candidates)
        what = f"{method} {paths} under {request.base}, passing on the first that passes"
    else:
        what = f"{method} `{request.path}` under {request.base}"
    if request.scheme == "http":
        what += ", in its http:// form"
    if request.accept:
        what += f" (Accept: `{request.accept}`)"
    if request.send_origin:
        what += f", sending `Origin: {PROBE_ORIGIN}`"
    if request.compare_random_path:
        what += "; also a random path on the same origin, to compare"
    return f"{what}. Without a URL to fetch: {request.when_missing}."


def describe_applies_to(applies: Applicability) -> str:
    """Who the probe is for, in words ("every system" when it has no rules)."""
    parts: list[str] = []
    if applies.service_areas:
        parts.append("service areas " + ", ".join(applies.service_areas))
    if applies.claimed:
        parts.append("systems claiming " + ", ".join(applies.claimed))
    who = " or ".join(parts) or "every system"
    if applies.endpoints:
        who += " with a " + " and ".join(applies.endpoints) + " URL"
    return who


def expectation_text(expectation: Expectation) -> str:
    """`matcher: argument` as compact JSON (true, "2xx", {"min_share": 0.5} ...)."""
    argument = json.dumps(expectation.argument, ensure_ascii=False, sort_keys=True)
    return f"{expectation.matcher}: {argument}"


def probe_to_dict(probe: Probe, results: Sequence[Finding] | None = None) -> dict[str, object]:
    """Everything about a probe as plain JSON values (`probes show -f json`)."""
    request = probe.request
    follow = request.follow
    examples: list[dict[str, object]] = []
    for index, example in enumerate(probe.examples):
        row: dict[str, object] = {"name": example.name, "outcome": example.expect_outcome}
        if example.expect_credit is not None:
            row["credit"] = example.expect_credit
        if results is not None:
            row["result"] = {
                "outcome": results[index].outcome,
                "credit": results[index].credit,
                "message": results[index].message,
            }
        examples.append(row)
    return {
        "id": probe.id,
        "title": probe.title,
        "criterion": probe.criterion,
        "weight": probe.weight,
        "weight_reason": probe.weight_reason,
        "why": probe.why,
        "why_url": probe.why_url,
        "applies_to": {
            "service_areas": list(probe.applies_to.service_areas),
            "claimed": list(probe.applies_to.claimed),
            "endpoints": list(probe.applies_to.endpoints),
        },
        "request": {
            "endpoint": request.endpoint,
            "fallback": list(request.fallback),
            "path": request.path,
            "candidates": list(request.candidates),
            "base": request.base,
            "method": request.method,
            "accept": request.accept,
            "scheme": request.scheme,
            "compare_random_path": request.compare_random_path,
            "send_origin": request.send_origin,
            "when_missing": request.when_missing,
            "summary": describe_request(probe),
        },
        "expect": [{e.matcher: e.argument} for e in probe.expect],
        "follow": None
        if follow is None
        else {
            "link": follow.link,
            "accept": follow.accept,
            "when_no_link": follow.when_no_link,
            "expect": [{e.matcher: e.argument} for e in follow.expect],
        },
        "remediation": probe.remediation,
        "effort": probe.effort,
        "examples": examples,
        "file": Path(probe.source).name,
    }


def probe_summary(probe: Probe) -> dict[str, object]:
    """The row `probes list -f json` prints."""
    return {
        "id": probe.id,
        "criterion": probe.criterion,
        "weight": probe.weight,
        "title": probe.title,
        "applies_to": describe_applies_to(probe.applies_to),
    }


# --- Markdown (docs/probes.md) ------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(strip_controls(text).split()).replace("|", "\\|")


def _weight(value: float) -> str:
    return f"{value:g}"


def render_probes_markdown(methodology: Methodology) -> str:
    """docs/probes.md: summary table, matchers, links, then every probe in full."""
    probes = sorted(methodology.probes, key=lambda p: (CRITERIA.index(p.criterion), p.id))
    counts = ", ".join(f"{sum(1 for p in probes if p.criterion == c)} {c}" for c in CRITERIA)
    lines = [
        "# Probes",
        "",
        f"<!-- Generated from probes/*.yaml by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        f"{len(probes)} probes ({counts}). Each is one file in `probes/`; "
        "`probes/README.md` explains the format and how a finding is reached, and "
        "`api-audit probes show ID` prints one probe with its examples run.",
        "",
        "| probe | criterion | weight | applies to | title |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [`{p.id}`](#{p.id}) | {p.criterion} | {_weight(p.weight)} | "
        f"{_cell(describe_applies_to(p.applies_to))} | {_cell(p.title)} |"
        for p in probes
    ]
    lines += _matcher_section() + _link_section()
    for criterion in CRITERIA:
        lines += ["", f"## {criterion}"]
        for probe in (p for p in probes if p.criterion == criterion):
            lines += _probe_section(probe)
    return "\n".join(lines) + "\n"


def _matcher_section() -> list[str]:
    lines = [
        "",
        "## Matchers",
        "",
        "The closed vocabulary of `expect:` (api_audit/methodology/matchers/).",
        "",
        "| matcher | argument | passes when |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{name}` | {_cell(spec.argument)} | {_cell(spec.doc)} |"
        for name, spec in sorted(MATCHERS.items())
    ]
    return lines


def _link_section() -> list[str]:
    lines = [
        "",
        "## Links a probe can follow",
        "",
        "The closed vocabulary of `follow: {link: ...}`: where a two-stage probe finds the URL "
        "of its second request.",
        "",
        "| link | finds |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {_cell(spec.doc)} |" for name, spec in sorted(LINKS.items())]
    return lines


def _probe_section(probe: Probe) -> list[str]:
    reason = f" — {probe.weight_reason}" if probe.weight_reason else ""
    lines = [
        "",
        f"### {probe.id}",
        "",
        f"**{probe.title}**",
        "",
        f"- Criterion: {probe.criterion} · weight {_weight(probe.weight)}{reason}",
        f"- Applies to: {describe_applies_to(probe.applies_to)}",
        f"- Request: {describe_request(probe)}",
        "- Expect, in order: " + "; ".join(f"`{expectation_text(e)}`" for e in probe.expect),
    ]
    follow = probe.request.follow
    if follow is not None:
        accept = f" (Accept: `{follow.accept}`)" if follow.accept else ""
        lines.append(
            f"- Then follow `{follow.link}`{accept} and expect: "
            + "; ".join(f"`{expectation_text(e)}`" for e in follow.expect)
            + f" (no link: {follow.when_no_link})"
        )
    lines += [
        f"- Source: <{probe.why_url}>",
        f"- File: `probes/{Path(probe.source).name}`",
        "",
        " ".join(probe.why.split()),
        "",
        f"**Remediation** (effort {probe.effort}): " + " ".join(probe.remediation.split()),
        "",
        "| example | outcome |",
        "|---|---|",
    ]
    for example in probe.examples:
        credit = f" (credit {example.expect_credit:g})" if example.expect_credit is not None else ""
        lines.append(f"| {_cell(example.name)} | {example.expect_outcome}{credit} |")
    return lines


# --- Rich (probes list / probes show) -----------------------------------------------------------


def probes_table(methodology: Methodology) -> Table:
    table = Table(title=f"{len(methodology.probes)} probes", expand=False)
    for column in ("probe", "criterion", "weight", "applies to", "title"):
        table.add_column(column, justify="right" if column == "weight" else "left")
    for probe in sorted(methodology.probes, key=lambda p: (CRITERIA.index(p.criterion), p.id)):
        table.add_row(
            safe_markup(probe.id),
            probe.criterion,
            _weight(probe.weight),
            safe_markup(describe_applies_to(probe.applies_to)),
            safe_markup(probe.title),
        )
    return table


def probe_detail(probe: Probe, results: Sequence[Finding] | None = None) -> RenderableType:
    """Everything about one probe, its examples with their results when given."""
    fields: Mapping[str, str] = {
        "criterion": probe.criterion,
        "weight": _weight(probe.weight)
        + (f" — {probe.weight_reason}" if probe.weight_reason else ""),
        "applies to": describe_applies_to(probe.applies_to),
        "request": describe_request(probe),
        "expect": "; ".join(expectation_text(e) for e in probe.expect),
    }
    parts: list[RenderableType] = [
        Text.from_markup(f"[bold]{safe_markup(probe.id)}[/] — {safe_markup(probe.title)}")
    ]
    rows = dict(fields)
    follow = probe.request.follow
    if follow is not None:
        rows["then follow"] = (
            f"{follow.link} (Accept: {follow.accept or '*/*'}; no link: {follow.when_no_link}): "
            + "; ".join(expectation_text(e) for e in follow.expect)
        )
    rows |= {
        "why": " ".join(probe.why.split()),
        "source": probe.why_url,
        "remediation": " ".join(probe.remediation.split()) + f" (effort {probe.effort})",
        "file": probe.source,
    }
    detail = Table.grid(padding=(0, 2))
    detail.add_column(style="bold")
    detail.add_column()
    for name, value in rows.items():
        detail.add_row(name, safe_markup(value))
    parts.append(detail)
    parts.append(_examples_table(probe, results))
    return Group(*parts)


def _examples_table(probe: Probe, results: Sequence[Finding] | None) -> Table:
    table = Table(title="examples", expand=False)
    table.add_column("example")
    table.add_column("expected")
    if results is not None:
        table.add_column("result")
        table.add_column("message")
    for index, example in enumerate(probe.examples):
        credit = f" ({example.expect_credit:g})" if example.expect_credit is not None else ""
        row = [safe_markup(example.name), example.expect_outcome + credit]
        if results is not None:
            found = results[index]
            same = found.outcome == example.expect_outcome
            mark = "[green]ok[/]" if same else "[red]differs[/]"
            row += [f"{found.outcome} {mark}", safe_markup(found.message)]
        table.add_row(*row)
    return table


def main() -> None:
    """Print docs/probes.md for the shipped probes."""
    sys.stdout.write(render_probes_markdown(load_methodology()))


if __name__ == "__main__":
    main()
