"""`import ocds` (issue 13): every file shape read, the right contracts stored, broken parts
counted and never fatal, newest release kept whatever the order, re-import writes nothing."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from api_audit.cli import main
from api_audit.sources.importing import import_files
from api_audit.sources.json_stream import BrokenJson, JsonStream
from api_audit.sources.ocds_files import BrokenRead, ReleaseRead, read_releases
from api_audit.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "ocds"
SAMPLE = sorted(str(p) for p in FIXTURES.iterdir() if p.name != "README.md")
# ocid -> (release id, buyer, suppliers, period_from, end): the newest IT release of each
EXPECTED = {
    "ocds-b5fd17-1a2b3c4d-0001-4e5f-8a9b-000000000001": (
        "ocds-b5fd17-1a2b3c4d-0001-4e5f-8a9b-000000000001-award-1",
        "LONDON BOROUGH OF HACKNEY", ["CIVICA UK LIMITED"], "award", "2027-03-31",
    ),
    "ocds-b5fd17-1a2b3c4d-0003-4e5f-8a9b-000000000003": (
        "ocds-b5fd17-1a2b3c4d-0003-4e5f-8a9b-000000000003-contract-1",
        "The Council of the City of Wakefield", ["Softcat plc"], "contract", "2026-12-31",
    ),
    "ocds-b5fd17-1a2b3c4d-0004-4e5f-8a9b-000000000004": (
        "ocds-b5fd17-1a2b3c4d-0004-4e5f-8a9b-000000000004-award-1",
        "Hackney Council", ["Idox Software Ltd"], "award", "2029-06-30",
    ),
    "ocds-b5fd17-1a2b3c4d-0005-4e5f-8a9b-000000000005": (
        "ocds-b5fd17-1a2b3c4d-0005-4e5f-8a9b-000000000005-award-1",
        "Royal Borough of Windsor and Maidenhead", ["CDW Limited"], "award", "2024-03-31",
    ),
    "ocds-h6vhtk-04a1b2": (
        "ocds-h6vhtk-04a1b2-compiled", "London Borough of Camden", ["IDOX SOFTWARE LTD"],
        "award", "2030-06-30",
    ),
    "ocds-h6vhtk-04c3d4": (
        "ocds-h6vhtk-04c3d4-uk6-2", "Royal Borough of Greenwich",
        ["NEC Software Solutions UK Limited"], "tender", "2099-03-31",
    ),
    "ocds-h6vhtk-05a1a1": (
        "ocds-h6vhtk-05a1a1-uk7-3", "Cornwall Council", ["Phoenix Software Ltd"], "award",
        "2028-09-30",
    ),
    "ocds-h6vhtk-05b2b2": (
        "ocds-h6vhtk-05b2b2-uk6-1", "Hackney Council", ["Civica UK Ltd"], "award", "2027-01-31",
    ),
}  # fmt: skip


def stored(store: Store) -> dict[str, tuple[Any, ...]]:
    return {
        c.ocid: (
            c.release_id,
            c.buyer.name,
            [s.name for s in c.suppliers],
            c.period_from,
            c.end.isoformat() if c.end else None,
        )
        for c in store.contracts()
    }


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(SAMPLE)))))
def test_the_sample_stores_the_newest_it_release_of_each_ocid_in_any_order(
    order: tuple[int, ...],
) -> None:
    with Store.open(":memory:") as store:
        summary = import_files([SAMPLE[i] for i in order], store)
        assert stored(store) == EXPECTED
    assert (summary.read, summary.it, summary.not_it, summary.broken) == (14, 10, 4, 0)


def test_importing_again_writes_nothing() -> None:
    with Store.open(":memory:") as store:
        first = import_files(SAMPLE, store)
        again = import_files(SAMPLE, store)
        assert stored(store) == EXPECTED
    assert first.written >= len(EXPECTED)
    assert (again.written, again.it) == (0, 10)


@pytest.mark.parametrize(
    ("name", "ocids"),
    [
        ("cf-release-package.json", 3),
        ("cf-releases.jsonl", 2),
        ("fts-record-package.json", 2),
        ("fts-packages.jsonl.gz", 3),
    ],
)
def test_each_shape_is_read_on_its_own(name: str, ocids: int) -> None:
    with Store.open(":memory:") as store:
        summary = import_files([str(FIXTURES / name)], store)
        assert len(list(store.contracts())) == ocids
    assert summary.broken == 0


def test_the_sample_keeps_flags_values_and_notice_urls() -> None:
    with Store.open(":memory:") as store:
        import_files(SAMPLE, store)
        contracts = {c.ocid: c for c in store.contracts()}
    greenwich = contracts["ocds-h6vhtk-04c3d4"]
    assert {"far-future-end", "over-25-years"} <= set(greenwich.flags)
    assert "end-before-start" in contracts["ocds-b5fd17-1a2b3c4d-0005-4e5f-8a9b-000000000005"].flags
    hackney = contracts["ocds-h6vhtk-05b2b2"]
    assert (hackney.start, "start-unparseable" in hackney.flags) == (None, True)
    camden = contracts["ocds-h6vhtk-04a1b2"]
    assert camden.notice_url == "https://www.find-tender.service.gov.uk/Notice/016901-2025"
    assert (camden.value, camden.currency, camden.cpv) == (285000.0, "GBP", ("72267000",))
    assert camden.suppliers[0].identifier("GB-COH") == "03984070"
    assert camden.buyer.identifiers[0][0] == "GB-PPON"
    wakefield = contracts["ocds-b5fd17-1a2b3c4d-0003-4e5f-8a9b-000000000003"]
    assert wakefield.cpv == ("30200000", "48000000", "72268000")
    assert wakefield.value == 48000.0


# -- file shapes written by the tests -----------------------------------------------------


def it_release(n: int, date: str = "2025-01-01T00:00:00Z", **extra: Any) -> dict[str, Any]:
    return {
        "ocid": f"ocds-b5fd17-{n:04d}",
        "id": f"r{n}-{date}",
        "date": date,
        "buyer": {"name": "Hackney Council"},
        "tender": {"classification": {"scheme": "CPV", "id": "48000000"}},
        **extra,
    }


RELEASES = [it_release(1), it_release(2), it_release(3)]


def shapes() -> dict[str, str]:
    package = {"uri": "u", "publishedDate": "2025-01-01", "releases": RELEASES, "version": "1.1"}
    records = {
        "records": [{"ocid": r["ocid"], "releases": [r], "compiledRelease": r} for r in RELEASES]
    }
    return {
        "release package, one line": json.dumps(package),
        "release package, pretty": json.dumps(package, indent=4),
        "package, releases key first": json.dumps({"releases": RELEASES, "uri": "u"}),
        "record package": json.dumps(records, indent=1),
        "lines of releases": "".join(json.dumps(r) + "\n" for r in RELEASES),
        "lines of releases, CRLF, blank lines": "\r\n\r\n".join(json.dumps(r) for r in RELEASES),
        "lines of packages": "\n".join(json.dumps({"releases": [r]}) for r in RELEASES),
        "lines of records": "\n".join(
            json.dumps({"ocid": r["ocid"], "releases": [r]}) for r in RELEASES
        ),
        "array of releases": json.dumps(RELEASES),
        "concatenated packages": json.dumps({"releases": RELEASES[:1]})
        + json.dumps({"releases": RELEASES[1:]}),
        "byte order mark": "\ufeff" + json.dumps({"releases": RELEASES}),
    }


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("shape", list(shapes()))
def test_every_shape_plain_or_gzipped(tmp_path: Path, shape: str, gzipped: bool) -> None:
    data = shapes()[shape].encode()
    path = tmp_path / ("notices.json.gz" if gzipped else "notices.json")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    with Store.open(":memory:") as store:
        summary = import_files([str(path)], store)
        assert sorted(c.ocid for c in store.contracts()) == [r["ocid"] for r in RELEASES]
    assert (summary.read, summary.it, summary.broken) == (3, 3, 0)


def reads(text: str, chunk: int = 7) -> list[Any]:
    """What a stream yields, with a tiny buffer so every value crosses a refill."""
    stream = io.StringIO(text)
    found = []
    for read in read_releases(stream):
        if isinstance(read, ReleaseRead):
            found.append(("release", read.release["ocid"], read.line))
        else:
            found.append(("broken", read.line))
    return found


def test_values_across_buffer_refills_are_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api_audit.sources.json_stream.CHUNK_CHARS", 5)
    text = json.dumps({"releases": [it_release(7, description="x" * 5000), it_release(123456)]})
    assert [r[1] for r in reads(text)] == ["ocds-b5fd17-0007", "ocds-b5fd17-123456"]


BROKEN_LINES = {
    "not JSON": "this is not json",
    "truncated object": '{"ocid": "ocds-b5fd17-9", "date": ',
    "a bare number": "12345",
    "an object that is no notice": '{"hello": "world"}',
    "a string": '"ocds-b5fd17-9"',
    "a record without releases": '{"ocid": "x", "compiledRelease": null, "releases": []}',
    "deep nesting": '{"ocid": "x", "tender": ' + "[" * 5000 + "]" * 5000 + "}",
    "a huge integer": '{"ocid": "x", "n": ' + "9" * 6000 + "}",
    "an unclosed string": '{"ocid": "ocds-b5fd17-9", "tender": "never closed',
    "control character": '{"ocid": "ocds-b5fd17-9\x01"}',
}


@pytest.mark.parametrize("broken", list(BROKEN_LINES))
def test_a_broken_line_is_counted_with_its_line_and_the_rest_is_read(broken: str) -> None:
    lines = [json.dumps(it_release(1)), BROKEN_LINES[broken], json.dumps(it_release(2))]
    found = reads("\n".join(lines) + "\n")
    assert found == [
        ("release", "ocds-b5fd17-0001", 1),
        ("broken", 2),
        ("release", "ocds-b5fd17-0002", 3),
    ]


def test_a_broken_release_inside_a_pretty_package_is_one_broken_read() -> None:
    good = json.dumps({"releases": [it_release(1), it_release(2), it_release(3)]}, indent=2)
    # break the second release in the middle of its buyer
    at = good.index('"name"', good.index("ocds-b5fd17-0002"))
    text = good[:at] + '"name" "no colon",' + good[at:]
    found = reads(text)
    assert [f for f in found if f[0] == "broken"] == [("broken", text[:at].count("\n") + 1)]
    assert [f[1] for f in found if f[0] == "release"] == ["ocds-b5fd17-0001", "ocds-b5fd17-0003"]


def test_a_value_over_the_cap_is_broken_and_reading_goes_on() -> None:
    text = json.dumps(it_release(1, description="x" * 500)) + "\n" + json.dumps(it_release(2))
    stream = JsonStream(io.StringIO(text), chunk_chars=16, max_value_chars=300)
    with pytest.raises(BrokenJson, match="longer than 300"):
        stream.value()
    stream.skip_line()
    assert isinstance(stream.value(), dict)


def test_a_truncated_gzip_keeps_what_was_read_and_reports_the_break(tmp_path: Path) -> None:
    data = "".join(json.dumps(it_release(n)) + "\n" for n in range(1, 400)).encode()
    packed = gzip.compress(data)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with Store.open(":memory:") as store:
        summary = import_files([str(path)], store)
        count = len(list(store.contracts()))
    assert 0 < count < 399
    assert summary.broken >= 1  # the cut line, and the cut itself
    assert summary.first_broken is not None and "cut.jsonl.gz" in summary.first_broken


def test_invalid_utf8_becomes_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    release = json.dumps(
        it_release(1, tender={"classification": {"id": "48000000"}, "title": "Caf\u00e9"}),
        ensure_ascii=False,
    )
    path.write_bytes(release.encode("utf-8").replace("é".encode(), b"\xe9"))
    with Store.open(":memory:") as store:
        import_files([str(path)], store)
        (contract,) = store.contracts()
    assert contract.title == "Caf\ufffd"


# -- the command ----------------------------------------------------------------------------


def test_the_command_prints_one_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(it_release(1)) + "\n{oops\n" + json.dumps(it_release(2)) + "\n")
    db = str(tmp_path / "c.db")
    assert main(["import", "ocds", "--db", db, *SAMPLE, str(broken)]) == 0
    out = capsys.readouterr().out
    assert out == (
        "16 releases read, 12 IT contracts stored (12 rows new or newer), 4 skipped non-IT, "
        f"1 broken (first: {broken}:2: Expecting property name enclosed in double quotes)\n"
    )
    assert main(["import", "ocds", "--db", db, "--format", "json", *SAMPLE]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "read": 14,
        "it_contracts": 10,
        "rows_written": 0,
        "skipped_non_it": 4,
        "broken": 0,
        "first_broken": None,
    }


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "No such file or directory"),
        (lambda p: p.mkdir(), "it is a directory"),
        (os.mkfifo, "it is a FIFO"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_in_one_line_before_importing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, reason: str
) -> None:
    bad = tmp_path / "bad.json"
    make(bad)
    db = tmp_path / "c.db"
    assert main(["import", "ocds", "--db", str(db), SAMPLE[0], str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err and str(bad) in err
    with Store.open(db) as store:
        assert list(store.contracts()) == []


def test_nothing_readable_at_all_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x1b[31mnot json at all\n")
    assert main(["import", "ocds", "--db", str(tmp_path / "c.db"), str(junk)]) == 2
    out = capsys.readouterr().out
    assert "\x1b" not in out and "0 releases read" in out


def test_an_empty_file_reads_nothing_and_exits_0(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert main(["import", "ocds", "--db", str(tmp_path / "c.db"), str(empty)]) == 0


def test_reads_are_bounded_by_breaking_the_stream_not_raising() -> None:
    found = list(read_releases(io.StringIO("[" * 100_000)))
    assert len(found) == 1 and isinstance(found[0], BrokenRead)
