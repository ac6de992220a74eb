"""text.py: server text quoted into messages is short and has no control characters."""

from __future__ import annotations

from api_audit.text import quote


def test_quote() -> None:
    assert quote("a\x00b\r\nc\td") == "a b c d"
    assert quote("x" * 300) == "x" * 199 + "…"
