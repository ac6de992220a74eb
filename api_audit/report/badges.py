"""Render a system's openness badge (grade and ladder) as a small two-part SVG, shields.io
style, like OpenSSF Scorecard's; and the file name it is written under.

The text is escaped by the template (autoescaping on); the file name keeps only characters
safe on every file system and in a URL, so a system id cannot climb out of `badges/`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from api_audit.report.html import COLOURS, environment
from api_audit.text import quote

LABEL = "openness"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._@-]")
NAME_CHARS = 80


def badge_file_name(system_id: str) -> str:
    """`<system>.svg` with the id made safe; an id that had to change gets a short hash of
    itself, so two ids that clean to the same name never overwrite each other's badge."""
    cleaned = _UNSAFE_NAME.sub("_", system_id)[:NAME_CHARS].lstrip(".") or "_"
    if cleaned != system_id:
        cleaned += "-" + hashlib.sha256(system_id.encode("utf-8", "replace")).hexdigest()[:8]
    return cleaned + ".svg"


def _width(text: str) -> int:
    return 7 * len(text) + 12  # Verdana 11px is about 7px a character


def render_badge(system: Mapping[str, Any]) -> str:
    grade = str(system.get("grade") or "?")
    ladder = str(system.get("ladder") or "")
    value = quote(f"{grade} · {ladder}" if ladder else grade, 16)
    left, right = _width(LABEL), _width(value)
    return (
        environment()
        .get_template("badge.svg.j2")
        .render(
            label=LABEL,
            value=value,
            left=left,
            right=right,
            colour=COLOURS.get(grade, COLOURS["?"]),
            name=quote(str(system.get("name") or system.get("system") or ""), 80),
        )
    )
