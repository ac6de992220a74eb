"""The evidence bundle's layout (docs/bundle.md): its file names, tables and row encoding.

Shared by export (report/bundle.py) and verify (report/verify.py), so the two cannot
disagree about what a bundle holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

BUNDLE_FORMAT: Final = 1  # raise on any change that an older `verify` would misread
MANIFEST: Final = "manifest.json"
# Every other file's sha256 in `sha256sum` format, so `sha256sum -c SHA256SUMS` checks a
# bundle by hand; it covers manifest.json too (which cannot hold its own hash).
CHECKSUMS: Final = "SHA256SUMS"
RUN_FILE: Final = "run.json"
SCORES_FILE: Final = "scores.json"
CATALOGUE_FILE: Final = "catalogue.yaml"
BODIES_DIR: Final = "bodies/"
PROBES_DIR: Final = "probes/"

# The run's tables, each as <table>.json and <table>.csv, in the order the store keeps them.
TABLE_ORDER: Final = {
    "systems": "rowid",
    "findings": "system_id, probe_id",
    "exchanges": "id",
}
# Columns the store holds as JSON text: decoded in <table>.json (so it reads as JSON),
# kept as the stored text in <table>.csv (a cell is text).
JSON_COLUMNS: Final[Mapping[str, frozenset[str]]] = {
    "runs": frozenset({"options"}),
    "systems": frozenset(
        {
            "service_areas",
            "endpoints",
            "protocols",
            "standards",
            "attestations",
            "replies",
            "research",
        }
    ),
    "findings": frozenset({"evidence"}),
    "exchanges": frozenset({"headers", "redirects"}),
}

# A body file is named by the sha256 of the body (api_audit/store: content-addressed).
BODY_NAME: Final = re.compile(r"bodies/[0-9a-f]{64}")
PROBE_NAME: Final = re.compile(r"probes/[A-Za-z0-9_.-]{1,100}\.yaml")
# Fixed in every entry so that exporting the same run twice gives the same bytes
# (the zip format's earliest date; entries are also written in sorted order).
ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)


def json_row(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as it is written to <table>.json: JSON-text columns decoded."""
    decode = JSON_COLUMNS.get(table, frozenset())
    return {
        column: json.loads(value) if column in decode and isinstance(value, str) else value
        for column, value in row.items()
    }


def stored_row(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A <table>.json row as the store held it: JSON columns as JSON text again, so the
    store's own row readers (store/rows.py) check and map it."""
    encode = JSON_COLUMNS.get(table, frozenset())
    return {
        column: json.dumps(value) if column in encode and value is not None else value
        for column, value in row.items()
    }


def checksums_text(hashes: Mapping[str, str]) -> bytes:
    """SHA256SUMS for these files (path -> sha256): sorted, two spaces, as sha256sum writes."""
    return "".join(f"{hashes[path]}  {path}\n" for path in sorted(hashes)).encode()


def table_files(table: str) -> tuple[str, str]:
    return f"{table}.json", f"{table}.csv"
