"""The README stays true to the code: vocabularies, commands and the two start commands."""

from __future__ import annotations

from pathlib import Path

from api_audit.cli import app
from api_audit.models import SERVICE_AREAS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
CI_RUN = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text("utf-8")


def test_every_service_area_is_explained() -> None:
    missing = [area for area in SERVICE_AREAS if f"| `{area}` |" not in README]
    assert missing == []


def test_every_command_is_listed() -> None:
    names = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    names += [g.name for g in app.registered_groups if g.name]
    missing = [name for name in names if f"| `{name}" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    command = next(
        line for line in CI_RUN.splitlines() if "pytest" in line and not line.startswith("#")
    )
    assert command in README
    assert "api-audit demo" in README.split("## What it does")[0]
