"""docs/cli.md from the Typer app itself: every command and option with its help.

The reference is generated, not written, so it cannot drift from `--help`; a test compares
the committed file with `render_cli_markdown()`. Regenerate it with `REGENERATE`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

REGENERATE = "python -m api_audit.report.cli_docs > docs/cli.md"
PROGRAM = "api-audit"


def render_cli_markdown(app: typer.Typer) -> str:
    """The Markdown reference of every command of `app`, in the order `--help` lists them."""
    root = typer.main.get_command(app)
    root_ctx = root.context_class(root, info_name=PROGRAM)
    lines = [
        "# Command-line reference",
        "",
        f"<!-- Generated from the Typer app by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        _paragraph(root.help or ""),
        "",
        "Every command prints results on stdout and progress and diagnostics on stderr; exit "
        "codes are in the README. Options shown as `<path>`, `<int>` … take a value.",
        "",
    ]
    for path, command, ctx in _commands(root, root_ctx, (PROGRAM,)):
        lines += _command_section(path, command, ctx)
    return "\n".join(lines).rstrip("\n") + "\n"


def _commands(
    group: Any, group_ctx: Any, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(path, command, context) for every leaf command below `group`, depth first."""
    for name, command in group.commands.items():
        if getattr(command, "hidden", False):
            continue
        ctx = command.context_class(command, info_name=name, parent=group_ctx)
        if hasattr(command, "commands"):
            yield from _commands(command, ctx, (*path, name))
        else:
            yield (*path, name), command, ctx


def _command_section(path: tuple[str, ...], command: Any, ctx: Any) -> list[str]:
    usage = " ".join([*path, *command.collect_usage_pieces(ctx)])
    lines = [f"## `{' '.join(path[1:])}`", "", _paragraph(command.help or ""), ""]
    lines += ["```", usage, "```", ""]
    rows = [record for p in command.params if (record := p.get_help_record(ctx)) is not None]
    if rows:
        lines += ["| option | meaning |", "|---|---|"]
        lines += [f"| `{_cell(opts)}` | {_cell(text)} |" for opts, text in rows]
        lines.append("")
    return lines


def _paragraph(text: str) -> str:
    """Help text as Markdown: its paragraphs kept, each joined into one line."""
    return "\n\n".join(" ".join(part.split()) for part in text.strip().split("\n\n"))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":  # pragma: no cover - the regenerate command, tested by subprocess
    from api_audit.cli import app as _app

    print(render_cli_markdown(_app), end="")
