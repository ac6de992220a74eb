"""The closed vocabularies a probe may name, MATCHERS and LINKS, and their decorators.

`@matcher(name, read=..., argument=..., doc=...)` beside a function registers it in
`MATCHERS`: `read` turns the YAML argument into a typed value once, when the probes load
(raising BadArgument), and the function judges one exchange with that value. `@link(name,
doc=...)` beside an extractor registers it in `LINKS`, for a two-stage probe's
`follow: {link: ...}`. A new kind of check is a new decorated function with a test; probe
files never hold code (DESIGN.md §4). Both mappings are read-only, and complete once
`api_audit.methodology.matchers` is imported (its `__init__` imports every family).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from api_audit.methodology.matchers.arguments import BadArgument
from api_audit.methodology.matchers.context import MatchContext
from api_audit.methodology.matchers.verdict import Verdict
from api_audit.models import Expectation

A = TypeVar("A")


@dataclass(frozen=True)
class MatcherSpec(Generic[A]):
    match: Callable[[A, MatchContext], Verdict]
    read: Callable[[object], A]  # the YAML argument -> the value `match` takes; BadArgument
    doc: str  # one line for generated docs
    argument: str  # what the YAML argument looks like, for generated docs

    def validate(self, argument: object) -> str | None:
        """The problem with a YAML argument, or None when `read` accepts it."""
        try:
            self.read(argument)
        except BadArgument as exc:
            return exc.problem
        return None


@dataclass(frozen=True)
class FoundLink:
    """A URL found in a response (absolute), or None with the reason in `message`."""

    url: str | None
    message: str
    # True when a page without a usable link shows something wrong (it still loads the
    # Petstore example, or links something that is not a URL): a fail whatever the probe's
    # `when_no_link` says, as silence and a positive observation differ (issue 11).
    wrong: bool = False


LinkExtractor = Callable[[MatchContext], FoundLink]


@dataclass(frozen=True)
class LinkSpec:
    extract: LinkExtractor
    doc: str  # one line for generated docs


_MATCHERS: dict[str, MatcherSpec[Any]] = {}
_LINKS: dict[str, LinkSpec] = {}
MATCHERS: Mapping[str, MatcherSpec[Any]] = MappingProxyType(_MATCHERS)
LINKS: Mapping[str, LinkSpec] = MappingProxyType(_LINKS)

Match = Callable[[A, MatchContext], Verdict]


def matcher(
    name: str, *, read: Callable[[object], A], argument: str, doc: str
) -> Callable[[Match[A]], Match[A]]:
    """Register the decorated function as matcher `name`: `read` parses its YAML argument
    (described by `argument` in the docs), `doc` says in one line when it passes."""

    def register(match: Match[A]) -> Match[A]:
        if name in _MATCHERS:
            raise ValueError(f"matcher {name!r} is registered twice")
        _MATCHERS[name] = MatcherSpec(match, read, doc, argument)
        return match

    return register


def link(name: str, *, doc: str) -> Callable[[LinkExtractor], LinkExtractor]:
    """Register the decorated function as link extractor `name` for `follow: {link: ...}`."""

    def register(extract: LinkExtractor) -> LinkExtractor:
        if name in _LINKS:
            raise ValueError(f"link {name!r} is registered twice")
        _LINKS[name] = LinkSpec(extract, doc)
        return extract

    return register


def expectation(name: str, argument: object, line: int = 0) -> Expectation:
    """An Expectation whose argument matcher `name` has read (as the probe loader does);
    raises KeyError for an unknown matcher and BadArgument for an argument it rejects."""
    return Expectation(name, argument, line, MATCHERS[name].read(argument))
