"""Benchmark a full `api-audit run` against the simulated market and compare it with the ideal.

Steps: start bench/market_server.py pinned to CPU0 (`taskset -c 0`), write the matching
catalogue (bench/make_catalogue.py), run
`api-audit run --catalogue C --db D --allow-private --concurrency N --per-host P --format json`
as a child pinned to CPU1, then a one-system baseline run (the fixed cost of starting the
CLI), stop the server and report:

  wall time (the whole child process) and audit time (the "in T s" of the CLI's summary),
  requests (the CLI's distinct/sent counts and the server's served count), requests/s,
  client CPU per request (user+sys of the child, from os.wait4's rusage; also the marginal
  figure with the baseline's fixed cost taken off), client peak RSS (ru_maxrss of the child),
  SQLite rows written (exchanges + findings, counted in the database afterwards) per second,
  the ideal time and the ratio to the ideal (see bench/README.md for the formula).

The result goes to bench/results/<label>.json and one Markdown line to bench/results/results.md.
`--profile` runs the child under `python -m cProfile -o` and prints the top 25 functions by
cumulative time, and the top 25 by own time with their share of the total.

    .venv/bin/python bench/run_bench.py                           # 200 systems, 50 ms, c64, 2/host
    .venv/bin/python bench/run_bench.py --systems 5000 --label scale-5000
    .venv/bin/python bench/run_bench.py --profile --label profile-200
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import pstats
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    RESULTS,
    ROOT,
    machine,
    pinned,
    python,
    start_server,
    stop_server,
    wait_for_quiet,
    write_result,
)
from make_catalogue import LAYOUTS, build

SUMMARY = re.compile(
    r"audited (?P<systems>\d+) systems?: (?P<findings>\d+) findings? from "
    r"(?P<distinct>\d+) distinct requests? \((?P<sent>\d+) sent\) in (?P<seconds>[\d.]+) ?s"
)


@dataclass(frozen=True)
class HostLoad:
    """What one host had to serve, for the ideal: requests, whether a robots.txt fetch
    came first (every other request waits for it), and the longest redirect chain."""

    requests: int
    robots_first: bool = False
    chain: int = 1


def host_time(load: HostLoad, latency: float, per_host: int, spacing: float) -> float:
    """The earliest one host can finish: starts at least `spacing` apart, at most `per_host`
    in flight, each request `latency` long, after robots.txt when it came first.

    Greedy earliest start is optimal for identical requests on one host:
    t_k = max(t_{k-1} + spacing, t_{k-per_host} + latency, gate)."""
    n = load.requests
    if n <= 0:
        return 0.0
    starts: list[float] = []
    for k in range(n):
        t = 0.0
        if k >= 1:
            t = starts[k - 1] + spacing
            if load.robots_first:
                t = max(t, latency)  # robots.txt (k == 0) must be answered first
        if k >= per_host:
            t = max(t, starts[k - per_host] + latency)
        starts.append(t)
    greedy = starts[-1] + latency
    chain = ((1 if load.robots_first else 0) + load.chain) * latency
    return max(greedy, chain)


def ideal_time(
    hosts: dict[str, HostLoad],
    latency: float,
    concurrency: int,
    per_host: int,
    spacing: float = 0.0,
) -> dict[str, float]:
    """The shortest wall time the request counts, limits and latency allow (README, "Ideal").

    Global bound: every request holds one of `concurrency` slots for `latency`, so N requests
    need ceil(N / C) waves of `latency`. Host bound: the slowest host on its own (host_time).
    With no spacing and no robots.txt gate the two together are exact for equal-length
    requests (T waves suffice iff N <= C*T and every n_h <= P*T); with spacing the max of
    the two is still a lower bound.
    """
    total = sum(h.requests for h in hosts.values())
    if total == 0 or latency == 0:
        return {
            "ideal_s": 0.0,
            "global_bound_s": 0.0,
            "host_bound_s": 0.0,
            "continuous_s": 0.0,
            "slowest_host": "",
        }
    global_bound = math.ceil(total / concurrency) * latency
    times = {a: host_time(h, latency, per_host, spacing) for a, h in hosts.items() if h.requests}
    slowest = max(times, key=lambda a: times[a])
    continuous = max(
        total * latency / concurrency,
        *(h.requests * latency / min(per_host, h.requests) for h in hosts.values() if h.requests),
    )
    return {
        "ideal_s": round(max(global_bound, times[slowest]), 4),
        "global_bound_s": round(global_bound, 4),
        "host_bound_s": round(times[slowest], 4),
        "continuous_s": round(continuous, 4),  # the brief's n*L/min(P,n) form, no spacing
        "slowest_host": slowest,
    }


def cli_command(args: argparse.Namespace) -> list[str]:
    if args.cli:
        return args.cli.split()
    exe = ROOT / ".venv" / "bin" / "api-audit"
    return [str(exe)] if exe.exists() else [python(), "-m", "api_audit"]


def cli_options(cmd: list[str]) -> str:
    """The text of `api-audit run --help`, to see which options this engine has."""
    try:
        done = subprocess.run(
            [*cmd, "run", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env=dict(os.environ, COLUMNS="200"),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


def run_client(cmd: list[str], out: Path, err: Path, timeout: float) -> dict[str, object]:
    """Run the CLI; return exit code, wall time and the child's own rusage (os.wait4)."""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("API_AUDIT_DEBUG", None)
    with out.open("wb") as fo, err.open("wb") as fe:
        busy_before = cpu_busy()
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=fo,
            stderr=fe,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # our own child's process group

        timer = threading.Timer(timeout, kill)
        timer.start()
        samples: list[tuple[float, float]] = []
        done = threading.Event()
        sampler = threading.Thread(
            target=_sample_rss, args=(proc.pid, started, samples, done), daemon=True
        )
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
        wall = time.perf_counter() - started
        busy = [round(b - a, 2) for a, b in zip(busy_before, cpu_busy(), strict=False)]
        sampler.join(timeout=2)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit_code": proc.returncode,
        "timed_out": timed_out.is_set(),
        "wall_s": wall,
        "cpu_user_s": usage.ru_utime,
        "cpu_sys_s": usage.ru_stime,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: KiB
        "rss_timeline": _timeline(samples, wall),
        "machine_busy_cpu_s_per_cpu": busy,  # every process on the machine, from /proc/stat
    }


def cpu_busy() -> list[float]:
    """Busy seconds of each CPU since boot (user+nice+system+irq+softirq+steal)."""
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("cpu") and line[3].isdigit():
                    f = [int(x) for x in line.split()[1:]]
                    busy.append((f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / hz)
    except (OSError, IndexError, ValueError):
        return []
    return busy


def _sample_rss(
    pid: int, started: float, samples: list[tuple[float, float]], done: threading.Event
) -> None:
    """VmRSS of the child every 0.1 s from /proc, to see whether memory stays flat."""
    path = f"/proc/{pid}/status"
    while not done.is_set():
        try:
            with open(path, encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        samples.append((time.perf_counter() - started, int(line.split()[1]) / 1024))
                        break
        except OSError:
            return
        done.wait(0.1)


def _timeline(samples: list[tuple[float, float]], wall: float) -> dict[str, object]:
    """RSS (MB) at each tenth of the run, and when the sampled peak happened."""
    if not samples:
        return {}
    peak_t, peak = max(samples, key=lambda s: s[1])
    deciles = []
    for k in range(1, 11):
        upto = [rss for t, rss in samples if t <= wall * k / 10]
        deciles.append(round(upto[-1], 1) if upto else None)
    return {
        "peak_mb": round(peak, 1),
        "peak_at_s": round(peak_t, 2),
        "mb_at_each_tenth_of_wall": deciles,
    }


def parse_summary(stderr: str) -> dict[str, float] | None:
    found = SUMMARY.search(" ".join(stderr.split()))  # Rich may wrap the line at 80 columns
    if found is None:
        return None
    return {k: (float(v) if k == "seconds" else int(v)) for k, v in found.groupdict().items()}


def count_rows(db: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    if not db.exists():
        return counts
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for table in ("runs", "systems", "exchanges", "findings", "bodies"):
            with contextlib.suppress(sqlite3.DatabaseError):
                counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()
    return counts


def planned_per_host(db: Path) -> dict[str, int] | None:
    """Requests the audit needed per host address, from the exchanges it stored: one per
    exchange plus its redirect hops (whether or not it was sent in the end)."""
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT url, redirects FROM exchanges").fetchall()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    counts: dict[str, int] = {}
    for url, redirects in rows:
        parts = urlsplit(url)
        if parts.path == "/robots.txt":
            continue  # counted from the server's robots.txt tally instead
        try:
            hops = len(json.loads(redirects or "[]"))
        except ValueError:
            hops = 0
        host = parts.hostname or ""
        counts[host] = counts.get(host, 0) + 1 + hops
    return counts


def exchange_errors(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            str(e or "ok"): n
            for e, n in conn.execute(
                "SELECT error, count(*) FROM exchanges GROUP BY error ORDER BY 2 DESC"
            )
        }
    except sqlite3.DatabaseError:
        return {}
    finally:
        conn.close()


def print_profile(prof: Path, report: Path) -> list[dict[str, object]]:
    """Top 25 by cumulative time, then top 25 by own time with its share of the total."""
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    total = stats.total_tt  # type: ignore[attr-defined]
    buf.write(f"total profiled time {total:.3f} s\n\n== top 25 by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(25)
    buf.write("\n== top 25 by own time (tottime) ==\n")
    rows = []
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in entries[:25]:
        short = filename.replace(str(ROOT) + "/", "")
        short = re.sub(r".*/site-packages/", "", short)
        share = tottime / total if total else 0.0
        buf.write(
            f"{share:6.1%}  {tottime:7.3f}s own  {cumtime:7.3f}s cum  {ncalls:>8}  "
            f"{short}:{line}({func})\n"
        )
        rows.append(
            {
                "function": func,
                "file": f"{short}:{line}",
                "calls": ncalls,
                "tottime_s": round(tottime, 4),
                "cumtime_s": round(cumtime, 4),
                "share": round(share, 4),
            }
        )
    buf.write("\n== own time by layer (built-ins charged to their callers) ==\n")
    layers = profile_layers(stats.stats, total)  # type: ignore[attr-defined]
    for layer, seconds in layers:
        buf.write(f"{seconds / total:6.1%}  {seconds:7.3f}s  {layer}\n")
    text = buf.getvalue()
    report.write_text(text, encoding="utf-8")
    print(text)
    return rows


def _layer(filename: str) -> str:
    """A coarse owner for a profiled function: a package, or a module of api_audit."""
    if "/api_audit/" in filename:
        return "api_audit/" + filename.rsplit("/api_audit/", 1)[1]
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith("<frozen importlib") or "importlib" in filename:
        return "imports"
    if "/asyncio/" in filename:
        return "asyncio (stdlib)"
    if filename == "~":
        return "built-ins"
    return "stdlib: " + filename.rsplit("/", 1)[-1]


def profile_layers(raw: dict, total: float) -> list[tuple[str, float]]:  # type: ignore[type-arg]
    """Own time summed per layer; a built-in's time goes to the layers of its callers."""
    totals: dict[str, float] = {}
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, callers) in raw.items():
        if filename != "~" or not callers:
            layer = _layer(filename)
            totals[layer] = totals.get(layer, 0.0) + tottime
            continue
        for (cfile, _cl, _cf), caller_stats in callers.items():
            layer = _layer(cfile)
            totals[layer] = totals.get(layer, 0.0) + caller_stats[2]
    return sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:25]


def run(args: argparse.Namespace) -> dict[str, object]:
    hosts = args.hosts if args.hosts is not None else min(args.systems, 200)
    hosts = min(hosts, args.systems)
    latency = args.latency_ms / 1000
    label = args.label or (
        f"s{args.systems}-l{args.latency_ms:g}-c{args.concurrency}"
        f"-p{args.per_host}{'-profile' if args.profile else ''}"
    )
    quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait > 0 else {}
    tmp = Path(tempfile.mkdtemp(prefix="api-audit-bench-"))
    stats_path = tmp / "server.json"
    server, port = start_server(
        hosts=hosts,
        latency_ms=args.latency_ms,
        stats=stats_path,
        down_share=args.down_share,
        cpu=0,
        duration=args.timeout * 2 + 120,
    )
    try:
        catalogue = tmp / "catalogue.yaml"
        catalogue.write_text(
            build(args.systems, hosts, port, args.down_share, args.layout), "utf-8"
        )
        db = tmp / "bench.db"
        base = cli_command(args)
        if args.profile:
            prof = tmp / "client.prof"
            if base[-2:] == ["-m", "api_audit"] or base[0].endswith("api-audit"):
                base = [python(), "-m", "cProfile", "-o", str(prof), "-m", "api_audit"]
        help_text = cli_options(cli_command(args))
        extra: list[str] = []
        if "--min-interval" in help_text:
            extra += ["--min-interval", f"{args.min_interval:g}"]
        elif args.min_interval:
            raise SystemExit("this api-audit has no --min-interval; use --min-interval 0")
        if args.ignore_robots:
            if "--ignore-robots" not in help_text:
                raise SystemExit("this api-audit has no --ignore-robots")
            extra.append("--ignore-robots")
        run_args = [
            "run",
            "--catalogue",
            str(catalogue),
            "--db",
            str(db),
            "--allow-private",
            "--concurrency",
            str(args.concurrency),
            "--per-host",
            str(args.per_host),
            "--format",
            "json",
            *extra,
            *args.cli_arg,
        ]
        print(
            f"[bench] {args.systems} systems on {hosts} hosts (port {port}), latency "
            f"{args.latency_ms:g} ms, concurrency {args.concurrency}, per-host {args.per_host}",
            file=sys.stderr,
        )
        out, err = tmp / "stdout.json", tmp / "stderr.txt"
        client = run_client(pinned([*base, *run_args], 1), out, err, args.timeout)
        # snapshot the server's counters before the baseline run adds to them (a stale file,
        # e.g. from a SIGUSR1 sent by hand during the run, must not be read instead)
        stats_path.unlink(missing_ok=True)
        server.send_signal(signal.SIGUSR1)
        for _ in range(100):
            if stats_path.exists():
                break
            time.sleep(0.05)
        served_stats = json.loads(stats_path.read_text("utf-8"))
        stats_path.unlink()
        baseline = None
        if args.baseline and not args.profile:
            base_cat = tmp / "baseline.yaml"
            base_cat.write_text(build(1, 1, port, args.down_share), "utf-8")
            base_out, base_err = tmp / "base.json", tmp / "base.txt"
            baseline = run_client(
                pinned(
                    [
                        *cli_command(args),
                        "run",
                        "--catalogue",
                        str(base_cat),
                        "--db",
                        str(tmp / "base.db"),
                        "--allow-private",
                        "--format",
                        "json",
                        *extra,
                        *args.cli_arg,
                    ],
                    1,
                ),
                base_out,
                base_err,
                120,
            )
            baseline["summary"] = parse_summary(base_err.read_text("utf-8", "replace"))
    finally:
        final_stats = stop_server(server, stats_path) if server.poll() is None else {}
        if server.poll() is None:
            server.kill()

    stderr = err.read_text("utf-8", "replace")
    summary = parse_summary(stderr)
    stdout = out.read_bytes()
    try:
        doc = json.loads(stdout)
        json_ok, json_systems = True, len(doc.get("systems", []))
    except ValueError:
        json_ok, json_systems = False, None
    rows = count_rows(db)

    spacing = args.min_interval
    server_hosts = served_stats["per_host"]
    loads = {
        a: HostLoad(int(h["served"]), bool(h.get("robots")), 2 if h["kind"] == "login-wall" else 1)
        for a, h in server_hosts.items()
    }
    ideal = ideal_time(loads, latency, args.concurrency, args.per_host, spacing)
    planned = planned_per_host(db)
    if planned:
        # only hosts that answer take `latency`; robots.txt fetches are not exchanges
        planned_loads = {
            a: HostLoad(
                n + int(server_hosts[a].get("robots", 0)), loads[a].robots_first, loads[a].chain
            )
            for a, n in planned.items()
            if a in server_hosts
        }
        ideal["planned"] = ideal_time(
            planned_loads, latency, args.concurrency, args.per_host, spacing
        )
        ideal["planned"]["requests"] = sum(h.requests for h in planned_loads.values())
    served = int(served_stats["served"])
    sent = int(summary["sent"]) if summary else served
    audit_s = float(summary["seconds"]) if summary else None
    cpu_per_req = client["cpu_s"] / sent * 1000 if sent else None
    marginal = None
    if baseline and baseline["summary"] and sent > baseline["summary"]["sent"]:
        marginal = (
            (client["cpu_s"] - baseline["cpu_s"]) / (sent - baseline["summary"]["sent"]) * 1000
        )
    written = rows.get("exchanges", 0) + rows.get("findings", 0)
    result: dict[str, object] = {
        "benchmark": "run_bench",
        "label": label,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {**machine(), **quiet},
        "config": {
            "systems": args.systems,
            "hosts": hosts,
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "per_host": args.per_host,
            "down_share": args.down_share,
            "profile": args.profile,
            "min_interval": args.min_interval,
            "layout": args.layout,
            "cli": [*cli_command(args), *run_args[:1], "...", *extra, *args.cli_arg],
            "pinned": pinned(["x"], 1) != ["x"],
        },
        "client": {
            **client,
            "stdout_json_ok": json_ok,
            "stdout_systems": json_systems,
            "stderr_tail": stderr.strip().splitlines()[-3:],
        },
        "summary_line": summary,
        "baseline_1_system": baseline,
        "server": {k: v for k, v in served_stats.items() if k != "per_host"},
        "server_final_cpu_s": final_stats.get("cpu_s"),
        "requests": {
            "distinct": summary["distinct"] if summary else None,
            "sent": sent,
            "served": served,
        },
        "db_rows": rows,
        "ideal": ideal,
        "metrics": {
            "wall_s": round(client["wall_s"], 3),
            "audit_s": audit_s,
            "req_per_s_wall": round(sent / client["wall_s"], 1),
            "req_per_s_audit": round(sent / audit_s, 1) if audit_s else None,
            "ratio_to_ideal_wall": round(client["wall_s"] / ideal["ideal_s"], 3)
            if ideal["ideal_s"]
            else None,
            "ratio_to_ideal_audit": round(audit_s / ideal["ideal_s"], 3)
            if ideal["ideal_s"] and audit_s
            else None,
            "ratio_to_planned_ideal_audit": round(audit_s / ideal["planned"]["ideal_s"], 3)
            if "planned" in ideal and ideal["planned"]["ideal_s"] and audit_s
            else None,
            "exchange_errors": exchange_errors(db),
            "client_cpu_s": round(client["cpu_s"], 3),
            "client_cpu_use": round(client["cpu_s"] / client["wall_s"], 3),
            "cpu_per_request_ms": round(cpu_per_req, 3) if cpu_per_req else None,
            "cpu_per_request_marginal_ms": round(marginal, 3) if marginal else None,
            "peak_rss_mb": round(client["peak_rss_mb"], 1),
            "rows_written": written,
            "rows_per_s_wall": round(written / client["wall_s"], 1),
            "rows_per_s_audit": round(written / audit_s, 1) if audit_s else None,
            "server_peak_in_flight_per_host": served_stats["peak_in_flight_per_host"],
            # CPU used on the machine during the client run by neither the client nor the
            # server: other tenants; a large figure means a noisy measurement.
            "foreign_cpu_s": round(
                sum(client["machine_busy_cpu_s_per_cpu"])
                - client["cpu_s"]
                - float(served_stats["cpu_s"]),
                2,
            )
            if client["machine_busy_cpu_s_per_cpu"]
            else None,
        },
    }
    if args.profile:
        result["profile_top_own_time"] = print_profile(
            tmp / "client.prof", RESULTS / f"{label}.profile.txt"
        )
    if args.keep:
        result["workdir"] = str(tmp)
    else:
        for p in sorted(tmp.iterdir()):
            p.unlink()
        tmp.rmdir()
    return result


SPREAD_KEYS = (
    "wall_s",
    "audit_s",
    "ratio_to_ideal_wall",
    "ratio_to_ideal_audit",
    "cpu_per_request_ms",
    "cpu_per_request_marginal_ms",
    "peak_rss_mb",
    "rows_per_s_audit",
    "req_per_s_audit",
)


def run_repeated(args: argparse.Namespace) -> dict[str, object]:
    """Run `--repeat` times (a fresh server each time); keep the median run by audit time."""
    runs = [run(args) for _ in range(1 if args.profile else args.repeat)]
    if len(runs) == 1:
        result = runs[0]
    else:

        def key(r: dict[str, object]) -> float:
            m = r["metrics"]  # type: ignore[index]
            return float(m["audit_s"] if m["audit_s"] is not None else m["wall_s"])

        ordered = sorted(runs, key=key)
        result = ordered[len(ordered) // 2]
        spread = {}
        for k in SPREAD_KEYS:
            values = [r["metrics"][k] for r in runs if r["metrics"][k] is not None]  # type: ignore[index]
            if values:
                spread[k] = {
                    "min": min(values),
                    "median": statistics.median(values),
                    "max": max(values),
                    "all": values,
                }
        result["repeats"] = {
            "count": len(runs),
            "reported": "the median run by audit time",
            "spread": spread,
        }
    path = write_result(str(result["label"]), result)
    print(f"[bench] wrote {path}", file=sys.stderr)
    return result


MD_HEADER = (
    "| label | systems/hosts | latency | conc/per-host | requests sent (served) "
    "| deadline errors | wall s | audit s | ideal s (planned) | ratio audit/ideal (planned) "
    "| ratio wall/ideal | req/s (audit) | CPU ms/req (marginal) | peak RSS MB "
    "| rows/s (audit) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def markdown_line(r: dict[str, object]) -> str:
    c, m, q, i = r["config"], r["metrics"], r["requests"], r["ideal"]  # type: ignore[index]

    def f(value: object, fmt: str = "{:.2f}") -> str:
        return "-" if value is None else fmt.format(value)

    planned = i.get("planned", {}).get("ideal_s")
    runs = r.get("repeats", {}).get("count", 1)  # type: ignore[union-attr]
    label = f"{r['label']} (median of {runs})" if runs > 1 else str(r["label"])
    return (
        f"| {label} | {c['systems']}/{c['hosts']} | {c['latency_ms']:g} ms | "
        f"{c['concurrency']}/{c['per_host']} | {q['sent']} ({q['served']}) | "
        f"{m['exchange_errors'].get('deadline', 0)} | "
        f"{m['wall_s']:.2f} | {f(m['audit_s'])} | {i['ideal_s']:.2f} ({f(planned)}) | "
        f"{f(m['ratio_to_ideal_audit'])} ({f(m['ratio_to_planned_ideal_audit'])}) | "
        f"{f(m['ratio_to_ideal_wall'])} | "
        f"{f(m['req_per_s_audit'], '{:.0f}')} | {f(m['cpu_per_request_ms'], '{:.3f}')} "
        f"({f(m['cpu_per_request_marginal_ms'], '{:.3f}')}) | {m['peak_rss_mb']:.0f} | "
        f"{f(m['rows_per_s_audit'], '{:.0f}')} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=200)
    parser.add_argument(
        "--hosts",
        type=int,
        default=None,
        help="hosts (suppliers) to spread the systems over (default min(systems, 200))",
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument(
        "--min-interval",
        type=float,
        default=0.0,
        help="seconds between request starts on one host, passed to api-audit when it has "
        "--min-interval (default 0: measure the engine; its polite default is 0.5)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="vendor-per-host",
        help="catalogue order: a host's systems together (default) or interleaved over hosts",
    )
    parser.add_argument(
        "--ignore-robots", action="store_true", help="pass --ignore-robots to api-audit"
    )
    parser.add_argument(
        "--down-share",
        type=float,
        default=0.05,
        help="share of hosts not bound (unreachable), default 0.05",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the client under cProfile and print the top functions",
    )
    parser.add_argument("--label", default=None, help="result name (bench/results/<label>.json)")
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the one-system run that measures the CLI's fixed cost",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="kill the client after this many seconds (default 900)",
    )
    parser.add_argument(
        "--cli",
        default=None,
        help="command to run instead of .venv/bin/api-audit (split on spaces)",
    )
    parser.add_argument(
        "--cli-arg",
        action="append",
        default=[],
        help="extra argument passed to `api-audit run` (repeatable)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds for the shared "
        "machine to be idle (default 60; 0 = don't)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run N times (fresh server each) and report the median run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (db, catalogue)")
    args = parser.parse_args(argv)
    result = run_repeated(args)
    m, c = result["metrics"], result["client"]
    print(
        json.dumps(
            {
                "label": result["label"],
                "exit_code": c["exit_code"],  # type: ignore[index]
                **m,
                "ideal_s": result["ideal"]["ideal_s"],  # type: ignore[index]
                "requests": result["requests"],
            },
            indent=1,
        )
    )
    if result["summary_line"] is None:
        print(
            "[bench] WARNING: no summary line found on the CLI's stderr; last lines:\n  "
            + "\n  ".join(c["stderr_tail"]),
            file=sys.stderr,
        )  # type: ignore[index]
    line = markdown_line(result)
    results_md = RESULTS / "results.md"
    if not results_md.exists():
        results_md.write_text(MD_HEADER, encoding="utf-8")
    with results_md.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    print(MD_HEADER + line)
    return 0 if c["exit_code"] in (0, 1) and not c["timed_out"] else 1  # type: ignore[index]


if __name__ == "__main__":
    raise SystemExit(main())
