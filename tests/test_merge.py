"""Shards merged score as one run, and no host is contacted by two shards (issue 15 item 3).

A loopback market (suppliers that pass, fail, share a host, or chain hosts together) is
audited once whole and once as N shards merged with `api-audit merge`; each server counts
the requests it got during each shard's run.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackSite, Route
from test_resume import DOCS_HTML, SPEC

from api_audit.cli import main
from api_audit.store import Store
from api_audit.store import merge as merge_module

RUN_FLAGS = ("--allow-private", "--min-interval", "0", "--per-host", "4")
_TOKEN = re.compile(r"__api_audit_[0-9A-Za-z_-]+")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?")


def _good(path: str) -> Route:
    if path.startswith("/docs"):
        return (200, {"Content-Type": "text/html; charset=utf-8"}, DOCS_HTML)
    if path.startswith("/openapi.json"):
        return (200, {"Content-Type": "application/json"}, SPEC)
    return (404, {"Content-Type": "text/plain"}, b"not here")


def _walled(path: str) -> Route:
    return (401, {"Content-Type": "text/html", "WWW-Authenticate": "Basic"}, b"sign in")


@pytest.fixture(scope="module")
def sites() -> Iterator[list[LoopbackSite]]:
    made = [LoopbackSite(respond=_good if n % 3 else _walled) for n in range(7)]
    yield made
    for site in made:
        site.close()


def _catalogue(folder: Path, sites: list[LoopbackSite]) -> Path:
    # (docs site, api site): s-a and s-b share site 0; s-c chains sites 1 and 2 with s-d
    layout = [(0, 0), (0, 0), (1, 2), (2, 2), (3, 3), (4, 4), (5, 6), (6, 6)]
    vendors = "".join(
        f"  - id: v{n}\n    name: Vendor {n}\n    systems:\n"
        f"      - id: s{n}\n        name: System {n}\n        service_areas: [waste]\n"
        f"        endpoints:\n"
        f"          docs: '{sites[docs].origin}/docs/{n}'\n"
        f"          spec: '{sites[api].origin}/openapi.json?s={n}'\n"
        f"          api_base: '{sites[api].origin}/v1/{n}'\n"
        for n, (docs, api) in enumerate(layout)
    )
    path = folder / "vendors.yaml"
    path.write_text(f"schema_version: 1\nvendors:\n{vendors}", "utf-8")
    return path


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _normalised(text: str) -> object:
    document = json.loads(_STAMP.sub("<time>", _TOKEN.sub("<token>", text)))
    return sorted(
        (
            {key: value for key, value in row.items() if key not in ("evidence",)}
            for row in document["systems"]
        ),
        key=lambda row: str(row["system"]),
    )


def _scorecard(db: Path) -> object:
    code, out, err = _cli("scorecard", "--db", str(db), "-f", "json")
    assert code == 0, err
    return _normalised(out)


def _findings(db: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (run_id,) = conn.execute("SELECT max(id) FROM runs").fetchone()
        rows = conn.execute(
            "SELECT system_id, probe_id, outcome, message, excerpt, evidence FROM findings "
            "WHERE run_id = ? ORDER BY system_id, probe_id",
            [run_id],
        ).fetchall()
    return [tuple(_TOKEN.sub("<t>", v) if isinstance(v, str) else v for v in r) for r in rows]


def _run_shards(catalogue: Path, tmp: Path, sites: list[LoopbackSite], count: int) -> list[Path]:
    """Run each shard, noting which sites each one contacted; assert none shares a site."""
    dbs, contacted = [], []
    for index in range(1, count + 1):
        before = [sum(site.hits.values()) for site in sites]
        db = tmp / f"shard-{index}.db"
        code, _, err = _cli("run", "-c", str(catalogue), "--db", str(db),
                            "--shard", f"{index}/{count}", *RUN_FLAGS)  # fmt: skip
        assert code == 0, err
        contacted.append({n for n, site in enumerate(sites) if sum(site.hits.values()) > before[n]})
        dbs.append(db)
    for one in range(count):
        for other in range(one + 1, count):
            assert not contacted[one] & contacted[other], (one, other, contacted)
    assert set().union(*contacted) == set(range(len(sites)))
    assert all(contacted)  # 5 host components: every shard of up to 5 has work
    return dbs


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_shards_merged_score_exactly_as_one_run(
    tmp_path: Path, sites: list[LoopbackSite], count: int
) -> None:
    catalogue = _catalogue(tmp_path, sites)
    whole = tmp_path / "whole.db"
    code, _, err = _cli("run", "-c", str(catalogue), "--db", str(whole), *RUN_FLAGS)
    assert code == 0, err
    dbs = _run_shards(catalogue, tmp_path, sites, count)
    merged = tmp_path / "merged.db"
    code, _, err = _cli("merge", str(merged), *map(str, reversed(dbs)))
    assert code == 0, err
    assert f"merged {count} shards into run 1" in err
    assert _scorecard(merged) == _scorecard(whole)
    assert _findings(merged) == _findings(whole)
    with contextlib.closing(sqlite3.connect(merged)) as conn:
        status, options = conn.execute("SELECT status, options FROM runs").fetchone()
        orphans = conn.execute(
            "SELECT count(*) FROM exchanges WHERE body_sha256 IS NOT NULL AND body_sha256 "
            "NOT IN (SELECT sha256 FROM bodies)"
        ).fetchone()
    assert status == "complete"
    recorded = json.loads(options)
    assert recorded["shards"] == count and "shard" not in recorded
    assert sorted(item["shard"] for item in recorded["merged_from"]) == [
        f"{k}/{count}" for k in range(1, count + 1)
    ]
    assert orphans == (0,)
    # a merged run is a run like any other: the report renders it
    catalogue_arg = ("-c", str(catalogue))
    code, _, err = _cli("report", "--db", str(merged), "--out", str(tmp_path / "r"), *catalogue_arg)
    assert code == 0, err


@pytest.fixture(scope="module")
def two_shards(tmp_path_factory: pytest.TempPathFactory, sites: list[LoopbackSite]) -> list[Path]:
    tmp = tmp_path_factory.mktemp("two")
    return _run_shards(_catalogue(tmp, sites), tmp, sites, 2)


def _refused(*argv: str) -> str:
    code, _, err = _cli(*argv)
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("api-audit: error: ")
    return lines[0]


def test_a_missing_shard_is_refused(tmp_path: Path, two_shards: list[Path]) -> None:
    line = _refused("merge", str(tmp_path / "out.db"), str(two_shards[0]))
    assert "shard 2/2 missing" in line


def test_a_shard_given_twice_is_refused(tmp_path: Path, two_shards: list[Path]) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(two_shards[0].read_bytes())
    line = _refused("merge", str(tmp_path / "out.db"), str(two_shards[0]), str(copy))
    assert "shard 1/2 twice" in line


def test_merging_into_an_input_is_refused(two_shards: list[Path]) -> None:
    assert "one of the inputs" in _refused("merge", str(two_shards[0]), *map(str, two_shards))


@pytest.mark.parametrize(
    ("column", "what"),
    [
        ("catalogue_sha256", "catalogue sha256"),
        ("methodology_sha256", "methodology sha256"),
        ("tool_version", "api-audit version"),
    ],
)
def test_shards_of_different_audits_are_refused(
    tmp_path: Path, two_shards: list[Path], column: str, what: str
) -> None:
    changed = tmp_path / "changed.db"
    changed.write_bytes(two_shards[1].read_bytes())
    with contextlib.closing(sqlite3.connect(changed)) as conn, conn:
        conn.execute(f"UPDATE runs SET {column} = 'other'")
    out = tmp_path / "out.db"
    line = _refused("merge", str(out), str(two_shards[0]), str(changed))
    assert f"their {what} differ" in line
    assert not out.exists() or _findings(out) == []


def test_a_run_that_is_not_a_shard_is_refused(tmp_path: Path, sites: list[LoopbackSite]) -> None:
    db = tmp_path / "plain.db"
    assert _cli("run", "-c", str(_catalogue(tmp_path, sites)), "--db", str(db), *RUN_FLAGS)[0] == 0
    assert "not a shard run" in _refused("merge", str(tmp_path / "out.db"), str(db))


@pytest.mark.parametrize("value", ["0/2", "3/2", "x", "1/0", "2"])
def test_a_bad_shard_is_one_line_and_exit_2(tmp_path: Path, value: str) -> None:
    catalogue = tmp_path / "vendors.yaml"
    catalogue.write_text("schema_version: 1\nvendors: []\n", "utf-8")
    line = _refused("run", "-c", str(catalogue), "--db", str(tmp_path / "a.db"), "--shard", value)
    assert "--shard" in line


def test_the_national_audit_workflow_runs_a_matrix_of_shards_then_merges() -> None:
    path = Path(__file__).parent.parent / ".github" / "workflows" / "national-audit.yml"
    workflow = yaml.safe_load(path.read_text("utf-8"))
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    count = len(shard["strategy"]["matrix"]["shard"])
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    runs = [step.get("run", "") for step in shard["steps"]]
    assert any(f"api-audit run --shard ${{{{ matrix.shard }}}}/{count}" in r for r in runs)
    assert any(
        step.get("uses", "").startswith("actions/upload-artifact") for step in shard["steps"]
    )
    assert merge["needs"] == "shard"
    merged = next(
        step["run"] for step in merge["steps"] if "api-audit merge" in step.get("run", "")
    )
    assert merged.split()[3:] == [f"shard-{k}.db" for k in range(1, count + 1)]
    assert any("api-audit report" in step.get("run", "") for step in merge["steps"])


def test_a_merge_that_fails_midway_leaves_no_half_run(
    tmp_path: Path, two_shards: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OUT gains the whole run or nothing: a failure copying the second shard takes the
    first shard's rows and the run back out, and what OUT held before is kept."""
    out = tmp_path / "out.db"
    _cli("merge", str(out), *map(str, two_shards))  # OUT already holds one merged run
    real = merge_module._copy_run
    calls: list[int] = []

    def failing(store: Store, item: merge_module.ShardRun, run_id: int) -> None:
        calls.append(run_id)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        real(store, item, run_id)

    monkeypatch.setattr(merge_module, "_copy_run", failing)
    with pytest.raises(sqlite3.OperationalError):
        merge_module.merge_shards(str(out), [str(p) for p in two_shards])
    with sqlite3.connect(out) as conn:
        runs = [row[0] for row in conn.execute("SELECT id FROM runs")]
        orphans = [
            conn.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [calls[0]]).fetchone()[0]
            for table in ("systems", "exchanges", "findings")
        ]
    assert runs == [1] and orphans == [0, 0, 0]
