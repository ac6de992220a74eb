"""The polite schedule (issue 15 item 1): a host's spacing runs from its requests' real
starts, and a global slot goes to whichever host's turn came first, never held back for
systems started earlier. Runs on virtual time (tests/virtual_time.py)."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from virtual_time import VirtualSite, VirtualSites

from api_audit.models import Exchange, FetchRequest

LATENCY = 0.15


def make_hosts(sites: VirtualSites, count: int) -> list[VirtualSite]:
    return [
        sites.site(
            f"vendor{n}.test", respond=lambda path: (200, {}, b"ok"), latency=lambda path: LATENCY
        )
        for n in range(count)
    ]


def fetch_by_place(
    sites: VirtualSites, work: list[tuple[VirtualSite, int, int]], **options: object
) -> list[Exchange]:
    """Fetch `count` pages of each site at once, each site's fetches with its `place`."""

    async def go() -> list[Exchange]:
        async with sites.engine(**options) as engine:
            calls = [
                engine.fetch(FetchRequest(f"{site.origin}/page?{i}"), priority=place)
                for site, count, place in work
                for i in range(count)
            ]
            return list(await asyncio.gather(*calls))

    return sites.clock.run(go())


def starts(site: VirtualSite) -> list[float]:
    return sorted(t for times in site.times.values() for t in times)


@pytest.mark.parametrize(
    ("hosts", "concurrency", "interval"),
    list(itertools.product([3, 6, 10], [1, 2, 4], [0.1, 0.3, 0.5])),
)
def test_spacing_runs_from_real_starts_when_global_slots_are_scarce(
    hosts: int, concurrency: int, interval: float
) -> None:
    sites = VirtualSites()
    made = make_hosts(sites, hosts)
    exchanges = fetch_by_place(
        sites,
        [(site, 5, place) for place, site in enumerate(made)],
        concurrency=concurrency,
        min_interval=interval,
    )
    assert all(e.status == 200 for e in exchanges)
    for site in made:
        times = starts(site)  # robots.txt included: it is a request to the host too
        assert len(times) == 6
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= interval - 1e-9, (site.origin, times)


@pytest.mark.parametrize(
    ("busy_hosts", "concurrency", "interval"),
    list(itertools.product([6, 10], [1, 2], [0.2, 0.3])),
)
def test_a_host_whose_turn_has_come_is_not_held_behind_earlier_systems(
    busy_hosts: int, concurrency: int, interval: float
) -> None:
    """More hosts than the global slots can keep up with, all placed before one more host:
    that host still gets slots while the others work, not only once they are done."""
    sites = VirtualSites()
    *early, late = make_hosts(sites, busy_hosts + 1)
    work = [(site, 8, 0) for site in early] + [(late, 8, 1)]
    exchanges = fetch_by_place(sites, work, concurrency=concurrency, min_interval=interval)
    assert all(e.status == 200 for e in exchanges)
    late_pages = [t for path, ts in late.times.items() if path.startswith("/page") for t in ts]
    earliest_finish = min(starts(site)[-1] for site in early)
    assert min(late_pages) < earliest_finish
    # and it goes on sharing: its last page is not left until after every other host's
    assert max(late_pages) <= max(starts(site)[-1] for site in early) + interval + LATENCY
