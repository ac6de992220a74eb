"""docs/cli.md is generated from the Typer app and must not drift; every command and
option explains itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from api_audit.cli import app
from api_audit.report.cli_docs import REGENERATE, render_cli_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "cli.md"


def test_docs_cli_md_matches_the_command_line() -> None:
    actual = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert actual == render_cli_markdown(app), (
        f"docs/cli.md is out of date with the command line; regenerate it: {REGENERATE}"
    )


def test_the_regenerate_command_prints_the_docs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api_audit.report.cli_docs"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert done.stdout == render_cli_markdown(app)


def _leaves(group: Any, path: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _leaves(command, f"{path}{name} ")
        else:
            found.append((f"{path}{name}", command))
    return found


COMMANDS = _leaves(typer.main.get_command(app))


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_and_option_has_help_and_a_section(name: str, command: Any) -> None:
    assert (command.help or "").strip(), f"{name} has no help"
    for param in command.params:
        assert (getattr(param, "help", None) or "").strip(), f"{name} {param.name} has no help"
    text = render_cli_markdown(app)
    assert f"\n## `{name}`\n" in text
    for param in command.params:
        for opt in getattr(param, "opts", ()):
            if opt.startswith("-"):
                assert f"`{opt}" in text or f", {opt}" in text, (name, opt)


def test_the_readme_links_to_the_reference_instead_of_restating_options() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[docs/cli.md](docs/cli.md)" in readme
    assert "--concurrency N" not in readme
