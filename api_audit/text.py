"""Untrusted text made storable and printable: the cleaning every layer shares.

Text from vendors' servers, catalogues and file names reaches the store, the terminal and
JSON. Whatever it holds must not stop a run: a lone UTF-16 surrogate is a valid Python
`str` but has no UTF-8 form (a server's JSON can spell one as "\\ud800", a non-UTF-8 header
arrives surrogate-escaped from the HTTP parser, a file name may carry one), and writing it
to SQLite or to a UTF-8 stream raises UnicodeEncodeError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
