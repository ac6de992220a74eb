"""`run --shard K/N` splits systems so that no two shards share a host (api_audit/shards.py)."""

from __future__ import annotations

import itertools
import random

import pytest

from api_audit.shards import (
    Shard,
    ShardError,
    SystemHosts,
    assign,
    components,
    host_key,
    parse_shard,
)


@pytest.mark.parametrize(
    ("text", "shard"),
    [("1/1", Shard(1, 1)), ("3/8", Shard(3, 8)), (" 8 / 8 ", Shard(8, 8)), ("02/10", Shard(2, 10))],
)
def test_k_of_n_is_parsed(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert str(parse_shard(str(shard))) == str(shard)


@pytest.mark.parametrize(
    "text", ["", "3", "0/4", "5/4", "1/0", "-1/4", "a/b", "1/2/3", "1.5/4", "1/99999", "1 of 4"]
)
def test_anything_but_k_of_n_is_refused(text: str) -> None:
    with pytest.raises(ShardError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://API.Example.com/v1", "api.example.com"),
        ("http://api.example.com/", "api.example.com"),
        ("https://api.example.com:443/x", "api.example.com"),
        ("http://api.example.com:80/x", "api.example.com"),
        ("https://api.example.com:8443/x", "api.example.com:8443"),
        ("http://user:pw@h.example/", "h.example"),
        ("http://127.0.0.1:4711/docs", "127.0.0.1:4711"),
        ("http://[::1]:8080/", "::1:8080"),
        ("http://h.example:notaport/", None),
        ("not a url", None),
    ],
)
def test_a_host_is_its_name_and_any_port_but_the_default(url: str, host: str | None) -> None:
    assert host_key(url) == host


def _random_market(seed: int) -> list[SystemHosts]:
    rng = random.Random(seed)
    hosts = [f"h{n}.example" for n in range(rng.randint(1, 30))]
    return [
        SystemHosts(
            f"s{n}",
            frozenset(rng.sample(hosts, rng.randint(0, min(3, len(hosts))))),
            rng.randint(0, 20),
        )
        for n in range(rng.randint(0, 40))
    ]


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_shards_cover_every_system_once_and_never_share_a_host(seed: int, count: int) -> None:
    market = _random_market(seed)
    shares = assign(market, count)
    assert len(shares) == count
    ids = [system_id for share in shares for system_id in share]
    assert sorted(ids) == sorted(item.system_id for item in market)
    hosts_of = {item.system_id: item.hosts for item in market}
    for one, other in itertools.combinations(shares, 2):
        mine = set().union(*(hosts_of[s] for s in one)) if one else set()
        theirs = set().union(*(hosts_of[s] for s in other)) if other else set()
        assert not mine & theirs


@pytest.mark.parametrize("seed", range(20))
def test_the_split_does_not_depend_on_the_order_systems_come_in(seed: int) -> None:
    market = _random_market(seed)
    shuffled = list(market)
    random.Random(seed + 1000).shuffle(shuffled)
    assert assign(market, 4) == assign(shuffled, 4)


def test_systems_sharing_any_host_are_one_component_even_through_a_chain() -> None:
    chain = [
        SystemHosts("a", frozenset({"x"}), 1),
        SystemHosts("b", frozenset({"x", "y"}), 1),
        SystemHosts("c", frozenset({"y"}), 1),
        SystemHosts("d", frozenset({"z"}), 1),
        SystemHosts("e", frozenset(), 1),
    ]
    found = [{item.system_id for item in group} for group in components(chain)]
    assert sorted(map(sorted, found)) == [["a", "b", "c"], ["d"], ["e"]]


def test_components_are_balanced_by_planned_requests() -> None:
    market = [SystemHosts(f"s{n}", frozenset({f"h{n}"}), weight)
              for n, weight in enumerate([10, 9, 1, 1, 1])]  # fmt: skip
    weight = {item.system_id: item.requests for item in market}
    loads = [sum(weight[s] for s in share) for share in assign(market, 2)]
    assert loads == [11, 11]  # largest first, each to the lightest shard (ties: lowest)
