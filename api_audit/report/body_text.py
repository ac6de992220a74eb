"""A stored body made safe to show: decoded by its charset, escaped, capped; binary named.

A body is a vendor server's bytes: they may carry terminal escapes, bidi overrides, Rich
markup, a charset name that is not a text encoding, or megabytes of anything. What comes
out of here is text in which every unsafe character is shown escaped (text.escape_controls:
newlines and tabs kept, everything else that could steer a terminal made visible), at most
`BODY_SHOWN` bytes of the body, and a count of the bytes left out.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Final

from api_audit.models import ExchangeDetail, StoredBody
from api_audit.text import escape_controls

BODY_SHOWN: Final = 4096

# Media types that are text whatever their bytes look like (RFC 6838 suffixes included).
_TEXT_SUFFIXES: Final = ("json", "xml", "yaml", "javascript", "ecmascript", "csv", "html")
# These families are never text, whatever the bytes look like.
_BINARY_PREFIXES: Final = ("image/", "audio/", "video/", "font/", "model/")


@dataclass(frozen=True)
class ShownBody:
    """What to print of one body: `text` (escaped) or, when binary, None."""

    sha256: str
    size: int  # bytes as received
    text: str | None
    shown_bytes: int
    more_bytes: int  # bytes of the body not shown (0 when all of it is)
    encoding: str | None  # the codec the text was decoded with


def shown_body(detail: ExchangeDetail, stored: StoredBody) -> ShownBody:
    """The first BODY_SHOWN bytes of `stored`, decoded and escaped, or marked binary."""
    head = stored.head[:BODY_SHOWN]
    more = max(stored.size - len(head), 0)
    if _is_binary(detail.content_type, detail.charset, head):
        return ShownBody(stored.sha256, stored.size, None, 0, stored.size, None)
    encoding = _codec(detail.charset)
    text = _decode(head, encoding, final=more == 0)
    # CRLF line ends (iCalendar, RFC 5545 §3.1; many servers) are shown as line ends; a
    # lone CR, which could overwrite what the terminal already shows, stays escaped.
    text = escape_controls(text.replace("\r\n", "\n"))
    return ShownBody(stored.sha256, stored.size, text, len(head), more, encoding)


def body_summary(body: ShownBody) -> str:
    """The line that stands for a body that is not printed as text (binary)."""
    return f"binary, {body.size:,} bytes, sha256 {body.sha256}"


def more_line(body: ShownBody) -> str:
    return f"… {body.more_bytes:,} more bytes (sha256 {body.sha256})"


def _is_binary(media: str, charset: str | None, head: bytes) -> bool:
    wide = _codec(charset).startswith(("utf-16", "utf-32"))
    if b"\x00" in head and not wide:
        return True  # a text body holds no NUL, unless it is declared UTF-16 or UTF-32
    if media.startswith(_BINARY_PREFIXES) and not media.endswith(("+xml", "+json")):
        return True
    if not media or media.startswith("text/") or media.endswith(_TEXT_SUFFIXES):
        return False
    # application/octet-stream, pdf, zip, ...: text only when the bytes are UTF-8
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def _codec(charset: str | None) -> str:
    """A text codec Python knows for the charset parameter, else UTF-8. Codecs that map
    bytes to bytes (zlib, base64, rot13: Python names them like charsets) are refused."""
    if not charset:
        return "utf-8"
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        return "utf-8"
    return info.name if getattr(info, "_is_text_encoding", True) else "utf-8"


def _decode(head: bytes, encoding: str, *, final: bool) -> str:
    """Decoded with replacement characters; a multi-byte character cut by the cap is left
    out rather than shown broken. A codec that fails anyway falls back to UTF-8."""
    try:
        return codecs.getincrementaldecoder(encoding)("replace").decode(head, final=final)
    except Exception:  # a server's charset must never stop the command
        return head.decode("utf-8", "replace")
