"""The command line: help for every command, one-line errors, documented exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api_audit.cli import app, main

COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out and len(out.splitlines()) > 3


def test_validate_reports_problems_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "vendors.yaml"
    bad.write_text("schema_version: 1\nvendors:\n  - id: Bad Id\n    name: X\n    systems: []\n")
    assert main(["validate", "-c", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err
    assert "Traceback" not in err


def test_validate_malformed_yaml_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("vendors: [\n")
    assert main(["validate", "-c", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"{bad}:")
    assert len(err) == 2  # the problem, then the count


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_default_catalogue_validates(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    assert main(["validate", "-c", str(root / "vendors.yaml")]) == 0
    assert "ok" in capsys.readouterr().out


def test_scorecard_without_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scorecard", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database" in capsys.readouterr().err


def test_scorecard_on_a_file_that_is_not_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    before = junk.read_bytes()
    assert main(["scorecard", "--db", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert junk.read_bytes() == before  # never damage what is already stored


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--concurrency", "0"]) == 2
    assert main(["no-such-command"]) == 2


def test_python_dash_m_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api_audit", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("api-audit ")


def test_scorecard_says_when_the_methodology_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "demo.db")
    assert main(["demo", "--db", db]) == 0
    capsys.readouterr()
    assert main(["scorecard", "--db", db]) == 0
    assert "note:" not in capsys.readouterr().err  # same methodology: nothing to say

    changed = tmp_path / "probes"
    shutil.copytree(Path(__file__).resolve().parent.parent / "probes", changed)
    rubric = changed / "rubric.yaml"
    text = rubric.read_text("utf-8")
    rubric.write_text(text.replace('methodology_version: "', 'methodology_version: "x-', 1))
    assert main(["scorecard", "--db", db, "--probes", str(changed)]) == 0
    err = capsys.readouterr().err
    assert "note: run 1 was made under methodology" in err
    assert "scored here under x-" in err
