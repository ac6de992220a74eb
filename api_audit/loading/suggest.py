"""Did-you-mean: the closest known word to a mistyped one, said the same way by every loader."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Past this length a word is junk, not a typo: no guess is offered (and difflib's cost,
# which grows with the word's length, is never paid for it).
MAX_GUESSED_LENGTH = 99


def close_match(word: object, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely meant, or None when none is close."""
    text = str(word)
    if len(text) > MAX_GUESSED_LENGTH:
        return None
    found = difflib.get_close_matches(text, list(choices), n=1)
    return found[0] if found else None


def did_you_mean(word: object, choices: Iterable[str], *, listing: bool = False) -> str:
    """' (did you mean 'x'?)' for a close choice, else with `listing` every choice, else ''."""
    options = list(choices)
    guess = close_match(word, options)
    if guess is not None:
        return f" (did you mean {guess!r}?)"
    return f" (expected one of: {', '.join(options)})" if listing else ""
