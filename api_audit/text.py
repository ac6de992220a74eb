"""Untrusted text made storable, quotable and printable: the one place it is cleaned.

Text from vendors' servers, catalogues and file names reaches findings' messages, the
store, the terminal and JSON. One rule says which characters are unsafe anywhere (`UNSAFE`):

- control characters (C0 but tab and newline, DEL, C1): they move the cursor, recolour or
  retitle a terminal (ESC, BEL, CSI);
- format characters (Unicode category Cf): bidi embeddings, overrides and isolates
  ("Trojan Source", CVE-2021-42574), zero-width spaces and joiners, the BOM, soft hyphens,
  tags: they reorder or hide the text around them;
- line and paragraph separators (U+2028, U+2029): a line break no one sees coming;
- lone UTF-16 surrogates: a valid Python `str` with no UTF-8 form (a server's JSON can
  spell one as "\\ud800", a non-UTF-8 header arrives surrogate-escaped from the HTTP parser,
  a file name may carry one); writing one to SQLite or a UTF-8 stream raises.

What each use does with them: `quote` (a server's words inside a finding's message) turns
them into spaces (a surrogate into U+FFFD), collapses whitespace and shortens;
`strip_controls` removes them; `escape_controls` shows them escaped (`\\x1b`, `\\u202e`) so
a reader sees they are there; `escape_json_text` writes them as JSON escapes;
`safe_markup` escapes them and Rich markup; `without_surrogates`/`storable` make text
storable. Redaction of secrets is redact.py's job, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REPLACEMENT = "\ufffd"
QUOTE_CHARS = 200

_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Unicode category Cf, as ranges (Unicode 14, Python 3.11; tests/test_text.py checks this
# list against unicodedata of the Python running the tests, so a newer Unicode is noticed).
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_SEPARATORS = "\u2028\u2029"
_SURROGATES = "\ud800-\udfff"

UNSAFE = re.compile(f"[{_CONTROLS}{_FORMAT}{_SEPARATORS}{_SURROGATES}]")
_UNSAFE_OR_NEWLINE = re.compile(f"[{_CONTROLS}{_FORMAT}{_SEPARATORS}{_SURROGATES}\n]")
# What json.dumps(ensure_ascii=False) leaves raw: it escapes U+0000-U+001F itself.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_FORMAT}{_SEPARATORS}{_SURROGATES}]")
_SURROGATE = re.compile(f"[{_SURROGATES}]")
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    if text.isascii():
        return text  # the common case, in one C-level pass
    return _SURROGATE.sub(REPLACEMENT, text)


def storable(value: Any) -> Any:
    """A value with every string in it (nested in lists, tuples and dicts too) made
    encodable; anything else unchanged."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, Mapping):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(storable(v) for v in value)
    return value


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Server text made safe to put in a message: whole terminal escapes dropped, unsafe
    characters made spaces (a surrogate U+FFFD), whitespace collapsed, at most `limit`."""
    text = _ANSI_ESCAPE.sub("", text[: limit * 4])  # whole terminal escapes, not just ESC
    cleaned = UNSAFE.sub(_as_space, text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def strip_controls(text: str) -> str:
    """`text` without its unsafe characters (a surrogate becomes U+FFFD)."""
    return UNSAFE.sub("", without_surrogates(text))


def escape_controls(text: str, *, one_line: bool = False) -> str:
    """`text` with its unsafe characters shown as escapes (`\\x1b`, `\\u202e`), so the reader
    sees that they are there; `one_line` escapes newlines too."""
    pattern = _UNSAFE_OR_NEWLINE if one_line else UNSAFE
    return pattern.sub(_shown_escaped, text)


def escape_json_text(document: str) -> str:
    """A JSON text from json.dumps(ensure_ascii=False) with the unsafe characters it left
    raw written as \\uXXXX escapes: the same data for a JSON parser, but `cat out.json`
    shows them instead of obeying them. (They occur only inside strings, where an escape is
    their JSON spelling.)"""
    return _UNSAFE_IN_JSON.sub(_json_escape, document)


def safe_markup(text: str) -> str:
    """Text from a catalogue or a vendor's server, ready to put inside Rich markup."""
    from rich.markup import escape  # noqa: PLC0415 - Rich only once something is printed

    return escape(escape_controls(text))


def _as_space(found: re.Match[str]) -> str:
    return REPLACEMENT if _SURROGATE.match(found.group()) else " "


def _shown_escaped(found: re.Match[str]) -> str:
    return found.group().encode("unicode_escape").decode("ascii")


def _json_escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells an astral character as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
