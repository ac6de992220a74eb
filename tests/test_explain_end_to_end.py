"""`explain --body` and `history` through `main([...])` on real runs against loopback servers:
every observed finding shows the URL, status and hash of its exchanges; bodies are decoded,
escaped and capped; a secret the catalogue holds never comes back out."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from loopback import LoopbackSite

from api_audit.cli import main
from api_audit.models import EvidenceRef, ExchangeDetail, StoredBody
from api_audit.redact import REDACTED
from api_audit.report.body_text import BODY_SHOWN, shown_body
from api_audit.text import UNSAFE


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    db = tmp_path_factory.mktemp("explain") / "demo.db"
    code, out, _ = _cli("demo", "--db", str(db), "--format", "json")
    assert code == 0
    return db, json.loads(out)


def _systems(card: dict[str, Any]) -> list[str]:
    return [system["system"] for system in card["systems"]]


DEMO_SYSTEMS = [
    "openco-waste", "legacysoft-revs", "docsonly-housing", "gatedsoft-care",
    "shellportal-crm", "gonesys-parking",
]  # fmt: skip


@pytest.mark.parametrize("system", DEMO_SYSTEMS)
def test_every_observed_finding_shows_url_status_and_hash(
    demo_db: tuple[Path, dict[str, Any]], system: str
) -> None:
    db, card = demo_db
    code, out, err = _cli("explain", system, "--db", str(db), "-f", "json")
    assert code == 0, err
    document = json.loads(out)
    scored = next(s for s in card["systems"] if s["system"] == system)
    assert (document["score"]["grade"], document["score"]["score"]) == (
        scored["grade"], scored["score"],
    )  # fmt: skip  # the same rescoring as scorecard
    code, table, _ = _cli("explain", system, "--db", str(db))
    assert code == 0
    by_probe = {f["probe"]: f for f in scored["findings"]}
    for finding in document["findings"]:
        # the scorecard's evidence, field for field, with more beside it
        expected = by_probe[finding["probe"]]["evidence"]
        assert [{k: e[k] for k in expected[0]} for e in finding["evidence"]] == expected
        for item in finding["evidence"]:
            assert item["url"] in table
            assert (f"status {item['status']}" if item["status"] else item["error"]) in table
            assert (item["sha256"] or "(no body)") in table
    assert all(f["probe"] in table for f in document["findings"])


def test_with_body_each_shown_body_is_the_stored_one(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, _ = demo_db
    code, out, _ = _cli("explain", "openco-waste", "--db", str(db), "-f", "json", "--body")
    assert code == 0
    bodies = [(e["sha256"], e["body"]) for f in json.loads(out)["findings"] for e in f["evidence"]]
    assert any(body for _, body in bodies)
    for sha, body in bodies:
        if body is not None and not body["binary"] and not body["more_bytes"]:
            text = body["text"]
            spellings = {text.encode(), text.replace("\n", "\r\n").encode()}  # CRLF shown as LF
            assert sha in {hashlib.sha256(spelling).hexdigest() for spelling in spellings}


def test_probe_and_run_options(demo_db: tuple[Path, dict[str, Any]]) -> None:
    db, _ = demo_db
    code, out, _ = _cli(
        "explain", "gatedsoft-care", "--db", str(db), "--probe", "docs-public", "--run", "1"
    )
    assert code == 0
    assert "fail  docs-public" in out
    assert "302 http://127.0.0.1:" in out and "→ /login?next=/docs" in out
    assert "spec-anonymous" not in out


def test_history_shows_every_run(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    for _ in range(2):
        assert _cli("demo", "--db", str(db))[0] == 0
    code, out, _ = _cli("history", "openco-waste", "--db", str(db), "-f", "json")
    assert code == 0
    runs = json.loads(out)["runs"]
    assert [r["run"]["id"] for r in runs] == [2, 1]
    assert {(r["grade"], r["ladder"], r["rescored"]) for r in runs} == {("A", "L5", False)}
    code, table, _ = _cli("history", "openco-waste", "--db", str(db), "--limit", "1")
    assert code == 0 and "1 older run(s) not shown" in " ".join(table.split())


# --- bodies: decoded, escaped, capped, binary named -----------------------------------------

REF = EvidenceRef("https://x.example/", "https://x.example/", 200, "f" * 64, "")


def _detail(content_type: str, charset: str | None = None) -> ExchangeDetail:
    return ExchangeDetail(REF, "GET", content_type, charset, 0, 1.0, None)


def _stored(data: bytes) -> StoredBody:
    return StoredBody("f" * 64, len(data), len(data), data[: BODY_SHOWN + 1])


@pytest.mark.parametrize(
    ("content_type", "charset", "data", "text"),
    [
        ("text/html", None, "café".encode(), "café"),
        ("text/html", "iso-8859-1", "café".encode("latin-1"), "café"),
        ("text/plain", "utf-16", "hé".encode("utf-16"), "hé"),
        ("application/json", "no-such-charset", b'{"a": 1}', '{"a": 1}'),
        ("text/plain", "zlib", b"plain", "plain"),  # a bytes codec is not a charset
        ("text/plain", "base64", b"aGk=", "aGk="),
        ("text/plain", "rot13", b"abc", "abc"),
        ("application/octet-stream", None, b"just text", "just text"),
        ("", None, b"\xff\xfe bad utf-8", "\ufffd\ufffd bad utf-8"),
        ("text/plain", None, b"\x1b[2Jtitle\x07", "\\x1b[2Jtitle\\x07"),
        ("text/plain", None, "a\u202eb\r\n".encode(), "a\\u202eb\n"),
        ("text/calendar", None, b"A\rB\r\nC", "A\\rB\nC"),
        ("text/plain", None, b"[bold]x[/bold]", "[bold]x[/bold]"),
    ],
)
def test_a_body_is_decoded_by_its_charset_and_escaped(
    content_type: str, charset: str | None, data: bytes, text: str
) -> None:
    shown = shown_body(_detail(content_type, charset), _stored(data))
    assert shown.text == text
    assert UNSAFE.search(shown.text) is None


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("text/plain", b"nul\x00inside"),
        ("application/pdf", b"%PDF-1.7 \xe2\x28\xa1 binary"),
        ("application/zip", b"PK\x03\x04\xff\xfe"),
        ("video/mp4", b"ftypisom"),
    ],
)
def test_a_binary_body_is_named_not_printed(content_type: str, data: bytes) -> None:
    shown = shown_body(_detail(content_type), _stored(data))
    assert (shown.text, shown.size) == (None, len(data))


@pytest.mark.parametrize(
    ("size", "more"), [(10, 0), (BODY_SHOWN, 0), (BODY_SHOWN + 1, 1), (10 * BODY_SHOWN, 36864)]
)
def test_a_body_is_capped_with_the_rest_counted(size: int, more: int) -> None:
    shown = shown_body(_detail("text/plain"), _stored(b"x" * size))
    assert (len(shown.text or ""), shown.more_bytes) == (min(size, BODY_SHOWN), more)


def test_a_character_cut_by_the_cap_is_not_shown_broken() -> None:
    data = b"x" * (BODY_SHOWN - 1) + "é".encode() + b"tail"
    shown = shown_body(_detail("text/plain"), _stored(data))
    assert shown.text == "x" * (BODY_SHOWN - 1)


# --- secrets --------------------------------------------------------------------------------

SECRET = "Sk3-live_9f8e7d6c5b4a"


def test_a_secret_echoed_in_a_body_never_comes_back_out(tmp_path: Path) -> None:
    site = LoopbackSite(
        respond=lambda path: (
            200,
            {"Content-Type": "text/html"},
            f"<p>{path} {SECRET}</p>".encode(),
        )
    )
    try:
        catalogue = tmp_path / "vendors.yaml"
        catalogue.write_text(
            "schema_version: 1\nvendors:\n  - id: v\n    name: V\n    systems:\n"
            "      - id: s\n        name: S\n        service_areas: [waste]\n"
            f'        endpoints:\n          docs: "{site.origin}/docs?api_key={SECRET}"\n',
            "utf-8",
        )
        db = tmp_path / "secret.db"
        code, _, err = _cli("run", "-c", str(catalogue), "--db", str(db), "--allow-private",
                            "--min-interval", "0")  # fmt: skip
        assert code == 0, err
    finally:
        site.close()
    for output in ("table", "json"):
        code, out, err = _cli("explain", "s", "--db", str(db), "--body", "-f", output)
        assert code == 0, err
        assert SECRET not in out and SECRET not in err
        assert REDACTED in out
