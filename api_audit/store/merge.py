"""`api-audit merge`: combine the runs of `run --shard K/N` databases into one run.

Each input database gives its newest run, which must be a shard run. The shards must be
the N shares of one audit: 1/N to N/N each exactly once, the same catalogue (sha256), probe
set (methodology sha256), api-audit version and options but for `shard`; and, because
shards never share a host (api_audit/shards.py), no system or request in two of them.
Anything else is refused in one line (exit 2), and OUT is left as it was.

The merged run is a new run in OUT: started at the earliest start, finished at the latest
finish, `complete` only if every shard run is, and `interrupted` otherwise. Its options are
the shards' options with `shard` removed and `shards: N` and `merged_from` added: for each
input, the database path, run id, shard, status, times and its systems, so every finding
and exchange can be traced to the run that made it. Systems, findings and exchanges are
copied as stored (findings name exchanges by request key, so nothing is renumbered);
bodies are content-addressed and copied once. Scores are computed from findings
(DESIGN.md §3), so the merged run scores as one run of the whole selection would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from api_audit.errors import UsageError
from api_audit.models import RunInfo
from api_audit.store.database import Store
from api_audit.text import escape_controls

# Tables whose rows belong to a run, in the order they are copied (findings last).
_RUN_TABLES = ("systems", "exchanges", "findings")
# Options that must agree between shards: all but the shard's own number.
_SHARD_KEY = "shard"


class MergeError(UsageError):
    """Shard databases that cannot be merged (exit 2, one line)."""


@dataclass(frozen=True)
class ShardRun:
    """One input: its database, its newest run, and what that run holds."""

    path: str
    run: RunInfo
    system_ids: tuple[str, ...]
    request_keys: frozenset[str]

    @property
    def shard(self) -> str:
        value = self.run.options.get(_SHARD_KEY)
        return value if isinstance(value, str) else ""


def _shown(text: str) -> str:
    return escape_controls(text, one_line=True)


def read_shard_run(path: str) -> ShardRun:
    """The newest run of the database at `path` (refused if there is none)."""
    if not Path(path).is_file():
        raise MergeError(f"cannot merge {_shown(path)}: no such database")
    with Store.open(path) as store:
        run_id = store.latest_run_id()
        if run_id is None:
            raise MergeError(f"cannot merge {_shown(path)}: it holds no run")
        run = store.run_info(run_id)
        systems = tuple(system.id for system in store.systems(run_id))
        keys = frozenset(store.request_keys(run_id))
    return ShardRun(path, run, systems, keys)


def check_mergeable(shards: Sequence[ShardRun]) -> int:
    """N, the number of shards, when `shards` are the N shares of one audit; else refused."""
    for item in shards:
        if not item.shard:
            raise MergeError(
                f"cannot merge {_shown(item.path)}: run {item.run.id} is not a shard run "
                "(made without run --shard K/N)"
            )
    first = shards[0]
    for item in shards[1:]:
        _check_same(first, item)
    count = int(first.shard.partition("/")[2])
    _check_shares(shards, count)
    _check_disjoint(shards)
    return count


def _check_same(first: ShardRun, other: ShardRun) -> None:
    checks = (
        ("catalogue sha256", first.run.catalogue_sha256, other.run.catalogue_sha256),
        ("methodology sha256", first.run.methodology_sha256, other.run.methodology_sha256),
        ("api-audit version", first.run.tool_version, other.run.tool_version),
        ("options", _common_options(first.run), _common_options(other.run)),
    )
    for what, mine, theirs in checks:
        if mine != theirs:
            raise MergeError(
                f"cannot merge {_shown(other.path)} with {_shown(first.path)}: their "
                f"{what} differ ({_shown(str(theirs))} vs {_shown(str(mine))}); "
                "shards must come from one catalogue, probe set and command"
            )


def _common_options(run: RunInfo) -> str:
    shared = {key: value for key, value in run.options.items() if key != _SHARD_KEY}
    return json.dumps(shared, sort_keys=True)


def _check_shares(shards: Sequence[ShardRun], count: int) -> None:
    seen: dict[str, str] = {}
    for item in shards:
        if item.shard in seen:
            raise MergeError(
                f"cannot merge: shard {item.shard} twice ({_shown(seen[item.shard])} "
                f"and {_shown(item.path)})"
            )
        seen[item.shard] = item.path
    missing = [
        f"{index}/{count}" for index in range(1, count + 1) if f"{index}/{count}" not in seen
    ]
    if missing:
        raise MergeError(f"cannot merge: shard {', '.join(missing)} missing (need all {count})")


def _check_disjoint(shards: Sequence[ShardRun]) -> None:
    owner: dict[str, str] = {}
    for item in shards:
        for what, values in (("system", item.system_ids), ("request", item.request_keys)):
            for value in values:
                other = owner.setdefault(f"{what} {value}", item.path)
                if other != item.path:
                    raise MergeError(
                        f"cannot merge: {what} {_shown(value)!r} is in both "
                        f"{_shown(other)} and {_shown(item.path)} (shards overlap)"
                    )


def merged_run_row(shards: Sequence[ShardRun], count: int) -> dict[str, object]:
    """The `runs` row of the merged run (pure)."""
    first = shards[0].run
    runs = [item.run for item in shards]
    finished = [run.finished_at for run in runs]
    complete = all(run.status == "complete" for run in runs)
    options = {key: value for key, value in first.options.items() if key != _SHARD_KEY}
    options["shards"] = count
    options["merged_from"] = [_provenance(item) for item in shards]
    return {
        "started_at": min(run.started_at for run in runs),
        "finished_at": max((f for f in finished if f), default=None),
        "status": "complete" if complete else "interrupted",
        "tool_version": first.tool_version,
        "rubric_version": first.rubric_version,
        "methodology_sha256": first.methodology_sha256,
        "catalogue_sha256": first.catalogue_sha256,
        "catalogue_source": first.catalogue_source,
        "options": json.dumps(options),
    }


def _provenance(item: ShardRun) -> dict[str, object]:
    return {
        "db": item.path,
        "run": item.run.id,
        "shard": item.shard,
        "status": item.run.status,
        "started_at": item.run.started_at,
        "finished_at": item.run.finished_at,
        "resumed_at": list(item.run.resumed_at),
        "systems": list(item.system_ids),
    }


def merge_shards(out_path: str, in_paths: Sequence[str]) -> RunInfo:
    """Merge the newest runs of `in_paths` into a new run in `out_path`; return it."""
    out_resolved = Path(out_path).resolve()
    if any(Path(path).resolve() == out_resolved for path in in_paths):
        raise MergeError(f"cannot merge into {_shown(out_path)}: it is one of the inputs")
    shards = sorted(
        (read_shard_run(path) for path in in_paths),
        key=lambda item: int(item.shard.partition("/")[0] or 0),
    )
    count = check_mergeable(shards)
    with Store.open(out_path) as store:
        db = store.db
        with db.conn:  # one transaction: OUT gains the whole run or nothing
            cursor = db.conn.execute(
                "INSERT INTO runs (started_at, finished_at, status, tool_version, "
                "rubric_version, methodology_sha256, catalogue_sha256, catalogue_source, "
                "options) VALUES (:started_at, :finished_at, :status, :tool_version, "
                ":rubric_version, :methodology_sha256, :catalogue_sha256, "
                ":catalogue_source, :options)",
                merged_run_row(shards, count),
            )
            run_id = int(cursor.lastrowid or 0)
        try:
            for item in shards:
                _copy_run(store, item, run_id)
        except BaseException:
            # Each shard is copied in its own transaction (ATTACH cannot happen inside
            # one): take a half-merged run back out, so OUT gains the whole run or nothing.
            # Bodies stay: content-addressed, they are harmless and may be shared.
            _remove_run(store, run_id)
            raise
        return store.run_info(run_id)


def _remove_run(store: Store, run_id: int) -> None:
    conn = store.db.conn
    with conn:
        for table in (*_RUN_TABLES, "runs"):
            column = "id" if table == "runs" else "run_id"
            conn.execute(f"DELETE FROM main.{table} WHERE {column} = ?", [run_id])  # noqa: S608 - fixed names


def _columns(store: Store, table: str) -> list[str]:
    rows = store.db.conn.execute(f"PRAGMA main.table_info({table})").fetchall()
    return [str(row[1]) for row in rows]


def _copy_run(store: Store, item: ShardRun, run_id: int) -> None:
    """Copy one shard run's bodies and rows into run `run_id` of `store`."""
    conn = store.db.conn
    conn.execute("ATTACH DATABASE ? AS shard", [item.path])
    try:
        with conn:
            body_columns = ", ".join(_columns(store, "bodies"))
            # column names come from our own schema (PRAGMA table_info), never from input
            bodies = " ".join(
                ["INSERT OR IGNORE INTO main.bodies (", body_columns, ") SELECT", body_columns,
                 "FROM shard.bodies WHERE sha256 IN",
                 "(SELECT body_sha256 FROM shard.exchanges WHERE run_id = ?)"]
            )  # fmt: skip
            conn.execute(bodies, [item.run.id])
            for table in _RUN_TABLES:
                # exchanges' own id is renumbered; findings name them by request key
                names = [c for c in _columns(store, table) if c not in ("run_id", "id")]
                listed = ", ".join(names)
                copy = " ".join(
                    ["INSERT INTO", f"main.{table}", "(run_id,", listed, ") SELECT ?,", listed,
                     "FROM", f"shard.{table}", "WHERE run_id = ? ORDER BY rowid"]
                )  # fmt: skip
                conn.execute(copy, [run_id, item.run.id])
    finally:
        conn.execute("DETACH DATABASE shard")
