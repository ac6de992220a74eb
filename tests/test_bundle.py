"""`export` and `verify` (issue 12 item 5): a real run's bundle verifies; changing, adding or
removing any file makes it fail (exit 1, the file named); a consistent forgery of findings or
scores is caught by judging the bundle's evidence again; hostile archives are exit 2 with one
line; exporting twice gives the same bytes."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from api_audit.cli import main
from api_audit.demo.market import serve_market
from api_audit.methodology import default_probe_directory
from api_audit.report.bundle_format import checksums_text
from api_audit.store import BODY_CAP

Entries = dict[str, bytes]


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def market_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A complete run of the simulated market, its catalogue kept where the run read it."""
    folder = tmp_path_factory.mktemp("bundle")
    db = folder / "audit.db"
    with serve_market() as market:
        catalogue = market.write_catalogue(folder / "vendors.yaml")
        code, _, err = _cli(
            "run", "-c", str(catalogue), "--db", str(db), "--allow-private",
            "--min-interval", "0", "--format", "json",
        )  # fmt: skip
        assert code == 0, err
    return db, catalogue


@pytest.fixture(scope="module")
def bundle(market_run: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    db, _ = market_run
    out = tmp_path_factory.mktemp("export") / "bundle.zip"
    code, _, err = _cli("export", "--db", str(db), "--out", str(out))
    assert code == 0, err
    return out


def _entries(path: Path) -> Entries:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path: Path, entries: Entries | list[tuple[str, bytes]]) -> Path:
    items = entries.items() if isinstance(entries, dict) else entries
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return path


def _forged(entries: Entries, changes: Entries) -> Entries:
    """The bundle with `changes`, its manifest and SHA256SUMS rewritten to match: what a
    forger would do, so only the re-evaluation can tell."""
    changed = {**entries, **changes}
    manifest = json.loads(changed["manifest.json"])
    for item in manifest["files"]:
        data = changed[item["path"]]
        item["sha256"], item["size"] = hashlib.sha256(data).hexdigest(), len(data)
    changed["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    hashes = {n: hashlib.sha256(d).hexdigest() for n, d in changed.items() if n != "SHA256SUMS"}
    changed["SHA256SUMS"] = checksums_text(hashes)
    return changed


def _verify(path: Path) -> tuple[int, str, str]:
    return _cli("verify", str(path))


# -- what holds ---------------------------------------------------------------------------


def test_export_then_verify_passes(bundle: Path) -> None:
    code, out, err = _verify(bundle)
    assert code == 0, out + err
    first, second = out.splitlines()
    manifest = json.loads(_entries(bundle)["manifest.json"])
    files = len(manifest["files"]) + 2  # the manifest and SHA256SUMS
    findings = manifest["counts"]["findings"]
    assert first == f"verified: {files} files, {findings} findings, scores reproduce"
    assert (
        second == f"manifest sha256 {hashlib.sha256(_entries(bundle)['manifest.json']).hexdigest()}"
    )


def test_the_bundle_holds_the_run_its_inputs_and_every_body(
    bundle: Path, market_run: tuple[Path, Path]
) -> None:
    db, catalogue = market_run
    entries = _entries(bundle)
    manifest = json.loads(entries["manifest.json"])
    assert manifest["bundle_format"] == 1
    assert manifest["catalogue"]["included"] is True
    assert entries["catalogue.yaml"] == catalogue.read_bytes()
    assert manifest["methodology"]["included"] is True
    probe_files = {e.name for e in default_probe_directory().iterdir() if e.name.endswith(".yaml")}
    assert {n.removeprefix("probes/") for n in entries if n.startswith("probes/")} == probe_files
    for item in manifest["files"]:
        assert hashlib.sha256(entries[item["path"]]).hexdigest() == item["sha256"]
        assert len(entries[item["path"]]) == item["size"]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        bodies = {
            r[0]
            for r in conn.execute("SELECT body_sha256 FROM exchanges WHERE body_sha256 IS NOT NULL")
        }
        (findings,) = conn.execute("SELECT count(*) FROM findings").fetchone()
        (exchanges,) = conn.execute("SELECT count(*) FROM exchanges").fetchone()
    assert {n.removeprefix("bodies/") for n in entries if n.startswith("bodies/")} == bodies
    assert len(json.loads(entries["findings.json"])) == findings == manifest["counts"]["findings"]
    assert len(json.loads(entries["exchanges.json"])) == exchanges
    assert entries["exchanges.csv"].decode().count("\n") >= exchanges + 1
    assert json.loads(entries["scores.json"])["systems"]
    assert manifest["run"]["complete"] is True


def test_checksums_file_is_sha256sum_format(bundle: Path) -> None:
    entries = _entries(bundle)
    lines = entries["SHA256SUMS"].decode().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in lines) == sorted(set(entries) - {"SHA256SUMS"})
    for line in lines:
        sha, name = line.split("  ", 1)
        assert hashlib.sha256(entries[name]).hexdigest() == sha


def test_exporting_twice_gives_identical_bytes(
    bundle: Path, market_run: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = market_run
    again = tmp_path / "elsewhere" / "again.zip"
    again.parent.mkdir()
    assert _cli("export", "--db", str(db), "--out", str(again))[0] == 0
    assert again.read_bytes() == bundle.read_bytes()
    with zipfile.ZipFile(again) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("existing", [b"", b"precious", b"PK\x03\x04 another zip"])
def test_export_refuses_to_overwrite_without_force(
    market_run: tuple[Path, Path], tmp_path: Path, existing: bytes
) -> None:
    db, _ = market_run
    out = tmp_path / "out.zip"
    out.write_bytes(existing)
    code, _, err = _cli("export", "--db", str(db), "--out", str(out))
    assert code == 2
    assert err.strip().splitlines() == [
        f"api-audit: error: {out} exists; pass --force to replace it"
    ]
    assert out.read_bytes() == existing
    assert _cli("export", "--db", str(db), "--out", str(out), "--force")[0] == 0
    assert _verify(out)[0] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.zip"]  # no staging left behind


# -- changed, added, removed --------------------------------------------------------------


def _flip(data: bytes, where: str) -> bytes:
    if not data:
        return b"x"
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_changing_one_byte_of_any_file_fails(bundle: Path, tmp_path: Path, where: str) -> None:
    entries = _entries(bundle)
    missed = []
    for name in sorted(entries):
        altered = _write_zip(
            tmp_path / "altered.zip", {**entries, name: _flip(entries[name], where)}
        )
        code, out, err = _verify(altered)
        named = name in out or (name == "SHA256SUMS" and "SHA256SUMS" in out)
        if code != 1 or not out.startswith("not verified: ") or not named or err:
            missed.append((name, code, out, err))
    assert not missed


@pytest.mark.parametrize(
    "extra",
    [
        "extra.txt",
        "bodies/" + "0" * 64,
        "probes/zz-extra.yaml",
        "notes/readme.md",
        "catalogue.yaml",
    ],
)
def test_adding_a_file_fails(bundle: Path, tmp_path: Path, extra: str) -> None:
    entries = _entries(bundle)
    if extra in entries:  # the catalogue is there already: add it under another name
        extra = "catalogue.yml"
    altered = _write_zip(tmp_path / "added.zip", {**entries, extra: b"something"})
    code, out, _ = _verify(altered)
    assert code == 1
    assert out.startswith(f"not verified: {extra}: ")


def test_removing_any_file_fails(bundle: Path, tmp_path: Path) -> None:
    entries = _entries(bundle)
    missed = []
    for name in sorted(entries):
        if name == "manifest.json":
            continue  # without it, the file is no bundle at all: exit 2 (below)
        altered = _write_zip(
            tmp_path / "removed.zip", {n: d for n, d in entries.items() if n != name}
        )
        code, out, _ = _verify(altered)
        if code != 1 or name not in out:
            missed.append((name, code, out))
    assert not missed


def _finding_rows(entries: Entries) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(entries["findings.json"])
    return rows


def _json_lines(rows: list[dict[str, Any]]) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode()


@pytest.mark.parametrize(
    ("column", "value"),
    [("outcome", "pass"), ("outcome", "fail"), ("message", "all fine"), ("credit", 0.5)],
)
def test_a_forged_finding_is_caught_by_judging_the_evidence_again(
    bundle: Path, tmp_path: Path, column: str, value: object
) -> None:
    entries = _entries(bundle)
    rows = _finding_rows(entries)
    target = next(
        r for r in rows if r["basis"] == "observed" and r["evidence"] and r[column] != value
    )
    target[column] = value
    forged = _forged(entries, {"findings.json": _json_lines(rows)})
    code, out, _ = _verify(_write_zip(tmp_path / "forged.zip", forged))
    assert code == 1
    assert out.startswith(
        f"not verified: findings.json: system {target['system_id']}, probe {target['probe_id']}: "
    )
    assert "when judged again from its exchanges" in out


@pytest.mark.parametrize(("field", "value"), [("grade", "A"), ("score", 9.9), ("ladder", "L5")])
def test_forged_scores_are_caught_by_scoring_the_findings_again(
    bundle: Path, tmp_path: Path, field: str, value: object
) -> None:
    entries = _entries(bundle)
    scores = json.loads(entries["scores.json"])
    target = next(s for s in scores["systems"] if s[field] != value)
    target[field] = value
    forged = _forged(entries, {"scores.json": json.dumps(scores).encode()})
    code, out, _ = _verify(_write_zip(tmp_path / "forged.zip", forged))
    assert code == 1
    assert out.startswith(f"not verified: scores.json: system {target['system']}: {field} is ")


def test_a_forged_body_is_caught_by_its_name(bundle: Path, tmp_path: Path) -> None:
    entries = _entries(bundle)
    name = next(n for n in sorted(entries) if n.startswith("bodies/"))
    forged = _forged(entries, {name: b"<html>nothing to see</html>"})
    code, out, _ = _verify(_write_zip(tmp_path / "forged.zip", forged))
    assert code == 1
    assert out.startswith(f"not verified: {name}: its content's sha256 is ")


# -- not a bundle -------------------------------------------------------------------------


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("api-audit: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a zip at all\n",
        b"PK\x03\x04" + b"\x00" * 40,
        b"\x1b[31mred\x07",
        bytes(range(256)),
    ],
)
def test_a_file_that_is_not_a_zip_is_exit_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "thing.zip"
    path.write_bytes(content)
    code, out, err = _verify(path)
    assert (code, out) == (2, "")
    assert "is not an evidence bundle" in _one_error_line(err)


def test_a_missing_path_or_a_folder_is_exit_2(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.zip", tmp_path):
        code, _, err = _verify(path)
        assert code == 2
        _one_error_line(err)


@pytest.mark.parametrize(
    "entries",
    [
        [("readme.txt", b"hello")],
        [("run.json", b"{}"), ("SHA256SUMS", b"")],
        [],
    ],
)
def test_a_zip_without_a_manifest_is_exit_2(
    tmp_path: Path, entries: list[tuple[str, bytes]]
) -> None:
    code, _, err = _verify(_write_zip(tmp_path / "other.zip", entries))
    assert code == 2
    assert "no manifest.json" in _one_error_line(err)


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "/etc/passwd", "bodies/../../evil", "C:/windows/evil", "bodies\\..\\evil",
     "./manifest.json", "a//b", "bodies/\x1b[2Jx"],
)  # fmt: skip
def test_unsafe_names_are_exit_2(bundle: Path, tmp_path: Path, name: str) -> None:
    entries = _entries(bundle)
    code, out, err = _verify(_write_zip(tmp_path / "slip.zip", {**entries, name: b"x"}))
    assert (code, out) == (2, "")
    line = _one_error_line(err)
    assert "\x1b" not in line


def test_duplicate_names_are_exit_2(bundle: Path, tmp_path: Path) -> None:
    entries = _entries(bundle)
    items = [*entries.items(), ("run.json", b"{}")]
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _write_zip(tmp_path / "dup.zip", items)
    code, _, err = _verify(path)
    assert code == 2
    assert "run.json twice" in _one_error_line(err)


@pytest.mark.parametrize(
    ("name", "size"), [("bodies/" + "a" * 64, BODY_CAP + 1), ("big.bin", 600 << 20)]
)
def test_oversized_entries_are_exit_2(bundle: Path, tmp_path: Path, name: str, size: int) -> None:
    # zeros deflate ~1000:1, as a zip bomb's do: the declared size is refused before reading
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in _entries(bundle).items():
            archive.writestr(entry, data)
        with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as big:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                big.write(chunk)
            big.write(bytes(size % (1 << 20)))
    code, _, err = _verify(path)
    assert code == 2
    assert "too large" in _one_error_line(err)


# -- what is and is not included ----------------------------------------------------------


def _copy_db(db: Path, tmp_path: Path, *statements: tuple[str, list[object]]) -> Path:
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        for sql, params in statements:
            conn.execute(sql, params)
        conn.commit()
    return copy


@pytest.mark.parametrize("status", ["interrupted", "running"])
def test_an_unfinished_run_is_exported_only_when_named_and_marked(
    market_run: tuple[Path, Path], tmp_path: Path, status: str
) -> None:
    db = _copy_db(market_run[0], tmp_path, ("UPDATE runs SET status = ?", [status]))
    out = tmp_path / "b.zip"
    code, _, err = _cli("export", "--db", str(db), "--out", str(out))
    assert code == 2
    assert "no complete run" in _one_error_line(err) and "--run 1" in err
    code, _, err = _cli("export", "--db", str(db), "--out", str(out), "--run", "1")
    assert code == 0
    assert f"run 1 is {status}" in err
    manifest = json.loads(_entries(out)["manifest.json"])
    assert (manifest["run"]["status"], manifest["run"]["complete"]) == (status, False)
    assert _verify(out)[0] == 0


def test_a_changed_catalogue_is_identified_by_hash_only(
    market_run: tuple[Path, Path], tmp_path: Path
) -> None:
    db, catalogue = market_run
    moved = tmp_path / "vendors.yaml"
    moved.write_bytes(catalogue.read_bytes() + b"\n# edited after the run\n")
    db = _copy_db(db, tmp_path, ("UPDATE runs SET catalogue_source = ?", [str(moved)]))
    out = tmp_path / "b.zip"
    code, _, err = _cli("export", "--db", str(db), "--out", str(out))
    assert code == 0
    assert "catalogue is identified by hash only" in err
    entries = _entries(out)
    assert "catalogue.yaml" not in entries
    manifest = json.loads(entries["manifest.json"])
    assert manifest["catalogue"]["included"] is False
    assert "changed since the run" in manifest["catalogue"]["reason"]
    assert _verify(out)[0] == 0


@pytest.mark.parametrize(
    "secret_url",
    ["https://h.example/api?api_key=s3cr3tvalue42", "https://user:hunter2pass@h.example/api"],
)
def test_a_catalogue_holding_a_secret_is_left_out(
    market_run: tuple[Path, Path], tmp_path: Path, secret_url: str
) -> None:
    db, catalogue = market_run
    with_secret = tmp_path / "vendors.yaml"
    with_secret.write_bytes(catalogue.read_bytes() + f"\n# see {secret_url}\n".encode())
    digest = hashlib.sha256(with_secret.read_bytes()).hexdigest()
    db = _copy_db(
        db, tmp_path,
        ("UPDATE runs SET catalogue_source = ?, catalogue_sha256 = ?", [str(with_secret), digest]),
    )  # fmt: skip
    out = tmp_path / "b.zip"
    assert _cli("export", "--db", str(db), "--out", str(out))[0] == 0
    entries = _entries(out)
    assert "catalogue.yaml" not in entries
    secret = secret_url.rsplit("=", maxsplit=1)[-1] if "=" in secret_url else "hunter2pass"
    assert not any(secret.encode() in data for data in entries.values())
    assert _verify(out)[0] == 0


def test_without_the_runs_probe_set_only_hashes_are_checked(
    market_run: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = market_run
    probes = tmp_path / "probes"
    probes.mkdir()
    for entry in default_probe_directory().iterdir():
        if entry.name.endswith(".yaml"):
            (probes / entry.name).write_bytes(entry.read_bytes())
    rubric = probes / "rubric.yaml"
    rubric.write_bytes(rubric.read_bytes() + b"\n# changed\n")
    out = tmp_path / "b.zip"
    code, _, err = _cli("export", "--db", str(db), "--out", str(out), "--probes", str(probes))
    assert code == 0
    assert "probe set is identified by hash only" in err
    entries = _entries(out)
    assert not any(n.startswith("probes/") for n in entries) and "scores.json" not in entries
    code, out_text, _ = _verify(out)
    assert code == 0
    assert "findings and scores not redone: no probe set" in out_text


def test_export_needs_a_database_with_a_run(tmp_path: Path) -> None:
    code, _, err = _cli(
        "export", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "b.zip")
    )
    assert code == 2
    assert "no database" in _one_error_line(err)


def test_export_to_a_missing_folder_is_a_usage_error(
    market_run: tuple[Path, Path], tmp_path: Path
) -> None:
    code, _, err = _cli(
        "export", "--db", str(market_run[0]), "--out", str(tmp_path / "no" / "b.zip")
    )
    assert code == 2
    assert "does not exist" in _one_error_line(err)
