"""SQLite: open (migrations), write as results arrive, read runs back.

    database    Store: writes in batches, reads runs back
    opening     only SQLite files of ours; WAL; migrations applied once, under a lock
    migrations  the schema, append-only
    rows        what is written for each value, and each value read back
    cells       one stored cell checked as it is read (a hand-edited one is named)

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

from api_audit.store.database import BODY_CAP, FLUSH_ROWS, FLUSH_SECONDS, Store
from api_audit.store.migrations import MIGRATIONS
from api_audit.store.opening import BUSY_TIMEOUT_MS
from api_audit.store.rows import RUN_STATUSES

__all__ = [
    "BODY_CAP",
    "BUSY_TIMEOUT_MS",
    "FLUSH_ROWS",
    "FLUSH_SECONDS",
    "MIGRATIONS",
    "RUN_STATUSES",
    "Store",
]
