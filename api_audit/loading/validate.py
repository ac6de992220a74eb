"""The located validator: a loader records each problem at the key or value it is about.

A loader reads a YamlDocument and calls `error(at, message)` with the path of what is
wrong; the problem carries that value's (or key's) line and column, so it prints as
`file:line:col: message`. Every loader collects all its problems before raising, so a
user fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from api_audit.errors import Problem
from api_audit.loading.document import PathKey, YamlDocument


class LocatedValidator:
    """Collects located problems (and warnings) about one YAML document as it is read."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, at: PathKey, message: str, *, key: bool = False) -> None:
        """Record a problem at the value for `at` (or at its key, with `key`)."""
        self.problems.append(self.doc.problem(at, message, key=key))

    def warn(self, at: PathKey, message: str) -> None:
        """Record something worth saying that does not stop the file being used."""
        self.warnings.append(self.doc.problem(at, message))

    def line_of(self, at: PathKey) -> int:
        """The line the value for `at` was written on (0 when unknown)."""
        return self.doc.value_marks.get(at, (0, 0))[0]


def in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    """Problems sorted by line and column; problems at one place keep the order found."""
    return sorted(problems, key=lambda p: (p.line, p.column))
