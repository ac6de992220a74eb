"""Commands about the catalogue itself: `validate` and `schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api_audit.cli.common import CatalogueOption, stderr_console, stdout_console


def validate(catalogue: CatalogueOption = Path("vendors.yaml")) -> None:
    """Check a catalogue and list every problem as file:line:col: message."""
    from api_audit.catalogue import load_catalogue
    from api_audit.text import escape_controls

    err = stderr_console()
    loaded = load_catalogue(catalogue)
    for warning in loaded.warnings:
        err.print(f"warning: {escape_controls(str(warning), one_line=True)}", markup=False)
    systems = loaded.systems
    areas = {area for s in systems for area in s.service_areas}
    shown = escape_controls(str(catalogue), one_line=True)
    stdout_console().print(
        f"{shown}: ok — {len(loaded.vendors)} vendors, {len(systems)} systems, "
        f"{len(areas)} service areas",
        markup=False,
    )


def schema() -> None:
    """Print the JSON Schema of vendors.yaml (docs/vendors.schema.json is a copy)."""
    from api_audit.catalogue import catalogue_json_schema

    sys.stdout.write(json.dumps(catalogue_json_schema(), indent=2) + "\n")
