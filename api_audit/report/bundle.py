"""One stored run written out as an evidence bundle: a deterministic zip (docs/bundle.md).

The files are first written to a staging folder beside the output (bodies streamed from
the database one at a time, never all held), then hashed for the manifest, then zipped in
sorted order with fixed timestamps, so exporting the same run twice gives the same bytes.
The zip appears at its path only when complete.

Nothing secret is written: every table row and body is exported as stored, and the store
redacted them (api_audit/redact.py). The catalogue file is the one input read afresh, and
is left out when redaction would change it (rule 3 of redact.py: a catalogue may hold a
secret-named URL parameter), since a redacted copy would no longer match the run's hash.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, BinaryIO

from api_audit import __version__
from api_audit.errors import StoreError, UsageError
from api_audit.loading import MAX_BYTES
from api_audit.loading.files import InputFileError, read_regular_file
from api_audit.methodology import default_probe_directory, load_methodology, methodology_sha256
from api_audit.models import RunInfo
from api_audit.redact import redact_text
from api_audit.report.bundle_format import (
    BODIES_DIR,
    BUNDLE_FORMAT,
    CATALOGUE_FILE,
    CHECKSUMS,
    MANIFEST,
    PROBES_DIR,
    RUN_FILE,
    SCORES_FILE,
    TABLE_ORDER,
    ZIP_TIME,
    checksums_text,
    json_row,
    table_files,
)
from api_audit.report.json import write_scorecard_json
from api_audit.scoring import score_grouped
from api_audit.store import Store
from api_audit.store.cells import BadCell
from api_audit.store.rows import decompress
from api_audit.text import storable

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Included:
    """Whether an input the run used is in the bundle, and if not, why not."""

    included: bool
    reason: str = ""


@dataclass(frozen=True)
class Exported:
    """What `export_bundle` wrote."""

    path: Path
    run: RunInfo
    files: int
    findings: int
    catalogue: Included
    probes: Included


def export_bundle(
    store: Store,
    run_id: int,
    out: Path,
    *,
    probe_dir: Traversable | None = None,
    force: bool = False,
) -> Exported:
    """Write run `run_id` of `store` as a bundle at `out` (refused if it exists, unless
    `force`). `probe_dir` is where the run's probe set is (default: the shipped one)."""
    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    run = store.run_info(run_id)
    with tempfile.TemporaryDirectory(prefix=".api-audit-export-", dir=out.parent) as tmp:
        staging = Path(tmp) / "bundle"
        staging.mkdir()
        catalogue = _stage_catalogue(run, staging)
        probes = _stage_probes(run, staging, probe_dir or default_probe_directory())
        findings = _stage_tables(store, run, staging)
        _stage_bodies(store, run.id, staging)
        if probes.included:
            _stage_scores(store, run, staging)
        files = _hashed_files(staging)
        manifest = _manifest(run, files, catalogue, probes, findings)
        _write_bytes(staging / MANIFEST, manifest)
        hashes = {f["path"]: f["sha256"] for f in files}
        hashes[MANIFEST] = hashlib.sha256(manifest).hexdigest()
        _write_bytes(staging / CHECKSUMS, checksums_text(hashes))
        _zip(staging, Path(tmp) / "bundle.zip", [CHECKSUMS, *hashes])
        _move_into_place(Path(tmp) / "bundle.zip", out, force=force)
    return Exported(out, run, len(files) + 2, findings, catalogue, probes)


# -- the run's inputs ---------------------------------------------------------------------


def _stage_catalogue(run: RunInfo, staging: Path) -> Included:
    """The catalogue file, when it is still there, unchanged, and free of secrets."""
    source = run.catalogue_source
    try:
        raw = read_regular_file(source, MAX_BYTES)
    except (InputFileError, OSError, ValueError) as exc:
        return Included(False, f"not readable at {source} ({exc})")
    if hashlib.sha256(raw).hexdigest() != run.catalogue_sha256:
        return Included(False, f"the file at {source} has changed since the run")
    text = raw.decode("utf-8", "replace")
    if redact_text(text) != text:
        return Included(False, "it holds values redaction removes (secret-named URL parameters)")
    _write_bytes(staging / CATALOGUE_FILE, raw)
    return Included(True)


def _stage_probes(run: RunInfo, staging: Path, source: Traversable) -> Included:
    """The probe files and rubric.yaml, when they hash to the run's methodology_sha256
    (methodology/loader.py: every *.yaml file's name and bytes) and load."""
    try:
        files = [
            (entry.name, _read_probe_file(entry))
            for entry in sorted(source.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".yaml") and entry.is_file()
        ]
    except (OSError, InputFileError) as exc:
        return Included(False, f"cannot read probe directory {source} ({exc})")
    found = methodology_sha256((name, "", raw) for name, raw in files)
    if found != run.methodology_sha256:
        return Included(
            False,
            f"the probes at {source} are not the run's methodology "
            f"(sha256 {found[:12]}, the run's {run.methodology_sha256[:12]}); "
            "pass --probes with the run's probe directory",
        )
    folder = staging / PROBES_DIR
    folder.mkdir()
    for name, raw in files:
        _write_bytes(folder / name, raw)
    return Included(True)


def _read_probe_file(entry: Traversable) -> bytes:
    """A --probes directory's file is read as any input (a regular file, capped); the
    shipped probes may live in a wheel and are package data."""
    if isinstance(entry, Path):
        return read_regular_file(entry, MAX_BYTES)
    return entry.read_bytes()


# -- the run's evidence -------------------------------------------------------------------


def _stage_tables(store: Store, run: RunInfo, staging: Path) -> int:
    """run.json, then each table as JSON and CSV; returns the number of findings."""
    (run_row,) = _rows(store, "SELECT * FROM runs WHERE id = ?", [run.id])
    _write_bytes(staging / RUN_FILE, _json_bytes(json_row("runs", run_row)))
    counted = 0
    for table, order in TABLE_ORDER.items():
        sql = f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}"  # noqa: S608 - ours
        json_name, csv_name = table_files(table)
        with (staging / json_name).open("wb") as as_json, (staging / csv_name).open("wb") as as_csv:
            count = _write_table(table, _rows(store, sql, [run.id]), as_json, as_csv)
        if table == "findings":
            counted = count
    return counted


def _write_table(
    table: str, rows: Iterable[Mapping[str, Any]], as_json: BinaryIO, as_csv: BinaryIO
) -> int:
    """Stream rows into a JSON list (one row a line) and a CSV file with a header row."""
    text = io.TextIOWrapper(as_csv, encoding="utf-8", newline="")
    writer: csv.DictWriter[str] | None = None
    as_json.write(b"[")
    count = 0
    for count, stored in enumerate(rows, start=1):
        row = storable(dict(stored))
        if writer is None:
            writer = csv.DictWriter(text, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow(row)
        line = json.dumps(json_row(table, row), ensure_ascii=False, sort_keys=True)
        as_json.write((",\n" if count > 1 else "\n").encode() + line.encode())
    as_json.write(b"\n]\n" if count else b"]\n")
    text.flush()
    text.detach()
    return count


def _stage_bodies(store: Store, run_id: int, staging: Path) -> None:
    """Every body the run's exchanges name, as stored (decompressed), one at a time."""
    folder = staging / BODIES_DIR
    folder.mkdir()
    sql = (
        "SELECT sha256, content, compression FROM bodies WHERE sha256 IN"
        " (SELECT body_sha256 FROM exchanges WHERE run_id = ?) ORDER BY sha256"
    )
    for row in _rows(store, sql, [run_id]):
        try:
            content = decompress(row["content"], row["compression"])
        except BadCell as exc:
            raise StoreError(f"bodies.{exc.column} of {row['sha256']} {exc.problem}") from None
        _write_bytes(folder / str(row["sha256"]), content)


def _stage_scores(store: Store, run: RunInfo, staging: Path) -> None:
    """The run's scorecard JSON (docs/json.md), scored under the bundle's own probe set."""
    rubric = load_methodology(staging / PROBES_DIR).rubric
    card = score_grouped(
        run, store.systems(run.id), store.findings_by_system(run.id), rubric, keep_findings=False
    )
    with (staging / SCORES_FILE).open("w", encoding="utf-8", newline="\n") as out:
        write_scorecard_json(
            card,
            out,
            lambda system_id: store.findings(run.id, system_id),
            lambda keys: store.evidence(run.id, keys),
        )


def _rows(store: Store, sql: str, params: list[object]) -> Iterator[Mapping[str, Any]]:
    try:
        yield from store.db.query(sql, params)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the run for export: {exc}") from None


# -- manifest and zip ---------------------------------------------------------------------


def _hashed_files(staging: Path) -> list[dict[str, Any]]:
    """Every staged file's path in the bundle, sha256 and size, sorted by path."""
    files: list[dict[str, Any]] = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        name = path.relative_to(staging).as_posix()
        files.append({"path": name, "sha256": digest.hexdigest(), "size": path.stat().st_size})
    files.sort(key=lambda f: f["path"])
    return files


def _manifest(
    run: RunInfo,
    files: list[dict[str, Any]],
    catalogue: Included,
    probes: Included,
    findings: int,
) -> bytes:
    bodies = [f for f in files if f["path"].startswith(BODIES_DIR)]
    for body in bodies:  # a body over the store's cap was kept truncated (store/database.py)
        body["truncated"] = body["sha256"] != body["path"].removeprefix(BODIES_DIR)
    document = {
        "bundle_format": BUNDLE_FORMAT,
        "tool": {"name": "api-audit", "version": __version__},
        "run": {
            "id": run.id,
            "status": run.status,
            "complete": run.status == "complete",
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "tool_version": run.tool_version,
        },
        "methodology": {
            "version": run.methodology_version,
            "sha256": run.methodology_sha256,
            "included": probes.included,
            "reason": probes.reason or None,
        },
        "catalogue": {
            "sha256": run.catalogue_sha256,
            "source": run.catalogue_source,
            "included": catalogue.included,
            "reason": catalogue.reason or None,
        },
        "counts": {"findings": findings, "bodies": len(bodies)},
        "files": files,
    }
    return _json_bytes(document)


def _zip(staging: Path, target: Path, names: list[str]) -> None:
    with zipfile.ZipFile(target, "w") as bundle:
        for name in sorted(names):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever exports it: the same bytes everywhere
            info.external_attr = 0o644 << 16
            with (staging / name).open("rb") as source, bundle.open(info, "w") as entry:
                while chunk := source.read(_CHUNK):
                    entry.write(chunk)


def _move_into_place(made: Path, out: Path, *, force: bool) -> None:
    """Put the finished zip at `out`: never a half-written file there, and without --force
    never over a file that appeared meanwhile (a hard link fails if `out` exists)."""
    if force:
        os.replace(made, out)
        return
    try:
        os.link(made, out)
    except FileExistsError:
        raise UsageError(f"{out} exists; pass --force to replace it") from None
    except OSError:  # a file system without hard links
        if out.exists():
            raise UsageError(f"{out} exists; pass --force to replace it") from None
        os.replace(made, out)


def _write_bytes(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
