"""Text that is not what it shows: controls, bidi overrides and zero-width characters.

In an id they are refused by validation; anywhere else they are kept as written and shown
escaped (`\\u202e`) wherever they are printed: tables, error lines and JSON (where they
are written as \\uXXXX, so `cat out.json` cannot be spoofed, and a parser reads them back).
Every character of the class is tried in every place.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.catalogues import SMALL_CATALOGUE, catalogue_problems

from api_audit import __version__
from api_audit.catalogue import parse_catalogue
from api_audit.cli import main
from api_audit.errors import MethodologyError
from api_audit.methodology import default_probe_directory, load_methodology
from api_audit.models import Finding
from api_audit.store import Store
from api_audit.text import escape_controls, escape_json_text, strip_controls

C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]
ZERO_WIDTH = [chr(c) for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)]
HIDDEN = ["\x1b", "\x7f", *C1, *BIDI, *ZERO_WIDTH]
IDS = [f"U+{ord(ch):04X}" for ch in HIDDEN]


def escaped(ch: str) -> str:
    """How a character is shown: as Python writes it in a string literal."""
    return ch.encode("unicode_escape").decode("ascii")


def yaml_escape(ch: str) -> str:
    """The character as an escape inside a double-quoted YAML string."""
    return f"\\u{ord(ch):04x}"


def test_the_class_is_complete() -> None:
    assert len(BIDI) == 12 and len(ZERO_WIDTH) == 5 and len(C1) == 32
    for ch in HIDDEN:
        assert strip_controls(f"a{ch}b") == "ab"
        assert escape_controls(f"a{ch}b") == f"a{escaped(ch)}b"
    assert escape_controls("a\tb\nc") == "a\tb\nc"
    assert escape_controls("a\tb\nc", one_line=True) == "a\tb\\nc"
    assert escape_controls("café ü 中文 עברית") == "café ü 中文 עברית"  # only the class


# --- ids: refused ---------------------------------------------------------------------------

ID_PLACES = {
    # place: (catalogue with {x} where the character goes, line of the problem, what is said)
    "vendor id": (
        """\
        schema_version: 1
        vendors:
          - id: "open{x}co"
            name: OpenCo
            systems: []
        """,
        3,
        "invalid id",
    ),
    "system id": (
        """\
        schema_version: 1
        vendors:
          - id: openco
            name: OpenCo
            systems:
              - id: "openco-{x}main"
                name: Main
                service_areas: [waste]
        """,
        6,
        "invalid id",
    ),
    "instance slug": (
        """\
        schema_version: 1
        vendors:
          - id: openco
            name: OpenCo
            systems:
              - id: openco-main
                name: Main
                service_areas: [waste]
                instances:
                  - {{council: E09000012, slug: "hack{x}ney"}}
        """,
        10,
        "invalid slug",
    ),
    "reply about (a probe id)": (
        """\
        schema_version: 1
        vendors:
          - id: openco
            name: OpenCo
            systems:
              - id: openco-main
                name: Main
                service_areas: [waste]
                replies:
                  - {{date: 2026-07-01, text: We disagree, about: "https{x}", status: open,
                     reason: not-detected, source: "https://r.test/"}}
        """,
        10,
        "'about' must name a probe or a claim",
    ),
    "council code": (
        """\
        schema_version: 1
        vendors:
          - id: openco
            name: OpenCo
            systems:
              - id: openco-main
                name: Main
                service_areas: [waste]
                instances:
                  - {{council: "E0900{x}0012", slug: hackney}}
        """,
        10,
        "unknown council",
    ),
}


@pytest.mark.parametrize("place", list(ID_PLACES))
@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_an_id_with_a_hidden_character_is_refused(place: str, ch: str) -> None:
    template, line, said = ID_PLACES[place]
    found = catalogue_problems(template.format(x=yaml_escape(ch)))
    assert len(found) == 1, found
    assert found[0].startswith(f"vendors.yaml:{line}:"), found
    assert said in found[0] and escaped(ch) in found[0], found
    assert ch not in found[0]


def test_an_id_with_a_final_newline_is_refused() -> None:
    # `$` in the id patterns also matches before a final newline: ids are matched whole
    found = catalogue_problems(ID_PLACES["vendor id"][0].format(x="\\n"))
    assert "invalid id 'open\\nco'" in found[0]
    found = catalogue_problems(ID_PLACES["system id"][0].replace('"openco-{x}main"', '"main\\n"'))
    assert "invalid id 'main\\n'" in found[0]


@pytest.fixture(scope="module")
def probes_with_hidden_ids(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A probe directory with one probe per character, each named (and id'd) with it."""
    probes = tmp_path_factory.mktemp("probes")
    shutil.copytree(Path(str(default_probe_directory())), probes, dirs_exist_ok=True)
    source = (probes / "https.yaml").read_text("utf-8")
    for ch in HIDDEN:
        stem = f"ht{ch}tps"
        (probes / f"{stem}.yaml").write_text(
            source.replace("id: https", f'id: "ht{yaml_escape(ch)}tps"', 1), "utf-8"
        )
    with pytest.raises(MethodologyError) as caught:
        load_methodology(probes)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_a_probe_id_with_a_hidden_character_is_refused(
    ch: str, probes_with_hidden_ids: list[str]
) -> None:
    mine = [p for p in probes_with_hidden_ids if f"invalid probe id 'ht{escaped(ch)}tps'" in p]
    assert len(mine) == 1, probes_with_hidden_ids
    assert re.search(r"\.yaml:[1-9][0-9]*:[1-9][0-9]*: invalid probe id", mine[0]), mine


# --- free text: kept, and shown escaped wherever it is printed ------------------------------


def _market_yaml() -> str:
    """One vendor and system per character, the character in every kind of free text."""
    lines = ["schema_version: 1", "vendors:"]
    for i, ch in enumerate(HIDDEN):
        x = yaml_escape(ch)
        lines += [
            f"  - id: v{i}",
            f'    name: "Vendor{x}{i}"',
            f'    notes: "vendor note{x}"',
            "    systems:",
            f"      - id: s{i}",
            f'        name: "System{x}{i}"',
            "        service_areas: [waste]",
            f'        notes: "system note{x}"',
            "        attestations:",
            "          - {claim: api_access_fee, value: true, source: https://a.test/x,",
            f'             seen: 2026-06-01, quote: "quote{x}{i}", note: "note{x}"}}',
            "        replies:",
            f'          - {{date: 2026-07-01, about: api_access_fee, text: "reply{x}{i}",',
            "             status: open, reason: fact-disputed, source: https://r.test/x}",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Printed:
    table: str
    json_text: str
    document: dict[str, object]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    """The market validated, stored as a run, and printed by `scorecard` as a table and JSON."""
    tmp = tmp_path_factory.mktemp("hidden")
    catalogue = parse_catalogue(_market_yaml().encode(), "vendors.yaml")  # accepted
    db = str(tmp / "audit.db")
    with Store.open(db) as store:
        run = store.start_run(
            catalogue=catalogue,
            methodology=load_methodology(None),
            tool_version=__version__,
            options={},
        )
        store.save_systems(run.id, catalogue.systems)
        for i, ch in enumerate(HIDDEN):
            message = f"message{ch}{i}"
            store.add_finding(run.id, Finding(f"s{i}", "https", "standards", 1, "fail", message))
        store.finish_run(run.id)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "400")
        table = _run_main(["scorecard", "--db", db])
        json_text = _run_main(["scorecard", "--db", db, "-f", "json"])
    return Printed(table, json_text, json.loads(json_text))


def _run_main(argv: list[str]) -> str:
    """stdout of a command run from a module-scoped fixture (capsys is per test)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, err.getvalue()
    return out.getvalue()


def _system(document: dict[str, object], i: int) -> dict[str, object]:
    systems = document["systems"]
    assert isinstance(systems, list)
    (found,) = [s for s in systems if s["system"] == f"s{i}"]
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize("i", range(len(HIDDEN)), ids=IDS)
def test_a_hidden_character_is_shown_escaped_in_the_table(i: int, printed: Printed) -> None:
    ch = HIDDEN[i]
    assert ch not in printed.table
    assert f"Vendor{escaped(ch)}{i}" in printed.table
    assert f"System{escaped(ch)}{i}" in printed.table


@pytest.mark.parametrize("i", range(len(HIDDEN)), ids=IDS)
def test_a_hidden_character_is_a_json_escape_and_reads_back(i: int, printed: Printed) -> None:
    ch = HIDDEN[i]
    assert ch not in printed.json_text  # `cat out.json` shows \uXXXX, not the character
    assert f"\\u{ord(ch):04x}" in printed.json_text
    system = _system(printed.document, i)
    assert system["vendor_name"] == f"Vendor{ch}{i}"
    assert system["name"] == f"System{ch}{i}"
    findings = system["findings"]
    assert isinstance(findings, list)
    assert f"message{ch}{i}" in [f["message"] for f in findings]
    replies = system["replies"]
    assert isinstance(replies, list)
    assert replies[0]["text"] == f"reply{ch}{i}"


def test_json_escaping_keeps_the_data() -> None:
    value = {"name": "".join(HIDDEN) + "café \t\n", "n": [1, None]}
    text = escape_json_text(json.dumps(value, ensure_ascii=False))
    assert not any(ch in text for ch in HIDDEN)
    assert json.loads(text) == value
    assert "café" in text  # other text stays as written


# --- error lines -------------------------------------------------------------------------------


def _stderr_of(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    assert main(argv) == code
    out, err = capsys.readouterr()
    return out + err


@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_a_url_with_a_hidden_character_is_refused_and_shown_escaped(
    ch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "vendors.yaml"
    bad.write_text(
        SMALL_CATALOGUE.replace("docs.openco.test/", f"docs.openco.test/a{yaml_escape(ch)}b")
    )
    err = _stderr_of(["validate", "-c", str(bad)], capsys)
    assert ch not in err
    assert f"{bad}:9:" in err
    assert f"invalid URL 'https://docs.openco.test/a{escaped(ch)}b'" in err


@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_a_key_with_a_hidden_character_is_shown_escaped(
    ch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "vendors.yaml"
    bad.write_text(
        SMALL_CATALOGUE.replace(
            "    name: OpenCo Waste", f'    "na{yaml_escape(ch)}me": OpenCo Waste'
        )
    )
    err = _stderr_of(["validate", "-c", str(bad)], capsys)
    assert ch not in err
    assert f"unknown key 'na{escaped(ch)}me' in system" in err


@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_a_filter_with_a_hidden_character_is_shown_escaped(
    ch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = tmp_path / "vendors.yaml"
    catalogue.write_text(SMALL_CATALOGUE)
    argv = ["run", "-c", str(catalogue), "--db", str(tmp_path / "a.db"), "--vendor", f"x{ch}"]
    err = _stderr_of(argv, capsys)
    assert ch not in err
    assert err.startswith(f"api-audit: error: unknown vendor 'x{escaped(ch)}'")
    assert err.count("\n") == 1


@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_a_file_name_with_a_hidden_character_is_shown_escaped(
    ch: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / f"vendors{ch}.yaml"
    good.write_text(SMALL_CATALOGUE)
    out = _stderr_of(["validate", "-c", str(good)], capsys, code=0)
    assert ch not in out
    assert f"vendors{escaped(ch)}.yaml: ok" in out
    missing = tmp_path / f"gone{ch}.yaml"
    err = _stderr_of(["validate", "-c", str(missing)], capsys)
    assert ch not in err
    assert f"gone{escaped(ch)}.yaml: cannot read file" in err


@pytest.mark.parametrize("ch", HIDDEN, ids=IDS)
def test_an_unknown_probe_with_a_hidden_character_is_shown_escaped(
    ch: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _stderr_of(["probes", "show", f"http{ch}s"], capsys)
    assert ch not in err
    assert f"no probe 'http{escaped(ch)}s'" in err


# --- probe text (any YAML we read) ------------------------------------------------------------


@pytest.fixture(scope="module")
def probe_shown(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """`probes show https` (table, JSON) with every character in the probe's title."""
    probes = tmp_path_factory.mktemp("probes-title")
    shutil.copytree(Path(str(default_probe_directory())), probes, dirs_exist_ok=True)
    target = probes / "https.yaml"
    title = " ".join(f"t{yaml_escape(ch)}{i}" for i, ch in enumerate(HIDDEN))
    text = target.read_text("utf-8")
    target.write_text(
        text.replace("title: The API is served over HTTPS", f'title: "{title}"', 1), "utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "4000")
        table = _run_main(["probes", "show", "https", "--probes", str(probes)])
        listed = _run_main(["probes", "list", "--probes", str(probes), "-f", "json"])
        shown = _run_main(["probes", "show", "https", "--probes", str(probes), "-f", "json"])
    return table, listed + shown


@pytest.mark.parametrize("i", range(len(HIDDEN)), ids=IDS)
def test_probe_text_with_a_hidden_character_is_shown_escaped(
    i: int, probe_shown: tuple[str, str]
) -> None:
    ch = HIDDEN[i]
    table, json_text = probe_shown
    assert ch not in table and ch not in json_text
    assert f"t{escaped(ch)}{i}" in table
    assert f"t\\u{ord(ch):04x}{i}" in json_text
