"""The probe ids a supplier reply may name: the file names of a probe set, read cheaply.

A reply's `about` is checked against the probes that exist, so a typo is caught when the
catalogue is validated rather than leaving a reply that answers nothing. Only the file
names are listed (no probe is parsed), so `validate` does not load the matcher stack.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

RUBRIC_FILE = "rubric.yaml"


def probe_ids_in(directory: Traversable | Path | None = None) -> frozenset[str]:
    """The ids of the probes in `directory` (default: the shipped probe set)."""
    source = directory if directory is not None else _shipped_probes()
    try:
        names = [entry.name for entry in source.iterdir() if entry.is_file()]
    except OSError:  # an unreadable --probes directory is the methodology loader's to report
        return frozenset()
    return frozenset(
        name.removesuffix(".yaml")
        for name in names
        if name.endswith(".yaml") and name != RUBRIC_FILE
    )


def _shipped_probes() -> Traversable:
    # The same place methodology.loader.default_probe_directory looks; repeated here so
    # reading a catalogue does not import the methodology package and its matchers.
    try:
        return importlib.resources.files("api_audit.probe_data")
    except ModuleNotFoundError:  # a source tree that was not installed
        return Path(__file__).resolve().parents[2] / "probes"
