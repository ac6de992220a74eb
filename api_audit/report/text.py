"""Make untrusted text safe to show: no terminal control sequences, no text that reorders or
hides itself, no Rich markup."""

from __future__ import annotations

import re

from rich.markup import escape

from api_audit.text import without_surrogates

# C0 and C1 controls (ESC, BEL, CSI ...) except tab and newline; DEL too.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Characters that change how the text around them is shown without being seen: the bidi
# embeddings, overrides and isolates and the directional marks (Unicode UAX #9; "Trojan
# Source", CVE-2021-42574), and the zero-width space, joiners, word joiner and BOM.
_INVISIBLE = "\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"

# Lone surrogates have no UTF-8 form (api_audit/text.py): shown escaped, like the others.
_SURROGATES = "\ud800-\udfff"

_UNSAFE = re.compile(f"[{_CONTROLS}{_INVISIBLE}{_SURROGATES}]")
_UNSAFE_OR_NEWLINE = re.compile(f"[{_CONTROLS}{_INVISIBLE}{_SURROGATES}\n]")
# What json.dumps(ensure_ascii=False) leaves raw in its output: it escapes only U+0000-U+001F.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}{_SURROGATES}]")


def strip_controls(text: str) -> str:
    """Remove characters that could move the cursor, recolour, retitle a terminal or
    reorder or hide the text around them."""
    return _UNSAFE.sub("", without_surrogates(text))


def escape_controls(text: str, *, one_line: bool = False) -> str:
    """Show the characters `strip_controls` removes as escapes instead (`\\x1b`, `\\u202e`),
    so the reader sees that they are there; `one_line` escapes newlines too."""
    pattern = _UNSAFE_OR_NEWLINE if one_line else _UNSAFE
    return pattern.sub(_escape, text)


def escape_json_text(document: str) -> str:
    """A JSON text from json.dumps(ensure_ascii=False) with DEL, C1 controls and the
    invisible characters written as \\uXXXX escapes: the same data for a JSON parser, but
    `cat out.json` shows them instead of obeying them. (They can only occur inside strings,
    where \\uXXXX is their JSON spelling.)"""
    return _UNSAFE_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", document)


def safe_markup(text: str) -> str:
    """Text from a catalogue or a vendor's server, ready to put inside Rich markup."""
    return escape(escape_controls(text))


def _escape(found: re.Match[str]) -> str:
    return found.group().encode("unicode_escape").decode("ascii")
