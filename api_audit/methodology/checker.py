"""A checker that reads one YAML document, recording a located problem for each thing wrong."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import cast

from api_audit.loading import (
    LocatedValidator,
    PathKey,
    did_you_mean,
)

MISSING: object = object()  # a required key that is absent (already reported once)


class Checker(LocatedValidator):
    """Reads one YAML document, recording a located Problem for everything wrong."""

    def mapping(
        self, at: PathKey, value: object, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, object] | None:
        """`value` as a mapping with only `allowed` keys and all `required` ones."""
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.error(at, "must be a mapping of key: value")
            return None
        for key in value:
            if key not in allowed:
                self.error(
                    (*at, str(key)), f"unknown key {key!r}{did_you_mean(key, allowed)}", key=True
                )
        for key in required:
            if key not in value:
                self.error(at, f"missing key {key!r}")
        return cast(dict[str, object], value)

    def text(self, at: PathKey, value: object, what: str) -> str:
        if value is MISSING:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error(at, f"{what} must be non-empty text")
            return ""
        return value

    def choice(self, at: PathKey, value: object, what: str, allowed: Iterable[str]) -> str:
        options = tuple(allowed)
        if value is MISSING:
            return options[0]
        if not isinstance(value, str) or value not in options:
            self.error(at, f"{what} {value!r} is not one of {', '.join(options)}")
            return options[0]
        return value

    def number(self, at: PathKey, value: object, what: str, low: float, high: float) -> float:
        if value is MISSING:
            return low
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.error(at, f"{what} must be a number")
            return low
        if not low <= value <= high:
            self.error(at, f"{what} must be from {low:g} to {high:g}")
        return float(value)
