"""Organisation names reduced to comparable words: the one normalisation matching uses.

Notices spell one body many ways ("LONDON BOROUGH OF HACKNEY", "Hackney Council",
"Civica UK Ltd.", "CIVICA U.K. LIMITED"); comparing the words that remain after case,
punctuation, "&"/"and" and "St."/"Saint" are evened out is what mySociety's
procurement_data and most alias tables do (reference/procurement-data.md §4).
"""

from __future__ import annotations

import re
import unicodedata

# A notice's name is untrusted text of any length: only this much of it is compared.
NAME_CHARS = 300

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^\w]+")
_SPELLINGS = {"saint": "st", "ste": "st"}


def name_words(text: object) -> tuple[str, ...]:
    """The words of a name: lower case, accents and apostrophes dropped ("King's Lynn" ->
    kings lynn), "&" read as "and", "Saint" as "st", every other mark a word break."""
    if not isinstance(text, str):
        return ()
    folded = unicodedata.normalize("NFKD", text[:NAME_CHARS].casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _APOSTROPHES.sub("", folded.replace("&", " and ").replace("+", " and "))
    words = _NOT_WORD.sub(" ", folded.replace("_", " ")).split()
    return tuple(_SPELLINGS.get(w, w) for w in words)


def name_key(text: object) -> str:
    """The words of a name joined by single spaces (the form names are compared in)."""
    return " ".join(name_words(text))


def name_parts(text: object) -> tuple[str, ...]:
    """The pieces a bilingual or annotated name is written in ("Cardiff Council / Cyngor
    Caerdydd", "Hackney Council (ICT)", "Kent County Council - Procurement"), each to be
    tried on its own when the whole name matches nothing."""
    if not isinstance(text, str):
        return ()
    pieces = re.split(r"\s*(?:/|\||\(|\)|\s[-–—]\s|,\s)\s*", text[:NAME_CHARS])
    return tuple(p for p in (piece.strip() for piece in pieces) if p and p != text.strip())
