"""The address guard: no socket is ever opened to a refused address, however it is spelled.

Every fetch here goes through a recording network backend *under* the guard, the layer that
opens sockets. It records each address a socket is asked for and refuses everything but
loopback, and PUBLIC, an address that stands for a vendor on the internet: it is never
contacted, the backend connects to 127.0.0.1 instead. A name that resolves somewhere is
given by a fake resolver on the event loop, so no test depends on real DNS.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from loopback import LoopbackSite, RecordingSockets, Route

from api_audit.models import Exchange, FetchRequest
from api_audit.net import FetchOptions, HttpEngine
from api_audit.net.guard import (
    BlockedAddressError,
    GuardedResolver,
    check_address,
    guarded_socket_factory,
)
from api_audit.net.transport import AiohttpTransport

PUBLIC = "8.8.8.8"  # never contacted: the test sockets dial 127.0.0.1 instead
LOOPBACK_LITERALS = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})

# The fake resolver's answers.
FAKE_DNS = {
    "metadata.vendor.test": ["169.254.169.254"],
    "linklocal.vendor.test": ["fe80::1"],
    "mixed.vendor.test": [PUBLIC, "169.254.169.254"],  # one bad answer poisons the name
    "intranet.vendor.test": ["127.0.0.1"],
    "tenant.vendor.test": ["10.1.2.3"],
}


def _ok_or_redirect(path: str) -> Route:
    """/ok answers 200; /to?u=URL redirects to URL."""
    parts = urlsplit(path)
    if parts.path == "/to":
        return 302, {"Location": parse_qs(parts.query)["u"][0]}, b""
    return 200, {}, b"ok"


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    site = LoopbackSite(respond=_ok_or_redirect)
    yield site.port
    site.close()


def fetch(url: str, *, allow_private: bool) -> tuple[Exchange, list[str]]:
    backend = RecordingSockets(stand_ins=[PUBLIC])

    async def go() -> Exchange:
        loop = asyncio.get_running_loop()
        real_getaddrinfo = loop.getaddrinfo

        async def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host not in FAKE_DNS:
                return await real_getaddrinfo(host, port, *args, **kwargs)
            family = {True: socket.AF_INET6, False: socket.AF_INET}
            return [
                (family[":" in ip], socket.SOCK_STREAM, 6, "", (ip, port)) for ip in FAKE_DNS[host]
            ]

        loop.getaddrinfo = fake_getaddrinfo  # type: ignore[method-assign]
        options = FetchOptions(allow_private=allow_private, connect_timeout=2, deadline=5)
        async with HttpEngine(options, socket_factory=backend) as engine:
            return await engine.fetch(FetchRequest(url))

    exchange = asyncio.run(go())
    return exchange, backend.connects


# Refused with and without --allow-private: metadata, link-local, unspecified, and
# loopback hidden inside NAT64 or 6to4 (transition prefixes are never a vendor).
ALWAYS_REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9fea9fe/",  # ... in hex
    "http://169.254.43518/",  # ... in the short a.b.c form
    "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped IPv6
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 (RFC 6052)
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 (RFC 3056)
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[fd00:ec2::254]/",  # AWS IPv6 metadata
    "http://100.100.100.200/",  # Alibaba metadata
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://metadata.vendor.test/",  # a name resolving to the metadata address
    "http://linklocal.vendor.test/",
    "http://mixed.vendor.test/",  # a public answer does not excuse a metadata one
]

# Refused by default, allowed with --allow-private (loopback spelled every way, and names
# resolving to it); {port} is the test server, so an allowed fetch really arrives.
LOOPBACK_FORMS = [
    "http://127.0.0.1:{port}/ok",
    "http://2130706433:{port}/ok",  # decimal
    "http://0x7f000001:{port}/ok",  # hex
    "http://127.1:{port}/ok",  # short
    "http://[::ffff:127.0.0.1]:{port}/ok",  # IPv4-mapped IPv6
    "http://localhost:{port}/ok",  # a name resolving to loopback
    "http://intranet.vendor.test:{port}/ok",
]

# Private ranges: refused by default (with --allow-private they would be tried for real).
PRIVATE = [
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://[fd00::1]/",
    "http://tenant.vendor.test/",
]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_always_refused_without_a_connection(url: str, allow_private: bool) -> None:
    exchange, connects = fetch(url, allow_private=allow_private)
    assert exchange.error == "blocked_address"
    assert exchange.status is None
    assert connects == []


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("target", ALWAYS_REFUSED)
def test_a_redirect_to_a_refused_address_opens_no_connection_to_it(
    port: int, target: str, allow_private: bool
) -> None:
    start = f"http://{'127.0.0.1' if allow_private else PUBLIC}:{port}/to?u={quote(target)}"
    exchange, connects = fetch(start, allow_private=allow_private)
    assert exchange.error == "blocked_address"
    assert [hop.location for hop in exchange.redirects] == [target]
    assert set(connects) == {"127.0.0.1" if allow_private else PUBLIC}  # the first hop only


@pytest.mark.parametrize("form", LOOPBACK_FORMS + PRIVATE)
def test_loopback_and_private_are_refused_by_default(port: int, form: str) -> None:
    exchange, connects = fetch(form.format(port=port), allow_private=False)
    assert exchange.error == "blocked_address"
    assert "not a public address" in exchange.error_detail
    assert connects == []


@pytest.mark.parametrize("form", LOOPBACK_FORMS + PRIVATE)
def test_a_redirect_to_loopback_or_private_is_refused_by_default(port: int, form: str) -> None:
    target = form.format(port=port)
    exchange, connects = fetch(f"http://{PUBLIC}:{port}/to?u={quote(target)}", allow_private=False)
    assert exchange.error == "blocked_address"
    assert set(connects) == {PUBLIC}


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_allow_private_reaches_loopback_however_spelled(port: int, form: str) -> None:
    exchange, connects = fetch(form.format(port=port), allow_private=True)
    assert (exchange.error, exchange.status, exchange.body) == (None, 200, b"ok")
    assert set(connects) <= LOOPBACK_LITERALS


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_allow_private_follows_redirects_to_loopback(port: int, form: str) -> None:
    target = form.format(port=port)
    exchange, connects = fetch(f"http://127.0.0.1:{port}/to?u={quote(target)}", allow_private=True)
    assert (exchange.error, exchange.status) == (None, 200)
    assert set(connects) <= LOOPBACK_LITERALS


def test_a_blocked_name_says_what_it_resolved_to() -> None:
    exchange, _ = fetch("http://metadata.vendor.test/", allow_private=True)
    assert "metadata.vendor.test resolves to 169.254.169.254" in exchange.error_detail
    assert "cloud metadata address" in exchange.error_detail


def test_guard_is_installed_under_httpx() -> None:
    """The engine sends through the guarded transport, and its connector has both checks:
    the resolver for names and the socket factory for every address."""

    async def go() -> tuple[object, object]:
        async with HttpEngine(FetchOptions()) as engine:
            transport = engine._transport
            assert isinstance(transport, AiohttpTransport)
            connector = transport.connector
            return connector._resolver, connector._socket_factory

    resolver, factory = asyncio.run(go())
    assert isinstance(resolver, GuardedResolver)
    metadata = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))
    with pytest.raises(BlockedAddressError, match="cloud metadata address"):
        factory(metadata)  # type: ignore[operator]


def test_the_socket_factory_refuses_before_a_socket_exists() -> None:
    sockets = RecordingSockets()
    factory = guarded_socket_factory(allow_private=False, inner=sockets)
    info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))
    with pytest.raises(BlockedAddressError, match="cloud metadata address"):
        factory(info)
    assert sockets.connects == []


def test_the_resolver_refuses_a_name_with_any_bad_answer() -> None:
    async def go() -> None:
        loop = asyncio.get_running_loop()

        async def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in ("93.184.215.14", "10.0.0.7")
            ]

        loop.getaddrinfo = fake  # type: ignore[method-assign]
        resolver = GuardedResolver(allow_private=False, timeout=1)
        await resolver.resolve("split.vendor.test", 443)

    with pytest.raises(BlockedAddressError, match=r"split.vendor.test resolves to 10\.0\.0\.7"):
        asyncio.run(go())


@pytest.mark.parametrize(
    ("ip", "strict", "private"),
    [
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("10.0.0.1", False, True),
        ("192.168.1.1", False, True),
        ("172.16.5.4", False, True),
        ("fd00::1", False, True),
        ("100.64.0.1", False, False),
        ("169.254.169.254", False, False),
        ("169.254.1.1", False, False),
        ("::ffff:a9fe:a9fe", False, False),
        ("64:ff9b::a9fe:a9fe", False, False),
        ("64:ff9b::7f00:1", False, False),
        ("64:ff9b:1::1", False, False),
        ("2002:a9fe:a9fe::1", False, False),
        ("2002:7f00:1::1", False, False),
        ("::a9fe:a9fe", False, False),  # IPv4-compatible (deprecated)
        ("fd00:ec2::254", False, False),
        ("100.100.100.200", False, False),
        ("fec0::1", False, False),
        ("fe80::1", False, False),
        ("fe80::1%eth0", False, False),
        ("0.0.0.0", False, False),
        ("::", False, False),
        ("224.0.0.1", False, False),
        ("ff02::1", False, False),
        ("198.18.0.1", False, False),
        ("192.0.0.1", False, False),
        ("not-an-ip", False, False),
        ("8.8.8.8", True, True),
        ("2606:4700::1111", True, True),
        ("64:ff9b::808:808", False, False),  # NAT64 of a public address: still a prefix we refuse
    ],
)
def test_check_address(ip: str, strict: bool, private: bool) -> None:
    assert (check_address(ip, allow_private=False) is None) is strict
    assert (check_address(ip, allow_private=True) is None) is private


def test_check_address_names_the_embedded_address() -> None:
    reason = check_address("64:ff9b::a9fe:a9fe", allow_private=True)
    assert reason is not None
    assert "169.254.169.254" in reason
