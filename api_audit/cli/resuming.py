"""`run --resume`: which run to continue, and the checks that it can go on as it began.

A run is continued only under the conditions it was started with, so that its findings are
those an uninterrupted run would have made: the same catalogue (sha256 of the file), the
same probe set (methodology sha256), the same api-audit version and the options recorded
with the run. Anything else is refused in one line (exit 2); start a new run instead.
Decisions (issue 12 leaves them open) are documented in docs/resume.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from api_audit.errors import UsageError
from api_audit.loading import YamlLoadError, read_yaml_file
from api_audit.text import escape_controls

if TYPE_CHECKING:
    from api_audit.models import Methodology, RunInfo
    from api_audit.store import Store

# Parameters of `run` that may go with --resume: where the database is, how to print, and
# where the run's own catalogue and probes are now (checked against the run's hashes).
# The CI gates (cli/gates.py) judge the finished run; they are not part of its record.
KEPT_WITH_RESUME: Final = frozenset(
    {"resume", "db", "output", "catalogue", "probes", "fail_under", "fail_on_regression"}
)


def _shown(text: str) -> str:
    return escape_controls(text, one_line=True)


def refuse_new_options(given: Iterable[str]) -> None:
    """`given`: the flags given on the command line besides KEPT_WITH_RESUME's. A resumed
    run keeps the options it started with (they are part of its record), so none is taken."""
    flags = list(given)
    if flags:
        raise UsageError(
            f"--resume continues a run with the options it was started with; {flags[0]} "
            "cannot be given with it (start a new run to change them)"
        )


def run_to_resume(store: Store, run_id: int | None, db_label: str) -> RunInfo:
    """Run `run_id`, or the newest unfinished run; refused when there is none or it is
    complete."""
    if run_id is None:
        run_id = store.newest_unfinished_run_id()
        if run_id is None:
            raise UsageError(f"nothing to resume: {db_label} holds no unfinished run")
    run = store.run_info(run_id)  # "no run N in FILE" when there is none
    if run.status == "complete":
        raise UsageError(f"run {run.id} is complete; there is nothing to resume")
    return run


def check_same_tool(run: RunInfo, tool_version: str) -> None:
    """One run, one api-audit version: a run's record names the version that made it."""
    if run.options.get("demo"):
        raise UsageError(
            f"run {run.id} is a demo run; its simulated market is gone (run `api-audit demo` again)"
        )
    if run.tool_version != tool_version:
        raise UsageError(
            f"cannot resume run {run.id}: it was started by api-audit "
            f"{_shown(run.tool_version)}, this is {tool_version} (start a new run)"
        )


def catalogue_bytes(run: RunInfo, path: Path) -> bytes:
    """The catalogue file's bytes, refused unless they are the ones the run started with
    (sha256, as recorded with the run)."""
    try:
        raw = read_yaml_file(path)  # a regular file of bounded size; never a FIFO or device
    except YamlLoadError as exc:
        raise UsageError(
            f"cannot resume run {run.id}: {_shown(str(exc.problem))} (if the catalogue "
            "moved, pass --catalogue FILE)"
        ) from None
    now = hashlib.sha256(raw).hexdigest()
    if now != run.catalogue_sha256:
        raise UsageError(
            f"cannot resume run {run.id}: catalogue {_shown(str(path))} changed since it "
            f"started (sha256 was {_shown(run.catalogue_sha256)}, now {now}); "
            "start a new run"
        )
    return raw


def check_same_methodology(run: RunInfo, methodology: Methodology, probes: Path | None) -> None:
    """Refused unless the probe set is the one the run started with (methodology sha256)."""
    if methodology.sha256 == run.methodology_sha256:
        return
    where = f"probes in {_shown(str(probes))}" if probes else "built-in probes"
    raise UsageError(
        f"cannot resume run {run.id}: the probe set changed since it started (methodology "
        f"sha256 was {_shown(run.methodology_sha256)}, now {methodology.sha256}, "
        f"{where}); pass the --probes it was started with, or start a new run"
    )
