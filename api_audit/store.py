"""SQLite: open (migrations), write as results arrive, read runs back.

One file, opened through sqlite-utils, in WAL mode with `synchronous=NORMAL` and a busy
timeout (engineering-http-sqlite.md §5.5). The schema is an append-only list of
`sqlite_utils.Migrations` functions applied once, in `Store.open`, and nowhere else.

Exchanges and findings are buffered and written in one transaction every
`FLUSH_ROWS` rows, or on the first add at least `FLUSH_SECONDS` after the last flush, so
a crash loses at most that much (§5.3). There is no background timer: the writer flushes
when it adds, and `finish_run`/`close` flush the rest.

Nothing secret is stored (redact.py): credential headers become "[redacted]", secret-named
parameters, userinfo and the catalogue's own secret values are replaced in every stored
URL, request key, header, message and error line, encoded or not. The same redaction is
applied to a finding's evidence keys and to an exchange's request key, so they still join.
Response bodies are kept as received (they are the evidence; only an echo of the
catalogue's own secret is replaced), content-addressed, zlib-compressed and capped at
`BODY_CAP` bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from api_audit import store_cells as cells
from api_audit.errors import StoreError
from api_audit.loading.files import InputFileError, NotRegularFileError, read_regular_file
from api_audit.models import (
    BASES,
    CRITERIA,
    OUTCOMES,
    Attestation,
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    Hop,
    Methodology,
    Reply,
    RunInfo,
    System,
)
from api_audit.redact import (
    NO_SECRETS,
    Redactor,
    catalogue_secrets,
    redact_headers,
    redact_options,
    redact_request_key,
    redact_text,
    redact_url,
)
from api_audit.text import storable

FLUSH_ROWS: Final = 50
FLUSH_SECONDS: Final = 1.0
BODY_CAP: Final = 5 * 1024 * 1024
BUSY_TIMEOUT_MS: Final = 5000  # how long to wait for another process's lock
RUN_STATUSES: Final = ("running", "complete", "interrupted")

_SQLITE_MAGIC = b"SQLite format 3\x00"

# --- schema ----------------------------------------------------------------------------

MIGRATIONS = Migrations("api-audit")
_KNOWN_MIGRATIONS: set[str] = set()


def _migration(name: str) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
    """Register an append-only migration. Never edit or reorder one that has shipped."""
    _KNOWN_MIGRATIONS.add(name)
    return MIGRATIONS(name=name)


@_migration("0001_initial")
def _m0001_initial(db: Database) -> None:
    for statement in _SCHEMA_0001:
        db.execute(statement)


_SCHEMA_0001 = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running'
            CHECK (status IN ('running', 'complete', 'interrupted')),
        tool_version TEXT NOT NULL,
        rubric_version TEXT NOT NULL,
        methodology_sha256 TEXT NOT NULL,
        catalogue_sha256 TEXT NOT NULL,
        catalogue_source TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}'
    )
    """,
    """
    CREATE TABLE systems (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        system_id TEXT NOT NULL,
        vendor_id TEXT NOT NULL,
        vendor_name TEXT NOT NULL,
        name TEXT NOT NULL,
        service_areas TEXT NOT NULL DEFAULT '[]',
        endpoints TEXT NOT NULL DEFAULT '{}',
        council TEXT,
        PRIMARY KEY (run_id, system_id)
    )
    """,
    """
    CREATE TABLE bodies (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        stored_size INTEGER NOT NULL,
        truncated INTEGER NOT NULL DEFAULT 0,
        compression TEXT NOT NULL DEFAULT 'zlib',
        content BLOB NOT NULL
    )
    """,
    """
    CREATE TABLE exchanges (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        request_key TEXT NOT NULL,
        method TEXT NOT NULL,
        url TEXT NOT NULL,
        accept TEXT,
        final_url TEXT NOT NULL,
        status INTEGER,
        headers TEXT NOT NULL DEFAULT '[]',
        redirects TEXT NOT NULL DEFAULT '[]',
        elapsed_ms REAL NOT NULL DEFAULT 0,
        error TEXT,
        error_detail TEXT NOT NULL DEFAULT '',
        body_sha256 TEXT REFERENCES bodies(sha256),
        body_size INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE UNIQUE INDEX idx_exchanges_run_request ON exchanges (run_id, request_key)",
    "CREATE INDEX idx_exchanges_body ON exchanges (body_sha256)",
    """
    CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        system_id TEXT NOT NULL,
        probe_id TEXT NOT NULL,
        criterion TEXT NOT NULL,
        weight REAL NOT NULL,
        credit REAL NOT NULL DEFAULT 1.0,
        outcome TEXT NOT NULL
            CHECK (outcome IN ('pass', 'fail', 'inconclusive', 'not_applicable')),
        message TEXT NOT NULL DEFAULT '',
        evidence TEXT NOT NULL DEFAULT '[]',
        observed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, system_id, probe_id)
    )
    """,
    "CREATE INDEX idx_findings_run_probe ON findings (run_id, probe_id)",
)


@_migration("0002_attestations_and_claims")
def _m0002_attestations_and_claims(db: Database) -> None:
    for statement in _SCHEMA_0002:
        db.execute(statement)


# Findings learn where a verdict came from: a probe's observation or a catalogue
# attestation (with its source and date). Systems keep the catalogue's claims the run saw
# (JSON lists), so the ladder and claimed-vs-observed can be recomputed from the database.
_SCHEMA_0002 = (
    "ALTER TABLE findings ADD COLUMN basis TEXT NOT NULL DEFAULT 'observed'"
    " CHECK (basis IN ('observed', 'attested'))",
    "ALTER TABLE findings ADD COLUMN source TEXT",
    "ALTER TABLE findings ADD COLUMN seen TEXT",
    "ALTER TABLE systems ADD COLUMN protocols TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE systems ADD COLUMN standards TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE systems ADD COLUMN attestations TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE systems ADD COLUMN replies TEXT NOT NULL DEFAULT '[]'",
)


@_migration("0003_exchange_tls_version")
def _m0003_exchange_tls_version(db: Database) -> None:
    # The TLS version each response came over ("TLSv1.3"), NULL over plain http or when
    # not known, so a rescore judges the tls_version probe on what was stored.
    db.execute("ALTER TABLE exchanges ADD COLUMN tls_version TEXT")


# --- the store -------------------------------------------------------------------------

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
            _check_file(Path(path))
        try:
            db = Database(label, execute_plugins=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {label}: {exc}") from exc
        try:
            # First: every step below may wait for another process (the WAL switch and
            # the migrations take locks), and must wait, not fail with "database is locked".
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _check_ours(db, label)  # before anything is written to someone else's file
            _enable_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            _migrate(db, label)
        except StoreError:
            db.close()
            raise
        except sqlite3.Error as exc:
            db.close()
            raise StoreError(f"cannot use database {label}: {exc}") from exc
        return cls(db, label, clock)

    @property
    def db(self) -> Database:
        """The underlying sqlite-utils database, for read-only queries (e.g. `schema`)."""
        return self._db

    # -- writing -------------------------------------------------------------------------

    def start_run(
        self,
        *,
        catalogue: Catalogue,
        methodology: Methodology,
        tool_version: str,
        options: Mapping[str, object],
    ) -> RunInfo:
        """Record a new run as `running` and return it.

        From here on, every value the catalogue holds as a secret (redact.py, rule 3) is
        redacted from what this store writes, wherever a server echoes it.
        """
        self._redactor = Redactor(catalogue_secrets(catalogue))
        row = {
            "started_at": _now(),
            "finished_at": None,
            "status": "running",
            "tool_version": tool_version,
            "rubric_version": methodology.rubric.methodology_version,
            "methodology_sha256": methodology.sha256,
            "catalogue_sha256": catalogue.sha256,
            "catalogue_source": self._redactor.text(catalogue.source),
            "options": _dumps(redact_options(options, self._redactor)),
        }
        row = storable(row)  # a catalogue path can carry undecodable (surrogate) bytes
        table = self._guard(lambda: self._db.table("runs").insert(row, alter=False))
        return self.run_info(_require(table.last_rowid))

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
                "service_areas": _dumps(list(s.service_areas)),
                "endpoints": _dumps({k: self._redactor.url(v) for k, v in s.endpoints.items()}),
                "council": s.council,
                "protocols": _dumps(list(s.protocols)),
                "standards": _dumps(list(s.standards)),
                "attestations": _dumps(
                    [_attestation_row(a, self._redactor) for a in s.attestations]
                ),
                "replies": _dumps([_reply_row(r, self._redactor) for r in s.replies]),
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
                "headers": _dumps([list(h) for h in redactor.headers(exchange.headers)]),
                "redirects": _dumps([_hop_row(h, redactor) for h in exchange.redirects]),
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
        redactor = self._redactor
        self._findings.append(
            {
                "run_id": run_id,
                "system_id": finding.system_id,
                "probe_id": finding.probe_id,
                "criterion": finding.criterion,
                "weight": finding.weight,
                "credit": finding.credit,
                "outcome": finding.outcome,
                "message": redactor.text(finding.message),
                "evidence": _dumps([redactor.request_key(k) for k in finding.evidence]),
                "observed": int(finding.observed),
                "basis": finding.basis,
                "source": redactor.url(finding.source) if finding.source else None,
                "seen": finding.seen,
            }
        )
        self._maybe_flush()

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
            [_now(), status, run_id],
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

    def run_info(self, run_id: int) -> RunInfo:
        rows = self._read("SELECT * FROM runs WHERE id = ?", [run_id])
        if not rows:
            raise self._no_run(run_id)
        return self._mapped("runs", f"run {run_id}", _run_from_row, rows[0])

    def systems(self, run_id: int) -> list[System]:
        """The catalogue as the run saw it, in the order it was saved."""
        rows = self._read("SELECT * FROM systems WHERE run_id = ? ORDER BY rowid", [run_id])
        return [
            self._mapped("systems", f"run {run_id}, system {row['system_id']!r}", _system, row)
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

    def exchanges(self, run_id: int) -> list[Exchange]:
        """The run's exchanges in the order they were written, bodies joined back."""
        rows = self._read(
            "SELECT e.*, b.content, b.compression FROM exchanges e"
            " LEFT JOIN bodies b ON b.sha256 = e.body_sha256"
            " WHERE e.run_id = ? ORDER BY e.id",
            [run_id],
        )
        return [
            self._mapped("exchanges", f"exchange {row['id']}", _exchange_from_row, row)
            for row in rows
        ]

    # -- internals -----------------------------------------------------------------------

    def _finding(self, row: Mapping[str, Any]) -> Finding:
        where = f"run {row['run_id']}, system {row['system_id']!r}, probe {row['probe_id']!r}"
        return self._mapped("findings", where, _finding_from_row, row)

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


# --- helpers ---------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    """Refuse anything at `path` that is not an SQLite file, before SQLite touches it.

    Nothing that is not a regular file is opened: a FIFO would block the open, /dev/zero
    would be read as a database (loading/files.py)."""
    if not path.exists():  # stat() only: nothing is opened
        if not path.parent.is_dir():
            raise StoreError(f"cannot create database {path}: folder {path.parent} does not exist")
        return  # a new database
    try:
        header = read_regular_file(path, len(_SQLITE_MAGIC), prefix=True)
    except NotRegularFileError as exc:
        raise StoreError(f"cannot use {path} as a database: {exc}") from None
    except InputFileError as exc:
        raise StoreError(f"cannot read database {path}: {exc}") from None
    if header and header != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not a SQLite database; refusing to use it (left untouched)")


def _enable_wal(db: Database) -> None:
    """Switch a new database to WAL (it stays so), waiting for other processes to let go.

    SQLite answers `PRAGMA journal_mode=wal` with "database is locked" at once, without
    calling the busy handler, while another connection is using the file (as when
    several processes create the same database together), so it is retried here until
    the busy timeout has passed."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _migrate(db: Database, label: str) -> None:
    """Apply pending migrations, once, however many processes open a new database at once.

    The check and the migrations run in one `BEGIN IMMEDIATE` transaction: it takes the
    write lock first (waiting up to the busy timeout for whoever holds it), so a second
    process waits for the first to finish, then finds the migrations applied and has
    nothing to do. A deferred transaction would read first and fail at once on upgrading
    to a write (engineering reference §5.2); without one, two processes would both run
    0001 ("table runs already exists", "duplicate column name"). Inside it, each
    migration is a savepoint. Readers never see a half-made schema."""
    if not MIGRATIONS.pending(db):
        return  # the common case: no write lock taken
    db.execute("BEGIN IMMEDIATE")
    try:
        _check_ours(db, label)  # again, under the lock: another process may have created it
        MIGRATIONS.apply(db)  # re-reads what is applied, under the lock
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


def _check_ours(db: Database, label: str) -> None:
    """A database with tables must carry our migrations, and none we do not know."""
    try:
        tables = [t for t in db.table_names() if not t.startswith("sqlite_")]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{label} is not a usable SQLite database: {exc}") from exc
    try:
        applied = [m.name for m in MIGRATIONS.applied(db)]
    except sqlite3.Error:  # another tool's _sqlite_migrations table, of another shape
        applied = []
    if tables and not applied:
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(
            f"{label} is a SQLite database of something else (tables: {listed}); "
            "use another --db path"
        )
    unknown = [name for name in applied if name not in _KNOWN_MIGRATIONS]
    if unknown:
        raise StoreError(
            f"{label} was written by a newer api-audit (schema migration {unknown[0]!r} "
            "is unknown here); upgrade api-audit to use it"
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _attestation_row(attestation: Attestation, redactor: Redactor) -> dict[str, object]:
    return {
        "claim": attestation.claim,
        "value": attestation.value,
        "source": redactor.url(attestation.source),
        "seen": attestation.seen.isoformat(),
        "quote": attestation.quote,
        "note": attestation.note,
    }


def _attestation(row: Mapping[str, Any]) -> Attestation:
    value = row.get("value")
    if not isinstance(value, bool | str):
        raise cells.BadCell("value", "should be true, false or text")
    return Attestation(
        claim=cells.text(row, "claim"),
        value=value,
        source=cells.text(row, "source"),
        seen=_date(row, "seen"),
        quote=cells.optional_text(row, "quote"),
        note=cells.optional_text(row, "note"),
    )


def _reply_row(reply: Reply, redactor: Redactor) -> dict[str, object]:
    return {
        "date": reply.date.isoformat(),
        "text": reply.text,
        "about": reply.about,
        "source": redactor.url(reply.source) if reply.source else None,
    }


def _reply(row: Mapping[str, Any]) -> Reply:
    return Reply(
        date=_date(row, "date"),
        text=cells.text(row, "text"),
        about=cells.optional_text(row, "about"),
        source=cells.optional_text(row, "source"),
    )


def _hop_row(hop: Hop, redactor: Redactor) -> dict[str, object]:
    return {
        "status": hop.status,
        "url": redactor.url(hop.url),
        "location": redactor.text(hop.location),
    }


def _decompress(content: bytes | None, compression: str | None) -> bytes:
    if content is None:
        return b""
    if compression != "zlib":
        raise cells.BadCell("body_sha256", f"names a body of unknown compression {compression!r}")
    try:
        return zlib.decompress(content)
    except (zlib.error, TypeError) as exc:
        raise cells.BadCell("body_sha256", f"names a body that is not zlib data ({exc})") from None


def _date(row: Mapping[str, Any], column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(cells.text(row, column))
    except ValueError:
        raise cells.BadCell(column, "should be a date, YYYY-MM-DD") from None


# Reading rows back: each cell as api-audit wrote it, or a BadCell naming it (store_cells).


def _run_from_row(row: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        id=row["id"],
        started_at=cells.text(row, "started_at"),
        finished_at=cells.optional_text(row, "finished_at"),
        tool_version=cells.text(row, "tool_version"),
        rubric_version=cells.text(row, "rubric_version"),
        methodology_sha256=cells.text(row, "methodology_sha256"),
        catalogue_sha256=cells.text(row, "catalogue_sha256"),
        catalogue_source=cells.text(row, "catalogue_source"),
        status=cells.one_of(row, "status", RUN_STATUSES),
        options=cells.json_object(row, "options"),
    )


def _system(row: Mapping[str, Any]) -> System:
    return System(
        id=cells.text(row, "system_id"),
        name=cells.text(row, "name"),
        vendor_id=cells.text(row, "vendor_id"),
        vendor_name=cells.text(row, "vendor_name"),
        service_areas=cells.json_strings(row, "service_areas"),
        endpoints=cells.json_string_map(row, "endpoints"),
        protocols=cells.json_strings(row, "protocols"),
        standards=cells.json_strings(row, "standards"),
        attestations=cells.json_records(row, "attestations", _attestation),
        replies=cells.json_records(row, "replies", _reply),
        council=cells.optional_text(row, "council"),
    )


def _finding_from_row(row: Mapping[str, Any]) -> Finding:
    return Finding(
        system_id=cells.text(row, "system_id"),
        probe_id=cells.text(row, "probe_id"),
        criterion=cells.one_of(row, "criterion", CRITERIA),
        weight=cells.number(row, "weight"),
        outcome=cells.one_of(row, "outcome", OUTCOMES),
        message=cells.text(row, "message"),
        evidence=cells.json_strings(row, "evidence"),
        observed=bool(row["observed"]),
        credit=cells.number(row, "credit"),
        basis=cells.one_of(row, "basis", BASES),
        source=cells.optional_text(row, "source"),
        seen=cells.optional_text(row, "seen"),
    )


def _exchange_from_row(row: Mapping[str, Any]) -> Exchange:
    return Exchange(
        request=FetchRequest(
            url=cells.text(row, "url"),
            method=cells.one_of(row, "method", ("GET", "HEAD")),
            accept=cells.optional_text(row, "accept"),
        ),
        final_url=cells.text(row, "final_url"),
        status=cells.optional_integer(row, "status"),
        headers=cells.json_pairs(row, "headers"),
        body=_decompress(row["content"], row["compression"]),
        redirects=cells.json_records(row, "redirects", _hop),
        elapsed_ms=cells.number(row, "elapsed_ms"),
        error=cells.optional_text(row, "error"),
        error_detail=cells.text(row, "error_detail"),
        started_at=cells.text(row, "started_at"),
        tls_version=cells.optional_text(row, "tls_version"),
    )


def _hop(row: Mapping[str, Any]) -> Hop:
    status = cells.optional_integer(row, "status")
    if status is None:
        raise cells.BadCell("status", "should be a whole number, not null")
    return Hop(status=status, url=cells.text(row, "url"), location=cells.text(row, "location"))


def _require(value: int | None) -> int:
    if value is None:
        raise StoreError("the database did not return a row id")
    return value


__all__ = [
    "BODY_CAP",
    "FLUSH_ROWS",
    "FLUSH_SECONDS",
    "MIGRATIONS",
    "Store",
    "redact_headers",
    "redact_request_key",
    "redact_text",
    "redact_url",
]
