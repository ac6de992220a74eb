"""Read a database row's cells back as the types api-audit wrote, or say which is wrong.

The database is meant to be browsed with Datasette, and so may be edited there or with
sqlite3. A cell that no longer holds what api-audit wrote (JSON that does not parse, a
list where an object was, text where a number was) raises BadCell naming its column; the
store turns that into one line naming the table and row as well (a StoreError, exit 2),
never an internal error later on.

The same readers check the entries of a JSON list of objects (`json_records`): an entry
is a mapping like a row, and a bad one is reported as the list's cell, entry by number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

_T = TypeVar("_T")
Row = Mapping[str, Any]


class BadCell(Exception):
    """A stored value api-audit would not have written."""

    def __init__(self, column: str, problem: str) -> None:
        super().__init__(f"{column} {problem}")
        self.column = column
        self.problem = problem


def text(row: Row, column: str) -> str:
    value = _cell(row, column)
    if not isinstance(value, str):
        raise BadCell(column, f"should be text, not {_kind(value)}")
    return value


def date(row: Row, column: str) -> dt.date:
    """A date stored as YYYY-MM-DD text."""
    try:
        return dt.date.fromisoformat(text(row, column))
    except ValueError:
        raise BadCell(column, "should be a date, YYYY-MM-DD") from None


def optional_text(row: Row, column: str) -> str | None:
    return None if row.get(column) is None else text(row, column)


def number(row: Row, column: str) -> float:
    value = _cell(row, column)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadCell(column, f"should be a number, not {_kind(value)}")
    return value


def optional_integer(row: Row, column: str) -> int | None:
    value = row.get(column)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise BadCell(column, f"should be a whole number, not {_kind(value)}")
    return value


def one_of(row: Row, column: str, allowed: tuple[_T, ...]) -> _T:
    """A stored word narrowed to its closed vocabulary (a Literal type)."""
    value = _cell(row, column)
    if value not in allowed:
        words = ", ".join(map(str, allowed))
        raise BadCell(column, f"is {_kind(value)}, not one of {words}")
    return value


def optional_one_of(row: Row, column: str, allowed: tuple[_T, ...]) -> _T | None:
    """A stored word of a closed vocabulary, or NULL."""
    return None if row.get(column) is None else one_of(row, column, allowed)


def json_object(row: Row, column: str) -> dict[str, object]:
    value = _json(row, column)
    if not isinstance(value, dict):
        raise BadCell(column, f"should be a JSON object, not {_kind(value)}")
    return value


def json_string_map(row: Row, column: str) -> dict[str, str]:
    value = json_object(row, column)
    if not all(isinstance(v, str) for v in value.values()):
        raise BadCell(column, "should be a JSON object whose values are strings")
    return cast(dict[str, str], value)


def json_strings(row: Row, column: str) -> tuple[str, ...]:
    value = _json(row, column)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadCell(column, f"should be a JSON list of strings, not {_kind(value)}")
    return tuple(value)


def string_list(row: Row, column: str) -> tuple[str, ...]:
    """A list of strings inside an object already read from JSON (see `json_records`)."""
    value = _cell(row, column)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadCell(column, f"should be a list of strings, not {_kind(value)}")
    return tuple(value)


def json_pairs(row: Row, column: str) -> tuple[tuple[str, str], ...]:
    value = _json(row, column)
    if not isinstance(value, list) or not all(_is_pair(item) for item in value):
        raise BadCell(column, "should be a JSON list of [name, value] pairs of strings")
    return tuple((pair[0], pair[1]) for pair in value)


def json_records(row: Row, column: str, build: Callable[[Row], _T]) -> tuple[_T, ...]:
    """A JSON list of objects, each built by `build` (which reads it with these readers)."""
    value = _json(row, column)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise BadCell(column, f"should be a JSON list of objects, not {_kind(value)}")
    built = []
    for index, item in enumerate(value):
        try:
            built.append(build(item))
        except BadCell as exc:
            raise BadCell(column, f"entry {index + 1}: '{exc.column}' {exc.problem}") from None
    return tuple(built)


def _cell(row: Row, column: str) -> object:
    if column not in row:
        raise BadCell(column, "is missing")
    return row[column]


def _json(row: Row, column: str) -> object:
    raw = _cell(row, column)
    if not isinstance(raw, str):
        raise BadCell(column, f"should be JSON text, not {_kind(raw)}")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadCell(column, f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise BadCell(column, "is JSON nested too deeply") from None


def _is_pair(item: object) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)


def _kind(value: object) -> str:  # noqa: PLR0911 - one return per type
    """How a wrong value is described: 'a list', 'the number 3', 'text ('x')', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = repr(value[:40]) + ("..." if len(value) > 40 else "")
        return f"text ({shown})"
    if isinstance(value, bytes):
        return f"a blob of {len(value)} bytes"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
