"""Benchmark `api-audit import ocds` on a generated year of notices: time and peak memory.

Writes N releases (default 100,000; half IT) in two layouts, a single release package
(pretty-printed, one value) and gzipped JSON lines of releases, then imports each in a fresh
process (`api-audit import ocds`) and reports wall time, releases per second and peak RSS
(getrusage of the child). Flat memory means the peak stays the same as N grows:
run with --releases 10000 and 100000 and compare.

    .venv/bin/python bench/ocds_import.py [--releases 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import tempfile
from pathlib import Path

from _common import python

BUYERS = ["LONDON BOROUGH OF HACKNEY", "Hackney Council", "Royal Borough of Greenwich"]
SUPPLIERS = ["CIVICA UK LIMITED", "Idox Software Ltd", "Softcat plc", "CDW Limited"]


def release(n: int) -> dict[str, object]:
    it = n % 2 == 0
    return {
        "ocid": f"ocds-b5fd17-{n:08d}",
        "id": f"ocds-b5fd17-{n:08d}-award-1",
        "date": "2025-03-01T10:00:00Z",
        "tag": ["award"],
        "buyer": {"id": f"GB-CFS-{n % 500}", "name": BUYERS[n % len(BUYERS)]},
        "parties": [
            {"id": f"GB-CFS-{n % 500}", "name": BUYERS[n % len(BUYERS)], "roles": ["buyer"]},
            {
                "id": f"GB-COH-{n % 9000:08d}",
                "name": SUPPLIERS[n % len(SUPPLIERS)],
                "roles": ["supplier"],
                "identifier": {"scheme": "GB-COH", "id": f"{n % 9000:08d}"},
            },
        ],
        "tender": {
            "title": f"Software support {n}",
            "description": "Support and maintenance of a line-of-business system. " * 4,
            "classification": {"scheme": "CPV", "id": "48000000-8" if it else "90511000-2"},
        },
        "awards": [
            {
                "id": "1",
                "status": "active",
                "value": {"amount": 1000 + n, "currency": "GBP"},
                "suppliers": [{"id": f"GB-COH-{n % 9000:08d}", "name": SUPPLIERS[n % 4]}],
                "contractPeriod": {"startDate": "2025-04-01", "endDate": "2028-03-31"},
            }
        ],
    }


def write_files(folder: Path, count: int) -> dict[str, Path]:
    package = folder / "package.json"
    with package.open("w") as out:
        out.write('{"uri": "bench", "version": "1.1", "releases": [\n')
        for n in range(count):
            out.write(("" if n == 0 else ",\n") + json.dumps(release(n), indent=2))
        out.write("\n]}\n")
    lines = folder / "releases.jsonl.gz"
    with gzip.open(lines, "wt") as out:
        for n in range(count):
            out.write(json.dumps(release(n)) + "\n")
    return {"single package": package, "gzipped JSON lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ocds-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    files = write_files(folder, args.releases)
    for name, path in files.items():
        size = path.stat().st_size / 2**20
        # a separate interpreter per measurement, so each peak is its own
        probe = [python(), "-c", (
            "import resource, subprocess, sys, time;"
            "t = time.perf_counter();"
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True);"
            "print(time.perf_counter() - t,"
            " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.stdout.strip(), sep='|')"
        ), python(), "-m", "api_audit", "import", "ocds", "--db",
            str(folder / f"{path.stem}.db"), str(path)]  # fmt: skip
        seconds, peak_kib, summary = (
            subprocess.run(probe, capture_output=True, text=True, check=True)
            .stdout.strip()
            .split("|", 2)
        )
        rate = args.releases / float(seconds)
        print(
            f"{name}: {args.releases} releases, {size:.1f} MiB on disk: {float(seconds):.1f} s "
            f"({rate:,.0f} releases/s), peak RSS {int(peak_kib) / 1024:.0f} MiB\n  {summary}"
        )


if __name__ == "__main__":
    main()
