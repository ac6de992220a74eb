"""Render matched contracts: JSON rows (docs/json.md), a Rich table, and vendors.yaml
`instances:` entries for an investigator to paste; data in, text out."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich.table import Table

from api_audit.catalogue.councils import load_register
from api_audit.catalogue.renewals import promoted_sources
from api_audit.models import Catalogue, ContractMatch, System
from api_audit.sources.matching import MatchedContract
from api_audit.sources.periods import annual_value
from api_audit.text import escape_json_text, quote, safe_markup


def match_document(match: ContractMatch) -> dict[str, object]:
    return {
        "target": match.target,
        "method": match.method,
        "confidence": match.confidence,
        "note": match.note,
    }


def contract_document(matched: MatchedContract) -> dict[str, object]:
    """One contract as `contracts --format json` writes it (docs/json.md "contracts")."""
    c = matched.contract
    return {
        "ocid": c.ocid,
        "buyer": c.buyer.name,
        "council": matched.council.target,
        "supplier": matched.supplier,
        "vendor": matched.vendor.target,
        "system": matched.system.target,
        "start": c.start.isoformat() if c.start else None,
        "end": c.end.isoformat() if c.end else None,
        "value": c.value,
        "currency": c.currency,
        "source_url": c.notice_url,
        "match": {
            "council": match_document(matched.council),
            "vendor": match_document(matched.vendor),
            "system": match_document(matched.system),
        },
        "flags": list(c.flags),
        # additions beside the fields
        "title": c.title,
        "suppliers": [s.name for s in c.suppliers],
        "resellers": list(matched.resellers),
        "release_id": c.release_id,
        "release_date": c.release_date,
    }


def write_contracts_json(matched: Iterable[MatchedContract], out: TextIO) -> int:
    """Write `{"contracts": [...]}` one contract at a time (flat memory); returns how many.
    Controls and text-reordering characters in notices are written as \\uXXXX escapes."""
    out.write('{\n  "contracts": [')
    count = 0
    for count, item in enumerate(matched, start=1):
        text = escape_json_text(json.dumps(contract_document(item), indent=2, ensure_ascii=False))
        out.write(("," if count > 1 else "") + "\n    " + text.replace("\n", "\n    "))
    out.write("\n  ]\n}\n" if count else "]\n}\n")
    return count


def _shown(match: ContractMatch, fallback: str) -> str:
    if match.target is not None:
        return safe_markup(match.target)
    return "? " + safe_markup(quote(fallback, 40)) if fallback.strip() else "—"


def contracts_table(rows: Sequence[MatchedContract]) -> Table:
    """People's view: who bought what from whom, when it ends, how sure each tie is."""
    register = load_register()
    table = Table(title=f"{len(rows)} contract(s)", caption="? = not matched (see --format json)")
    for column in ("council", "vendor", "system", "ends", "value", "confidence", "ocid"):
        table.add_column(column)
    for item in rows:
        c = item.contract
        council = register.lookup(item.council.target) if item.council.target else None
        table.add_row(
            safe_markup(council.nice_name) if council else _shown(item.council, c.buyer.name),
            _shown(item.vendor, item.supplier),
            _shown(item.system, ""),
            c.end.isoformat() if c.end else "—",
            _money(c.value, c.currency),
            "/".join(f"{m.confidence:.2f}" for m in (item.council, item.vendor, item.system)),
            safe_markup(quote(c.ocid, 60)),
        )
    return table


def _money(value: float | None, currency: str | None) -> str:
    if value is None:
        return "—"
    if currency in (None, "GBP"):
        return f"£{value:,.0f}"
    return f"{value:,.0f} {safe_markup(quote(currency, 8))}"


def instances_yaml(matched: Iterable[MatchedContract], catalogue: Catalogue) -> str:
    """vendors.yaml `instances:` entries for contracts matched to a council and a system,
    grouped by system under a comment naming it; nothing is written to the catalogue.
    Contracts already promoted (an instance with the notice as its `source`) are left out."""
    promoted = promoted_sources(catalogue)
    systems = {s.id: s for s in catalogue.systems}
    groups: dict[str, list[MatchedContract]] = defaultdict(list)
    skipped = already = 0
    for item in matched:
        if item.contract.notice_url and item.contract.notice_url in promoted:
            already += 1
        elif item.council.target and item.system.target in systems:
            groups[str(item.system.target)].append(item)
        else:
            skipped += 1
    lines = [
        "# Instances from imported contract notices, to paste under each system's",
        "# `instances:` in vendors.yaml after checking them. Nothing was written.",
        "instances:" if groups else "instances: []",
    ]
    for system_id in sorted(groups):
        lines += _group(systems[system_id], groups[system_id])
    if already:
        lines.append(f"# {already} contract(s) left out: already in the catalogue (same source)")
    if skipped:
        lines.append(
            f"# {skipped} contract(s) left out: not matched to both a council and a system "
            "(api-audit contracts --unmatched)"
        )
    return "\n".join(lines) + "\n"


def _group(system: System, items: list[MatchedContract]) -> list[str]:
    lines = [
        "",
        f"  # system {system.id}: {_comment(system.name)} (vendor {system.vendor_id}),"
        f" {len(items)} contract(s)",
    ]
    for item in items:
        lines += _instance(item)
    return lines


def _instance(item: MatchedContract) -> list[str]:
    c = item.contract
    yearly = annual_value(c)
    lines = [
        f"  # {c.ocid}: {_comment(c.title or '(no title)')}; council by "
        f"{item.council.method} {item.council.confidence}, system by {item.system.method}",
        f"  - council: {item.council.target}",
    ]
    if c.start:
        lines.append(f"    contract_start: {c.start.isoformat()}")
    if c.end:
        lines.append(f"    contract_end: {c.end.isoformat()}")
    if yearly.value is not None:
        lines.append(f"    annual_value: {yearly.value:.0f}  # {_comment(yearly.how)}")
    else:
        lines.append(f"    # annual_value: not worked out: {_comment(yearly.how)}")
    if c.notice_url:
        lines.append(f"    source: {json.dumps(c.notice_url)}")
    lines.append(f"    notes: {json.dumps(f'from contract notice {c.ocid}')}")
    return lines


def _comment(text: str) -> str:
    """Notice text made safe inside a one-line YAML comment."""
    return quote(text, 100)
