"""`api-audit merge`: combine the databases of `run --shard K/N` into one run."""

from __future__ import annotations

from typing import Annotated

import typer

from api_audit.cli.common import stderr_console


def merge(
    out: Annotated[str, typer.Argument(metavar="OUT.db", help="The database to merge into.")],
    inputs: Annotated[
        list[str],
        typer.Argument(metavar="IN.db...", help="One database per shard (its newest run)."),
    ],
) -> None:
    """Merge shard databases (run --shard K/N) into one run in OUT.db, scored as one run."""
    from api_audit.store.merge import merge_shards
    from api_audit.text import escape_controls

    run = merge_shards(out, inputs)
    stderr_console().print(
        f"merged {len(inputs)} shards into run {run.id} of {escape_controls(out, one_line=True)}"
        f" ({run.status})",
        markup=False,
    )
