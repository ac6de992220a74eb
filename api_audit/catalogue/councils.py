"""The council register: GSS and three-letter codes, names, current or past.

The register is mySociety's "UK Local Authority Names and Codes" (CC BY 4.0), shipped as
package data in api_audit/data/ (see the README there for the credit). It is read once
per process.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
from collections.abc import Iterator
from importlib import resources

from api_audit.loading.wording import quoted
from api_audit.models import Council

REGISTER_FILE = "uk_local_authorities.csv"


class CouncilRegister:
    """Councils indexed by GSS code and by registry code (both case-insensitive)."""

    def __init__(self, councils: tuple[Council, ...]) -> None:
        self.councils = councils
        self._by_code: dict[str, Council] = {}
        for council in councils:
            if council.gss:
                self._by_code.setdefault(council.gss.upper(), council)
            self._by_code.setdefault(council.code.upper(), council)
        self._names: dict[str, Council] = {}
        # Current authorities first, so they win a name shared with a past one (Somerset).
        for council in sorted(councils, key=lambda c: not c.current):
            for name in (council.nice_name, council.name):
                self._names.setdefault(name.lower(), council)

    def __len__(self) -> int:
        return len(self.councils)

    def __iter__(self) -> Iterator[Council]:
        return iter(self.councils)

    def lookup(self, code: object) -> Council | None:
        """The council with this GSS code (E09000012) or registry code (HCK), or None."""
        if not isinstance(code, str):
            return None
        return self._by_code.get(code.strip().upper())

    def suggest(self, text: object) -> Council | None:
        """The council a mistyped code or a council name most likely meant, or None."""
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            return None
        wanted = text.strip()
        close = difflib.get_close_matches(wanted.upper(), list(self._by_code), n=1, cutoff=0.75)
        if close:
            return self._by_code[close[0]]
        close = difflib.get_close_matches(wanted.lower(), list(self._names), n=1, cutoff=0.6)
        return self._names[close[0]] if close else None

    def unknown(self, code: str) -> str:
        """What to say about a code that is not in the register, with the likeliest council."""
        guess = self.suggest(code)
        hint = f" (did you mean {describe(guess)}?)" if guess else ""
        return (
            f"unknown council {quoted(code)}: not a GSS or three-letter code in the council "
            f"register{hint}"
        )


@functools.cache
def load_register() -> CouncilRegister:
    """The packaged register, read once (via importlib.resources, so it works from a wheel)."""
    text = resources.files("api_audit.data").joinpath(REGISTER_FILE).read_text("utf-8")
    return parse_register(text)


def parse_register(text: str) -> CouncilRegister:
    """Build a register from CSV text in the mySociety column layout."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return CouncilRegister(tuple(_council(row) for row in rows))


def _council(row: dict[str, str]) -> Council:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    return Council(
        gss=cell("gss-code"),
        code=cell("local-authority-code"),
        name=cell("official-name"),
        nice_name=cell("nice-name"),
        nation=cell("nation"),
        region=cell("region"),
        type_name=cell("local-authority-type-name"),
        current=cell("current-authority") == "True",
        end_date=cell("end-date") or None,
        replaced_by=cell("replaced-by") or None,
        gov_uk_slug=cell("gov-uk-slug") or None,
    )


def describe(council: Council) -> str:
    """A short human label: 'Hackney (HCK, E09000012)'."""
    codes = ", ".join(c for c in (council.code, council.gss) if c)
    return f"{council.nice_name} ({codes})"
