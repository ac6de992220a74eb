"""URL handling for the engine: which URLs may be requested, numeric hosts, Location, origins.

A URL is checked before any I/O, and again for every redirect hop: http(s) only, a host,
no credentials. A host written as an IPv4 number is rewritten to the dotted quad a browser
would connect to, so the address guard judges the address actually used.
"""

from __future__ import annotations

import ipaddress

import httpx

from api_audit.net.errors import Failure


def checked_url(text: str) -> httpx.URL:
    """The URL if we may request it: http(s), a host, and no credentials in it."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise Failure("bad_url", f"invalid URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise Failure("bad_url", f"scheme {url.scheme!r} is not http or https")
    if not url.host:
        raise Failure("bad_url", "URL has no host")
    if url.userinfo:
        raise Failure("bad_url", "URL carries credentials")
    numeric = numeric_ipv4(url.host)
    if numeric is not None and numeric != url.host:
        url = url.copy_with(host=numeric)
    return url


def numeric_ipv4(host: str) -> str | None:
    """The dotted-quad form of a host written as an IPv4 number in any of the forms browsers
    accept (WHATWG URL "IPv4 parser": 2130706433, 0x7f000001, 0177.0.0.1, 127.1), so the
    guard judges, and the request goes to, the address a browser would use. None for a
    host name; bad_url for a numeric host that is no address (999.1.1.1). (httpx already
    refuses a four-part host with leading zeros, such as 0177.0.0.1, as an invalid URL.)"""
    if ":" in host:
        return None  # an IPv6 literal (which may end in a dotted quad)
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()  # a trailing dot is allowed
    if not parts or not _is_ipv4_number(parts[-1]):
        return None  # a host name (WHATWG: the host does not "end in a number")
    numbers = [n for n in map(_ipv4_number, parts) if n is not None]
    if len(numbers) != len(parts) or len(numbers) > 4:
        raise Failure("bad_url", f"host {host!r} is not a valid IPv4 address")
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise Failure("bad_url", f"host {host!r} is not a valid IPv4 address")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return str(ipaddress.IPv4Address(value))


def _is_ipv4_number(label: str) -> bool:
    lowered = label.lower()
    if lowered.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lowered[2:])
    return label.isascii() and label.isdigit()


def _ipv4_number(label: str) -> int | None:
    lowered = label.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:] or "0", 16)
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered[1:], 8)
        return int(lowered, 10)
    except ValueError:
        return None


def resolve_location(base: httpx.URL, location: str) -> str:
    """Where a redirect's Location points, read against the URL that answered."""
    try:
        return str(base.join(location.strip()))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise Failure("bad_url", f"invalid redirect Location: {exc}") from None


def origin_of(url: httpx.URL) -> str:
    """scheme://host:port, the unit of politeness (as nuclei keys its per-host limits)."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def origin_of_text(text: str) -> str | None:
    """The origin of a URL given as text; None when it is no http(s) URL with a host."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    return origin_of(url) if url.host and url.scheme in ("http", "https") else None
