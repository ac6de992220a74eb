"""The address guard: which destinations api-audit may connect to, enforced where sockets
are made.

Vendors' servers are untrusted, and so are the names and redirects they hand us (engineering
reference §4.1). Two checks, both in front of the connection, never after it:

- `GuardedResolver` resolves a host name once and refuses the name if *any* answer is not
  allowed, so a name with one public and one private answer cannot be used at all. aiohttp
  then connects to the checked answers it returned, so a second lookup cannot rebind it.
- `guarded_socket_factory` checks the exact address every socket is about to connect to.
  IP literals in URLs never reach a resolver (aiohttp connects to them directly), and the
  factory is also the last line should anything else hand aiohttp an address.

Both raise `BlockedAddressError`, an OSError, which aiohttp wraps as a connector error and
the transport (transport.py) reports `from` it, so the finding can say what was refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult

_net = ipaddress.ip_network

# Refused even with allow_private: nothing on a link-local or metadata address is a vendor.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_LINK_LOCAL = (_net("169.254.0.0/16"), _net("fe80::/10"))

# Allowed only with allow_private.
_PRIVATE = (
    _net("127.0.0.0/8"),
    _net("10.0.0.0/8"),
    _net("172.16.0.0/12"),
    _net("192.168.0.0/16"),
    _net("::1/128"),
    _net("fc00::/7"),
)

# Refused on top of `not is_global`: Python 3.11's is_global calls several of these global
# (CVE-2024-4032, fixed in 3.12.4), and the transition prefixes can reach any IPv4 address.
_DENY = (
    _net("0.0.0.0/8"),
    _net("100.64.0.0/10"),
    _net("192.0.0.0/24"),
    _net("198.18.0.0/15"),
    _net("169.254.0.0/16"),
    _net("::/96"),  # IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
    _net("64:ff9b::/96"),
    _net("64:ff9b:1::/48"),
    _net("2002::/16"),
    _net("2001::/32"),
    _net("fec0::/10"),
    _net("fe80::/10"),
)
_NAT64 = _net("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_SIX_TO_FOUR = _net("2002::/16")  # RFC 3056: the IPv4 address is bits 16-48

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_address(ip: str, allow_private: bool) -> str | None:
    """Why we refuse to connect to `ip`, or None when it may be used."""
    try:
        address: IPAddress = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return f"{ip!r} is not an IP address"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    reason = _never_allowed(address)
    if reason is None and (embedded := _embedded_ipv4(address)) is not None:
        inner = check_address(str(embedded), allow_private)
        reason = f"{address} embeds {embedded}: {inner}" if inner else None
    if reason is not None:
        return reason
    if allow_private and any(address in net for net in _PRIVATE):
        return None
    if any(address in net for net in _DENY) or address.is_reserved or not address.is_global:
        return f"{address} is not a public address"
    return None


def _never_allowed(address: IPAddress) -> str | None:
    """Refused even with allow_private: nothing there is a vendor's server."""
    if address in _METADATA:
        return f"{address} is a cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return f"{address} is an unspecified or multicast address"
    if any(address in net for net in _LINK_LOCAL):
        return f"{address} is link-local"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


class BlockedAddressError(OSError):
    """The guard refused a destination."""


class NameResolutionError(OSError):
    """The host name did not resolve (or the lookup timed out)."""


AddrInfo = tuple[Any, ...]  # (family, type, proto, canonname, sockaddr), as getaddrinfo gives
SocketFactory = Callable[[AddrInfo], socket.socket]


def open_socket(addr_info: AddrInfo) -> socket.socket:
    """A plain socket for `addr_info`: what aiohttp makes when given no factory."""
    family, type_, proto = addr_info[0], addr_info[1], addr_info[2]
    return socket.socket(family=family, type=type_, proto=proto)


def guarded_socket_factory(
    allow_private: bool, inner: SocketFactory | None = None
) -> SocketFactory:
    """A socket factory that refuses an address before any socket exists for it, then
    makes the socket with `inner` (tests pass one that records every address)."""
    make = inner or open_socket

    def factory(addr_info: AddrInfo) -> socket.socket:
        ip = str(addr_info[4][0])
        reason = check_address(ip, allow_private)
        if reason is not None:
            raise BlockedAddressError(f"blocked {reason}")
        return make(addr_info)

    return factory


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """Resolves with the system resolver (in the loop's executor, under a timeout, since
    getaddrinfo has none) and refuses the name if any answer is not allowed."""

    def __init__(self, *, allow_private: bool, timeout: float) -> None:
        self._allow_private = allow_private
        self._timeout = timeout

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        except TimeoutError:
            raise NameResolutionError(f"lookup of {host} timed out") from None
        except (socket.gaierror, UnicodeError) as exc:
            raise NameResolutionError(f"{host} does not resolve: {exc}") from None
        answers: list[ResolveResult] = []
        seen: set[str] = set()
        for info_family, _, proto, _, sockaddr in infos:
            ip = str(sockaddr[0])
            reason = check_address(ip, self._allow_private)
            if reason is not None:
                raise BlockedAddressError(f"blocked {host} resolves to {ip}: {reason}")
            if ip in seen:
                continue
            seen.add(ip)
            answers.append(
                {
                    "hostname": host,
                    "host": ip,
                    "port": int(sockaddr[1]),
                    "family": int(info_family),
                    "proto": proto,
                    "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                }
            )
        if not answers:
            raise NameResolutionError(f"{host} has no addresses")
        return answers

    async def close(self) -> None:
        return None
