"""Make untrusted text safe to show: no terminal control sequences, no Rich markup."""

from __future__ import annotations

import re

from rich.markup import escape

from api_audit.text import without_surrogates

# C0 and C1 controls (ESC, BEL, CSI ...) except tab and newline; DEL too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Remove characters that could move the cursor, recolour or retitle a terminal."""
    return _CONTROL.sub("", without_surrogates(text))


def safe_markup(text: str) -> str:
    """Text from a catalogue or a vendor's server, ready to put inside Rich markup."""
    return escape(strip_controls(text))
