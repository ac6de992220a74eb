"""Issue 14 items 1, 4 and 5: `api-audit report` on a run of the simulated market (with a
supplier whose names and pages are hostile) writes every file, the numbers agree with
`scorecard --format json`, and the page, opened in headless Chromium, loads with no console
message and no network request."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from api_audit.cli import main
from api_audit.demo.market import Supplier, default_suppliers, serve_market
from api_audit.report.scorecard_schema import scorecard_schema

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)> =HYPERLINK("x") | [x](y)'
EVIL = Supplier(
    vendor_id="evil",
    vendor_name=HOSTILE,
    system_id="evil-sys",
    system_name="=cmd|' /C calc'!A0 [bold]x[/bold]",
    service_areas=("crm",),
    endpoints={"docs": "/docs"},
    routes={"/docs": (200, {"content-type": "text/html"}, HOSTILE.encode() * 3)},
)


def _cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, err.getvalue()
    return code, out.getvalue()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The report folder and `scorecard --format json` of the same run."""
    tmp = tmp_path_factory.mktemp("report")
    db = str(tmp / "a.db")
    with serve_market((*default_suppliers(), EVIL)) as market:
        catalogue: dict[str, Any] = market.catalogue()
        path = tmp / "vendors.yaml"
        path.write_text(yaml.safe_dump(catalogue, sort_keys=False), "utf-8")
        _cli("run", "-c", str(path), "--db", db, "--allow-private", "--min-interval", "0")
    _cli("report", "--db", db, "--out", str(tmp / "out"))
    scorecard = json.loads(_cli("scorecard", "--db", db, "-f", "json")[1])
    return tmp / "out", scorecard


def test_every_file_is_written(report: tuple[Path, dict[str, Any]]) -> None:
    folder, card = report
    for name in ("index.html", "scores.json", "summary.md", "scores.csv"):
        assert (folder / name).stat().st_size > 0
    assert len(list((folder / "badges").glob("*.svg"))) == len(card["systems"])


def test_scores_json_is_the_scorecard(report: tuple[Path, dict[str, Any]]) -> None:
    folder, card = report
    assert json.loads((folder / "scores.json").read_text("utf-8")) == card


def test_csv_and_markdown_agree_with_the_scorecard(report: tuple[Path, dict[str, Any]]) -> None:
    folder, card = report
    rows = list(csv.DictReader(io.StringIO((folder / "scores.csv").read_text("utf-8"))))
    assert [r["system"] for r in rows] == [s["system"] for s in card["systems"]]
    summary = (folder / "summary.md").read_text("utf-8")
    for row, system in zip(rows, card["systems"], strict=True):
        assert row["grade"] == system["grade"]
        assert row["score"] == ("" if system["score"] is None else str(system["score"]))
        assert row["ladder"] == (system["ladder"] or "")
        if system["score"] is not None:
            assert f"| {system['score']:.1f} |" in summary
    assert f"**{len(card['systems'])}** systems" in summary


def test_the_page_shows_every_system_and_its_evidence(report: tuple[Path, dict[str, Any]]) -> None:
    folder, card = report
    page = (folder / "index.html").read_text("utf-8")
    for system in card["systems"]:
        assert f">{system['system']}</a>" in page
        for finding in system["findings"]:
            for evidence in finding["evidence"]:
                if evidence["sha256"]:
                    assert evidence["sha256"] in page
    assert card["run"]["methodology_sha256"] in page


def test_a_hostile_supplier_injects_into_no_output(report: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = report
    page = (folder / "index.html").read_text("utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page  # shown, as text
    for row in csv.reader(io.StringIO((folder / "scores.csv").read_text("utf-8"))):
        assert not [c for c in row if c.startswith(("=", "+", "-", "@"))]
    summary = (folder / "summary.md").read_text("utf-8")
    assert not re.search(r"(?<!\\)[<\[]", summary)  # every < and [ escaped


def _validate(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The subset of JSON Schema the published schema uses (type, enum, const, required,
    properties, items, minimum, maximum), so no validator library is needed."""
    kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    kinds |= {"object": dict, "array": list, "null": type(None)}
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert any(isinstance(value, kinds[k]) for k in allowed), f"{where}: {value!r}"
    assert "enum" not in schema or value in schema["enum"], f"{where}: {value!r}"
    assert "const" not in schema or value == schema["const"], f"{where}: {value!r}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value) and value <= schema.get("maximum", value)
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: no {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _validate(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _validate(item, schema["items"], f"{where}[{index}]")


def test_scores_json_follows_the_published_schema(report: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = report
    _validate(json.loads((folder / "scores.json").read_text("utf-8")), scorecard_schema())


def test_the_published_schema_has_not_drifted() -> None:
    published = Path(__file__).parent.parent / "docs" / "scorecard.schema.json"
    assert json.loads(published.read_text("utf-8")) == scorecard_schema(), (
        "run: python -m api_audit.report.scorecard_schema > docs/scorecard.schema.json"
    )


def test_the_page_has_the_market_views_of_the_runs_catalogue(
    report: tuple[Path, dict[str, Any]],
) -> None:
    page = (report[0] / "index.html").read_text("utf-8")
    market = page[
        page.index('<section id="market"') : page.index(
            "</section>", page.index('<section id="market"')
        )
    ]
    assert (
        "<caption>Service areas: concentration and openness weighted by councils served</caption>"
        in market
    )
    assert "Renewal cohorts" in market and "Changes since the previous run" in market
    assert '<a href="#market">Market</a>' in page


def test_no_market_views_from_another_catalogue(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The run's catalogue moved and --catalogue names another file: the shares of the
    shipped catalogue must not be printed as this market's."""
    folder, _ = report
    db = str(folder.parent / "a.db")
    moved = folder.parent / "vendors.yaml"
    hidden = moved.with_suffix(".away")
    moved.rename(hidden)
    try:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main(["report", "--db", db, "--out", str(tmp_path / "r")]) == 0
    finally:
        hidden.rename(moved)
    assert "no market views" in err.getvalue()
    assert 'id="market"' not in (tmp_path / "r" / "index.html").read_text("utf-8")


@pytest.mark.parametrize(("grade", "code"), [("E", 0), ("A", 1)])
def test_report_fails_under_a_grade_after_writing_every_file(
    report: tuple[Path, dict[str, Any]], tmp_path: Path, grade: str, code: int
) -> None:
    db = str(report[0].parent / "a.db")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        got = main(["report", "--db", db, "--out", str(tmp_path), "--fail-under", grade])
    assert got == code, err.getvalue()
    assert (tmp_path / "index.html").exists() and (tmp_path / "scores.csv").exists()
    if code:
        assert f"--fail-under {grade}" in err.getvalue()


def test_a_folder_with_files_is_refused_unless_forced(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, _ = report
    db = str(folder.parent / "a.db")
    (tmp_path / "keep.txt").write_text("mine")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", "--db", db, "--out", str(tmp_path)]) == 2
    assert "not empty" in err.getvalue() and "--force" in err.getvalue()
    _cli("report", "--db", db, "--out", str(tmp_path), "--force")
    assert (tmp_path / "index.html").exists() and (tmp_path / "keep.txt").exists()


# --- In a browser, as a person sees it ------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium's own services, which it calls whatever page it shows (time, sign-in, updates):
# not requests of the page. Everything else through the proxy is the page's.
BROWSER_OWN_HOSTS = ("google.com", "gvt1.com", "googleapis.com", "gstatic.com")


class _Recorder(BaseHTTPRequestHandler):
    """A proxy that answers nothing and writes down every request the browser makes."""

    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.requestline)
        self.send_response(403)
        self.end_headers()

    do_CONNECT = do_POST = do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _recording_proxy() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def open_in_chromium(page: Path, profile: Path, screenshot: Path | None = None) -> dict[str, Any]:
    """Load `page` in headless Chromium with every request sent to a recording proxy and
    console messages logged (`--enable-logging=stderr`: "CONSOLE" lines): the DOM, the
    page's console messages and its network requests. No DevTools client needed."""
    assert CHROMIUM is not None
    with _recording_proxy() as (port, seen):
        flags = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # tests run as root in containers
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            f"--proxy-server=http://127.0.0.1:{port}",
            "--proxy-bypass-list=<-loopback>",  # loopback through the proxy too
            "--window-size=1200,2400",
        ]
        shot = [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        done = subprocess.run(
            [*flags, *shot, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    requests = [r for r in seen if not any(h in r for h in BROWSER_OWN_HOSTS)]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return {"dom": done.stdout, "console": console, "requests": requests, "code": done.returncode}


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium; .ci/run does)"
)


@needs_chromium
def test_the_harness_sees_console_messages_and_requests(tmp_path: Path) -> None:
    """The check below can fail: a page that logs and fetches is caught doing both."""
    page = tmp_path / "noisy.html"
    page.write_text(
        "<!doctype html><script>console.error('boom')</script>"
        "<img src='http://cdn.example/x.png'><link rel=stylesheet href='https://fonts.example/f'>"
    )
    seen = open_in_chromium(page, tmp_path / "profile")
    assert any("boom" in line for line in seen["console"])
    assert any("cdn.example" in r for r in seen["requests"])


@needs_chromium
def test_the_page_loads_quietly_with_its_tables_and_charts(
    report: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, _ = report
    seen = open_in_chromium(folder / "index.html", tmp_path / "profile")
    assert seen["code"] == 0
    assert seen["console"] == []
    assert seen["requests"] == []
    dom = seen["dom"]
    assert 'id="systems-table"' in dom and dom.count("<caption>") >= 5
    assert dom.count('role="img"') == 4 and dom.count("<svg") == 4
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in dom
    assert "<script" not in dom
    shot = tmp_path / "report.png"
    open_in_chromium(folder / "index.html", tmp_path / "profile2", screenshot=shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_council_report_is_about_that_councils_systems_and_renewals(tmp_path: Path) -> None:
    """`report --council`: only the systems the catalogue places at the council (here one
    instance, at Hackney, ending in six months), with its contract in the renewals."""
    db = str(tmp_path / "a.db")
    ends = (dt.date.today() + dt.timedelta(days=180)).isoformat()
    with serve_market(default_suppliers()) as market:
        catalogue: dict[str, Any] = market.catalogue()
        first = catalogue["vendors"][0]["systems"][0]
        first["instances"] = [
            {"council": "E09000012", "contract_end": ends, "annual_value": 50000,
             "source": "https://example.test/decision"}
        ]  # fmt: skip
        path = tmp_path / "vendors.yaml"
        path.write_text(yaml.safe_dump(catalogue, sort_keys=False), "utf-8")
        _cli("run", "-c", str(path), "--db", db, "--allow-private", "--min-interval", "0")
    out = tmp_path / "hackney"
    _cli("report", "--db", db, "-c", str(path), "--council", "HCK", "--out", str(out))
    scores = json.loads((out / "scores.json").read_text("utf-8"))
    assert [s["system"] for s in scores["systems"]] == [first["id"]]
    summary = (out / "summary.md").read_text("utf-8")
    assert "Hackney" in summary and ends in summary
    page = (out / "index.html").read_text("utf-8")
    assert ends in page and 'href="#renewals"' in page
    assert 'id="market"' not in page  # the market views are the whole market's
