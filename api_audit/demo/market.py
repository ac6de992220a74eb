"""A simulated supplier market served on 127.0.0.1, for `api-audit demo` and the tests.

Each supplier is a tiny HTTP server in a background thread with a fixed route table, built
to show one archetype of openness the review meets in the real market: an exemplary open
supplier, a legacy Swagger 2.0 one, docs without a spec, a login wall, a soft-200 app shell
and a host that is down. Nothing here touches the internet.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

Route = tuple[int, Mapping[str, str], bytes]


@dataclass(frozen=True)
class Supplier:
    """One simulated supplier: its catalogue entry and the routes its server answers."""

    vendor_id: str
    vendor_name: str
    system_id: str
    system_name: str
    service_areas: tuple[str, ...]
    endpoints: Mapping[str, str]  # endpoint kind -> path on this supplier's server
    routes: Mapping[str, Route] = field(default_factory=dict)
    fallback: Route = (404, {"content-type": "text/plain"}, b"Not found")
    reachable: bool = True
    host: str = "127.0.0.1"  # any 127.0.0.0/8 address: Linux answers on all of them


def _html(title: str, body: str) -> bytes:
    page = f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
    return page.encode()


def _json(value: object, content_type: str = "application/json") -> Route:
    return 200, {"content-type": content_type}, json.dumps(value).encode()


def _security_txt(expires: datetime) -> Route:
    text = f"Contact: mailto:security@example.org\nExpires: {expires:%Y-%m-%dT%H:%M:%SZ}\n"
    return 200, {"content-type": "text/plain; charset=utf-8"}, text.encode()


_OPENAPI_3 = {
    "openapi": "3.1.0",
    "info": {
        "title": "Waste collections API",
        "version": "1.4.0",
        "contact": {"email": "api@openco.example"},
        "license": {"name": "OGL-3.0"},
    },
    "servers": [{"url": "/api/v1"}, {"url": "/sandbox/api/v1", "description": "Sandbox"}],
    "components": {
        "securitySchemes": {
            "oauth": {
                "type": "openIdConnect",
                "openIdConnectUrl": "/.well-known/openid-configuration",
            }
        }
    },
    "security": [{"oauth": []}],
    "paths": {
        "/collections": {
            "get": {
                "summary": "Bin collection days for a UPRN",
                "responses": {
                    "200": {"description": "Collection days"},
                    "404": {"description": "Unknown UPRN"},
                },
            }
        }
    },
}

_SWAGGER_2 = {
    "swagger": "2.0",
    "info": {"title": "Revenues gateway", "version": "2.3"},
    "paths": {"/accounts": {"get": {"responses": {"200": {"description": "Accounts"}}}}},
}

_DOCS_PAGE = _html(
    "API reference",
    "<h1>Waste collections API</h1>"
    "<p>Sign up and get an API key in minutes; the API is free of charge for councils and "
    "their partners. A sandbox environment mirrors production with test data.</p>"
    "<p>Authenticate with OAuth 2. List collections with "
    "<code>GET /api/v1/collections?uprn=</code>, or subscribe to the "
    '<a href="/calendars/collections.ics">collection calendar</a>.</p>'
    '<redoc spec-url="/openapi.json"></redoc>'
    '<p>See the <a href="/changelog">changelog</a> for release notes.</p>',
)
_CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OpenCo//Waste//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:1@openco\r\nDTSTAMP:20261101T000000Z\r\n"
    b"DTSTART;VALUE=DATE:20261203\r\nSUMMARY:Recycling collection\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)
_LOGIN_PAGE = _html(
    "Sign in",
    '<form method="post" action="/login"><input name="email">'
    '<input type="password" name="password"><button>Sign in</button></form>',
)
_APP_SHELL = _html("Customer portal", '<div id="root"></div><script src="/static/app.js"></script>')


def default_suppliers(now: datetime | None = None) -> tuple[Supplier, ...]:
    """The demo market: six suppliers of clearly different openness."""
    now = now or datetime.now(UTC)
    html = {"content-type": "text/html; charset=utf-8"}
    return (
        Supplier(
            "openco",
            "OpenCo",
            "openco-waste",
            "OpenCo Waste Platform",
            ("waste",),
            {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api/v1"},
            {
                "/docs": (200, html, _DOCS_PAGE),
                "/openapi.json": _json(_OPENAPI_3),
                "/api/v1": (
                    200,
                    {
                        "content-type": "application/json",
                        "access-control-allow-origin": "*",
                        "ratelimit-policy": '"default";q=600;w=60',
                        "ratelimit": '"default";r=599;t=60',
                    },
                    json.dumps({"collections": "/api/v1/collections"}).encode(),
                ),
                "/api/v1/services.json": _json(
                    [
                        {
                            "service_code": "MB",
                            "service_name": "Missed bin",
                            "metadata": False,
                            "type": "realtime",
                            "keywords": "bins",
                            "group": "waste",
                        }
                    ]
                ),
                "/apis.json": _json(
                    {
                        "name": "OpenCo",
                        "description": "OpenCo APIs",
                        "specificationVersion": "0.19",
                        "apis": [
                            {
                                "name": "Waste collections",
                                "baseURL": "/api/v1",
                                "humanURL": "/docs",
                                "properties": [{"type": "OpenAPI", "url": "/openapi.json"}],
                            }
                        ],
                    }
                ),
                "/calendars/collections.ics": (200, {"content-type": "text/calendar"}, _CALENDAR),
                "/.well-known/api-catalog": _json(
                    {
                        "linkset": [
                            {
                                "anchor": "/api/v1",
                                "service-desc": [{"href": "/openapi.json"}],
                                "service-doc": [{"href": "/docs"}],
                            }
                        ]
                    },
                    'application/linkset+json; profile="https://www.rfc-editor.org/info/rfc9727"',
                ),
                "/.well-known/openid-configuration": _json(
                    {
                        "issuer": "/",
                        "authorization_endpoint": "/oauth/authorize",
                        "token_endpoint": "/oauth/token",
                        "jwks_uri": "/oauth/jwks",
                    }
                ),
                "/.well-known/security.txt": _security_txt(now + timedelta(days=180)),
            },
            fallback=(
                404,
                {"content-type": "application/problem+json"},
                json.dumps({"type": "about:blank", "title": "Not Found", "status": 404}).encode(),
            ),
        ),
        Supplier(
            "legacysoft",
            "LegacySoft",
            "legacysoft-revs",
            "LegacySoft Revenues",
            ("revenues-benefits",),
            {"docs": "/help", "spec": "/swagger/docs/v1", "api_base": "/gateway"},
            {
                "/help": (
                    200,
                    html,
                    _html(
                        "Gateway help",
                        "<h1>Revenues gateway</h1><p>Release notes list each gateway version.</p>",
                    ),
                ),
                "/swagger/docs/v1": _json(_SWAGGER_2),
                "/.well-known/security.txt": _security_txt(now - timedelta(days=30)),
            },
        ),
        Supplier(
            "docsonly",
            "DocsOnly Ltd",
            "docsonly-housing",
            "DocsOnly Housing",
            ("housing",),
            {"docs": "/developers"},
            {"/developers": (200, html, _html("Developers", "<h1>Integration guide</h1>"))},
        ),
        Supplier(
            "gatedsoft",
            "GatedSoft",
            "gatedsoft-care",
            "GatedSoft Care Records",
            ("social-care",),
            {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api"},
            {
                "/docs": (302, {"location": "/login?next=/docs"}, b""),
                "/login": (200, html, _LOGIN_PAGE),
                "/openapi.json": (401, {"www-authenticate": "Bearer"}, b"Unauthorized"),
                "/api": (401, {"www-authenticate": "Bearer"}, b"Unauthorized"),
            },
        ),
        Supplier(
            "shellportal",
            "ShellPortal",
            "shellportal-crm",
            "ShellPortal Customer Hub",
            ("crm",),
            {"docs": "/developer", "spec": "/api/openapi.json", "api_base": "/api"},
            fallback=(200, html, _APP_SHELL),
        ),
        Supplier(
            "gonesys",
            "Gone Systems",
            "gonesys-parking",
            "Gone Parking Manager",
            ("parking",),
            {"docs": "/docs", "spec": "/openapi.json", "api_base": "/api"},
            reachable=False,
        ),
    )


def _handler_for(supplier: Supplier) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "SimulatedSupplier/1.0"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            status, headers, body = supplier.routes.get(path, supplier.fallback)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            """Keep the demo's stderr for api-audit's own progress."""

    return Handler


def _closed_port(host: str) -> int:
    """A port on `host` that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class RunningMarket:
    suppliers: tuple[Supplier, ...]
    origins: dict[str, str]  # system id -> http://127.0.0.1:port

    def catalogue(self) -> dict[str, object]:
        """The catalogue for this market, in vendors.yaml shape."""
        vendors = []
        for s in self.suppliers:
            origin = self.origins[s.system_id]
            vendors.append(
                {
                    "id": s.vendor_id,
                    "name": s.vendor_name,
                    "systems": [
                        {
                            "id": s.system_id,
                            "name": s.system_name,
                            "service_areas": list(s.service_areas),
                            "endpoints": {
                                kind: origin + path for kind, path in s.endpoints.items()
                            },
                        }
                    ],
                }
            )
        return {"schema_version": 1, "vendors": vendors}

    def write_catalogue(self, path: Path) -> Path:
        header = "# Simulated market written by api-audit demo; every host is 127.0.0.1.\n"
        path.write_text(header + yaml.safe_dump(self.catalogue(), sort_keys=False), "utf-8")
        return path


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded server that says nothing when a client hangs up mid-exchange (the audit
    closes connections whose bodies it stopped reading); other handler errors still print."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve_market(suppliers: tuple[Supplier, ...] | None = None) -> Iterator[RunningMarket]:
    """Start one server per reachable supplier; stop them all on exit."""
    suppliers = suppliers if suppliers is not None else default_suppliers()
    servers: list[QuietHTTPServer] = []
    origins: dict[str, str] = {}
    try:
        for supplier in suppliers:
            if not supplier.reachable:
                port = _closed_port(supplier.host)
                origins[supplier.system_id] = f"http://{supplier.host}:{port}"
                continue
            server = QuietHTTPServer((supplier.host, 0), _handler_for(supplier))
            servers.append(server)
            # a short poll so shutdown() returns at once instead of after up to 0.5 s per server
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            origins[supplier.system_id] = f"http://{supplier.host}:{server.server_address[1]}"
        yield RunningMarket(suppliers, origins)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
