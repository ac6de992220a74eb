"""Inputs that are not files, and files that are not text: refused at once, in one line.

A catalogue, a probe file or a database path may name a FIFO (reading it waits for a
writer for ever), /dev/zero (reading it never ends), a terminal or a socket. Each is
refused before it is opened. Bytes YAML cannot hold are reported at their line and column.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from support.catalogues import SMALL_CATALOGUE

from api_audit.catalogue import load_catalogue
from api_audit.cli import main
from api_audit.errors import CatalogueError, MethodologyError, StoreError
from api_audit.loading import (
    MAX_BYTES,
    InputFileError,
    YamlLoadError,
    load_yaml_bytes,
    read_regular_file,
)
from api_audit.methodology import default_probe_directory, load_methodology
from api_audit.store import Store


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """A test that would block on a FIFO fails after 10 s instead of hanging the suite."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("blocked: a special file was opened or read")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _block_device() -> str | None:
    for entry in sorted(Path("/dev").iterdir()):
        try:
            if stat.S_ISBLK(entry.stat().st_mode):
                return str(entry)
        except OSError:
            continue
    return None


SPECIAL_KINDS = ["fifo", "socket", "/dev/zero", "/dev/urandom", "/dev/null", "block"]
KIND_WORDS = {
    "fifo": "a FIFO (named pipe)",
    "socket": "a socket",
    "/dev/zero": "a character device",
    "/dev/urandom": "a character device",
    "/dev/null": "a character device",
    "block": "a block device",
}


@pytest.fixture(params=SPECIAL_KINDS)
def special(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(path of a special file, how the refusal describes it)."""
    kind: str = request.param
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        yield str(path), KIND_WORDS[kind]
    elif kind == "socket":
        path = tmp_path / "sock"
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(path))
            yield str(path), KIND_WORDS[kind]
    elif kind == "block":
        device = _block_device()
        if device is None:
            pytest.skip("no block device visible here")
        yield device, KIND_WORDS[kind]
    else:
        if not Path(kind).exists():
            pytest.skip(f"no {kind} here")
        yield kind, KIND_WORDS[kind]


def _named(special_path: str, tmp_path: Path, name: str) -> Path:
    """A symlink called `name` to the special file (stat follows it, as open would)."""
    link = tmp_path / name
    link.symlink_to(special_path)
    return link


# --- catalogues and any YAML ------------------------------------------------------------


def test_a_special_catalogue_is_refused_before_it_is_opened(
    special: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, words = special
    assert main(["validate", "-c", path]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: cannot read file: it is {words}, not a regular file",
        "api-audit: 1 problem(s) found",
    ]


@pytest.mark.parametrize("command", ["run", "renewals"])
def test_every_command_that_reads_a_catalogue_refuses_a_special_one(
    command: str, special: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, words = special
    assert main([command, "-c", path, "--db", str(tmp_path / "a.db")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}: cannot read file: it is {words}, not a regular file"
    assert not (tmp_path / "a.db").exists()


def test_a_symlink_to_a_special_file_is_refused(special: tuple[str, str], tmp_path: Path) -> None:
    link = _named(special[0], tmp_path, "vendors.yaml")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(link)
    assert str(caught.value) == f"{link}: cannot read file: it is {special[1]}, not a regular file"


def test_a_special_probe_file_is_refused(special: tuple[str, str], tmp_path: Path) -> None:
    probes = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), probes)
    link = _named(special[0], probes, "evil.yaml")
    with pytest.raises(MethodologyError) as caught:
        load_methodology(probes)
    assert [str(p) for p in caught.value.problems] == [
        f"{link}: cannot read file: it is {special[1]}, not a regular file"
    ]


def test_a_catalogue_is_read_only_up_to_its_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "vendors.yaml"
    with big.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(big)
    assert str(caught.value) == f"{big}: file is larger than {MAX_BYTES} bytes"


def test_reading_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    assert read_regular_file(path, 11) == b"x" * 11
    with pytest.raises(InputFileError, match=r"^file is larger than 10 bytes$"):
        read_regular_file(path, 10)


def test_a_directory_is_not_a_catalogue(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}: cannot read file: it is a directory, not a regular file"
    )


# --- databases ----------------------------------------------------------------------------


def test_a_special_database_path_is_refused_at_once(
    special: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, words = special
    catalogue = tmp_path / "vendors.yaml"
    catalogue.write_text(SMALL_CATALOGUE)
    assert main(["run", "-c", str(catalogue), "--db", path]) == 2
    assert capsys.readouterr().err == (
        f"api-audit: error: cannot use {path} as a database: it is {words}, not a regular file\n"
    )


def test_a_special_database_in_the_environment_is_refused(
    special: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("API_AUDIT_DB", special[0])
    assert main(["scorecard"]) == 2
    assert f"cannot use {special[0]} as a database: it is {special[1]}" in capsys.readouterr().err


def test_store_open_refuses_a_symlink_to_a_special_file(
    special: tuple[str, str], tmp_path: Path
) -> None:
    link = _named(special[0], tmp_path, "audit.db")
    with pytest.raises(StoreError) as caught:
        Store.open(link)
    assert str(caught.value) == (
        f"cannot use {link} as a database: it is {special[1]}, not a regular file"
    )


def test_a_new_database_path_is_still_fine(tmp_path: Path) -> None:
    with Store.open(tmp_path / "new.db") as store:
        assert store.latest_run_id() is None


# --- bytes that are not YAML text -----------------------------------------------------------

BAD_BYTES = {
    "invalid start byte": (
        b"schema_version: 1\nname: \xff\n",
        "f.yaml:2:7: file is not UTF-8: byte 0xff (invalid start byte)",
    ),
    "truncated character at the end": (
        b"a: 1\nb: caf\xc3",
        "f.yaml:2:7: file is not UTF-8: byte 0xc3 (unexpected end of data)",
    ),
    "column counts characters": (
        "a: 1\nb: café \u202e ".encode() + b"\xfe\n",
        "f.yaml:2:11: file is not UTF-8: byte 0xfe (invalid start byte)",
    ),
    "latin-1 file": (
        "a: 1\r\nb: 2\r\nname: Caf\xe9\r\n".encode("latin-1"),
        "f.yaml:3:10: file is not UTF-8: byte 0xe9 (invalid continuation byte)",
    ),
    "NUL": (b"a: 1\nb: x\x00y\n", "f.yaml:2:5: NUL U+0000 is not allowed in a YAML file"),
    "ESC": (
        b"a: 1\n\nc: \x1b[31mred\n",
        "f.yaml:3:4: control character U+001B is not allowed in a YAML file",
    ),
    "form feed": (
        b"\x0c\na: 1\n",
        "f.yaml:1:1: control character U+000C is not allowed in a YAML file",
    ),
    "DEL": (b"a: x\x7f\n", "f.yaml:1:5: control character U+007F is not allowed in a YAML file"),
    "C1 CSI": (
        "a: 1\nb: x\x9b2J\n".encode(),
        "f.yaml:2:5: control character U+009B is not allowed in a YAML file",
    ),
    "C1 NEL": (
        "a: 1\nb: x\x85y\n".encode(),
        "f.yaml:2:5: control character U+0085 is not allowed in a YAML file",
    ),
    "noncharacter": (
        "a: \ufffe\n".encode(),
        "f.yaml:1:4: character U+FFFE is not allowed in a YAML file",
    ),
    "CRLF and CR lines": (
        b"a: 1\r\nb: 2\rc: \x00\n",
        "f.yaml:3:4: NUL U+0000 is not allowed in a YAML file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BYTES), ids=list(BAD_BYTES))
def test_bad_bytes_are_located(case: str) -> None:
    raw, expected = BAD_BYTES[case]
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_bytes(raw, "f.yaml")
    assert str(caught.value) == expected


@pytest.mark.parametrize("code", [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
def test_every_control_character_in_a_file_is_located(code: int) -> None:
    raw = f"a: 1\nname: ab{chr(code)}\n".encode()
    with pytest.raises(YamlLoadError) as caught:
        load_yaml_bytes(raw, "f.yaml")
    assert str(caught.value).startswith("f.yaml:2:9: ")
    assert f"U+{code:04X} is not allowed" in str(caught.value)


def test_a_probe_file_with_bad_bytes_is_located(tmp_path: Path) -> None:
    probes = tmp_path / "probes"
    shutil.copytree(Path(str(default_probe_directory())), probes)
    target = probes / "https.yaml"
    target.write_bytes(target.read_bytes().replace(b"title:", b"\x00title:", 1))
    with pytest.raises(MethodologyError) as caught:
        load_methodology(probes)
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{target}:")
    assert problem.line > 0 and problem.column == 1
    assert str(problem).endswith("NUL U+0000 is not allowed in a YAML file")


def test_a_bad_byte_in_the_catalogue_is_one_line_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "vendors.yaml"
    bad.write_text(SMALL_CATALOGUE.replace("OpenCo Waste", "OpenCo \x9b2J Waste"), "utf-8")
    assert main(["validate", "-c", str(bad)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}:7:22: control character U+009B is not allowed in a YAML file",
        "api-audit: 1 problem(s) found",
    ]
