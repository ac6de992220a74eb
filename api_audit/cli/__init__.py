"""Thin Typer commands: parse the command line, call a stage, render, exit.

    app                 the Typer app, its commands in `--help` order, and main(): exit codes
    common              consoles, the options every command shares, the database path
    options             RunOptions: `run`'s options as one frozen value
    catalogue_commands  validate, schema
    audit_commands      run, demo
    results_commands    scorecard, renewals
    probes_commands     probes list, probes show

Commands import the stages they call when they run, so `--help` and the commands that
never fetch import no HTTP stack (bench/startup.py measures it).
"""

from api_audit.cli.app import app, main

__all__ = ["app", "main"]
