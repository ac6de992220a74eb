"""An evidence bundle checked: each file against the manifest, then findings and scores redone.

A bundle is hostile input like any other (DESIGN.md §5): it is read in place, never
extracted (only its probe files are written, under fixed names, to a temporary folder
the loader reads), every entry is read with a cap, and an archive api-audit would never
write (unsafe or duplicate names, encrypted or oversized entries, not a zip at all) is
refused as NotABundle (exit 2). A bundle whose files do not match its manifest, or whose
findings or scores do not follow from its own evidence, is BundleAltered (exit 1), with
the first discrepancy named.

The checks, in order (docs/bundle.md):
1. every file is listed in manifest.json, and every listed file is there;
2. every file's sha256 and size are the manifest's; a body's name is its sha256 (unless the
   manifest marks it truncated, as the store keeps at most BODY_CAP bytes of a body);
3. the tables read back as the store would read them, and every body they name is there;
4. the probe set hashes to the run's methodology_sha256, the catalogue to its
   catalogue_sha256;
5. the findings are made again from the exchanges and bodies with the bundle's probes
   (rejudge.py) and must equal findings.json;
6. the run is scored from findings.json with the bundle's rubric and must equal scores.json.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from api_audit.errors import EXIT_THRESHOLD, AuditError, MethodologyError
from api_audit.methodology import load_methodology, methodology_sha256
from api_audit.models import Exchange, Finding, Methodology, RunInfo, System
from api_audit.redact import NO_SECRETS
from api_audit.rejudge import baseline_token, lookup_in, rejudge_system
from api_audit.report.bundle_format import (
    BODIES_DIR,
    BODY_NAME,
    BUNDLE_FORMAT,
    CATALOGUE_FILE,
    CHECKSUMS,
    MANIFEST,
    PROBE_NAME,
    PROBES_DIR,
    RUN_FILE,
    SCORES_FILE,
    TABLE_ORDER,
    checksums_text,
    stored_row,
    table_files,
)
from api_audit.report.json import write_scorecard_json
from api_audit.scoring import score_grouped
from api_audit.store import BODY_CAP
from api_audit.store.cells import BadCell
from api_audit.store.rows import (
    evidence_from_row,
    exchange_from_row,
    finding_from_row,
    run_from_row,
    system_from_row,
)
from api_audit.text import quote

_T = TypeVar("_T")
MAX_ENTRIES: Final = 1_000_000
MAX_FILE: Final = 512 * 1024 * 1024  # a table or the scorecard: read whole to be checked
MAX_TOTAL: Final = 16 * 1024 * 1024 * 1024
_CHUNK = 1 << 16
_RECENT_BODIES = 32  # one system's exchanges, kept while its probes are judged
# Names that would leave a folder they were extracted to ("zip slip": .., absolute, drive
# letters, backslashes), or hold control characters: api-audit writes none of them.
_UNSAFE_NAME = re.compile(r"(^|/)\.{1,2}(/|$)|^/|\\|[\x00-\x1f\x7f]|^[A-Za-z]:|//")
_FINDING_FIELDS = (
    "outcome", "credit", "weight", "criterion", "message", "excerpt", "evidence",
    "observed", "basis", "source", "seen", "sign_in",
)  # fmt: skip
_SCORE_FIELDS = ("grade", "score", "coverage", "ladder", "criteria")


class NotABundle(AuditError):
    """The file is not an evidence bundle api-audit wrote (exit 2)."""


class BundleAltered(AuditError):
    """A file of the bundle, or what follows from it, is not what was exported (exit 1)."""

    exit_code = EXIT_THRESHOLD


@dataclass(frozen=True)
class Verified:
    files: int
    findings: int
    rescored: bool  # False: the bundle has no probe set, so only hashes were checked
    manifest_sha256: str  # publish this (or the zip's hash) so others can check the bundle
    note: str = ""


def verify_bundle(path: Path) -> Verified:
    """Check the bundle at `path`; raise NotABundle or BundleAltered, else say what held."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotABundle(f"{path} is not an evidence bundle: {_reason(exc)}") from None
    with archive:
        entries = _checked_entries(archive)
        hashes = {name: _hash_entry(archive, info) for name, info in sorted(entries.items())}
        _check_checksums(archive, entries, hashes)
        raw_manifest = _read(archive, entries, MANIFEST, MAX_FILE)
        manifest = _manifest(raw_manifest)
        listed = _check_listing(entries, manifest)
        for item in listed.values():
            _check_file(item, hashes[item["path"]])
        bundle = _Bundle.read(archive, entries, listed)
        _check_manifest_run(manifest, bundle)
        rescored = bundle.check_inputs()
        if rescored:
            bundle.check_findings()
            bundle.check_scores()
        note = "" if rescored else manifest["methodology"].get("reason") or "no probe set"
        return Verified(
            files=len(entries),
            findings=len(bundle.findings),
            rescored=rescored,
            manifest_sha256=hashes[MANIFEST][0],
            note=str(note),
        )


# -- the archive --------------------------------------------------------------------------


def _checked_entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The entries by name; an archive api-audit would never write is NotABundle."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise NotABundle(f"too many entries ({len(infos)}; at most {MAX_ENTRIES})")
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if _UNSAFE_NAME.search(name) or not name:
            raise NotABundle(f"unsafe file name in the bundle: {quote(repr(name))}")
        if name in entries:  # which copy would be checked, and which read?
            raise NotABundle(f"the bundle holds {quote(name)} twice")
        if info.flag_bits & 0x1:
            raise NotABundle(f"{quote(name)} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise NotABundle(f"{quote(name)} uses a compression api-audit does not write")
        cap = _cap(name)
        if info.file_size > cap:
            raise NotABundle(f"{quote(name)} is too large ({info.file_size} bytes; cap {cap})")
        total += info.file_size
        entries[name] = info
    if total > MAX_TOTAL:
        raise NotABundle(f"the bundle's files add up to too much ({total} bytes)")
    if MANIFEST not in entries:
        raise NotABundle(f"no {MANIFEST} in it: not an evidence bundle")
    return entries


def _cap(name: str) -> int:
    return BODY_CAP if name.startswith(BODIES_DIR) else MAX_FILE


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """An entry's bytes, never more than it declares (a zip bomb lies about its size)."""
    left = info.file_size
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(min(_CHUNK, left + 1)):
                left -= len(chunk)
                if left < 0:
                    raise NotABundle(f"{quote(info.filename)} holds more than it declares")
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BundleAltered(f"{quote(info.filename)}: damaged ({_reason(exc)})") from None


def _read(
    archive: zipfile.ZipFile, entries: Mapping[str, zipfile.ZipInfo], name: str, cap: int
) -> bytes:
    info = entries[name]
    if info.file_size > cap:
        raise NotABundle(f"{quote(name)} is too large ({info.file_size} bytes; cap {cap})")
    return b"".join(_chunks(archive, info))


def _manifest(raw: bytes) -> dict[str, Any]:
    # Its bytes matched SHA256SUMS: a manifest that does not read was made so, not altered
    # on the way, so it is no bundle of ours (exit 2).
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError):
        raise NotABundle(f"{MANIFEST} is not JSON: not an evidence bundle") from None
    if not isinstance(manifest, dict) or "bundle_format" not in manifest:
        raise NotABundle(f"{MANIFEST} is not an api-audit bundle manifest")
    version = manifest["bundle_format"]
    if version != BUNDLE_FORMAT:
        raise NotABundle(
            f"bundle format {quote(str(version))} is not one this api-audit reads "
            f"(it reads format {BUNDLE_FORMAT})"
        )
    files = manifest.get("files")
    shape_ok = isinstance(files, list) and all(
        isinstance(f, dict) and isinstance(f.get("path"), str) for f in files
    )
    if not shape_ok or not isinstance(manifest.get("methodology"), dict):
        raise NotABundle(f"{MANIFEST} is not an api-audit bundle manifest")
    return manifest


def _check_listing(
    entries: Mapping[str, zipfile.ZipInfo], manifest: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each listed file by path; a file not listed, or listed and absent, is BundleAltered."""
    listed: dict[str, dict[str, Any]] = {}
    for item in manifest["files"]:
        if item["path"] in listed or item["path"] in (MANIFEST, CHECKSUMS):
            raise BundleAltered(f"{MANIFEST}: lists {quote(item['path'])} twice")
        listed[item["path"]] = item
    for name in sorted(entries):
        if name not in (MANIFEST, CHECKSUMS) and name not in listed:
            raise BundleAltered(f"{quote(name)}: in the bundle but not listed in {MANIFEST}")
    for name in sorted(listed):
        if name not in entries:
            raise BundleAltered(f"{quote(name)}: listed in {MANIFEST} but not in the bundle")
        if not _known_name(name):
            raise BundleAltered(f"{quote(name)}: not a file an evidence bundle holds")
    return listed


def _known_name(name: str) -> bool:
    tables = {n for table in TABLE_ORDER for n in table_files(table)}
    fixed = {RUN_FILE, SCORES_FILE, CATALOGUE_FILE, *tables}
    return name in fixed or bool(BODY_NAME.fullmatch(name) or PROBE_NAME.fullmatch(name))


def _hash_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int]:
    """(sha256, size) of an entry's bytes, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(archive, info):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _check_checksums(
    archive: zipfile.ZipFile,
    entries: Mapping[str, zipfile.ZipInfo],
    hashes: Mapping[str, tuple[str, int]],
) -> None:
    """SHA256SUMS must be exactly what the bundle's files give: it covers manifest.json,
    so no byte of the manifest can change unseen either."""
    if CHECKSUMS not in entries:
        raise BundleAltered(f"{CHECKSUMS}: missing (every bundle holds it)")
    raw = _read(archive, entries, CHECKSUMS, MAX_FILE)
    made = checksums_text({n: h for n, (h, _) in hashes.items() if n != CHECKSUMS})
    if raw == made:  # compared as bytes: a changed line ending is a change too
        return
    held = _checksum_lines(raw)
    for name in sorted(held.keys() | hashes.keys() - {CHECKSUMS}):
        if name not in hashes:
            raise BundleAltered(f"{quote(name)}: listed in {CHECKSUMS} but not in the bundle")
        if name not in held:
            raise BundleAltered(f"{quote(name)}: in the bundle but not listed in {CHECKSUMS}")
        if held[name] != hashes[name][0]:
            raise BundleAltered(
                f"{quote(name)}: sha256 is {hashes[name][0]}, {CHECKSUMS} says {_q(held[name])}"
            )
    raise BundleAltered(f"{CHECKSUMS}: not as api-audit writes it (one line per file, sorted)")


def _checksum_lines(raw: bytes) -> dict[str, str]:
    """SHA256SUMS read leniently (path -> hash as written), to name what differs."""
    held: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\n"):
        sha, _, name = line.partition("  ")
        if name:
            held[name] = sha
    return held


def _check_file(item: Mapping[str, Any], found: tuple[str, int]) -> None:
    name = item["path"]
    sha, size = found
    if sha != item.get("sha256"):
        raise BundleAltered(
            f"{quote(name)}: sha256 is {sha}, the manifest says {_q(item.get('sha256'))}"
        )
    if size != item.get("size"):
        raise BundleAltered(
            f"{quote(name)}: {size} bytes, the manifest says {_q(item.get('size'))}"
        )
    if name.startswith(BODIES_DIR) and not item.get("truncated") and sha != name[len(BODIES_DIR) :]:
        raise BundleAltered(f"{quote(name)}: its content's sha256 is {sha}, not its name")


def _check_manifest_run(manifest: Mapping[str, Any], bundle: _Bundle) -> None:
    """What the manifest says of the run must be what run.json and the tables say."""
    run = bundle.run
    said = {
        "run id": (manifest.get("run") or {}).get("id"),
        "run status": (manifest.get("run") or {}).get("status"),
        "methodology sha256": manifest["methodology"].get("sha256"),
        "catalogue sha256": (manifest.get("catalogue") or {}).get("sha256"),
        "findings count": (manifest.get("counts") or {}).get("findings"),
    }
    held = {
        "run id": run.id,
        "run status": run.status,
        "methodology sha256": run.methodology_sha256,
        "catalogue sha256": run.catalogue_sha256,
        "findings count": len(bundle.findings),
    }
    for what, value in said.items():
        if value != held[what]:
            raise BundleAltered(
                f"{MANIFEST}: {what} is {_q(value)}, the bundle's tables say {_q(held[what])}"
            )


def _q(value: object) -> str:
    return quote(repr(value), 80)


def _reason(exc: BaseException) -> str:
    return quote(str(exc) or type(exc).__name__, 160)


# -- the bundle's contents ----------------------------------------------------------------


@dataclass(frozen=True)
class _Bundle:
    """What a bundle holds, read back as the store's values."""

    archive: zipfile.ZipFile
    entries: Mapping[str, zipfile.ZipInfo]
    listed: Mapping[str, Mapping[str, Any]]
    run: RunInfo
    systems: tuple[System, ...]
    findings: tuple[Finding, ...]
    exchange_rows: tuple[Mapping[str, Any], ...]

    @classmethod
    def read(
        cls,
        archive: zipfile.ZipFile,
        entries: Mapping[str, zipfile.ZipInfo],
        listed: Mapping[str, Mapping[str, Any]],
    ) -> _Bundle:
        for name in (RUN_FILE, *(table_files(t)[0] for t in TABLE_ORDER)):
            if name not in listed:
                raise BundleAltered(f"{name}: missing (every bundle holds it)")
        read = functools.partial(_json_file, archive, entries)
        run = _mapped(
            RUN_FILE, 0, run_from_row, stored_row("runs", _object(RUN_FILE, read(RUN_FILE)))
        )
        rows = {t: _rows(t, read(table_files(t)[0])) for t in TABLE_ORDER}
        bundle = cls(
            archive,
            entries,
            listed,
            run,
            tuple(
                _mapped("systems.json", i, system_from_row, r)
                for i, r in enumerate(rows["systems"], 1)
            ),
            tuple(
                _mapped("findings.json", i, finding_from_row, r)
                for i, r in enumerate(rows["findings"], 1)
            ),
            tuple(rows["exchanges"]),
        )
        bundle.check_bodies_present()
        return bundle

    def check_bodies_present(self) -> None:
        for index, row in enumerate(self.exchange_rows, start=1):
            sha = row.get("body_sha256")
            if sha is not None and f"{BODIES_DIR}{sha}" not in self.listed:
                raise BundleAltered(
                    f"exchanges.json: exchange {index} names body {_q(sha)}, not in the bundle"
                )

    def check_inputs(self) -> bool:
        """The catalogue and probe set against the run's hashes; True when probes are here."""
        if CATALOGUE_FILE in self.listed:
            found = self.listed[CATALOGUE_FILE]["sha256"]
            if found != self.run.catalogue_sha256:
                raise BundleAltered(
                    f"{CATALOGUE_FILE}: sha256 {found} is not the run's catalogue_sha256 "
                    f"{self.run.catalogue_sha256}"
                )
        probe_files = sorted(n for n in self.listed if n.startswith(PROBES_DIR))
        if not probe_files:
            if SCORES_FILE in self.listed:
                raise BundleAltered(f"{SCORES_FILE}: present, but the bundle has no probe set")
            return False
        if SCORES_FILE not in self.listed:
            raise BundleAltered(f"{SCORES_FILE}: missing (a bundle with probes holds it)")
        return True

    @functools.cached_property
    def methodology(self) -> Methodology:
        files = [
            (name.removeprefix(PROBES_DIR), _read(self.archive, self.entries, name, MAX_FILE))
            for name in sorted(n for n in self.listed if n.startswith(PROBES_DIR))
        ]
        found = methodology_sha256((name, "", raw) for name, raw in files)
        if found != self.run.methodology_sha256:
            raise BundleAltered(
                f"{PROBES_DIR}: the probe set's sha256 {found} is not the run's "
                f"methodology_sha256 {self.run.methodology_sha256}"
            )
        with tempfile.TemporaryDirectory(prefix="api-audit-verify-") as tmp:
            for name, raw in files:  # names checked by PROBE_NAME: no path in them
                (Path(tmp) / name).write_bytes(raw)
            try:
                return load_methodology(Path(tmp))
            except MethodologyError as exc:
                problem = quote(str(exc).replace(tmp, "probes"), 200)
                raise NotABundle(
                    f"the bundle's probe set does not load here ({problem}); "
                    "a newer api-audit may be needed"
                ) from None

    def check_findings(self) -> None:
        """Each system's findings made again from the bundle's evidence must be its own."""
        exchanges = _Exchanges(self)
        token = baseline_token(e.request.key for e in exchanges.without_bodies())
        bundled = _by_system(self.findings)
        for system in self.systems:
            if system.id not in bundled and self.run.status != "complete":
                continue  # never reached by an unfinished run: nothing to redo
            judged = rejudge_system(system, self.methodology, lookup_in(exchanges), token=token)
            again = [_as_stored(f) for f in judged]
            _compare_findings(system.id, bundled.get(system.id, []), again)

    def check_scores(self) -> None:
        """The run scored from findings.json with the bundle's rubric must be scores.json."""
        bundled = _json_file(self.archive, self.entries, SCORES_FILE)
        again = json.loads(self.scorecard_json())
        if bundled == again:
            return
        _name_score_difference(bundled, again)
        raise BundleAltered(f"{SCORES_FILE}: differs from the scores its findings give")

    def scorecard_json(self) -> str:
        by_system = _by_system(self.findings)
        card = score_grouped(
            self.run, self.systems, by_system.items(), self.methodology.rubric, keep_findings=False
        )
        refs = {str(row["request_key"]): evidence_from_row(row) for row in self.exchange_rows}
        out = io.StringIO()
        write_scorecard_json(
            card,
            out,
            lambda system_id: by_system.get(system_id, []),
            lambda keys: {k: refs[k] for k in keys if k in refs},
        )
        return out.getvalue()


class _Exchanges(Mapping[str, Exchange]):
    """The bundle's exchanges by request key, each body read from the zip when asked for,
    so re-evaluating a large run never holds every body."""

    def __init__(self, bundle: _Bundle) -> None:
        self._bundle = bundle
        self._rows: dict[str, Mapping[str, Any]] = {}
        self._recent: OrderedDict[str, Exchange] = OrderedDict()
        for index, row in enumerate(bundle.exchange_rows, start=1):
            self._rows[_mapped("exchanges.json", index, _key, row)] = row

    def without_bodies(self) -> Iterator[Exchange]:
        for row in self._rows.values():
            yield self._exchange(row, with_body=False)

    def __getitem__(self, key: str) -> Exchange:
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        exchange = self._exchange(self._rows[key])
        self._recent[key] = exchange
        if len(self._recent) > _RECENT_BODIES:
            self._recent.popitem(last=False)
        return exchange

    def _exchange(self, row: Mapping[str, Any], *, with_body: bool = True) -> Exchange:
        exchange = _mapped(
            "exchanges.json", 0, exchange_from_row, {**row, "content": None, "compression": None}
        )
        sha = row.get("body_sha256")
        if sha is None or not with_body:
            return exchange
        body = _read(self._bundle.archive, self._bundle.entries, f"{BODIES_DIR}{sha}", BODY_CAP)
        return replace(exchange, body=body)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _key(row: Mapping[str, Any]) -> str:
    key = row.get("request_key")
    if not isinstance(key, str):
        raise BadCell("request_key", "should be text")
    return key


def _json_file(archive: zipfile.ZipFile, entries: Mapping[str, zipfile.ZipInfo], name: str) -> Any:
    try:
        return json.loads(_read(archive, entries, name, MAX_FILE))
    except (ValueError, RecursionError):
        raise BundleAltered(f"{name}: not valid JSON") from None


def _object(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BundleAltered(f"{name}: should hold an object")
    return value


def _rows(table: str, value: Any) -> list[dict[str, Any]]:
    name = table_files(table)[0]
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise BundleAltered(f"{name}: should hold a list of rows")
    return [stored_row(table, r) for r in value]


def _mapped(
    name: str, index: int, build: Callable[[Mapping[str, Any]], _T], row: Mapping[str, Any]
) -> _T:
    try:
        return build(row)
    except BadCell as exc:
        raise BundleAltered(f"{name}: row {index}: {exc.column} {exc.problem}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleAltered(f"{name}: row {index}: {_reason(exc)}") from None


def _by_system(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.system_id, []).append(finding)
    return grouped


def _as_stored(finding: Finding) -> Finding:
    """A finding as the store writes it (redacted as in Store.add_finding): the bundle's
    findings were written so, and the run's own secrets are already out of its evidence."""
    redact = NO_SECRETS
    return replace(
        finding,
        message=redact.text(finding.message),
        evidence=tuple(redact.request_key(k) for k in finding.evidence),
        source=redact.url(finding.source) if finding.source else None,
        excerpt=redact.text(finding.excerpt) if finding.excerpt else None,
    )


def _compare_findings(system_id: str, bundled: Sequence[Finding], again: Sequence[Finding]) -> None:
    have = {f.probe_id: f for f in bundled}
    made = {f.probe_id: f for f in again}
    where = f"findings.json: system {quote(system_id, 80)}"
    for probe in sorted(have.keys() | made.keys()):
        if probe not in made:
            raise BundleAltered(
                f"{where}: probe {quote(probe, 80)} is not a finding its evidence gives"
            )
        if probe not in have:
            raise BundleAltered(f"{where}: probe {quote(probe, 80)} is missing")
        for name in _FINDING_FIELDS:
            held, redone = getattr(have[probe], name), getattr(made[probe], name)
            if held != redone:
                raise BundleAltered(
                    f"{where}, probe {quote(probe, 80)}: {name} is {_q(held)} in the bundle, "
                    f"{_q(redone)} when judged again from its exchanges"
                )


def _name_score_difference(bundled: Any, again: Mapping[str, Any]) -> None:
    """Raise naming the first system whose grade, score, coverage, ladder or criteria differ."""
    systems = bundled.get("systems") if isinstance(bundled, dict) else None
    if not isinstance(systems, list):
        raise BundleAltered(f"{SCORES_FILE}: holds no systems list")
    made = {s["system"]: s for s in again["systems"]}
    for item in systems:
        system = item.get("system") if isinstance(item, dict) else None
        if system not in made:
            raise BundleAltered(f"{SCORES_FILE}: system {_q(system)} is not one of the run's")
        for name in _SCORE_FIELDS:
            if item.get(name) != made[system][name]:
                raise BundleAltered(
                    f"{SCORES_FILE}: system {quote(str(system), 80)}: {name} is "
                    f"{_q(item.get(name))}, its findings give {_q(made[system][name])}"
                )
