"""Where an import from a procurement API got to, so a stopped one continues from there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportCursor:
    """The place of one import (a service and its --since date), as stored after each page."""

    source: str  # "contracts-finder" | "find-a-tender"
    since: str  # the --since date, ISO
    next_page: str | None  # path and query of the service's links.next; None: none left
    pages: int = 0  # pages read and stored so far
    releases: int = 0  # releases read from them
    finished: bool = False  # the service said there was no next page
