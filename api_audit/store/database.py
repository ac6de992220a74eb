"""The Store: one open database; writes as results arrive, in batches; reads runs back."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

from sqlite_utils import Database

from api_audit.errors import StoreError
from api_audit.models import (
    Catalogue,
    Contract,
    EvidenceRef,
    Exchange,
    ExchangeDetail,
    Finding,
    ImportCursor,
    Methodology,
    RunInfo,
    StoredBody,
    System,
)
from api_audit.redact import (
    NO_SECRETS,
    Redactor,
    catalogue_secrets,
    redact_options,
)
from api_audit.store import cells
from api_audit.store.contracts import UPSERT_CONTRACT, contract_from_row, contract_row
from api_audit.store.opening import BUSY_TIMEOUT_MS, check_file, check_ours, enable_wal, migrate
from api_audit.store.rows import (
    DETAIL_COLUMNS,
    RUN_STATUSES,
    attestation_row,
    dumps,
    evidence_from_row,
    exchange_detail_from_row,
    exchange_from_row,
    finding_from_row,
    hop_row,
    now,
    reply_row,
    research_row,
    run_from_row,
    system_from_row,
)
from api_audit.text import storable

FLUSH_ROWS: Final = 50


FLUSH_SECONDS: Final = 1.0


BODY_CAP: Final = 5 * 1024 * 1024


_T = TypeVar("_T")


class Store:
    """One open api-audit database. Not thread-safe: one writer owns it (§5.2)."""

    def __init__(self, db: Database, label: str, clock: Callable[[], float]) -> None:
        self._db = db
        self._label = label
        self._clock = clock
        self._last_flush = clock()
        self._bodies: dict[str, dict[str, object]] = {}
        self._insert_sql: dict[tuple[str, tuple[str, ...], bool, bool], str] = {}
        self._exchanges: list[dict[str, object]] = []
        self._findings: list[dict[str, object]] = []
        self._closed = False
        self._redactor = NO_SECRETS  # the run's own secrets, set by start_run

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], float] = time.monotonic) -> Store:
        """Open (creating if needed) and migrate the database at `path` (":memory:" too).

        Refuses, without writing to it, a file that is not SQLite, a SQLite database of
        something else, or one written by a newer api-audit.
        """
        label = str(path)
        if label != ":memory:":
            check_file(Path(path))
        try:
            db = Database(label, execute_plugins=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {label}: {exc}") from exc
        try:
            # First: every step below may wait for another process (the WAL switch and
            # the migrations take locks), and must wait, not fail with "database is locked".
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            check_ours(db, label)  # before anything is written to someone else's file
            enable_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            migrate(db, label)
        except StoreError:
            db.close()
            raise
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"cannot use database {label}: {exc}") from exc
        return cls(db, label, clock)

    @property
    def db(self) -> Database:
        """The underlying sqlite-utils database, for read-only inspection (tests look at the
        schema, pragmas and raw rows through it); writes go through the methods above."""
        return self._db

    # -- writing -------------------------------------------------------------------------

    def start_run(
        self,
        *,
        catalogue: Catalogue,
        methodology: Methodology,
        tool_version: str,
        options: Mapping[str, object],
        baseline_token: str | None = None,
    ) -> RunInfo:
        """Record a new run as `running` and return it.

        From here on, every value the catalogue holds as a secret (redact.py, rule 3) is
        redacted from what this store writes, wherever a server echoes it.
        `baseline_token` (the run's random soft-200 path, plan.py) is kept for a resume.
        """
        self._redactor = Redactor(catalogue_secrets(catalogue))
        row = {
            "started_at": now(),
            "finished_at": None,
            "status": "running",
            "tool_version": tool_version,
            "rubric_version": methodology.rubric.methodology_version,
            "methodology_sha256": methodology.sha256,
            "catalogue_sha256": catalogue.sha256,
            "catalogue_source": self._redactor.text(catalogue.source),
            "options": dumps(redact_options(options, self._redactor)),
            "baseline_token": baseline_token,
        }
        row = storable(row)  # a catalogue path can carry undecodable (surrogate) bytes
        table = self._guard(lambda: self._db.table("runs").insert(row, alter=False))
        return self.run_info(_require(table.last_rowid))

    def resume_run(
        self, run_id: int, catalogue: Catalogue, baseline_token: str | None = None
    ) -> RunInfo:
        """Mark an unfinished run `running` again, to be finished under its own id.

        `catalogue` is the one the run was started with (the caller checked its hash): its
        secrets are redacted from what is written, as by `start_run`. The time is added to
        the run's `resumed_at`, so its evidence says it was gathered in more than one
        sitting. The run's baseline token is kept; `baseline_token` is recorded only for a
        run stored before tokens were. A complete run is refused: its findings are final.
        """
        run = self.run_info(run_id)
        if run.status == "complete":
            raise StoreError(f"run {run_id} is complete; there is nothing to resume")
        self._redactor = Redactor(catalogue_secrets(catalogue))
        self._write(
            "UPDATE runs SET status = 'running', finished_at = NULL, resumed_at = ?,"
            " baseline_token = coalesce(baseline_token, ?) WHERE id = ?",
            [dumps([*run.resumed_at, now()]), baseline_token, run_id],
        )
        return self.run_info(run_id)

    def save_systems(self, run_id: int, systems: Sequence[System]) -> None:
        """Record the catalogue as this run saw it (written at once, replacing).

        Kept: what scoring and rendering need (ids, names, service areas, fetchable
        endpoints, the council of an expanded instance, and the claims the ladder and
        claimed-vs-observed read: protocols, standards, attestations, replies). The rest
        (sources, notes, instances) lives in the catalogue file whose hash the run records.
        """
        rows = [
            {
                "run_id": run_id,
                "system_id": s.id,
                "vendor_id": s.vendor_id,
                "vendor_name": s.vendor_name,
                "name": s.name,
                "service_areas": dumps(list(s.service_areas)),
                "endpoints": dumps({k: self._redactor.url(v) for k, v in s.endpoints.items()}),
                "council": s.council,
                "protocols": dumps(list(s.protocols)),
                "standards": dumps(list(s.standards)),
                "attestations": dumps([attestation_row(a, self._redactor) for a in s.attestations]),
                "replies": dumps([reply_row(r, self._redactor) for r in s.replies]),
                "research": _json_or_null(research_row(s.research, self._redactor)),
            }
            for s in systems
        ]
        self._guard(lambda: self._insert("systems", rows, replace=True))

    def add_exchange(self, run_id: int, exchange: Exchange) -> None:
        """Buffer one exchange (and its body); a later one for the same request replaces it."""
        redactor = self._redactor
        body = redactor.body(exchange.body)
        body_sha = hashlib.sha256(body).hexdigest() if body else None
        if body_sha and body_sha not in self._bodies:
            stored = body[:BODY_CAP]
            self._bodies[body_sha] = {
                "sha256": body_sha,
                "size": len(body),
                "stored_size": len(stored),
                "truncated": int(len(stored) < len(body)),
                "compression": "zlib",
                "content": zlib.compress(stored),
            }
        request = exchange.request
        self._exchanges.append(
            {
                "run_id": run_id,
                "request_key": redactor.request_key(request.key),
                "method": request.method,
                "url": redactor.url(request.url),
                "accept": request.accept,
                "final_url": redactor.url(exchange.final_url),
                "status": exchange.status,
                "headers": dumps([list(h) for h in redactor.headers(exchange.headers)]),
                "redirects": dumps([hop_row(h, redactor) for h in exchange.redirects]),
                "elapsed_ms": exchange.elapsed_ms,
                "error": exchange.error,
                "error_detail": redactor.text(exchange.error_detail),
                "body_sha256": body_sha,
                "body_size": len(body),
                "started_at": exchange.started_at,
                "tls_version": exchange.tls_version,
            }
        )
        self._maybe_flush()

    def add_finding(self, run_id: int, finding: Finding) -> None:
        """Buffer one finding; a later one for the same system and probe replaces it."""
        self.add_findings(run_id, [finding])

    def add_findings(self, run_id: int, findings: Sequence[Finding]) -> None:
        """Buffer findings that stand together (one system's), written in one transaction:
        a run killed at any moment holds all of a system's findings or none of them, so
        `run --resume` can tell the systems it must audit again (issue 12)."""
        self._findings.extend(self._finding_row(run_id, finding) for finding in findings)
        self._maybe_flush()

    def _finding_row(self, run_id: int, finding: Finding) -> dict[str, object]:
        redactor = self._redactor
        return {
            "run_id": run_id,
            "system_id": finding.system_id,
            "probe_id": finding.probe_id,
            "criterion": finding.criterion,
            "weight": finding.weight,
            "credit": finding.credit,
            "outcome": finding.outcome,
            "message": redactor.text(finding.message),
            "evidence": dumps([redactor.request_key(k) for k in finding.evidence]),
            "observed": int(finding.observed),
            "basis": finding.basis,
            "source": redactor.url(finding.source) if finding.source else None,
            "seen": finding.seen,
            "sign_in": finding.sign_in,
            "excerpt": redactor.text(finding.excerpt) if finding.excerpt else None,
        }

    def flush(self) -> None:
        """Write everything buffered in one transaction."""
        if not (self._bodies or self._exchanges or self._findings):
            self._last_flush = self._clock()
            return

        def write() -> None:
            with self._db.atomic():
                # bodies first: exchanges.body_sha256 references them
                self._insert("bodies", list(self._bodies.values()), ignore=True)
                self._insert("exchanges", self._exchanges, replace=True)
                self._insert("findings", self._findings, replace=True)

        # On failure the buffers are kept, so a retry (e.g. after a lock) loses nothing;
        # batches written before stay written (each flush is its own transaction).
        self._guard(write)
        self._bodies, self._exchanges, self._findings = {}, [], []
        self._last_flush = self._clock()

    def finish_run(self, run_id: int, status: str = "complete") -> None:
        """Flush, then mark the run finished with `status` (complete or interrupted).

        A run whose last batch cannot be written is marked `interrupted`, never left
        `running`: what was written before stays, `run --resume` can fetch the rest, and
        the write error is raised after the mark.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, not {status!r}")
        try:
            self.flush()
        except StoreError:
            self._bodies, self._exchanges, self._findings = {}, [], []  # not retried on close
            with contextlib.suppress(StoreError):
                self._mark_finished(run_id, "interrupted")
            raise
        self._mark_finished(run_id, status)

    def _mark_finished(self, run_id: int, status: str) -> None:
        cursor = self._write(
            "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?",
            [now(), status, run_id],
        )
        if cursor.rowcount == 0:
            raise self._no_run(run_id)

    def close(self) -> None:
        """Flush, fold the WAL back into the file (§5.4: copy-safe), and close."""
        if self._closed:
            return
        try:
            self.flush()
            self._guard(lambda: self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        finally:
            self._closed = True
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.close()
        except StoreError:
            if exc is None:
                raise
            # the exception already in flight is the one worth seeing

    # -- reading -------------------------------------------------------------------------

    def latest_run_id(self, status: str | None = None) -> int | None:
        """The newest run, whatever its status (or the newest with `status`)."""
        if status is None:
            (row,) = self._read("SELECT max(id) AS id FROM runs")
        else:
            (row,) = self._read("SELECT max(id) AS id FROM runs WHERE status = ?", [status])
        return None if row["id"] is None else int(row["id"])

    def run_ids(self, status: str | None = None) -> list[int]:
        """The ids of every run (or those with `status`), newest first."""
        if status is None:
            rows = self._read("SELECT id FROM runs ORDER BY id DESC")
        else:
            rows = self._read("SELECT id FROM runs WHERE status = ? ORDER BY id DESC", [status])
        return [int(row["id"]) for row in rows]

    def run_info(self, run_id: int) -> RunInfo:
        rows = self._read("SELECT * FROM runs WHERE id = ?", [run_id])
        if not rows:
            raise self._no_run(run_id)
        return self._mapped("runs", f"run {run_id}", run_from_row, rows[0])

    def systems(self, run_id: int) -> list[System]:
        """The catalogue as the run saw it, in the order it was saved."""
        rows = self._read("SELECT * FROM systems WHERE run_id = ? ORDER BY rowid", [run_id])
        return [
            self._mapped(
                "systems", f"run {run_id}, system {row['system_id']!r}", system_from_row, row
            )
            for row in rows
        ]

    def findings(self, run_id: int, system_id: str | None = None) -> list[Finding]:
        """The run's findings (or one system's), by system then probe."""
        sql = "SELECT * FROM findings WHERE run_id = ?"
        params: list[object] = [run_id]
        if system_id is not None:
            sql += " AND system_id = ?"
            params.append(system_id)
        rows = self._read(sql + " ORDER BY system_id, probe_id", params)
        return [self._finding(row) for row in rows]

    def findings_by_system(self, run_id: int) -> Iterator[tuple[str, list[Finding]]]:
        """The run's findings one system at a time, read as they are consumed, so scoring a
        large run never holds every finding at once."""
        rows = self._guard(
            lambda: self._db.query(
                "SELECT * FROM findings WHERE run_id = ? ORDER BY system_id, probe_id", [run_id]
            )
        )
        try:
            for system_id, group in itertools.groupby(rows, key=lambda row: row["system_id"]):
                yield system_id, [self._finding(row) for row in group]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read findings from {self._label}: {exc}") from None

    def evidence(self, run_id: int, keys: Iterable[str]) -> dict[str, EvidenceRef]:
        """Where each of these request keys' exchanges can be checked (keys with no stored
        exchange are left out): what a finding's `evidence` names, without bodies."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, EvidenceRef] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)  # placeholders only: the keys are bound
            where = f"run_id = ? AND request_key IN ({marks})"
            columns = "request_key, url, final_url, status, body_sha256, started_at, error"
            sql = f"SELECT {columns} FROM exchanges WHERE {where}"  # noqa: S608 - no values
            rows = self._read(sql, [run_id, *chunk])
            for row in rows:
                found[row["request_key"]] = self._mapped(
                    "exchanges", f"exchange {row['request_key']!r}", evidence_from_row, row
                )
        return found

    def system_ids(self) -> list[str]:
        """Every system id any run recorded, sorted (for did-you-mean)."""
        rows = self._read("SELECT DISTINCT system_id FROM systems ORDER BY system_id")
        return [str(row["system_id"]) for row in rows]

    def runs_with_system(self, system_id: str, status: str | None = None) -> list[int]:
        """The runs whose catalogue held `system_id` (with `status`, if given), newest first."""
        sql = "SELECT s.run_id FROM systems s JOIN runs r ON r.id = s.run_id WHERE s.system_id = ?"
        params: list[object] = [system_id]
        if status is not None:
            sql += " AND r.status = ?"
            params.append(status)
        return [int(row["run_id"]) for row in self._read(sql + " ORDER BY s.run_id DESC", params)]

    def system(self, run_id: int, system_id: str) -> System | None:
        """One system as the run saw it, or None when the run's catalogue did not hold it."""
        rows = self._read(
            "SELECT * FROM systems WHERE run_id = ? AND system_id = ?", [run_id, system_id]
        )
        where = f"run {run_id}, system {system_id!r}"
        return self._mapped("systems", where, system_from_row, rows[0]) if rows else None

    def exchange_details(self, run_id: int, keys: Iterable[str]) -> dict[str, ExchangeDetail]:
        """What `evidence` gives for these request keys, and how each exchange went (method,
        redirects, content type, size, time, TLS version); bodies are read apart (`body`)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, ExchangeDetail] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)  # placeholders only: the keys are bound
            where = f"run_id = ? AND request_key IN ({marks})"
            sql = f"SELECT {DETAIL_COLUMNS} FROM exchanges WHERE {where}"  # noqa: S608 - no values
            for row in self._read(sql, [run_id, *chunk]):
                found[row["request_key"]] = self._mapped(
                    "exchanges", f"exchange {row['request_key']!r}", exchange_detail_from_row, row
                )
        return found

    def body(self, sha256: str, limit: int) -> StoredBody | None:
        """The first `limit` bytes of a stored body, decompressed no further than that (a
        body is up to BODY_CAP), or None when no body has that hash."""
        rows = self._read("SELECT * FROM bodies WHERE sha256 = ?", [sha256])
        if not rows:
            return None
        row = rows[0]
        where = f"body {sha256!r}"
        return self._mapped("bodies", where, lambda r: _body_head(r, limit), row)

    def exchanges(self, run_id: int) -> list[Exchange]:
        """The run's exchanges in the order they were written, bodies joined back."""
        rows = self._read(
            "SELECT e.*, b.content, b.compression FROM exchanges e"
            " LEFT JOIN bodies b ON b.sha256 = e.body_sha256"
            " WHERE e.run_id = ? ORDER BY e.id",
            [run_id],
        )
        return [
            self._mapped("exchanges", f"exchange {row['id']}", exchange_from_row, row)
            for row in rows
        ]

    def request_keys(self, run_id: int) -> list[str]:
        """The request keys of the run's exchanges, in the order written (no bodies read)."""
        rows = self._read(
            "SELECT request_key FROM exchanges WHERE run_id = ? ORDER BY id", [run_id]
        )
        return [str(row["request_key"]) for row in rows]

    # -- reading for a resume (run --resume, issue 12) ----------------------------------

    def newest_unfinished_run_id(self) -> int | None:
        """The newest run that is not complete: interrupted, or `running` with no end
        (killed, or still running in another process)."""
        (row,) = self._read("SELECT max(id) AS id FROM runs WHERE status != 'complete'")
        return None if row["id"] is None else int(row["id"])

    def baseline_token(self, run_id: int) -> str | None:
        """The run's soft-200 baseline token; None for a run stored before it was kept."""
        rows = self._read("SELECT baseline_token FROM runs WHERE id = ?", [run_id])
        if not rows:
            raise self._no_run(run_id)
        token = rows[0]["baseline_token"]
        return token if isinstance(token, str) else None

    def probes_found(self, run_id: int) -> dict[str, frozenset[str]]:
        """Each system's probes that have a finding in the run."""
        rows = self._read("SELECT system_id, probe_id FROM findings WHERE run_id = ?", [run_id])
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row["system_id"], set()).add(row["probe_id"])
        return {system_id: frozenset(probes) for system_id, probes in found.items()}

    def reusable_request_keys(self, run_id: int) -> frozenset[str]:
        """The request keys of the run's exchanges that can stand in for a fetch: stored
        with their whole body (one cut at BODY_CAP would be judged on less than was read)."""
        rows = self._read(
            "SELECT e.request_key FROM exchanges e LEFT JOIN bodies b ON b.sha256 = e.body_sha256"
            " WHERE e.run_id = ? AND (e.body_sha256 IS NULL OR b.truncated = 0)",
            [run_id],
        )
        return frozenset(row["request_key"] for row in rows)

    def exchanges_for(self, run_id: int, keys: Iterable[str]) -> dict[str, Exchange]:
        """The run's exchanges for these request keys, bodies joined back (keys the run has
        no exchange for are left out): one system's evidence, read when it is judged again
        (diff) or reused instead of a fetch (run --resume)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Exchange] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)  # placeholders only: the keys are bound
            sql = (
                "SELECT e.*, b.content, b.compression FROM exchanges e"  # noqa: S608 - no values
                " LEFT JOIN bodies b ON b.sha256 = e.body_sha256"
                f" WHERE e.run_id = ? AND e.request_key IN ({marks})"
            )
            for row in self._read(sql, [run_id, *chunk]):
                found[row["request_key"]] = self._mapped(
                    "exchanges", f"exchange {row['id']}", exchange_from_row, row
                )
        return found

    # -- contracts (issue 13) ------------------------------------------------------------

    def add_contracts(self, contracts: Iterable[Contract]) -> int:
        """Store contracts at once, each replacing its ocid's stored release only when it is
        newer (store/contracts.py); returns how many rows were written or replaced."""
        when = now()
        rows = [contract_row(c, self._redactor, when) for c in contracts]
        if not rows:
            return 0
        before = self._db.conn.total_changes

        def write() -> None:
            with self._db.atomic():
                try:
                    self._db.conn.executemany(UPSERT_CONTRACT, rows)
                except UnicodeEncodeError:  # a lone surrogate in a notice: write it cleaned
                    self._db.conn.executemany(UPSERT_CONTRACT, [storable(r) for r in rows])

        self._guard(write)
        return int(self._db.conn.total_changes - before)

    def contracts(self, *, ending_after: str | None = None) -> Iterator[Contract]:
        """Every stored contract (or those ending on or after an ISO date), by end date
        then ocid, read in pages so a year of notices is read in flat memory."""
        where, params = ("WHERE end_date >= ?", [ending_after]) if ending_after else ("", [])
        last: tuple[str, str] | None = None
        while True:
            page_where = where
            page_params: list[object] = list(params)
            if last is not None:
                joiner = " AND " if where else "WHERE "
                page_where += joiner + "(coalesce(end_date, ''), ocid) > (?, ?)"
                page_params += [last[0], last[1]]
            rows = self._read(
                f"SELECT * FROM contracts {page_where}"  # noqa: S608 - fixed clauses, bound values
                " ORDER BY coalesce(end_date, ''), ocid LIMIT 500",
                page_params,
            )
            for row in rows:
                yield self._mapped("contracts", f"contract {row['ocid']!r}", contract_from_row, row)
            if len(rows) < 500:
                return
            last = (rows[-1]["end_date"] or "", rows[-1]["ocid"])

    def import_cursor(self, source: str, since: str) -> ImportCursor | None:
        """Where the import of `source` from `since` got to, if it was ever started."""
        rows = self._read(
            "SELECT * FROM import_cursors WHERE source = ? AND since = ?", [source, since]
        )
        if not rows:
            return None
        return self._mapped("import_cursors", f"{source!r} since {since}", _cursor, rows[0])

    def save_import_cursor(self, cursor: ImportCursor) -> None:
        """Keep an import's place (after its page's contracts are stored: a kill between
        the two reads that page again, which changes nothing)."""
        when = now()
        self._write(
            "INSERT INTO import_cursors (source, since, next_page, pages, releases,"
            " updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, since) DO UPDATE SET next_page = excluded.next_page,"
            " pages = excluded.pages, releases = excluded.releases,"
            " updated_at = excluded.updated_at, finished_at = excluded.finished_at",
            [
                cursor.source,
                cursor.since,
                cursor.next_page,
                cursor.pages,
                cursor.releases,
                when,
                when if cursor.finished else None,
            ],
        )

    # -- internals -----------------------------------------------------------------------

    def _finding(self, row: Mapping[str, Any]) -> Finding:
        where = f"run {row['run_id']}, system {row['system_id']!r}, probe {row['probe_id']!r}"
        return self._mapped("findings", where, finding_from_row, row)

    def _mapped(
        self,
        table: str,
        where: str,
        build: Callable[[Mapping[str, Any]], _T],
        row: Mapping[str, Any],
    ) -> _T:
        """`build(row)`; a cell api-audit would not have written (the database is browsed,
        and may be edited, with Datasette or sqlite3) becomes one line naming table,
        column and row, never an internal error later."""
        try:
            return build(row)
        except cells.BadCell as exc:
            raise StoreError(
                f"database {self._label}: {table}.{exc.column} of {where} {exc.problem} "
                "(api-audit did not write that: was the database edited?)"
            ) from None

    def _maybe_flush(self) -> None:
        pending = len(self._exchanges) + len(self._findings)
        if pending >= FLUSH_ROWS or self._clock() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def _insert(
        self, table: str, rows: list[dict[str, Any]], *, replace: bool = False, ignore: bool = False
    ) -> None:
        """Insert rows built by this class: every row has the same keys, in the same order,
        and SQLite-ready values (JSON already encoded). One prepared statement, executemany:
        sqlite-utils' insert_all re-derives the columns and inspects every value of every
        row, which cost ~10% of a whole audit's CPU (bench/README.md, profile). An unknown
        column is an error, never a new one: the schema belongs to the migrations."""
        if not rows:
            return
        columns = tuple(rows[0])
        key = (table, columns, replace, ignore)
        sql = self._insert_sql.get(key)
        if sql is None:
            verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE" if ignore else "INSERT"
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            sql = self._insert_sql[key] = f'{verb} INTO "{table}" ({names}) VALUES ({marks})'
        values = itemgetter(*columns)  # a tuple per row (the tables have many columns)
        try:
            with self._db.atomic():  # committed here, or with the caller's transaction
                self._db.conn.executemany(sql, [values(row) for row in rows])
        except UnicodeEncodeError:
            # Some vendor text has no UTF-8 form (a lone surrogate): the batch was rolled
            # back to its savepoint; write it again with such characters replaced. Checking
            # every value up front would cost every batch what only a hostile one needs.
            with self._db.atomic():
                self._db.conn.executemany(sql, [values(storable(row)) for row in rows])

    def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        return self._guard(lambda: self._db.execute(sql, params))

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        return self._guard(lambda: list(self._db.query(sql, params)))

    def _guard(self, action: Callable[[], _T]) -> _T:
        if self._closed:
            raise StoreError(f"database {self._label} is closed")
        try:
            return action()
        except sqlite3.Error as exc:
            raise StoreError(f"database {self._label}: {exc}") from exc

    def _no_run(self, run_id: int) -> StoreError:
        return StoreError(f"no run {run_id} in {self._label}")


def _body_head(row: Mapping[str, Any], limit: int) -> StoredBody:
    if row["compression"] != "zlib" or not isinstance(row["content"], bytes):
        raise cells.BadCell("compression", f"is {row['compression']!r}, not zlib data")
    try:
        head = zlib.decompressobj().decompress(row["content"], max(limit, 1))[:limit]
    except zlib.error as exc:
        raise cells.BadCell("content", f"is not zlib data ({exc})") from None
    return StoredBody(
        sha256=cells.text(row, "sha256"),
        size=int(cells.number(row, "size")),
        stored_size=int(cells.number(row, "stored_size")),
        head=head,
    )


def _cursor(row: Mapping[str, Any]) -> ImportCursor:
    return ImportCursor(
        source=cells.text(row, "source"),
        since=cells.text(row, "since"),
        next_page=cells.optional_text(row, "next_page"),
        pages=int(cells.number(row, "pages")),
        releases=int(cells.number(row, "releases")),
        finished=row.get("finished_at") is not None,
    )


def _require(value: int | None) -> int:
    if value is None:
        raise StoreError("the database did not return a row id")
    return value


def _json_or_null(value: object | None) -> str | None:
    return None if value is None else dumps(value)
