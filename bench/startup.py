"""Start-up cost: wall time of commands that need no network, against bare Python.

Each command runs `--repeat` times as a fresh process (the median is reported) after one
warm-up run, so the OS file cache is warm, as it is for a person running the tool twice.
Also records which heavy packages each command imports (`-X importtime`), since the aim
(issue 10) is that `--help`, `validate`, `schema`, `probes`, `scorecard` and `renewals`
import no HTTP stack. Bounded: a few dozen short processes, nothing on the network.

    .venv/bin/python bench/startup.py --repeat 15 --label startup
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, python, write_result

HEAVY = ("aiohttp", "httpx", "sqlite_utils", "yaml", "api_audit.methodology")


def commands(db: Path) -> dict[str, list[str]]:
    cli = [python(), "-m", "api_audit"]
    return {
        "bare python": [python(), "-c", "pass"],
        "--help": [*cli, "--help"],
        "--version": [*cli, "--version"],
        "validate": [*cli, "validate", "-c", str(ROOT / "vendors.yaml")],
        "schema": [*cli, "schema"],
        "probes list": [*cli, "probes", "list"],
        "scorecard (no runs)": [*cli, "scorecard", "--db", str(db)],
    }


def timed(cmd: list[str], repeat: int) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=False, cwd=ROOT)  # warm the file cache
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - began)
    return times


def heavy_imports(cmd: list[str]) -> list[str]:
    """The HEAVY top-level packages the command imports."""
    done = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return sorted(h for h in HEAVY if h in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--label", default="startup")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "empty.db"
        results: dict[str, dict[str, object]] = {}
        for name, cmd in commands(db).items():
            times = timed(cmd, args.repeat)
            results[name] = {
                "median_s": round(statistics.median(times), 4),
                "min_s": round(min(times), 4),
                "heavy_imports": heavy_imports(cmd) if name != "bare python" else [],
            }
    bare = float(results["bare python"]["median_s"])  # type: ignore[arg-type]
    print(f"{'command':<22} {'median':>8} {'above bare':>11}  heavy imports")
    for name, row in results.items():
        median = float(row["median_s"])  # type: ignore[arg-type]
        row["above_bare_s"] = round(median - bare, 4)
        heavy = ", ".join(row["heavy_imports"]) or "-"  # type: ignore[arg-type]
        print(f"{name:<22} {median:>7.3f}s {median - bare:>10.3f}s  {heavy}")
    path = write_result(
        args.label,
        {"repeat": args.repeat, "commands": results, "machine": machine()},
    )
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
