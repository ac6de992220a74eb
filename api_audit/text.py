"""Untrusted text made storable and printable: the cleaning every layer shares.

Text from vendors' servers, catalogues and file names reaches the store, the terminal and
JSON. Whatever it holds must not stop a run: a lone UTF-16 surrogate is a valid Python
`str` but has no UTF-8 form (a server's JSON can spell one as "\\ud800", a non-UTF-8 header
arrives surrogate-escaped from the HTTP parser, a file name may carry one), and writing it
to SQLite or to a UTF-8 stream raises UnicodeEncodeError.

`quote` makes server text fit to stand inside a finding's message: no terminal escapes,
control or format characters, whitespace collapsed, shortened.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
QUOTE_CHARS = 200
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")
# How `quote` shows a character, by Unicode category: controls, format characters (bidi
# overrides, zero-width) and line separators become spaces; a lone surrogate, which no
# UTF-8 writer accepts, becomes U+FFFD.
_QUOTED = {"Cc": " ", "Cf": " ", "Zl": " ", "Zp": " ", "Cs": REPLACEMENT}


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
    """Server text made safe to put in a message: no control or format characters,
    whitespace collapsed, at most `limit` characters."""
    text = _ANSI_ESCAPE.sub("", text[: limit * 4])  # whole terminal escapes, not just ESC
    cleaned = "".join(_QUOTED.get(unicodedata.category(ch), ch) for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
