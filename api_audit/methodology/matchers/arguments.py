"""Matchers' YAML arguments read once, at probe-load time, into the typed values they use.

A reader takes an argument exactly as written in YAML and returns the value its matcher
works with (a tuple, a float, a small frozen dataclass), or raises BadArgument with the
problem in words, which the probe loader shows as `file:line:col: matcher: problem`.
Matchers never look at raw YAML: a bad argument is found when the probes load, not when
a response is judged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

Always = Literal[True]  # the argument of a matcher that takes none: `true`


class BadArgument(ValueError):
    """A matcher's YAML argument it cannot use; `problem` says why."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


def read_true(argument: object) -> Always:
    if argument is not True:
        raise BadArgument("the only argument is `true`")
    return True


def string_list(argument: object) -> tuple[str, ...] | None:
    """A non-empty string or list of non-empty strings, as a tuple; else None."""
    items = [argument] if isinstance(argument, str) else argument
    if not isinstance(items, list) or not items:
        return None
    if not all(isinstance(i, str) and i.strip() for i in items):
        return None
    return tuple(items)


def read_share(data: Mapping[object, object], key: str, default: float) -> float:
    """`data[key]` as a number from 0 to 1, or `default` when the key is not given."""
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise BadArgument(f"{key} must be a number from 0 to 1")
    return float(value)


def share_option(key: str, default: float) -> Callable[[object], float]:
    """A reader for `true` (meaning `default`) or `{key: a number from 0 to 1}`."""

    def read(argument: object) -> float:
        if argument is True:
            return default
        if not isinstance(argument, dict):
            raise BadArgument(f"give `true` or {{{key}: ...}}")
        only_keys(argument, (key,))
        return read_share(argument, key, default)

    return read


def only_keys(argument: Mapping[object, object], allowed: tuple[str, ...]) -> None:
    """Raise BadArgument naming the first key (sorted) that is not in `allowed`."""
    unknown = sorted(set(map(str, argument)) - set(allowed))
    if unknown:
        raise BadArgument(f"unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")
