"""Who still needs each request, so the engine lets an exchange go after its last caller.

Memory stays flat on a long run: a declared request's exchange (and its body) is kept only
until its last declared caller has it, and an origin's robots.txt rules only until its last
declared request is done. A request that was never declared is kept for the whole run.
"""

from __future__ import annotations

from collections.abc import Iterable

from api_audit.models import FetchRequest
from api_audit.net.urls import origin_of_text


class Demand:
    """Callers still expected, by request key and by origin."""

    def __init__(self) -> None:
        self._left: dict[str, int] = {}  # request key -> fetch() calls still expected
        self._origin_left: dict[str, int] = {}  # origin -> declared keys not yet let go
        self._key_origin: dict[str, str | None] = {}  # declared request key -> its origin

    def expect(self, requests: Iterable[FetchRequest]) -> None:
        """One more caller to come for each item (list a request once per caller)."""
        for request in requests:
            key = request.key
            if key in self._left:
                self._left[key] += 1
                continue
            self._left[key] = 1
            origin = self._key_origin[key] = origin_of_text(request.url)
            if origin is not None:
                self._origin_left[origin] = self._origin_left.get(origin, 0) + 1

    def served(self, request: FetchRequest) -> tuple[bool, str | None]:
        """A caller has its exchange. Whether that was the request's last declared caller
        (let its exchange go), and the origin whose last declared request that was (let its
        robots.txt rules go), if any."""
        key = request.key
        left = self._left.get(key)
        if left is None:
            return False, None  # never declared: kept for the run
        if left > 1:
            self._left[key] = left - 1
            return False, None
        del self._left[key]
        origin = self._key_origin.pop(key, None)
        if origin is None or origin not in self._origin_left:
            return True, None
        self._origin_left[origin] -= 1
        if self._origin_left[origin] > 0:
            return True, None
        del self._origin_left[origin]
        return True, origin
