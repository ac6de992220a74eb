"""No secret is written anywhere, however a server echoes it (issue 9, item 2).

Three rules (api_audit/redact.py): secret-named parameters as a class, in any position and
encoding; credentials by shape (userinfo, `Bearer …`); and the catalogue's own secret
values wherever they appear, encoded or not. The end-to-end tests audit servers that
reflect the requested URL into redirects, Location userinfo, headers and bodies, and look
for the secret in every spelling in stdout, stderr and every byte the database holds.
"""

from __future__ import annotations

import contextlib
import io
import re
import sqlite3
import zlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from loopback import LoopbackSite

from api_audit.cli import main
from api_audit.redact import (
    REDACTED,
    Redactor,
    catalogue_secrets,
    is_secret_name,
    redact_headers,
    redact_text,
    redact_url,
)

SECRET = "Sk3-live_9f8e7d6c5b4a"
VALUE = "v4lu3-0f-th3-s3cr3t"

SECRET_NAMES = [
    "pass", "password", "passwd", "passphrase", "passcode", "pw", "pwd", "pin", "otp",
    "sid", "code", "sig", "auth", "authorization", "jwt", "bearer", "private",
    "private_key", "api_key", "apiKey", "APIKEY", "x-api-key", "access_token", "id_token",
    "refresh-token", "client_secret", "clientSecret", "session", "JSESSIONID", "PHPSESSID",
    "X-Amz-Signature", "sharedAccessSignature", "csrf_token", "user[password]",
    "auth.code", "userPin", "otp_code", "login_pw", "nonce", "ticket", "hmac",
]  # fmt: skip
PUBLIC_NAMES = ["page", "q", "format", "service_code", "lang", "per_page", "status_code"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names_are_a_class(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_names_keep_their_values(name: str) -> None:
    assert not is_secret_name(name)
    assert redact_url(f"https://a.test/x?{name}=42") == f"https://a.test/x?{name}=42"


def _placements(name: str, value: str) -> list[str]:
    """`name` and `value` everywhere a server can put them in text we keep."""
    inner = f"https://api.test/v1?{name}={value}&page=2"
    return [
        f"https://a.test/x?{name}={value}&page=2",
        f"https://a.test/x#{name}={value}",
        f"https://a.test/login?next={quote(inner, safe='')}",
        f"https://a.test/login?next={quote(quote(inner, safe=''), safe='')}",
        f"https://a.test/login?next={re.sub('%..', lambda m: m[0].lower(), quote(inner, safe=''))}",
        f"https://a.test/login?next={quote_plus(inner)}",
        f'Bearer realm="api", {name}="{value}", error="invalid_token"',
        f"Bearer realm='api', {name}='{value}'",
        f'{{"{name}": "{value}", "page": 2}}',
        f"redirects to /login?{name}={value}",
    ]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_secret_named_value_is_redacted_in_every_placement(name: str) -> None:
    for text in _placements(name, VALUE):
        for redacted in (redact_text(text), redact_url(text)):
            assert VALUE not in redacted, (text, redacted)
            assert quote(VALUE, safe="") not in redacted
            assert REDACTED in redacted or quote(REDACTED, safe="") in redacted


@pytest.mark.parametrize("header", ["WWW-Authenticate", "Proxy-Authenticate", "Link", "X-Note"])
def test_quoted_secrets_in_any_header_are_redacted(header: str) -> None:
    value = f'Bearer realm="api", token="{VALUE}", error_description="expired"'
    ((name, redacted),) = redact_headers([(header, value)])
    assert name == header
    assert VALUE not in redacted
    assert 'realm="api"' in redacted  # the challenge itself is evidence


@pytest.mark.parametrize(
    "text",
    [
        f"https://user:{VALUE}@a.test/x",
        f"https://{VALUE}@a.test/x",
        f"https://us@r:{VALUE}@a.test/x",  # an @ inside the userinfo
        f"next={quote(f'https://user:{VALUE}@a.test/x', safe='')}",
        f"Authorization: Bearer {VALUE}",
        f"Basic {VALUE}==",
    ],
)
def test_credentials_by_shape_are_redacted(text: str) -> None:
    assert VALUE not in redact_text(text)
    assert quote(VALUE, safe="") not in redact_text(text)


def test_prose_about_bearer_authentication_is_kept() -> None:
    assert redact_text("the docs describe Bearer authentication") == (
        "the docs describe Bearer authentication"
    )


def _spellings(secret: str) -> list[str]:
    once = quote(secret, safe="")
    return [
        secret,
        once,
        once.lower(),
        quote_plus(secret),
        quote(once, safe=""),
        "".join(f"%{b:02x}" for b in secret.encode()),  # every byte encoded
        "".join(f"\\u{ord(c):04x}" for c in secret),  # a JSON escape of each
    ]


@pytest.mark.parametrize("spelling", range(7))
@pytest.mark.parametrize("where", ["path", "query", "prose", "header"])
def test_the_runs_own_secret_is_redacted_in_any_spelling(spelling: int, where: str) -> None:
    secret = "s3cr3t/with+odd=chars"
    written = _spellings(secret)[spelling]
    redactor = Redactor([secret])
    text = {
        "path": f"https://a.test/{written}/x",
        "query": f"https://a.test/x?next={written}",
        "prose": f"the page says {written} is wrong",
        "header": f'Bearer error_description="{written}"',
    }[where]
    assert written not in redactor.text(text)
    assert written not in redactor.url(text)


def test_short_values_are_left_to_the_name_rules() -> None:
    redactor = Redactor(["1234"])
    assert redactor.text("page 1234 of the docs") == "page 1234 of the docs"


def test_catalogue_secrets_are_the_values_of_secret_parameters_and_userinfo() -> None:
    found = catalogue_secrets(
        {"a": f"https://a.test/x?api_key={SECRET}&page=2", "b": [f"https://u:{VALUE}@b.test/"]}
    )
    assert {SECRET, VALUE} <= found
    assert "2" not in found


@pytest.mark.parametrize("spelling", range(7))
@pytest.mark.parametrize("secret", ["s3cr3t/with+odd=chars", "clé-secrète-42"])
def test_an_echoed_secret_is_replaced_in_a_body_in_any_spelling(spelling: int, secret: str) -> None:
    written = _spellings(secret)[spelling]
    body = f"<p>your key {written} is not valid</p> caf\xe9".encode() + b"\xff\x00"
    redacted = Redactor([secret]).body(body)
    assert written.encode() not in redacted
    assert redacted.endswith(" caf\xe9".encode() + b"\xff\x00")  # other bytes untouched
    assert REDACTED.encode() in redacted


def test_a_body_with_no_secret_in_it_is_kept_as_received() -> None:
    body = "<p>nothing to hide</p> \u00e9".encode() + b"\xff"
    assert Redactor([SECRET]).body(body) is body
    assert Redactor().body(body) is body


# --- catalogue error lines -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://admin:{VALUE}@example.org/docs",
        f"https://admin:{VALUE}@exa mple.org/x",
        f"https://admin:{VALUE}@example.org:99999/x",
        f"https://admin:{VALUE}@example.org/x",
        f"https://example.org/x?api_key={VALUE}&q=1 ",
        f"gopher://example.org/x?password={VALUE}",
    ],
)
def test_an_error_about_a_catalogue_url_never_prints_its_secret(url: str, tmp_path: Path) -> None:
    catalogue = tmp_path / "vendors.yaml"
    catalogue.write_text(
        "schema_version: 1\nvendors:\n  - id: v\n    name: V\n    systems:\n"
        "      - id: s\n        name: S\n        service_areas: [waste]\n"
        f'        endpoints: {{docs: "{url}"}}\n',
        "utf-8",
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", "-c", str(catalogue)])
    assert code == 2
    assert "vendors.yaml:9:" in err.getvalue()
    assert VALUE not in err.getvalue()


# --- end to end: servers that reflect the request --------------------------------------------


def _reflecting_site() -> LoopbackSite:
    """Answers every path by echoing the full requested URL back in a different way."""
    site: LoopbackSite

    def respond(path: str) -> tuple[int, dict[str, str], bytes]:
        full = f"{site.origin}{path}"
        if path.startswith("/docs"):
            return 302, {"Location": f"/login?next={quote(full, safe='')}"}, b""
        if path.startswith("/spec"):
            host = site.origin.split("//", 1)[1]
            return 302, {"Location": f"http://user:{SECRET}@{host}/elsewhere"}, b""
        if path.startswith("/api"):
            challenge = f'Bearer realm="api", error_description="key {SECRET} expired"'
            return 401, {"WWW-Authenticate": challenge, "X-Echo": full}, b""
        if path.startswith("/portal"):
            body = f'<a href="{full}">again</a> {quote(SECRET, safe="")} {SECRET}'.encode()
            return 200, {"Content-Type": "text/html", "Link": f"<{full}>; rel=self"}, body
        if path.startswith("/login"):
            return 200, {"Content-Type": "text/html"}, b"<form><input type=password></form>"
        return 404, {"Content-Type": "text/plain"}, f"no {full}".encode()

    site = LoopbackSite(respond=respond)
    return site


def _catalogue(tmp_path: Path, origin: str) -> Path:
    endpoints = {
        kind: f"{origin}/{kind}?api_key={SECRET}&page=1" for kind in ("docs", "spec", "api_base")
    }
    endpoints["portal"] = f"{origin}/portal?token={SECRET}"
    lines = "\n".join(f'          {k}: "{v}"' for k, v in endpoints.items())
    path = tmp_path / "vendors.yaml"
    path.write_text(
        "schema_version: 1\nvendors:\n  - id: v\n    name: V\n    systems:\n"
        "      - id: s\n        name: S\n        service_areas: [waste]\n"
        f"        endpoints:\n{lines}\n",
        "utf-8",
    )
    return path


def _everything_stored(db: Path) -> str:
    """Every text value and every decompressed body in the database, as one string."""
    texts: list[str] = []
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                texts.extend(v for v in row if isinstance(v, str))
        for (content,) in conn.execute("SELECT content FROM bodies"):
            texts.append(zlib.decompress(content).decode("utf-8", "replace"))
    return "\n".join(texts)


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [s for s in _spellings(SECRET) if s.lower() in lowered]


@pytest.mark.parametrize("output", ["json", "table"])
def test_a_reflecting_server_never_gets_a_secret_written(output: str, tmp_path: Path) -> None:
    site = _reflecting_site()
    try:
        catalogue = _catalogue(tmp_path, site.origin)
        db = tmp_path / "audit.db"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", "-c", str(catalogue), "--db", str(db), "--allow-private",
                         "--min-interval", "0", "-f", output])  # fmt: skip
    finally:
        site.close()
    assert code == 0, err.getvalue()
    assert any(p.startswith("/login?next=") for p in site.paths)  # the echo was followed
    assert _leaks(out.getvalue()) == []
    assert _leaks(err.getvalue()) == []
    stored = _everything_stored(db)
    assert _leaks(stored) == []
    assert REDACTED in stored
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("audit"))
    assert SECRET.encode() not in on_disk
    assert re.search(re.escape(quote(SECRET, safe="")).encode(), on_disk, re.I) is None
