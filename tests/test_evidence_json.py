"""Every observed finding in scorecard JSON names the exchanges it rests on (DESIGN.md §7):
URL, final URL, status, the stored body's hash and when it was fetched, so a supplier can
check the evidence behind a score."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest

from api_audit.cli import main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    db = tmp_path_factory.mktemp("evidence") / "demo.db"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["demo", "--db", str(db), "--format", "json"]) == 0
    return json.loads(out.getvalue()), db


def _findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for system in document["systems"] for f in system["findings"]]


def test_every_observed_answer_carries_its_evidence(demo: tuple[dict[str, Any], Path]) -> None:
    document, _ = demo
    observed = [
        f for f in _findings(document)
        if f["basis"] == "observed" and f["outcome"] in ("pass", "fail")
        and not f["message"].startswith("no ")  # "no spec URL in the catalogue": nothing fetched
    ]  # fmt: skip
    assert observed
    for finding in observed:
        assert finding["evidence"], finding
        for item in finding["evidence"]:
            assert set(item) == {"url", "final_url", "status", "sha256", "fetched_at", "error"}
            assert item["url"].startswith("http://127.0.0.1:")
            assert item["fetched_at"]
            assert item["status"] is not None or item["error"] is not None


def test_attested_findings_carry_no_exchanges(demo: tuple[dict[str, Any], Path]) -> None:
    document, _ = demo
    for finding in _findings(document):
        if finding["basis"] == "attested":
            assert finding["evidence"] == []


def test_each_hash_names_a_stored_body_with_those_bytes(demo: tuple[dict[str, Any], Path]) -> None:
    document, db = demo
    hashes = {i["sha256"] for f in _findings(document) for i in f["evidence"] if i["sha256"]}
    assert hashes
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for sha in hashes:
            (content,) = conn.execute(
                "SELECT content FROM bodies WHERE sha256 = ?", [sha]
            ).fetchone()
            assert hashlib.sha256(zlib.decompress(content)).hexdigest() == sha
