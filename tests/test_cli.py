"""The command line: help for every command, one-line errors, documented exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from api_audit import catalogue
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


USAGE_MISTAKES = [
    # (argv, the command whose usage is shown, what Click's "Error: ..." line says). The
    # words are checked, not the punctuation, which differs between Click releases.
    (["no-such-command"], "", ("No such command", "'no-such-command'")),
    (["--no-such-option"], "", ("No such option", "--no-such-option")),
    (["run", "--no-such-option"], "run", ("No such option", "--no-such-option")),
    (["run", "--concurrency", "0"], "run", ("Invalid value for '--concurrency'",)),
    (["run", "--format", "xml"], "run", ("Invalid value for '--format'", "'xml'")),
    (["scorecard", "--run", "abc"], "scorecard", ("Invalid value for '--run'", "integer")),
    (["probes", "nope"], "probes", ("No such command", "'nope'")),
    (["probes", "show"], "probes show", ("Missing argument 'ID'",)),
    (["probes", "show", "--nope"], "probes show", ("No such option", "--nope")),
    (["probes", "show", "https", "-f", "yaml"], "probes show", ("Invalid value for '--format'",)),
    (["probes", "list", "extra"], "probes list", ("unexpected extra argument", "extra")),
]


@pytest.mark.parametrize(("argv", "command", "says"), USAGE_MISTAKES)
def test_usage_mistakes_print_clicks_usage_message(
    argv: list[str], command: str, says: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    prog = f"api-audit {command}".rstrip()
    assert lines[0].startswith(f"Usage: {prog} [OPTIONS]"), err
    assert lines[1] == f"Try '{prog} --help' for help.", err
    assert lines[-1].startswith("Error: "), err
    assert all(words in lines[-1] for words in says), err
    assert "internal error" not in err and "Traceback" not in err


def test_an_option_without_its_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--concurrency"]) == 2  # Click gives no usage line for this one
    err = capsys.readouterr().err
    assert err.startswith("Error: Option '--concurrency' requires an argument"), err


def test_a_usage_error_shows_controls_in_the_argument_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--\u202eevil\x1b[2J"]) == 2
    err = capsys.readouterr().err
    assert "--\\u202eevil\\x1b[2J" in err.splitlines()[-1]
    assert "\u202e" not in err and "\x1b" not in err


def test_usage_errors_from_the_installed_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api_audit", "run", "--no-such-option"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        "Usage: api-audit run [OPTIONS]",
        "Try 'api-audit run --help' for help.",
        "",
    ]
    assert lines[3].startswith("Error: No such option") and "--no-such-option" in lines[3]


@pytest.mark.parametrize("raised", [typer.Abort, EOFError], ids=["abort", "eof-at-a-prompt"])
def test_an_abort_exits_130(
    raised: type[BaseException], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def abort(*_args: object) -> None:
        raise raised

    monkeypatch.setattr(catalogue, "load_catalogue", abort)  # validate imports it when run
    assert main(["validate"]) == 130
    assert "api-audit: aborted" in capsys.readouterr().err


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
