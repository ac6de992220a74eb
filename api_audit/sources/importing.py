"""Releases into the store as IT contracts, in batches, counted for the import's one-line summary.

Shared by `import ocds` (files) and the two API imports (pages). Each batch is written in
one transaction as soon as it is full, so a broken file, a killed import or a failed page
loses nothing already read; the store keeps only each ocid's newest release, so reading the
same notices twice writes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from api_audit.models import Contract
from api_audit.sources.ocds import NotANotice, contract_from_release, is_it
from api_audit.sources.ocds_files import ReleaseRead, check_notice_file, open_notices, read_releases
from api_audit.text import quote

BATCH = 500


class ContractStore(Protocol):
    """What an import needs of the store (store.Store is the real one)."""

    def add_contracts(self, contracts: list[Contract]) -> int: ...


@dataclass(frozen=True)
class ImportSummary:
    """What one import did: releases read, IT ones kept, rows written, what was left out."""

    read: int = 0  # releases read
    it: int = 0  # IT releases, each handed to the store
    written: int = 0  # rows written or replaced (0 when the store already had them or newer)
    not_it: int = 0  # releases skipped: no IT CPV code
    broken: int = 0  # values, lines or pages that held no readable notice
    first_broken: str | None = None  # "file:line: reason" of the first

    def line(self) -> str:
        """The summary for people, in one line."""
        text = (
            f"{self.read} releases read, {self.it} IT contracts stored "
            f"({self.written} rows new or newer), {self.not_it} skipped non-IT, "
            f"{self.broken} broken"
        )
        return text + (f" (first: {self.first_broken})" if self.first_broken else "")

    def as_json(self) -> dict[str, object]:
        return {
            "read": self.read,
            "it_contracts": self.it,
            "rows_written": self.written,
            "skipped_non_it": self.not_it,
            "broken": self.broken,
            "first_broken": self.first_broken,
        }


class ContractImporter:
    """Takes releases and broken reads as they come; writes IT contracts in batches."""

    def __init__(self, store: ContractStore, *, batch: int = BATCH) -> None:
        self._store = store
        self._batch_size = batch
        self._batch: list[Contract] = []
        self._counts = {"read": 0, "it": 0, "written": 0, "not_it": 0, "broken": 0}
        self._first_broken: str | None = None

    def add_release(self, release: Mapping[str, Any], where: str, source: str = "") -> None:
        """One release read at `where` ("file:line", or a page URL)."""
        self._counts["read"] += 1
        if not is_it(release):
            self._counts["not_it"] += 1
            return
        try:
            contract = contract_from_release(release, source)
        except NotANotice as not_one:
            self.add_broken(str(not_one), where)
            return
        self._counts["it"] += 1
        self._batch.append(contract)
        if len(self._batch) >= self._batch_size:
            self.flush()

    def add_broken(self, reason: str, where: str) -> None:
        self._counts["broken"] += 1
        if self._first_broken is None:
            self._first_broken = f"{quote(where, 300)}: {quote(reason, 200)}"

    def flush(self) -> None:
        """Write the batch now (at the end of a file or page, and before keeping a cursor)."""
        if self._batch:
            self._counts["written"] += self._store.add_contracts(self._batch)
            self._batch = []

    def summary(self) -> ImportSummary:
        return ImportSummary(**self._counts, first_broken=self._first_broken)


def import_files(paths: list[str], store: ContractStore) -> ImportSummary:
    """Read OCDS files into the store. Every path is checked before any is read, so a
    missing or unreadable one (InputFileError, naming it) stops the import before it
    starts; what a readable file holds never stops it."""
    for path in paths:
        check_notice_file(path)
    importer = ContractImporter(store)
    for path in paths:
        with open_notices(path) as text:
            for read in read_releases(text):
                where = f"{path}:{read.line}"
                if isinstance(read, ReleaseRead):
                    importer.add_release(read.release, where, source=path)
                else:
                    importer.add_broken(read.reason, where)
        importer.flush()
    return importer.summary()
