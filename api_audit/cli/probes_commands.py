"""`probes list` and `probes show`: the methodology, one probe at a time."""

from __future__ import annotations

import difflib
import json
import sys
from typing import Annotated

import typer

from api_audit.cli.common import FormatOption, OutputFormat, ProbesOption, stdout_console
from api_audit.errors import AuditError


def probes_list(output: FormatOption = OutputFormat.table, probes: ProbesOption = None) -> None:
    """List every probe: id, criterion, weight, who it applies to, title."""
    from api_audit.methodology import load_methodology
    from api_audit.report.probe_docs import probe_summary, probes_table
    from api_audit.text import escape_json_text

    methodology = load_methodology(probes)
    if output is OutputFormat.json:
        rows = [probe_summary(p) for p in methodology.probes]
        sys.stdout.write(
            escape_json_text(json.dumps({"probes": rows}, indent=2, ensure_ascii=False))
        )
        sys.stdout.write("\n")
        return
    stdout_console().print(probes_table(methodology))


def probes_show(
    probe_id: Annotated[str, typer.Argument(metavar="ID", help="A probe id, e.g. open311.")],
    output: FormatOption = OutputFormat.table,
    probes: ProbesOption = None,
) -> None:
    """Show one probe in full: why, request, expectations, remediation, examples run."""
    from api_audit.methodology import load_methodology
    from api_audit.methodology.examples import run_example
    from api_audit.report.probe_docs import probe_detail, probe_to_dict
    from api_audit.text import escape_json_text

    methodology = load_methodology(probes)
    found = {p.id: p for p in methodology.probes}
    probe = found.get(probe_id)
    if probe is None:
        close = difflib.get_close_matches(probe_id, list(found), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (see `api-audit probes list`)"
        raise AuditError(f"no probe {probe_id!r}{hint}")  # repr: shown escaped
    results = [run_example(probe, example) for example in probe.examples]
    if output is OutputFormat.json:
        document = probe_to_dict(probe, results)
        sys.stdout.write(escape_json_text(json.dumps(document, indent=2, ensure_ascii=False)))
        sys.stdout.write("\n")
        return
    stdout_console().print(probe_detail(probe, results))
