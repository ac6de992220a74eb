"""Secrets out of everything we keep or print: by name, by shape, and by the run's own values.

Nothing secret is stored or shown (DESIGN.md §5), however a server echoes it back. Three
rules, applied to every URL, header, message and error line before it is written:

1. **By name.** The value of a parameter whose *name* says it carries a secret is replaced
   by "[redacted]": in a query or fragment (`?api_key=…`), percent-encoded inside another
   parameter (`next=…%3Fapi_key%3D…`, to any depth), quoted in a header
   (`WWW-Authenticate: Bearer error_description="…", token="…"`) or in JSON
   (`"access_token": "…"`). A name is secret when it contains one of `SECRET_NAME_PARTS`
   anywhere (`x-api-key`, `client_secret`, `Authorization`, `PHPSESSID` …), or when one of
   its words (split at `-`, `_`, `.`, `[`, `]` and camelCase) is one of `SECRET_NAME_WORDS`
   (`pass`, `pw`, `pin`, `otp`, `sid`, `code` …: too short to match inside other words).
   Over-redaction is the safe side: `?keyword=` is redacted too.
2. **By shape.** URL userinfo (`https://user:pass@host`, plain or percent-encoded) and an
   `Authorization`-style credential in free text (`Bearer eyJ…`, `Basic dXNl…`).
3. **The run's own values.** Every secret the catalogue itself holds (the values of
   secret-named parameters in its URLs, and their userinfo) is a `Redactor` secret: it is
   replaced wherever it appears, as written or percent-encoded to any depth in any mix of
   letter cases, `+` for space, or as a JSON `\\u` escape. Values shorter than
   `MIN_SECRET_CHARS` are left to rules 1 and 2 (redacting every "1234" would redact page
   numbers, not secrets).

Credential headers (`SECRET_HEADERS` and names matching rule 1) lose their whole value.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import unquote_plus, urlsplit

REDACTED: Final = "[redacted]"
MIN_SECRET_CHARS: Final = 6

SECRET_NAME_PARTS: Final = (
    "key", "token", "secret", "passw", "passphrase", "passcode", "credential", "session",
    "signature", "sessid", "authoriz", "private", "bearer", "jwt", "cookie", "csrf", "xsrf",
)  # fmt: skip
SECRET_NAME_WORDS: Final = frozenset(
    {"pass", "pw", "pwd", "pin", "otp", "totp", "mfa", "sid", "code", "sig", "sas", "auth",
     "nonce", "ticket", "hmac"}
)  # fmt: skip
SECRET_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
# Names that hold a secret word but are public by standard: Open311's service_code, RFC
# 9457's status, ISO codes. Their values are evidence.
_PUBLIC_NAMES = frozenset(
    {"service_code", "status_code", "error_code", "response_code", "http_code", "country_code",
     "language_code", "lang_code", "currency_code", "area_code", "post_code", "zip_code",
     "service_request_id", "jurisdiction_id"}
)  # fmt: skip
# Headers whose names look secret but whose values are public evidence.
_PUBLIC_HEADER_PREFIXES = ("access-control-",)  # CORS: Access-Control-Allow-Credentials

_WORD_SPLIT = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z0-9])(?=[A-Z])")
_NAME = r"(?:[\w.\-\[\]]|%[0-9A-Fa-f]{2}){1,100}"  # a name, percent-encoded bytes too
# A value ends at &, # or anything free text ends a word with; ',' and ';' are kept in it
# (a URL value may hold them): a header's `token=abc, realm=…` loses its comma, not its key.
_UNQUOTED_VALUE = r"[^&\s#\"'<>]+"


def _encoded(hex_code: str) -> str:
    """A regex for a byte percent-encoded once or more (%3D, %253d ...), any letter case."""
    return rf"%(?:25)*(?i:{hex_code})"


# name=value, name="value", name='value'
_PARAM = re.compile(rf"({_NAME})(\s*=\s*)(\"[^\"]*\"|'[^']*'|{_UNQUOTED_VALUE})")
# name%3Dvalue inside an encoded URL (the name may hold encoded bytes too: user%5Bpw%5D),
# the value ending at an encoded & or anything a raw value cannot hold
_ENCODED_PARAM = re.compile(
    rf"((?:[\w.\-\[\]]|%(?:25)*[0-9A-Fa-f]{{2}}){{1,300}}?)({_encoded('3d')})"
    rf"((?:(?!{_encoded('26')})[^&\s#\"'<>,;])+)"
)
_NAME_START = re.compile(r"[?&;/#=]")
# "name": "value" (JSON, and YAML flow style)
_JSON_PARAM = re.compile(rf"(\"({_NAME})\"\s*:\s*)\"((?:[^\"\\]|\\.)*)\"")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s]*@")
_ENCODED_USERINFO = re.compile(
    rf"(?i)\b([a-z][a-z0-9+.\-]*{_encoded('3a')}{_encoded('2f')}{_encoded('2f')})"
    rf"((?:(?!{_encoded('2f')}|{_encoded('3f')}|{_encoded('23')})[^/?#\s&])*){_encoded('40')}"
)
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic|digest)(\s+)([\w.~+/\-]{8,}=*)")


@functools.lru_cache(maxsize=4096)  # names repeat: every response has the same headers
def is_secret_name(name: str) -> bool:
    """Whether a parameter or header name says its value is a secret (rule 1). A name
    found inside a URL (`?next=/login%3Fpass`) is what follows its last ?, &, / or #."""
    name = _NAME_START.split(_fully_decoded(name))[-1]
    lowered = name.lower()
    if lowered in _PUBLIC_NAMES:
        return False
    if any(part in lowered for part in SECRET_NAME_PARTS):
        return True
    return any(word.lower() in SECRET_NAME_WORDS for word in _WORD_SPLIT.split(name))


@functools.lru_cache(maxsize=4096)
def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    if lowered in SECRET_HEADERS:
        return True
    return not lowered.startswith(_PUBLIC_HEADER_PREFIXES) and is_secret_name(lowered)


class Redactor:
    """The three rules, with one run's own secret values (rule 3)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
        self._values = re.compile("|".join(_spellings(v) for v in values)) if values else None
        # The same spellings over a body's bytes, read as Latin-1 (one character a byte, a
        # lossless round trip), so a body is redacted by the same rule as text.
        in_bodies = "|".join(_spellings(v, in_bytes=True) for v in values)
        self._in_bodies = re.compile(in_bodies) if values else None

    def text(self, text: str) -> str:
        """Free text (a message, an error line, a header value) with secrets replaced."""
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        if "@" in text or "%" in text:
            text = _USERINFO.sub(rf"\1{REDACTED}@", text)
            if "%" in text:
                text = _ENCODED_USERINFO.sub(rf"\1{REDACTED}%40", text)
        if "=" in text or "%" in text:
            text = _PARAM.sub(_redact_param, text)
            if "3d" in text or "3D" in text:  # an encoded "=": %3D, %253D ...
                text = _ENCODED_PARAM.sub(_redact_encoded_param, text)
        if '"' in text:
            text = _JSON_PARAM.sub(_redact_json_param, text)
        if " " in text or "\t" in text:
            text = _SCHEME_CREDENTIAL.sub(_redact_credential, text)
        return text

    def url(self, url: str) -> str:
        """A URL with secret parameters' values and any userinfo replaced; the rest kept.
        The text rules cover a URL (query and fragment parameters are `name=value`,
        userinfo ends at the last @ before the path), with no parse to fail or normalise."""
        if self._values is None and not any(c in url for c in '=@%" '):
            return url  # no parameter values, no userinfo, nothing encoded: nothing to do
        return self.text(url)

    def request_key(self, key: str) -> str:
        """A `FetchRequest.key` ("METHOD URL accept=...") with its URL redacted."""
        method, space, rest = key.partition(" ")
        url, accept_sep, accept = rest.rpartition(" accept=")
        if not space or not accept_sep:
            return self.text(key)
        return f"{method} {self.url(url)} accept={accept}"

    def headers(self, headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """Credential headers' values become "[redacted]"; the others are redacted as text."""
        return tuple(
            (name, REDACTED if is_secret_header(name) else self.text(value))
            for name, value in headers
        )

    def body(self, body: bytes) -> bytes:
        """A response body with the run's own secret values replaced (rule 3 only: a body
        is evidence, kept as received unless a server echoed one of our secrets)."""
        if self._in_bodies is None or not body:
            return body
        text = body.decode("latin-1")
        redacted = self._in_bodies.sub(REDACTED, text)
        return body if redacted == text else redacted.encode("latin-1")


NO_SECRETS: Final = Redactor()


def catalogue_secrets(catalogue: object) -> set[str]:
    """Every secret a catalogue holds: the values of secret-named parameters in its URLs,
    and URL userinfo (user, password, and both together)."""
    found: set[str] = set()
    for text in _strings(catalogue):
        if "://" in text:
            found.update(_url_secrets(text))
    return found


def _url_secrets(url: str) -> Iterator[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        yield userinfo
        yield from userinfo.split(":", 1)
    for section in (parts.query, parts.fragment):
        for pair in section.split("&"):
            name, eq, value = pair.partition("=")
            if eq and value and is_secret_name(name):
                yield value
                yield unquote_plus(value)


def _strings(value: object) -> Iterator[str]:
    """Every string inside a tree of frozen dataclasses, mappings and sequences."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _strings(getattr(value, item.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)


def _spellings(value: str, *, in_bytes: bool = False) -> str:
    """A regex for `value` as written, or with any of its characters percent-encoded (its
    UTF-8 bytes, to any depth, either case), `+` for a space, or a JSON \\u escape. With
    `in_bytes`, for text that is a body's bytes read as Latin-1: a character as written is
    then its UTF-8 bytes."""
    parts = []
    for char in value:
        utf8 = char.encode()
        choices = [re.escape(utf8.decode("latin-1") if in_bytes else char)]
        choices.append("".join(_encoded(f"{byte:02x}") for byte in utf8))
        if char == " ":
            choices.append(r"\+")
        if ord(char) < 0x10000:
            choices.append(rf"\\u(?i:{ord(char):04x})")
        parts.append(f"(?:{'|'.join(choices)})")
    return "".join(parts)


def _redact_param(match: re.Match[str]) -> str:
    name, sep, value = match.group(1), match.group(2), match.group(3)
    if not is_secret_name(name):
        return match.group(0)
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] else ""
    return f"{name}{sep}{quote}{REDACTED}{quote}"


def _redact_encoded_param(match: re.Match[str]) -> str:
    """The match may run from the start of an encoded URL: `is_secret_name` reads the name
    after its last encoded ?, &, / or #."""
    if not is_secret_name(match.group(1)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _fully_decoded(text: str) -> str:
    for _ in range(5):  # %25-encoding nests; five levels is past any real redirect chain
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text


def _redact_credential(match: re.Match[str]) -> str:
    """`Bearer <token>`: a credential has a digit or is long; "Bearer authentication" is
    prose, not a token."""
    token = match.group(3)
    if len(token) < 20 and not any(c.isdigit() for c in token):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _redact_json_param(match: re.Match[str]) -> str:
    if not is_secret_name(match.group(2)):
        return match.group(0)
    return f'{match.group(1)}"{REDACTED}"'


# Module-level forms for callers with no run in hand (the catalogue's error lines, tests).
redact_text: Callable[[str], str] = NO_SECRETS.text
redact_url: Callable[[str], str] = NO_SECRETS.url
redact_request_key: Callable[[str], str] = NO_SECRETS.request_key
redact_headers: Callable[[Iterable[tuple[str, str]]], tuple[tuple[str, str], ...]] = (
    NO_SECRETS.headers
)


def redact_options(options: Mapping[str, object], redactor: Redactor = NO_SECRETS) -> Any:
    """A run's options with secrets in their text replaced: a secret-named option's text
    whole (flags and numbers, such as `allow_private`, are kept), others by the rules."""
    return {key: _redact_option(key, value, redactor) for key, value in options.items()}


def _redact_option(key: str, value: object, redactor: Redactor) -> object:
    if isinstance(value, str):
        return REDACTED if is_secret_name(key) else redactor.text(value)
    if isinstance(value, list):
        return [_redact_option(key, item, redactor) for item in value]
    return value
