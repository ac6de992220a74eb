"""text.py: one rule for unsafe characters; quoted server text is short and clean."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest

from api_audit.text import (
    _FORMAT,
    escape_controls,
    escape_json_text,
    quote,
    safe_markup,
    strip_controls,
)


def test_quote() -> None:
    assert quote("a\x00b\r\nc\td") == "a b c d"
    assert quote("x" * 300) == "x" * 199 + "…"


# --- one rule: which characters are unsafe ----------------------------------------------------


def test_the_format_characters_are_exactly_unicodes_category_cf() -> None:
    listed = {c for c in range(0x110000) if re.fullmatch(f"[{_FORMAT}]", chr(c))}
    category = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    assert listed == category, f"Unicode {unicodedata.unidata_version}: update text._FORMAT"


UNSAFE_SAMPLES = {
    "ESC": "\x1b", "BEL": "\x07", "NUL": "\x00", "DEL": "\x7f", "CSI": "\x9b",
    "RLO": "\u202e", "LRI": "\u2066", "ZWSP": "\u200b", "BOM": "\ufeff", "soft hyphen": "\u00ad",
    "tag": "\U000e0041", "line separator": "\u2028", "surrogate": "\ud800",
}  # fmt: skip


@pytest.mark.parametrize("name", UNSAFE_SAMPLES)
def test_every_use_treats_an_unsafe_character_by_the_same_rule(name: str) -> None:
    ch = UNSAFE_SAMPLES[name]
    text = f"a{ch}b"
    assert ch not in quote(text)
    assert ch not in strip_controls(text)
    assert ch not in escape_controls(text)
    assert ch not in safe_markup(text)
    document = escape_json_text(json.dumps({"k": text}, ensure_ascii=False))
    assert ch not in document
    if name != "surrogate":  # JSON keeps a lone surrogate as its escape: not the same string
        assert json.loads(document) == {"k": text}
    for shown in (quote(text), strip_controls(text), escape_controls(text), document):
        shown.encode("utf-8")  # never a character no UTF-8 writer accepts
