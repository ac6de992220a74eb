"""Contracts Finder and Find a Tender, page by page through the audit's engine, resumable.

Both services publish OCDS release packages behind a keyless search API paged by cursor:
each page's `links.next` is the next page (procurement-data.md §1). Pages are fetched one
at a time through the same `HttpEngine` as the audit (its User-Agent, deadlines, body caps,
address guard, robots.txt, per-host spacing, Retry-After honoured), their IT releases
stored, and then the import's place (`import_cursors`) kept, so a killed or stopped import
continues from the page it had not finished. The hosts are configuration: a default here,
an environment variable over it, `--base-url` over both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from api_audit.methodology.documents import UnsafeDocument, parse_json
from api_audit.models import Exchange, FetchRequest, ImportCursor
from api_audit.net.options import FetchOptions
from api_audit.sources.importing import ContractImporter, ContractStore, ImportSummary
from api_audit.sources.ocds import NotANotice, releases_in
from api_audit.text import quote

PAGE_LIMIT = 100  # the most either service gives per page
MAX_PAGES = 100_000  # a bound on one import, against a service that links on for ever
BUSY_STATUSES = frozenset({429, 503})
BUSY_ATTEMPTS = 3  # asks for a page the service said was busy, each after its Retry-After


@dataclass(frozen=True)
class Service:
    """One procurement service's search API."""

    name: str  # as on the command line and in contracts' `source`
    title: str
    default_base_url: str
    base_url_variable: str  # environment variable that moves it
    path: str
    from_parameter: str
    to_parameter: str
    stages: str

    def base_url(self, given: str | None = None) -> str:
        """--base-url, else the environment variable, else the public host."""
        chosen = given or os.environ.get(self.base_url_variable) or self.default_base_url
        parts = urlsplit(chosen)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL {quote(chosen)!r} is not an http(s) URL")
        return chosen.rstrip("/")

    def first_page(self, base_url: str, since: str, until: str | None) -> str:
        params = {self.from_parameter: f"{since}T00:00:00"}
        if until:
            params[self.to_parameter] = f"{until}T23:59:59"
        params |= {"stages": self.stages, "limit": str(PAGE_LIMIT)}
        return f"{base_url}{self.path}?{urlencode(params, safe=':,')}"


SERVICES: Mapping[str, Service] = {
    "contracts-finder": Service(
        name="contracts-finder",
        title="Contracts Finder",
        default_base_url="https://www.contractsfinder.service.gov.uk",
        base_url_variable="API_AUDIT_CONTRACTS_FINDER_URL",
        path="/Published/Notices/OCDS/Search",
        from_parameter="publishedFrom",
        to_parameter="publishedTo",
        stages="planning,tender,award,implementation",
    ),
    "find-a-tender": Service(
        name="find-a-tender",
        title="Find a Tender",
        default_base_url="https://www.find-tender.service.gov.uk",
        base_url_variable="API_AUDIT_FIND_A_TENDER_URL",
        path="/api/1.0/ocdsReleasePackages",
        from_parameter="updatedFrom",
        to_parameter="updatedTo",
        stages="planning,tender,award",
    ),
}


def import_fetch_options(base: FetchOptions) -> FetchOptions:
    """The engine's options for an import: one request at a time, and more patience with
    Retry-After than an audit has (a page is worth waiting for; the services ask for it)."""
    return replace(
        base,
        concurrency=1,
        per_host=1,
        deadline=max(base.deadline, 60.0),
        retry_after_cap=max(base.retry_after_cap, 120.0),
        host_wait_budget=max(base.host_wait_budget, 900.0),
    )


class Fetcher(Protocol):
    """What an import needs of the network (net.HttpEngine is the real one)."""

    def expect(self, requests: Iterable[FetchRequest]) -> None: ...

    async def fetch(self, request: FetchRequest, *, priority: int | None = None) -> Exchange: ...


class CursorStore(ContractStore, Protocol):
    def import_cursor(self, source: str, since: str) -> ImportCursor | None: ...

    def save_import_cursor(self, cursor: ImportCursor) -> None: ...


@dataclass(frozen=True)
class ApiImport:
    """What one API import did, and where it stands."""

    summary: ImportSummary
    pages: int  # pages read by this command
    finished: bool  # the service said there was no next page
    resumed_at_page: int | None  # the page it continued from (1-based), when it resumed
    stopped: str | None = None  # why it stopped before the end, in one line


@dataclass(frozen=True)
class ImportRequest:
    service: Service
    base_url: str
    since: str  # ISO date
    until: str | None = None
    restart: bool = False  # ignore a kept place and begin at the first page
    max_pages: int = MAX_PAGES

    @property
    def cursor_key(self) -> str:
        return self.since if self.until is None else f"{self.since}..{self.until}"


async def import_pages(
    asked: ImportRequest,
    store: CursorStore,
    fetcher: Fetcher,
    progress: Callable[[int, ImportSummary], None] | None = None,
) -> ApiImport:
    """Fetch pages from where the import stopped (or the first), store each page's IT
    contracts, then keep the place. Never raises for the service's trouble: it stops and
    says why, and the next run continues from the page that was not finished."""
    importer = ContractImporter(store)
    cursor, resumed_at = _start(asked, store)
    url = _page_url(asked, cursor)
    seen: set[str] = set()
    pages = 0
    while url is not None:
        if pages >= asked.max_pages or url in seen:
            why = "a page repeats" if url in seen else f"{asked.max_pages} pages read"
            return ApiImport(importer.summary(), pages, False, resumed_at, f"stopped: {why}")
        seen.add(url)
        exchange = await _fetch_page(fetcher, url)
        outcome = _read_page(exchange, asked, importer)
        if isinstance(outcome, _Stop):
            if outcome.malformed:
                importer.add_broken(outcome.reason, url)
            return ApiImport(importer.summary(), pages, False, resumed_at, outcome.reason)
        importer.flush()  # the page's contracts are stored before its place is kept
        pages += 1
        cursor = ImportCursor(
            source=asked.service.name,
            since=asked.cursor_key,
            next_page=outcome.next_page,
            pages=cursor.pages + 1,
            releases=cursor.releases + outcome.releases,
            finished=outcome.next_page is None,
        )
        store.save_import_cursor(cursor)
        if progress is not None:
            progress(cursor.pages, importer.summary())
        url = _page_url(asked, cursor)
    return ApiImport(importer.summary(), pages, True, resumed_at)


def _start(asked: ImportRequest, store: CursorStore) -> tuple[ImportCursor, int | None]:
    """The kept place to continue from, or a fresh one (after --restart, or once finished)."""
    kept = store.import_cursor(asked.service.name, asked.cursor_key)
    if kept is None or kept.finished or kept.next_page is None or asked.restart:
        return ImportCursor(asked.service.name, asked.cursor_key, None), None
    return kept, kept.pages + 1


def _page_url(asked: ImportRequest, cursor: ImportCursor) -> str | None:
    if cursor.next_page is not None:
        base = urlsplit(asked.base_url)
        return f"{base.scheme}://{base.netloc}{cursor.next_page}"
    if cursor.pages == 0:
        return asked.service.first_page(asked.base_url, asked.since, asked.until)
    return None


async def _fetch_page(fetcher: Fetcher, url: str) -> Exchange:
    """A page, asked again (up to BUSY_ATTEMPTS) while the service says it is busy; the
    engine waits out each Retry-After before the host is asked again."""
    request = FetchRequest(url, accept="application/json")
    exchange: Exchange | None = None
    for _ in range(BUSY_ATTEMPTS):
        fetcher.expect([request])  # so the engine lets the answer go, and asks afresh
        exchange = await fetcher.fetch(request)
        if exchange.status not in BUSY_STATUSES or exchange.header("retry-after") is None:
            return exchange
    assert exchange is not None
    return exchange


@dataclass(frozen=True)
class _Page:
    next_page: str | None  # path and query of links.next
    releases: int


@dataclass(frozen=True)
class _Stop:
    reason: str
    malformed: bool = False  # the page itself was broken (counted), not the service busy


def _read_page(
    exchange: Exchange, asked: ImportRequest, importer: ContractImporter
) -> _Page | _Stop:
    url = exchange.request.url
    if exchange.error is not None:
        return _Stop(f"{exchange.error}: {quote(exchange.error_detail, 160)}")
    if exchange.status != 200:
        said = exchange.header("retry-after")
        suffix = f" (Retry-After: {quote(said, 40)})" if said else ""
        return _Stop(f"HTTP {exchange.status}{suffix}")
    try:
        document = parse_json(exchange.body)
    except UnsafeDocument as unsafe:
        return _Stop(f"the page is not usable JSON: {unsafe.reason}", malformed=True)
    items = _package_items(document)
    if items is None or not isinstance(document, Mapping):
        return _Stop("the page is not an OCDS release or record package", malformed=True)
    next_page = _next_page(document, url, asked.base_url)
    if isinstance(next_page, _Stop):
        return next_page
    within, values = items
    for index, value in enumerate(values):
        where = f"{url} ({within}[{index}])"
        try:
            for release in releases_in(value, within):
                importer.add_release(release, where, source=asked.service.name)
        except NotANotice as not_one:
            importer.add_broken(str(not_one), where)
    return _Page(next_page, len(values))


def _package_items(document: object) -> tuple[str, list[Any]] | None:
    if not isinstance(document, Mapping):
        return None
    for within in ("releases", "records"):
        values = document.get(within)
        if isinstance(values, list):
            return within, values
    return None


def _next_page(document: Mapping[str, Any], url: str, base_url: str) -> str | _Stop | None:
    """`links.next` as a path and query on the service's own origin; None when there is none."""
    links = document.get("links")
    raw = links.get("next") if isinstance(links, Mapping) else None
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 4096:
        return _Stop("links.next is not a URL", malformed=True)
    target, base = urlsplit(urljoin(url, raw)), urlsplit(base_url)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        return _Stop(f"links.next leaves the service: {quote(raw, 120)}", malformed=True)
    return target.path + (f"?{target.query}" if target.query else "")
