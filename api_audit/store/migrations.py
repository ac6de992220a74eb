"""The schema, as an append-only list of migrations; never edit one that has shipped."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from api_audit.models import (
    SIGN_INS,
    SignIn,
)

MIGRATIONS = Migrations("api-audit")


KNOWN_MIGRATIONS: set[str] = set()


def _migration(name: str) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
    """Register an append-only migration. Never edit or reorder one that has shipped."""
    KNOWN_MIGRATIONS.add(name)
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


@_migration("0004_finding_sign_in")
def _m0004_finding_sign_in(db: Database) -> None:
    # Why a failure is a login wall (models.SignIn), so the ladder reads a field instead of
    # the finding's wording. Runs stored before carry no field: their reason is read once,
    # here, from the messages api-audit wrote then (the wording of methodology 2026.11), so
    # rescoring an old run places it on the ladder exactly as before.
    db.execute(
        "ALTER TABLE findings ADD COLUMN sign_in TEXT"
        f" CHECK (sign_in IS NULL OR sign_in IN ({', '.join(repr(w) for w in SIGN_INS)}))"
    )
    rows = db.execute(
        "SELECT rowid, message FROM findings WHERE outcome = 'fail' AND basis = 'observed'"
    ).fetchall()
    for rowid, message in rows:
        reason = _sign_in_of_2026_11_message(message)
        if reason is not None:
            db.execute("UPDATE findings SET sign_in = ? WHERE rowid = ?", [reason, rowid])


# The sign-in wording of methodology 2026.11's messages ("at <path>: " first when a probe
# tried several paths), for migration 0004 only: new findings carry the reason itself.
_SIGN_IN_WORDING_2026_11: tuple[tuple[str, SignIn], ...] = (
    (r"\d{3}\b[^:;]*: needs an account", "status"),
    (r"redirected to a sign-in page at ", "redirect"),
    (r"the page is a sign-in page\b", "sign_in_url"),
    (r"the page is a sign-in form\b", "password_form"),
)


def _sign_in_of_2026_11_message(message: str) -> SignIn | None:
    for pattern, reason in _SIGN_IN_WORDING_2026_11:
        if re.match(rf"(?:at \S+: )?{pattern}", message):
            return reason
    return None


@_migration("0005_finding_excerpt")
def _m0005_finding_excerpt(db: Database) -> None:
    # The sentence that decided a wording finding (issue 11), redacted like the message,
    # so a supplier can check what was read; NULL for every other finding and older runs.
    db.execute("ALTER TABLE findings ADD COLUMN excerpt TEXT")


@_migration("0006_system_research")
def _m0006_system_research(db: Database) -> None:
    # How far each system was researched (models.Research) as a JSON object, so a rescore
    # knows a search that found nothing from a blank entry. NULL: nothing recorded, and
    # the state is derived from the endpoints, as for runs stored before.
    db.execute("ALTER TABLE systems ADD COLUMN research TEXT")


@_migration("0007_run_resume")
def _m0007_run_resume(db: Database) -> None:
    # `run --resume` (issue 12) finishes an unfinished run under its own id. It needs the
    # run's soft-200 baseline token (plan.py), so a resumed system asks for the same random
    # path as the systems audited before the stop and the stored exchange is reused, not
    # fetched again; NULL for runs stored before (a resume then draws a new token). Each
    # resume is noted (a JSON list of times), so a run's evidence says it was gathered in
    # more than one sitting. Duplicates were already impossible at the database level:
    # findings' primary key (run_id, system_id, probe_id) and the unique index
    # idx_exchanges_run_request (run_id, request_key) of 0001.
    db.execute("ALTER TABLE runs ADD COLUMN baseline_token TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN resumed_at TEXT NOT NULL DEFAULT '[]'")


@_migration("0008_browsing_views")
def _m0008_browsing_views(db: Database) -> None:
    # Views for browsing the database in Datasette (issue 12 item 6; DESIGN.md §6).
    # Foreign keys: every single-column one is declared since 0001 (runs.id, bodies.sha256),
    # which is what Datasette turns into links. A finding's or exchange's system is the
    # composite (run_id, system_id), which Datasette does not link, so the tables are not
    # rebuilt to declare it (a rebuild copies the largest tables and would race the
    # unique indexes of 0007); finding_evidence below does that join instead.
    # Scores are not stored (they are computed from findings under a rubric, DESIGN.md §3),
    # so no view shows a grade: the views show findings and their outcomes as stored.
    for statement in _VIEWS_0008:
        db.execute(statement)


_VIEWS_0008 = (
    """
    CREATE VIEW run_summary AS
    SELECT r.id AS run_id, r.status, r.started_at, r.finished_at,
        r.rubric_version AS methodology_version, r.tool_version,
        r.methodology_sha256, r.catalogue_sha256,
        (SELECT count(*) FROM systems s WHERE s.run_id = r.id) AS systems,
        (SELECT count(DISTINCT f.system_id) FROM findings f WHERE f.run_id = r.id)
            AS systems_with_findings,
        (SELECT count(*) FROM exchanges e WHERE e.run_id = r.id) AS exchanges,
        (SELECT count(*) FROM findings f WHERE f.run_id = r.id) AS findings,
        (SELECT count(*) FROM findings f WHERE f.run_id = r.id AND f.outcome = 'pass') AS pass,
        (SELECT count(*) FROM findings f WHERE f.run_id = r.id AND f.outcome = 'fail') AS fail,
        (SELECT count(*) FROM findings f WHERE f.run_id = r.id AND f.outcome = 'inconclusive')
            AS inconclusive,
        (SELECT count(*) FROM findings f WHERE f.run_id = r.id AND f.outcome = 'not_applicable')
            AS not_applicable
    FROM runs r
    """,
    """
    CREATE VIEW latest_findings AS
    SELECT f.run_id, s.vendor_name, f.system_id, s.name AS system_name, f.probe_id,
        f.criterion, f.outcome, f.credit, f.weight, f.basis, f.message, f.excerpt,
        f.sign_in, f.source, f.seen, f.evidence
    FROM findings f
    JOIN systems s ON s.run_id = f.run_id AND s.system_id = f.system_id
    WHERE f.run_id = (SELECT max(id) FROM runs WHERE status = 'complete')
    """,
    """
    CREATE VIEW latest_outcomes AS
    SELECT f.run_id, s.vendor_name, f.system_id, s.name AS system_name, f.criterion,
        sum(f.outcome = 'pass') AS pass, sum(f.outcome = 'fail') AS fail,
        sum(f.outcome = 'inconclusive') AS inconclusive,
        sum(f.outcome = 'not_applicable') AS not_applicable
    FROM findings f
    JOIN systems s ON s.run_id = f.run_id AND s.system_id = f.system_id
    WHERE f.run_id = (SELECT max(id) FROM runs WHERE status = 'complete')
    GROUP BY f.run_id, f.system_id, f.criterion
    """,
    """
    CREATE VIEW finding_evidence AS
    SELECT f.run_id, f.system_id, f.probe_id, f.outcome, f.message,
        e.id AS exchange_id, e.method, e.url, e.final_url, e.status, e.error,
        e.body_sha256, e.body_size, e.started_at AS fetched_at, e.tls_version
    FROM findings f
    JOIN json_each(f.evidence) AS k
    JOIN exchanges e ON e.run_id = f.run_id AND e.request_key = k.value
    """,
)


@_migration("0009_contracts")
def _m0009_contracts(db: Database) -> None:
    # Contracts imported from open procurement data (issue 13): one row per ocid, holding
    # its newest release as published (a newer release replaces an older one; see
    # store/contracts.py). Not tied to a run: a contract is a fact about the market, and
    # matching it to councils, vendors and systems is done when it is read, against the
    # catalogue of the day, so a better catalogue improves every import already made.
    db.execute(
        """
        CREATE TABLE contracts (
            ocid TEXT PRIMARY KEY,
            release_id TEXT NOT NULL,
            release_date TEXT NOT NULL,
            buyer TEXT NOT NULL,              -- JSON: {name, id, identifiers: [[scheme, id]]}
            suppliers TEXT NOT NULL DEFAULT '[]',   -- JSON list of the same
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            value REAL,
            currency TEXT,
            start_date TEXT,
            end_date TEXT,
            period_from TEXT CHECK (period_from IS NULL
                OR period_from IN ('award', 'contract', 'tender')),
            cpv TEXT NOT NULL DEFAULT '[]',   -- JSON list of 8-digit codes
            notice_url TEXT,
            source TEXT NOT NULL DEFAULT '',
            flags TEXT NOT NULL DEFAULT '[]', -- JSON list of data-quality flags
            imported_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_contracts_end ON contracts (end_date)")


@_migration("0010_import_cursors")
def _m0010_import_cursors(db: Database) -> None:
    # Where an import from a procurement API got to (issue 13): the next page to ask for,
    # per service and --since date, written after each page's contracts are stored, so a
    # killed import continues from there. `next_page` is the path and query of the
    # service's `links.next` (joined to the base URL of the day, so moving the base URL
    # keeps the place); NULL once the service said there was no next page.
    db.execute(
        """
        CREATE TABLE import_cursors (
            source TEXT NOT NULL,
            since TEXT NOT NULL,
            next_page TEXT,
            pages INTEGER NOT NULL DEFAULT 0,
            releases INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            PRIMARY KEY (source, since)
        )
        """
    )
