"""The SQLite store: round trips, migrations, refusals, redaction, batching."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from api_audit.errors import StoreError
from api_audit.models import (
    Attestation,
    Catalogue,
    Exchange,
    FetchRequest,
    Finding,
    GradeBand,
    Hop,
    Methodology,
    Reply,
    Research,
    Rubric,
    System,
    Vendor,
)
from api_audit.redact import redact_headers, redact_request_key, redact_text, redact_url
from api_audit.store import BODY_CAP, FLUSH_ROWS, MIGRATIONS, Store

SECRET = "s3cr3t-VALUE-42"

SYSTEM = System(
    id="idox-uniform",
    name="Idox Uniform",
    vendor_id="idox",
    vendor_name="Idox",
    service_areas=("planning", "building-control"),
    endpoints={"docs": "https://docs.example/uniform", "api_base": "https://api.example/v1"},
)
OTHER = System(
    id="civica-moderngov@E09000012",
    name="Civica ModernGov",
    vendor_id="civica",
    vendor_name="Civica",
    service_areas=("democracy",),
    endpoints={"docs": "https://hackney.moderngov.example/mgWebService.asmx"},
    council="E09000012",
)
CATALOGUE = Catalogue(
    schema_version=1,
    vendors=(Vendor("idox", "Idox", (SYSTEM,)), Vendor("civica", "Civica", (OTHER,))),
    source="vendors.yaml",
    sha256="cat-sha",
)
METHODOLOGY = Methodology(
    probes=(),
    rubric=Rubric(
        methodology_version="2025.1",
        criterion_weights={"documented": 1.0, "free": 1.0, "standards": 1.0},
        grade_bands=(GradeBand("A", 8.0), GradeBand("E", 0.0)),
        coverage_floor=0.5,
    ),
    sha256="meth-sha",
)


class FakeClock:
    """A clock that only moves when told, so batching does not depend on test speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def start(store: Store) -> int:
    run = store.start_run(
        catalogue=CATALOGUE,
        methodology=METHODOLOGY,
        tool_version="0.1.0",
        options={"concurrency": 8, "council": None},
    )
    return run.id


def exchange(url: str = "https://docs.example/uniform", body: bytes = b"<h1>docs</h1>") -> Exchange:
    return Exchange(
        request=FetchRequest(url=url, accept="text/html"),
        final_url=url + "/",
        status=200,
        headers=(("content-type", "text/html"), ("server", "nginx")),
        body=body,
        redirects=(Hop(301, url, url + "/"),),
        elapsed_ms=12.5,
        started_at="2025-01-01T00:00:01+00:00",
        tls_version="TLSv1.3",
    )


def finding(probe: str, system: str = "idox-uniform", **kwargs: object) -> Finding:
    fields: dict[str, object] = {
        "system_id": system,
        "probe_id": probe,
        "criterion": "documented",
        "weight": 2.0,
        "outcome": "pass",
        "message": "docs are public",
        "evidence": ("GET https://docs.example/uniform accept=text/html",),
        "observed": True,
        "credit": 0.5,
    }
    fields.update(kwargs)
    return Finding(**fields)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


# --- round trips -------------------------------------------------------------------------


def test_run_round_trip_in_memory() -> None:
    with Store.open(":memory:") as store:
        assert store.latest_run_id() is None
        run = store.start_run(
            catalogue=CATALOGUE,
            methodology=METHODOLOGY,
            tool_version="0.1.0",
            options={"concurrency": 8, "council": "E09000012"},
        )
        assert run.status == "running"
        assert run.finished_at is None
        assert (run.tool_version, run.rubric_version) == ("0.1.0", "2025.1")
        assert (run.methodology_sha256, run.catalogue_sha256) == ("meth-sha", "cat-sha")
        assert run.catalogue_source == "vendors.yaml"
        assert run.options == {"concurrency": 8, "council": "E09000012"}
        assert store.run_info(run.id) == run
        assert store.latest_run_id() == run.id


def test_systems_findings_exchanges_round_trip(db_path: Path) -> None:
    ex = exchange()
    found = [finding("docs-public"), finding("spec-openapi", outcome="inconclusive")]
    with Store.open(db_path) as store:
        run_id = start(store)
        store.save_systems(run_id, [SYSTEM, OTHER])
        store.add_exchange(run_id, ex)
        for f in found:
            store.add_finding(run_id, f)
    with Store.open(db_path) as store:
        assert store.systems(run_id) == [SYSTEM, OTHER]
        assert store.findings(run_id) == sorted(found, key=lambda f: f.probe_id)
        assert store.exchanges(run_id) == [ex]


def test_exchange_without_body_or_response(db_path: Path) -> None:
    failed = Exchange(
        request=FetchRequest(url="https://down.example/", method="HEAD"),
        final_url="https://down.example/",
        status=None,
        error="timeout",
        error_detail="no answer within 10 s",
    )
    with Store.open(db_path) as store:
        run_id = start(store)
        store.add_exchange(run_id, failed)
        store.flush()
        assert store.exchanges(run_id) == [failed]


def test_reading_is_per_run(db_path: Path) -> None:
    with Store.open(db_path) as store:
        first, second = start(store), start(store)
        store.save_systems(first, [SYSTEM])
        store.add_finding(first, finding("docs-public"))
        store.flush()
        assert second > first
        assert store.latest_run_id() == second
        assert (store.systems(second), store.findings(second), store.exchanges(second)) == (
            [],
            [],
            [],
        )


def test_a_later_finding_for_the_same_probe_replaces_the_earlier(db_path: Path) -> None:
    with Store.open(db_path) as store:
        run_id = start(store)
        store.add_finding(run_id, finding("docs-public", outcome="inconclusive"))
        store.flush()
        store.add_finding(run_id, finding("docs-public", outcome="pass"))
        store.flush()
        assert [f.outcome for f in store.findings(run_id)] == ["pass"]


def test_finish_run_sets_status_and_time(db_path: Path) -> None:
    with Store.open(db_path) as store:
        run_id = start(store)
        store.finish_run(run_id)
        info = store.run_info(run_id)
        assert info.status == "complete"
        assert info.finished_at is not None
        other = start(store)
        store.finish_run(other, "interrupted")
        assert store.run_info(other).status == "interrupted"
        with pytest.raises(ValueError, match="run status"):
            store.finish_run(other, "done")


def test_missing_run_is_a_clear_store_error(db_path: Path) -> None:
    with Store.open(db_path) as store:
        with pytest.raises(StoreError, match=r"^no run 7 in .*audit\.db$"):
            store.run_info(7)
        with pytest.raises(StoreError, match="no run 7"):
            store.finish_run(7)


def test_closed_store_refuses_work() -> None:
    store = Store.open(":memory:")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.latest_run_id()


def test_claims_and_attested_findings_round_trip(db_path: Path) -> None:
    claimed = replace(
        SYSTEM,
        protocols=("soap",),
        standards=("openapi", "uprn"),
        attestations=(
            Attestation(
                "api_access_fee",
                True,
                f"https://supplier.example/prices?token={SECRET}",
                dt.date(2026, 6, 1),
                quote="an additional fee",
                note="seen on the price list",
            ),
            Attestation("docs_public", "to customers", "https://s.example/d", dt.date(2026, 6, 2)),
        ),
        replies=(Reply(dt.date(2026, 7, 1), "We disagree.", "api_access_fee", None),),
    )
    attested = finding(
        "attested:api_access_fee",
        outcome="fail",
        observed=False,
        evidence=(),
        credit=0.0,
        basis="attested",
        source="https://supplier.example/prices",
        seen="2026-06-01",
    )
    with Store.open(db_path) as store:
        run_id = start(store)
        store.save_systems(run_id, [claimed])
        store.add_finding(run_id, attested)
        store.add_finding(run_id, finding("docs-public"))
    with Store.open(db_path) as store:
        (back,) = store.systems(run_id)
        assert back.attestations[0].source == "https://supplier.example/prices?token=[redacted]"
        assert back == replace(
            claimed,
            attestations=(
                replace(claimed.attestations[0], source=back.attestations[0].source),
                claimed.attestations[1],
            ),
        )
        assert store.findings(run_id) == [attested, finding("docs-public")]


# --- opening, migrations, refusals -------------------------------------------------------


def test_a_database_at_0001_is_upgraded_on_open(db_path: Path) -> None:
    """A database written before attestations (schema 0001) keeps its runs and gains
    the new columns, read back with their defaults."""
    db = Database(str(db_path))
    MIGRATIONS.apply(db, stop_before="0002_attestations_and_claims")
    db.execute(
        "INSERT INTO runs (started_at, tool_version, rubric_version, methodology_sha256,"
        " catalogue_sha256, catalogue_source) VALUES ('2026-01-01', '0.1.0', '2026.11-skeleton',"
        " 'm', 'c', 'vendors.yaml')"
    )
    db.execute(
        "INSERT INTO systems (run_id, system_id, vendor_id, vendor_name, name)"
        " VALUES (1, 'idox-uniform', 'idox', 'Idox', 'Idox Uniform')"
    )
    db.execute(
        "INSERT INTO findings (run_id, system_id, probe_id, criterion, weight, outcome,"
        " observed) VALUES (1, 'idox-uniform', 'docs-public', 'documented', 3, 'pass', 1)"
    )
    db.conn.commit()
    assert [m.name for m in MIGRATIONS.applied(db)] == ["0001_initial"]
    db.close()

    with Store.open(db_path) as store:
        applied = [m.name for m in MIGRATIONS.applied(store.db)]
        assert applied == [
            "0001_initial",
            "0002_attestations_and_claims",
            "0003_exchange_tls_version",
            "0004_finding_sign_in",
            "0005_finding_excerpt",
            "0006_system_research",
            "0007_run_resume",
            "0008_browsing_views",
            "0009_contracts",
            "0010_import_cursors",
        ]
        assert store.run_info(1).rubric_version == "2026.11-skeleton"
        (old,) = store.findings(1)
        assert (old.basis, old.source, old.seen, old.observed) == ("observed", None, None, True)
        (system,) = store.systems(1)
        assert (system.protocols, system.attestations, system.replies) == ((), (), ())
        assert (system.research, system.research_state) == (None, "not-researched")
        store.add_finding(1, finding("attested:api_exists", basis="attested", seen="2026-01-01"))
    with Store.open(db_path) as store:
        assert [f.basis for f in store.findings(1)] == ["attested", "observed"]


def test_basis_is_a_closed_vocabulary_in_the_database(db_path: Path) -> None:
    with Store.open(db_path) as store:
        run_id = start(store)
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            store.db.execute(
                "INSERT INTO findings (run_id, system_id, probe_id, criterion, weight, outcome,"
                " basis) VALUES (?, 's', 'p', 'free', 1, 'pass', 'guessed')",
                [run_id],
            )


def test_migrations_apply_once_and_reopen_is_idempotent(db_path: Path) -> None:
    with Store.open(db_path) as store:
        run_id = start(store)
    with Store.open(db_path) as store:
        assert store.run_info(run_id).id == run_id
    with sqlite3.connect(db_path) as conn:
        applied = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'api-audit'"
        ).fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert applied == [
        ("0001_initial",),
        ("0002_attestations_and_claims",),
        ("0003_exchange_tls_version",),
        ("0004_finding_sign_in",),
        ("0005_finding_excerpt",),
        ("0006_system_research",),
        ("0007_run_resume",),
        ("0008_browsing_views",),
        ("0009_contracts",),
        ("0010_import_cursors",),
    ]
    assert {"runs", "systems", "exchanges", "bodies", "findings"} <= tables


def test_wal_mode_and_pragmas(db_path: Path) -> None:
    with Store.open(db_path) as store:
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_close_checkpoints_the_wal_into_the_file(db_path: Path) -> None:
    with Store.open(db_path) as store:
        start(store)
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(db_path: Path) -> None:
    content = b"vendors:\n  - id: idox\n" * 100
    db_path.write_bytes(content)
    with pytest.raises(StoreError, match=r"audit\.db is not a SQLite database") as caught:
        Store.open(db_path)
    assert "\n" not in str(caught.value)
    assert db_path.read_bytes() == content
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["audit.db"]


def test_a_sqlite_database_of_something_else_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match=r"SQLite database of something else.*invoices"):
        Store.open(db_path)
    assert db_path.read_bytes() == before


def test_a_database_from_a_newer_api_audit_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('api-audit', '0099_future', 'later')"
        )
    with pytest.raises(StoreError, match=r"newer api-audit.*0099_future"):
        Store.open(db_path)


def test_a_database_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "no" / "such" / "folder" / "audit.db")
    with pytest.raises(StoreError, match="directory"):
        Store.open(tmp_path)


def test_an_empty_file_becomes_a_database(db_path: Path) -> None:
    db_path.touch()
    with Store.open(db_path) as store:
        assert store.latest_run_id() is None


# --- redaction ---------------------------------------------------------------------------


def test_redact_headers() -> None:
    headers = (
        ("authorization", "Bearer abc"),
        ("Proxy-Authorization", "Basic abc"),
        ("cookie", "session=abc"),
        ("set-cookie", "id=abc; HttpOnly"),
        ("x-api-key", "abc"),
        ("api-key", "abc"),
        ("x-csrf-token", "abc"),
        ("x-client-secret", "abc"),
        ("x-subscription-key", "abc"),
        ("keep-alive", "timeout=5"),
        ("content-type", "application/json"),
        ("location", "https://h.example/cb?access_token=abc&page=2"),
    )
    assert redact_headers(headers) == (
        ("authorization", "[redacted]"),
        ("Proxy-Authorization", "[redacted]"),
        ("cookie", "[redacted]"),
        ("set-cookie", "[redacted]"),
        ("x-api-key", "[redacted]"),
        ("api-key", "[redacted]"),
        ("x-csrf-token", "[redacted]"),
        ("x-client-secret", "[redacted]"),
        ("x-subscription-key", "[redacted]"),
        ("keep-alive", "timeout=5"),
        ("content-type", "application/json"),
        ("location", "https://h.example/cb?access_token=[redacted]&page=2"),
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x?page=2&q=planning", "https://a.example/x?page=2&q=planning"),
        ("https://a.example/x?api_key=abc&page=2", "https://a.example/x?api_key=[redacted]&page=2"),
        ("https://a.example/?apikey=abc", "https://a.example/?apikey=[redacted]"),
        ("https://a.example/?Token=abc", "https://a.example/?Token=[redacted]"),
        ("https://a.example/?client_secret=abc", "https://a.example/?client_secret=[redacted]"),
        ("https://a.example/?X-Amz-Signature=abc", "https://a.example/?X-Amz-Signature=[redacted]"),
        ("https://a.example/?sig=abc&sv=2020", "https://a.example/?sig=[redacted]&sv=2020"),
        ("https://a.example/?password=abc", "https://a.example/?password=[redacted]"),
        ("https://a.example/cb#access_token=abc", "https://a.example/cb#access_token=[redacted]"),
        ("https://user:pw@a.example/", "https://[redacted]@a.example/"),
        ("https://a.example/?key", "https://a.example/?key"),
        ("https://a.example/x?jsessionid=abc", "https://a.example/x?jsessionid=[redacted]"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_and_request_key() -> None:
    assert (
        redact_text("connect failed for https://u:p@a.example/?token=abc (timeout)")
        == "connect failed for https://[redacted]@a.example/?token=[redacted] (timeout)"
    )
    key = FetchRequest("https://a.example/x?key=abc&page=1", accept="application/json").key
    assert redact_request_key(key) == (
        "GET https://a.example/x?key=[redacted]&page=1 accept=application/json"
    )


def test_no_secret_reaches_the_database_file(db_path: Path) -> None:
    url = f"https://api.example/v1/items?api_key={SECRET}&page=1"
    leaky = Exchange(
        request=FetchRequest(url=url, accept="application/json"),
        final_url=f"https://user:{SECRET}@api.example/v1/items?token={SECRET}",
        status=302,
        headers=(
            ("authorization", f"Bearer {SECRET}"),
            ("set-cookie", f"session={SECRET}"),
            ("x-api-key", SECRET),
            ("x-auth-token", SECRET),
            ("location", f"https://api.example/next?signature={SECRET}"),
        ),
        redirects=(Hop(302, url, f"/login?password={SECRET}"),),
        error="protocol",
        error_detail=f"bad response from {url}",
    )
    leaky_finding = finding(
        "api-base-json",
        evidence=(leaky.request.key,),
        message=f"GET {url} answered 302",
    )
    with Store.open(db_path) as store:
        run_id = store.start_run(
            catalogue=CATALOGUE,
            methodology=METHODOLOGY,
            tool_version="0.1.0",
            options={"api_token": SECRET, "base": f"https://x.example/?token={SECRET}"},
        ).id
        endpoints = {"api_base": f"https://x.example/?key={SECRET}"}
        store.save_systems(run_id, [System("s", "S", "v", "V", (), endpoints)])
        store.add_exchange(run_id, leaky)
        store.add_finding(run_id, leaky_finding)
        store.finish_run(run_id)
        (stored,) = store.exchanges(run_id)
        (stored_finding,) = store.findings(run_id)
    # the evidence key still names the stored exchange after redaction
    assert stored_finding.evidence == (stored.request.key,)
    assert "[redacted]" in stored.request.url
    on_disk = b"".join(p.read_bytes() for p in db_path.parent.iterdir())
    assert SECRET.encode() not in on_disk
    assert b"[redacted]" in on_disk


# --- bodies ------------------------------------------------------------------------------


def test_identical_bodies_are_stored_once_across_runs(db_path: Path) -> None:
    spec = b'{"openapi": "3.1.0"}' * 50
    with Store.open(db_path) as store:
        for _ in range(2):
            run_id = start(store)
            store.add_exchange(run_id, exchange("https://a.example/openapi.json", spec))
            store.add_exchange(run_id, exchange("https://b.example/openapi.json", spec))
            store.flush()
            assert [e.body for e in store.exchanges(run_id)] == [spec, spec]
        assert store.db.execute("SELECT count(*) FROM bodies").fetchone()[0] == 1
        assert store.db.execute("SELECT count(*) FROM exchanges").fetchone()[0] == 4
        row = store.db.execute("SELECT size, stored_size, truncated FROM bodies").fetchone()
        assert row == (len(spec), len(spec), 0)


def test_large_bodies_are_capped_and_marked_truncated(db_path: Path) -> None:
    big = b"x" * (BODY_CAP + 10)
    with Store.open(db_path) as store:
        run_id = start(store)
        store.add_exchange(run_id, exchange(body=big))
        store.flush()
        (stored,) = store.exchanges(run_id)
        assert stored.body == big[:BODY_CAP]
        row = store.db.execute("SELECT size, stored_size, truncated FROM bodies").fetchone()
        assert row == (BODY_CAP + 10, BODY_CAP, 1)
        body_size = store.db.execute("SELECT body_size FROM exchanges").fetchone()[0]
        assert body_size == BODY_CAP + 10


# --- writing as results arrive -----------------------------------------------------------


def count_findings(db_path: Path) -> int:
    with sqlite3.connect(db_path) as other:
        return int(other.execute("SELECT count(*) FROM findings").fetchone()[0])


def test_findings_are_flushed_every_fifty_rows(db_path: Path) -> None:
    clock = FakeClock()
    store = Store.open(db_path, clock=clock)
    run_id = start(store)
    for i in range(FLUSH_ROWS - 1):
        store.add_finding(run_id, finding(f"p{i:03}"))
    assert count_findings(db_path) == 0
    store.add_finding(run_id, finding("p049"))
    assert count_findings(db_path) == FLUSH_ROWS
    store.add_finding(run_id, finding("p050"))
    assert count_findings(db_path) == FLUSH_ROWS
    store.close()
    assert count_findings(db_path) == FLUSH_ROWS + 1


def test_findings_are_flushed_after_a_second(db_path: Path) -> None:
    clock = FakeClock()
    with Store.open(db_path, clock=clock) as store:
        run_id = start(store)
        store.add_finding(run_id, finding("first"))
        assert count_findings(db_path) == 0
        clock.now += 1.0
        store.add_finding(run_id, finding("second"))
        assert count_findings(db_path) == 2


def test_exchanges_and_findings_share_the_batch(db_path: Path) -> None:
    clock = FakeClock()
    with Store.open(db_path, clock=clock) as store:
        run_id = start(store)
        for i in range(FLUSH_ROWS // 2):
            store.add_exchange(run_id, exchange(f"https://a.example/{i}"))
            store.add_finding(run_id, finding(f"p{i:03}"))
        with sqlite3.connect(db_path) as other:
            assert other.execute("SELECT count(*) FROM exchanges").fetchone()[0] == FLUSH_ROWS // 2
        assert count_findings(db_path) == FLUSH_ROWS // 2


def test_an_interrupted_writer_keeps_what_was_flushed(db_path: Path) -> None:
    store = Store.open(db_path, clock=FakeClock())
    run_id = start(store)
    for i in range(FLUSH_ROWS + 3):
        store.add_finding(run_id, finding(f"p{i:03}"))
    # simulate a crash: the connection goes away without close() or finish_run()
    store.db.conn.close()
    with Store.open(db_path) as reopened:
        assert len(reopened.findings(run_id)) == FLUSH_ROWS
        assert reopened.run_info(run_id).status == "running"


# --- 0004: a finding's sign-in reason is a field, read once from older runs' wording -------

OLD_WORDING = {
    "401 Unauthorized: needs an account": "status",
    "at /docs: 403 Forbidden (it said 'go away'): needs an account": "status",
    "redirected to a sign-in page at https://login.example/": "redirect",
    "at /api: redirected to a sign-in page at /sso": "redirect",
    "the page is a sign-in page at https://login.microsoftonline.com/x": "sign_in_url",
    "the page is a sign-in form (it asks for a password)": "password_form",
    "404 Not Found (expected 2xx)": None,
    "the docs mention a sign-in page for customers": None,
}


def test_older_runs_get_their_sign_in_reason_from_their_wording(db_path: Path) -> None:
    db = Database(str(db_path))
    MIGRATIONS.apply(db, stop_before="0004_finding_sign_in")
    db.execute(
        "INSERT INTO runs (started_at, tool_version, rubric_version, methodology_sha256,"
        " catalogue_sha256, catalogue_source) VALUES ('2026-11-01', '0.1.0', '2026.11',"
        " 'm', 'c', 'vendors.yaml')"
    )
    for number, message in enumerate(OLD_WORDING):
        db.execute(
            "INSERT INTO findings (run_id, system_id, probe_id, criterion, weight, outcome,"
            " message, observed) VALUES (1, 's', ?, 'documented', 1, 'fail', ?, 1)",
            [f"p{number:02d}", message],
        )
    db.execute(
        "INSERT INTO findings (run_id, system_id, probe_id, criterion, weight, outcome,"
        " message, observed) VALUES (1, 's', 'zz-pass', 'documented', 1, 'pass', ?, 1)",
        ["redirected to a sign-in page at /x"],  # a pass is never a wall
    )
    db.conn.commit()
    db.close()
    with Store.open(db_path) as store:
        stored = {f.probe_id: f.sign_in for f in store.findings(1)}
    expected = {f"p{n:02d}": reason for n, reason in enumerate(OLD_WORDING.values())}
    assert stored == {**expected, "zz-pass": None}


@pytest.mark.parametrize("reason", [None, "status", "redirect", "sign_in_url", "password_form"])
def test_a_findings_sign_in_reason_round_trips(db_path: Path, reason: str | None) -> None:
    wall = finding("docs-public", outcome="fail", message="x", sign_in=reason)
    with Store.open(db_path) as store:
        run_id = store.start_run(
            catalogue=CATALOGUE, methodology=METHODOLOGY, tool_version="t", options={}
        ).id
        store.add_finding(run_id, wall)
        store.finish_run(run_id)
        (back,) = store.findings(run_id)
    assert back.sign_in == reason


@pytest.mark.parametrize(
    "research",
    [
        None,
        Research("not-researched"),
        Research("none-found", dt.date(2026, 11, 20), ("vendor site", "G-Cloud"), notes="n"),
        Research("endpoints-found", dt.date(2026, 11, 20), ("vendor site",), ("spec", "docs")),
    ],
)
def test_a_systems_research_round_trips(db_path: Path, research: Research | None) -> None:
    with Store.open(db_path) as store:
        run_id = start(store)
        store.save_systems(run_id, [replace(SYSTEM, research=research)])
    with Store.open(db_path) as store:
        (stored,) = store.systems(run_id)
    assert stored.research == research


def test_a_secret_in_where_it_was_searched_is_not_stored(db_path: Path) -> None:
    research = Research(
        "none-found", dt.date(2026, 11, 20), (f"https://s.example/?token={SECRET}",)
    )
    with Store.open(db_path) as store:
        run_id = start(store)
        store.save_systems(run_id, [replace(SYSTEM, research=research)])
        (stored,) = store.systems(run_id)
    assert SECRET not in repr(stored.research)
    assert stored.research is not None and stored.research.where[0].startswith("https://s.example/")


# --- 0005: the sentence that decided a wording finding ------------------------------------


@pytest.mark.parametrize(
    ("excerpt", "stored"),
    [
        (None, None),
        ("Please contact your account manager.", "Please contact your account manager."),
        ("Use ?api_key=abc123def456 to sign up.", "Use ?api_key=[redacted] to sign up."),
        ("Send Bearer eyJhbGciOiJIUzI1NiJ9.e30.x to get access", None),
    ],
)
def test_a_findings_excerpt_is_stored_redacted_and_read_back(
    db_path: Path, excerpt: str | None, stored: str | None
) -> None:
    found = replace(finding("pricing-stated"), excerpt=excerpt)
    with Store.open(db_path) as store:
        run_id = start(store)
        store.add_finding(run_id, found)
    with Store.open(db_path) as store:
        (back,) = store.findings(run_id)
    if stored is not None or excerpt is None:
        assert back.excerpt == stored
    else:  # a credential in free text: redacted by shape, as a message is
        assert back.excerpt is not None and "eyJhbGci" not in back.excerpt
    assert back == replace(found, excerpt=back.excerpt)
