"""The httpx transport api-audit sends through: httpx's API, aiohttp's connections.

Why not httpx's own transport: on a market of many hosts, httpcore 1.0.9 is where the client's
CPU goes (its pool rescans every connection per request and closes idle connections as soon
as it holds more than its keep-alive count, so nothing is reused). The engine alone cost
1.86 ms of CPU per request over it and ran at 2.74 times the ideal; over this transport,
0.49 ms and 1.27 times (bench/engine_variants.py, bench/README.md "The transport").
httpx's types stay the engine's API (httpx.URL, httpx.Request, a streamed httpx.Response,
any httpx.AsyncBaseTransport), so only this module knows aiohttp is there.

What this transport guarantees to the engine (engine.py):
- Every connection goes through the address guard (guard.py): the resolver for names, the
  socket factory for every address, literals included.
- Bodies come back exactly as sent: no decompression here (`auto_decompress=False`), so the
  engine's bounded decoder decides how much a compressed body may expand to.
- No redirects followed, no cookies kept, no proxy or netrc from the environment.
- aiohttp's exceptions become httpx's (`from` the original, so the cause chain still names
  a refused address, a TLS failure or a failed lookup).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from api_audit.net.guard import GuardedResolver, SocketFactory, guarded_socket_factory

KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection is kept for its host's next request
MAX_HEADER_LINE = 16 * 1024  # one header line or the status line; h11 allowed about as much
MAX_HEADERS = 128  # header fields in one response (aiohttp's default)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one aiohttp ClientSession, guarded: one connection pool for
    a run. Create it inside the running event loop, and `aclose()` it when done."""

    def __init__(
        self,
        *,
        allow_private: bool,
        max_connections: int,
        dns_timeout: float,
        socket_factory: SocketFactory | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.resolver = GuardedResolver(allow_private=allow_private, timeout=dns_timeout)
        self.connector = aiohttp.TCPConnector(
            limit=max_connections,
            limit_per_host=0,  # the engine keeps its own per-host limit
            resolver=self.resolver,
            ttl_dns_cache=10,
            ssl=ssl_context or httpx.create_ssl_context(),
            keepalive_timeout=KEEPALIVE_EXPIRY,
            socket_factory=guarded_socket_factory(allow_private, socket_factory),
        )
        self._session = aiohttp.ClientSession(
            connector=self.connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            requote_redirect_url=False,
            # httpx's request headers are sent as they are: aiohttp adds none of its own.
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
            max_headers=MAX_HEADERS,
        )
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        with _httpx_errors(request):
            response = await self._session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=content or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                compress=None,
            )
        extensions: dict[str, object] = {
            "http_version": f"HTTP/{response.version.major}.{response.version.minor}".encode()
            if response.version is not None
            else b"HTTP/1.1",
        }
        tls_version = _tls_version(response)
        if tls_version is not None:
            extensions["tls_version"] = tls_version
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request),
            extensions=extensions,
            request=request,
        )

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """aiohttp's connect and per-read timeouts from httpx's; the total deadline is the
        engine's own (asyncio.timeout around the whole fetch)."""
        given = request.extensions.get("timeout", {})
        key = (given.get("connect"), given.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, sock_connect=key[0], sock_read=key[1]
            )
        return timeout

    async def aclose(self) -> None:
        await self._session.close()


class _Body(httpx.AsyncByteStream):
    """The response body as it came off the wire, chunk by chunk."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # A body read to its end hands the connection back for reuse; one abandoned part-way
        # (a cap, a deadline, an error) closes it: the rest of that body is never read.
        if self._response.content.is_eof():
            self._response.release()
        else:
            self._response.close()


def _tls_version(response: aiohttp.ClientResponse) -> str | None:
    """The TLS version the response came over, or None (plain http, or not known).

    `response.connection` is already None when the whole body arrived with the head (aiohttp
    hands the connection back at once), so this asks the response's protocol, which aiohttp
    keeps as `_protocol`. Should that change, the version is simply not known: the
    tls_version matcher says inconclusive, and tests/test_transport.py fails."""
    protocol = getattr(response, "_protocol", None)
    transport = getattr(protocol, "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.version() if isinstance(ssl_object, ssl.SSLObject) else None


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """Re-raise aiohttp's exceptions as the httpx ones the engine classifies."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except TimeoutError as exc:  # aiohttp's ServerTimeoutError and socket read timeouts
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        # refused, unreachable, a failed or refused lookup, a TLS failure: the cause says which
        raise httpx.ConnectError(str(exc.os_error) or str(exc), request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(f"invalid URL: {exc}", request=request) from exc
    except aiohttp.ClientPayloadError as exc:
        # a body cut short (fewer bytes than Content-Length, chunks never ended) or malformed
        cause = exc.__cause__
        detail = cause.message if isinstance(cause, HttpProcessingError) else str(exc)
        raise httpx.RemoteProtocolError(f"incomplete body: {detail}", request=request) from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.ClientResponseError as exc:
        # a response aiohttp could not parse: bad status line, headers too long or too many
        raise httpx.RemoteProtocolError(exc.message or str(exc), request=request) from exc
    except (aiohttp.ClientConnectionError, OSError) as exc:
        # reset or broken while reading or writing
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
