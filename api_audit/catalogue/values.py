"""Reading one catalogue value of each kind, with the located message when it is wrong.

Each reader takes the value and its path (the last part of which is the key, used in the
message) and returns the value to keep, or None after recording a problem. The shapes
that hold the values are walked in `load.py`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Sequence

from api_audit.catalogue.councils import CouncilRegister, describe
from api_audit.catalogue.fields import Words
from api_audit.catalogue.rules import (
    COMPANIES_HOUSE_RE,
    DATE_RE,
    MAX_SHORT_VALUE,
    SCHEMA_VERSION,
    SLUG_RE,
    SLUG_RULE,
    url_problem,
)
from api_audit.loading import LocatedValidator, PathKey, YamlDocument, did_you_mean
from api_audit.loading.wording import kind_of, quoted
from api_audit.models import CLAIMS, Council


class ValueReader(LocatedValidator):
    """Reads single values, recording a located problem for each one that is wrong."""

    def __init__(
        self, doc: YamlDocument, register: CouncilRegister, probe_ids: Collection[str] = ()
    ) -> None:
        super().__init__(doc)
        self.register = register
        # what a reply's `about` may name: these probes, the claims, "attested:<claim>"
        self.abouts = (*sorted(probe_ids), *CLAIMS, *(f"attested:{c}" for c in CLAIMS))
        self.ids: dict[str, dict[str, PathKey]] = {}  # scope -> id -> where first written

    def items(self, value: object, at: PathKey) -> list[tuple[PathKey, object]]:
        """The items of a list, each with its path; a problem when it is not a list."""
        if not isinstance(value, list):
            self.error(at, f"'{at[-1]}' must be a list, not {kind_of(value)}")
            return []
        return [((*at, i), item) for i, item in enumerate(value)]

    def schema_version(self, value: object, at: PathKey) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(at, f"'schema_version' must be 1, not {kind_of(value)}")
            return None
        if value != SCHEMA_VERSION:
            self.error(
                at,
                f"unsupported schema_version {value}: this api-audit reads schema_version "
                f"{SCHEMA_VERSION}",
            )
            return None
        return value

    def text(self, value: object, at: PathKey) -> str | None:
        if not isinstance(value, str):
            self.error(at, f"'{at[-1]}' must be a string, not {kind_of(value)}")
            return None
        if not value.strip():
            self.error(at, f"'{at[-1]}' must not be empty")
            return None
        return value

    def patterned(
        self, value: object, at: PathKey, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        text = self.text(value, at)
        # fullmatch, not match: the patterns end in `$`, which also matches before a final
        # newline, and an id or slug with a control character in it must not pass
        if text is not None and not pattern.fullmatch(text):
            tidy = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
            hint = f" (try {tidy!r})" if tidy and pattern.fullmatch(tidy) and len(tidy) < 60 else ""
            self.error(at, f"invalid {at[-1]} {quoted(text)}: {rule}{hint}")
            return None
        return text

    def unique_id(self, value: object, at: PathKey, scope: str) -> str | None:
        """A slug id not used before by another `scope` ("vendor" or "system")."""
        found = self.patterned(value, at, SLUG_RE, SLUG_RULE)
        if found is None:
            return None
        seen = self.ids.setdefault(scope, {})
        if found in seen:
            line = self.line_of(seen[found])
            self.error(at, f"duplicate {scope} id {quoted(found)} (first at line {line})")
        else:
            seen[found] = at
        return found

    def choice(self, value: object, at: PathKey, allowed: Sequence[str], what: str) -> str | None:
        if not isinstance(value, str):
            self.error(at, f"{what} must be a string, not {kind_of(value)}")
            return None
        if value not in allowed:
            hint = did_you_mean(value, allowed, listing=True)
            self.error(at, f"unknown {what} {quoted(value)}{hint}")
            return None
        return value

    def words(self, value: object, at: PathKey, kind: Words) -> tuple[str, ...] | None:
        """The list's vocabulary words, duplicates dropped; None when not a list, or when
        the kind needs at least one word and none is valid."""
        if not isinstance(value, list):
            self.error(at, f"'{at[-1]}' must be a list, not {kind_of(value)}")
            return None if kind.at_least_one else ()
        found: dict[str, None] = {}
        for w_at, item in self.items(value, at):
            word = self.choice(item, w_at, kind.words, kind.what)
            if word is not None:
                found[word] = None
        if kind.at_least_one and value == []:
            self.error(at, f"'{at[-1]}' must list at least one {kind.at_least_one}")
        return tuple(found) if found or not kind.at_least_one else None

    def url(self, value: object, at: PathKey, *, placeholders: bool) -> str | None:
        if not isinstance(value, str):
            self.error(at, f"a URL must be a string, not {kind_of(value)}")
            return None
        reason = url_problem(value, placeholders=placeholders)
        if reason:
            self.error(at, f"invalid URL {quoted(value)}: {reason}")
            return None
        return value

    def urls(self, value: object, at: PathKey) -> tuple[str, ...]:
        found = [self.url(v, u_at, placeholders=False) for u_at, v in self.items(value, at)]
        return tuple(u for u in found if u is not None)

    def date(self, value: object, at: PathKey) -> dt.date | None:
        name = at[-1]
        if isinstance(value, dt.datetime):
            self.error(at, f"'{name}' must be a date (YYYY-MM-DD) without a time")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and DATE_RE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                self.error(at, f"invalid date {quoted(value)}: {exc}")
                return None
        self.error(at, f"'{name}' must be a date (YYYY-MM-DD), not {kind_of(value)}")
        return None

    def date_not_before(
        self, value: object, at: PathKey, earlier: object, name: str
    ) -> dt.date | None:
        """A date that must not be before the `name` field's date (`earlier`)."""
        date = self.date(value, at)
        if isinstance(earlier, dt.date) and date is not None and date < earlier:
            self.error(at, f"{at[-1]} {date} is before {name} {earlier}")
        return date

    def amount(self, value: object, at: PathKey) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isfinite(number) and number >= 0:
                return number
        self.error(
            at,
            f"'{at[-1]}' must be a number of pounds of at least 0 (e.g. 120000), "
            f"not {kind_of(value)}",
        )
        return None

    def companies_house_numbers(self, value: object, at: PathKey) -> tuple[str, ...]:
        """One Companies House number or a list of them (a group trades through several)."""
        if isinstance(value, list):
            found = [
                self.companies_house(v, n_at, str(at[-1])) for n_at, v in self.items(value, at)
            ]
            return tuple(dict.fromkeys(n for n in found if n is not None))
        number = self.companies_house(value, at)
        return (number,) if number is not None else ()

    def companies_house(self, value: object, at: PathKey, name: str = "") -> str | None:
        name = name or str(at[-1])
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 00002065 as an octal number (1077).
            self.error(
                at,
                f"'{name}' must be quoted (e.g. \"00002065\"): unquoted, YAML reads it as "
                f"{kind_of(value)}",
            )
            return None
        text = self.text(value, at)
        if text is not None and not COMPANIES_HOUSE_RE.fullmatch(text):
            self.error(
                at,
                f"invalid Companies House number {quoted(text)}: expected 8 characters, "
                "such as 00002065 or SC002940",
            )
            return None
        return text

    def council(self, value: object, at: PathKey) -> Council | None:
        """A council in the register; a past authority is kept, with a warning."""
        if not isinstance(value, str):
            self.error(at, f"'council' must be a GSS or three-letter code, not {kind_of(value)}")
            return None
        council = self.register.lookup(value)
        if council is None:
            self.error(at, self.register.unknown(value))
            return None
        if not council.current:
            self.warn(at, self.past_authority(council))
        return council

    def past_authority(self, council: Council) -> str:
        message = f"{describe(council)} is a past authority"
        if council.end_date:
            message += f" (ended {council.end_date})"
        successor = self.register.lookup(council.replaced_by or "")
        if successor is not None:
            message += f"; replaced by {describe(successor)}"
        return message

    def claim_value(self, value: object, at: PathKey) -> bool | str | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip() and len(value) <= MAX_SHORT_VALUE:
            return value
        self.error(
            at,
            f"'value' must be true, false or a short string (at most {MAX_SHORT_VALUE} "
            f"characters), not {kind_of(value)}",
        )
        return None

    def about(self, value: object, at: PathKey) -> str | None:
        """A known probe id, a claim name or "attested:<claim>"."""
        text = self.text(value, at)
        if text is not None and text not in self.abouts:
            self.error(
                at,
                f"'about' must name a probe or a claim, not {quoted(text)}"
                f"{did_you_mean(text, self.abouts)} (`api-audit probes list` lists the "
                "probes; claims are the attestation claims)",
            )
            return None
        return text
