"""How a loader's messages show a value: quoted with secrets redacted, or named by its YAML type."""

from __future__ import annotations

import datetime as dt

from api_audit.redact import redact_text


def quoted(value: str, limit: int = 60) -> str:
    """A value quoted for a message: secrets redacted (a URL's password or key never reaches
    an error line), escaped like repr, shortened when long."""
    value = redact_text(value)
    shown = repr(value[:limit])
    return shown[:-1] + "..." + shown[-1] if len(value) > limit else shown


def kind_of(value: object) -> str:  # noqa: PLR0911 - one return per YAML type
    """How a wrong value is described: 'a list', 'a number (3)', 'null (empty)'."""
    if value is None:
        return "null (empty)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        text = str(value)
        return f"a number ({text if len(text) <= 30 else text[:30] + '...'})"
    if isinstance(value, dt.datetime | dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, str):
        return f"a string ({quoted(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
