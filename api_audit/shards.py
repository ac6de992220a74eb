"""`run --shard K/N`: split the selected systems into N shares that never share a host; pure.

Politeness (net/politeness.py) is per host, so it only holds across machines if no two
shards ever send to the same host. Each system's hosts are every host its plan contacts:
its catalogue endpoints and every planned target, alternative and baseline request
(plan.py; the `scheme: http` forms share their host). Systems that share any host are joined
(union-find) into one component, and a component goes to one shard whole.

Components are assigned by greedy balancing: largest first (by planned requests, ties by
the component's smallest host name), each to the shard with the fewest requests so far
(ties: the lowest shard number). The same catalogue, selection and probes therefore give
every machine the same split, whatever order the systems come in.

A host is its lower-case host name, with the port when one is written other than the
scheme's default: http://h and https://h are one host (one machine), and h:8443 is the
engine's own separate origin. Hosts a plan cannot foresee (a redirect to another host, a
follow-up URL read from a response) are outside the partition; see docs/shards.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from api_audit.models import Methodology, System
from api_audit.plan import distinct_requests, plan_probes

_SHARD = re.compile(r"^\s*([0-9]{1,4})\s*/\s*([0-9]{1,4})\s*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Any valid token plans the same hosts; the real run draws its own (plan.py).
_PLANNING_TOKEN = "shard"  # noqa: S105 - a path segment, not a secret


class ShardError(ValueError):
    """A `--shard` value that is not K/N with 1 <= K <= N."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1-based, as written on the command line: 2/8)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class SystemHosts:
    """The hosts one system's plan contacts, and how many requests it plans."""

    system_id: str
    hosts: frozenset[str]
    requests: int


def parse_shard(text: str) -> Shard:
    """ "K/N" -> Shard; ShardError (with the reason) for anything else."""
    match = _SHARD.match(text)
    if match is None:
        raise ShardError(f"--shard takes K/N (e.g. 3/8), not {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard {index}/{count}: K must be from 1 to N (N at least 1)")
    return Shard(index, count)


def host_key(url: str) -> str | None:
    """The host a URL is sent to, for partitioning; None when the URL names none."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:  # a malformed port or IPv6 literal: no host to claim
        return None
    if not hostname:
        return None
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return hostname
    return f"{hostname}:{port}"


def system_hosts(systems: Sequence[System], methodology: Methodology) -> list[SystemHosts]:
    """Each system's hosts (endpoints and planned requests) and planned request count."""
    found = []
    for system in systems:
        requests = distinct_requests(plan_probes([system], methodology, _PLANNING_TOKEN))
        urls = [*system.endpoints.values(), *(request.url for request in requests)]
        hosts = frozenset(key for key in map(host_key, urls) if key is not None)
        found.append(SystemHosts(system.id, hosts, len(requests)))
    return found


def components(systems: Iterable[SystemHosts]) -> list[tuple[SystemHosts, ...]]:
    """Systems joined when they share a host (union-find), sorted by smallest host."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]  # path halving
            key = parent[key]
        return key

    items = list(systems)
    for item in items:
        # a system with no host at all is its own component, keyed by its id
        keys = sorted(item.hosts) or [f"\0{item.system_id}"]
        for key in keys:
            parent.setdefault(key, key)
        first = root(keys[0])
        for key in keys[1:]:
            parent[root(key)] = first
    groups: dict[str, list[SystemHosts]] = {}
    for item in items:
        keys = sorted(item.hosts) or [f"\0{item.system_id}"]
        groups.setdefault(root(keys[0]), []).append(item)
    return sorted((tuple(group) for group in groups.values()), key=_smallest_host)


def _smallest_host(group: tuple[SystemHosts, ...]) -> str:
    return min(min(item.hosts, default=f"\0{item.system_id}") for item in group)


def assign(systems: Iterable[SystemHosts], count: int) -> list[frozenset[str]]:
    """The system ids of each of `count` shards (index 0 is shard 1): greedy balancing."""
    groups = components(systems)
    # largest first; equal sizes in smallest-host order (sorted() is stable)
    groups.sort(key=lambda group: -sum(item.requests for item in group))
    loads = [0] * count
    shares: list[set[str]] = [set() for _ in range(count)]
    for group in groups:
        lightest = min(range(count), key=lambda index: (loads[index], index))
        loads[lightest] += sum(item.requests for item in group)
        shares[lightest].update(item.system_id for item in group)
    return [frozenset(share) for share in shares]


def select_shard(
    systems: Sequence[System], methodology: Methodology, shard: Shard
) -> tuple[System, ...]:
    """The systems shard `shard` audits, in their selection order."""
    share = assign(system_hosts(systems, methodology), shard.count)[shard.index - 1]
    return tuple(system for system in systems if system.id in share)
