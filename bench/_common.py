"""Helpers shared by the benchmark scripts: start/stop the market server, pin, record."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def python() -> str:
    """The project's venv interpreter when present, else the one running this script."""
    return str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def pinned(cmd: list[str], cpu: int | None) -> list[str]:
    """`cmd` under `taskset -c cpu` when taskset exists and the CPU is there."""
    if cpu is None or shutil.which("taskset") is None:
        return cmd
    if cpu not in os.sched_getaffinity(0):
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


def start_server(
    *,
    hosts: int,
    latency_ms: float,
    stats: Path,
    down_share: float = 0.05,
    port: int = 0,
    cpu: int | None = 0,
    duration: float = 1800.0,
) -> tuple[subprocess.Popen[str], int]:
    """Start bench/market_server.py and wait for its READY line; return (process, port)."""
    cmd = pinned(
        [
            python(),
            str(BENCH / "market_server.py"),
            "--hosts",
            str(hosts),
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--down-share",
            str(down_share),
            "--duration",
            str(duration),
            "--stats",
            str(stats),
        ],
        cpu,
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the server prints READY once every host is bound
    if not line.startswith("READY"):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise RuntimeError(f"market server did not start: {line!r} {err.strip()[-500:]}")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return proc, int(fields["port"])


def stop_server(proc: subprocess.Popen[str], stats: Path) -> dict[str, object]:
    """SIGTERM the server, wait for it, and return the counters it wrote."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    for _ in range(50):
        if stats.exists():
            break
        time.sleep(0.1)
    result: dict[str, object] = json.loads(stats.read_text(encoding="utf-8"))
    return result


def busy_share(seconds: float = 1.0) -> float:
    """How busy the whole machine is, in CPUs (0.0 idle .. cpu count), over `seconds`."""

    def busy() -> float:
        with open("/proc/stat", encoding="ascii") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
        return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")

    try:
        before = busy()
        time.sleep(seconds)
        return (busy() - before) / seconds
    except (OSError, ValueError, IndexError):
        return 0.0


def wait_for_quiet(max_wait: float, threshold: float = 0.15) -> dict[str, float]:
    """Wait up to `max_wait` s until other work on this shared machine uses < `threshold` of a
    CPU; measurements taken while another tenant's test suite runs are noisy. Returns what
    was seen, so the result can say whether it was measured on a quiet machine."""
    started = time.monotonic()
    load = busy_share()
    while load > threshold and time.monotonic() - started < max_wait:
        time.sleep(2)
        load = busy_share()
    return {
        "busy_cpus_before_run": round(load, 3),
        "waited_s": round(time.monotonic() - started, 1),
    }


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "taskset": shutil.which("taskset") is not None,
    }


def code_version() -> dict[str, object]:
    """Which engine was measured: the git HEAD, and a hash of api_audit/ and probes/ as they
    were on disk (the tree may hold uncommitted work)."""
    digest = hashlib.sha256()
    for folder in ("api_audit", "probes"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".yml"):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "api_audit", "probes"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=10,
            check=False,
        ).stdout.count("\n")
    except OSError:
        head, dirty = "", -1
    return {
        "git_head": head,
        "uncommitted_files_in_engine": dirty,
        "engine_sha256": digest.hexdigest()[:16],
    }


def write_result(name: str, data: dict[str, object]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data.setdefault("code", code_version())
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
