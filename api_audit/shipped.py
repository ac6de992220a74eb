"""Where the probe set shipped with api-audit is; a leaf module, cheap to import.

Reading a catalogue checks reply `about` names against the shipped probe ids without
loading the methodology (and its matchers); the methodology loader reads the same place.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path


def shipped_probe_directory() -> Traversable:
    """The shipped probes: package api_audit.probe_data, or probes/ in a source tree."""
    try:
        return importlib.resources.files("api_audit.probe_data")
    except ModuleNotFoundError:  # running from a source tree that was not installed
        return Path(__file__).resolve().parents[1] / "probes"
