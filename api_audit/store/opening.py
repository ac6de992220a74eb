"""Opening a database safely: only SQLite files of ours, WAL, migrations under a lock."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Final

from sqlite_utils import Database

from api_audit.errors import StoreError
from api_audit.loading.files import InputFileError, NotRegularFileError, read_regular_file
from api_audit.store.migrations import KNOWN_MIGRATIONS, MIGRATIONS

BUSY_TIMEOUT_MS: Final = 5000  # how long to wait for another process's lock


_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_file(path: Path) -> None:
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


def enable_wal(db: Database) -> None:
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


def migrate(db: Database, label: str) -> None:
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
        check_ours(db, label)  # again, under the lock: another process may have created it
        MIGRATIONS.apply(db)  # re-reads what is applied, under the lock
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


def check_ours(db: Database, label: str) -> None:
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
    unknown = [name for name in applied if name not in KNOWN_MIGRATIONS]
    if unknown:
        raise StoreError(
            f"{label} was written by a newer api-audit (schema migration {unknown[0]!r} "
            "is unknown here); upgrade api-audit to use it"
        )
