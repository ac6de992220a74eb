"""Our own error types and the exit codes they map to, in one place.

Network trouble is never an error here: it becomes an `inconclusive` finding. Only our
own problems raise: a bad catalogue, a bad probe file, an unusable database, bad usage.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

EXIT_OK = 0  # done, and any threshold was met
EXIT_THRESHOLD = 1  # done, but a threshold or regression gate failed
EXIT_UNUSABLE = 2  # could not do the job: bad catalogue, probe file, database or usage
# Stopped by a signal: 128 + its number, as shells report it (130 SIGINT, 143 SIGTERM).
EXIT_SIGNAL_BASE = 128


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    path: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class AuditError(Exception):
    """Base for errors that stop a command; `str()` is the one line the user sees."""

    exit_code = EXIT_UNUSABLE


class InputError(AuditError):
    """An input file (catalogue, probe, rubric) has problems; all of them are listed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid input"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class CatalogueError(InputError):
    """vendors.yaml could not be loaded or is invalid."""


class MethodologyError(InputError):
    """A probe file or the rubric could not be loaded or is invalid."""


class StoreError(AuditError):
    """The database cannot be opened, is not ours, or lacks what was asked for."""


class UsageError(AuditError):
    """The command line asks for something that cannot be done."""


class ImportStopped(AuditError):
    """An import from a procurement API stopped before its end; what it stored is kept."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: stop, keep what is stored, exit 128 + the signal number.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way out
    (a vendor's failure becoming a finding, say) can swallow it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.run_id: int | None = None  # the run marked interrupted, when there was one
        super().__init__(signum)

    @property
    def exit_code(self) -> int:
        return EXIT_SIGNAL_BASE + self.signum

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"
