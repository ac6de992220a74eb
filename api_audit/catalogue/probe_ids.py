"""The probe ids a supplier reply may name: the file names of a probe set, read cheaply.

A reply's `about` is checked against the probes that exist, so a typo is caught when the
catalogue is validated rather than leaving a reply that answers nothing. Only the file
names are listed (no probe is parsed), so `validate` does not load the matcher stack.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from api_audit.shipped import shipped_probe_directory

RUBRIC_FILE = "rubric.yaml"


def probe_ids_in(directory: Traversable | Path | None = None) -> frozenset[str]:
    """The ids of the probes in `directory` (default: the shipped probe set)."""
    source = directory if directory is not None else shipped_probe_directory()
    try:
        names = [entry.name for entry in source.iterdir() if entry.is_file()]
    except OSError:  # an unreadable --probes directory is the methodology loader's to report
        return frozenset()
    return frozenset(
        name.removesuffix(".yaml")
        for name in names
        if name.endswith(".yaml") and name != RUBRIC_FILE
    )
