"""Measure the benchmark market server's own capacity, with a lean raw-asyncio client.

The point is to show the server is not the bottleneck when api-audit is benchmarked against
it. The server runs pinned to CPU0 (as in run_bench.py) and this client pins itself to CPU1.
The client is a few lines of asyncio streams, no httpx: `--concurrency` workers, each
holding one connection to one host, sending `--per-connection` GETs on it (keep-alive) and
then moving on to another host (a fresh connection), so the load covers all reachable hosts.
`--per-connection 1` sends `Connection: close` on every request (a new connection each).

For each server latency in `--latencies` it starts a fresh server, sends `--requests` GETs
(bounded also by `--time-limit` seconds), and reports requests/s, the ideal requests/s
(concurrency / latency), the server's CPU per request and its CPU use (server CPU seconds /
wall seconds; near 1.0 means the server is saturated), and the client's CPU per request.

    python bench/server_capacity.py                       # latency 0 and 50 ms, concurrency 64
    python bench/server_capacity.py --latencies 0 --per-connection 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, start_server, stop_server, wait_for_quiet, write_result
from market_server import archetype, host_address

PATHS = {
    "open": (
        "/s0/docs",
        "/s0/openapi.json",
        "/s0/api",
        "/.well-known/api-catalog",
        "/.well-known/openid-configuration",
        "/.well-known/security.txt",
        "/robots.txt",
    ),
    "docs-only": ("/s0/docs", "/s0/openapi.json", "/.well-known/security.txt", "/robots.txt"),
    "login-wall": ("/s0/docs", "/login?next=/s0/docs", "/s0/openapi.json", "/s0/api"),
    "shell": ("/s0/docs", "/s0/openapi.json", "/zz-random-123", "/.well-known/security.txt"),
}


class Load:
    def __init__(self, total: int, deadline: float) -> None:
        self.remaining = total
        self.deadline = deadline
        self.done = 0
        self.errors = 0
        self.statuses: dict[int, int] = {}

    def take(self) -> bool:
        if self.remaining <= 0 or time.monotonic() > self.deadline:
            return False
        self.remaining -= 1
        return True


async def worker(
    index: int,
    hosts: list[tuple[str, str]],
    port: int,
    concurrency: int,
    per_connection: int,
    load: Load,
) -> None:
    spot = index
    while load.remaining > 0 and time.monotonic() < load.deadline:
        address, kind = hosts[spot % len(hosts)]
        spot += concurrency
        paths = PATHS[kind]
        close = per_connection == 1
        writer = None
        try:
            reader, writer = await asyncio.open_connection(address, port)
            for n in range(per_connection):
                if not load.take():
                    return
                path = paths[(index + n) % len(paths)]
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: {address}:{port}\r\n"
                    f"User-Agent: bench-capacity\r\n"
                    f"{'Connection: close' if close else 'Accept: */*'}\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                        break
                if length:
                    await reader.readexactly(length)
                load.done += 1
                load.statuses[status] = load.statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            load.errors += 1
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()


async def drive(
    hosts: list[tuple[str, str]],
    port: int,
    concurrency: int,
    per_connection: int,
    requests: int,
    time_limit: float,
) -> tuple[Load, float]:
    load = Load(requests, time.monotonic() + time_limit)
    started = time.perf_counter()
    await asyncio.gather(
        *(worker(i, hosts, port, concurrency, per_connection, load) for i in range(concurrency))
    )
    return load, time.perf_counter() - started


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(latency_ms: float, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    stats_path = workdir / f"capacity-{latency_ms:g}.json"
    quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait > 0 else {}
    server, port = start_server(
        hosts=args.hosts,
        latency_ms=latency_ms,
        stats=stats_path,
        down_share=args.down_share,
        cpu=0,
        duration=args.time_limit + 60,
    )
    try:
        hosts = [(host_address(i), archetype(i, args.down_share)) for i in range(args.hosts)]
        hosts = [h for h in hosts if h[1] != "down"]
        requests = args.requests if latency_ms == 0 else args.requests_latency
        cpu0 = _cpu()
        load, wall = asyncio.run(
            drive(hosts, port, args.concurrency, args.per_connection, requests, args.time_limit)
        )
        client_cpu = _cpu() - cpu0
    finally:
        stats = stop_server(server, stats_path)
    served = int(stats["served"])  # type: ignore[arg-type]
    server_cpu = float(stats["cpu_s"])  # type: ignore[arg-type]
    ideal_rps = args.concurrency / (latency_ms / 1000) if latency_ms else None
    rps = load.done / wall
    return {
        "latency_ms": latency_ms,
        "concurrency": args.concurrency,
        "hosts_reachable": len(hosts),
        "per_connection": args.per_connection,
        "requests_ok": load.done,
        "errors": load.errors,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "server_served": served,
        "server_connections": stats["connections"],
        "wall_s": round(wall, 3),
        "req_per_s": round(rps, 1),
        "ideal_req_per_s": ideal_rps,
        "ratio_to_ideal": round(ideal_rps / rps, 3) if ideal_rps else None,
        "server_cpu_s": server_cpu,
        "server_cpu_per_request_ms": round(server_cpu / served * 1000, 4) if served else None,
        "server_cpu_use": round(server_cpu / wall, 3),
        "server_capacity_estimate_req_per_s": round(served / server_cpu) if server_cpu else None,
        "client_cpu_per_request_ms": round(client_cpu / max(load.done, 1) * 1000, 4),
        "server_peak_in_flight_per_host": stats["peak_in_flight_per_host"],
        **quiet,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--down-share", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latencies", default="0,50", help="comma-separated ms (default 0,50)")
    parser.add_argument("--requests", type=int, default=30000, help="GETs at latency 0")
    parser.add_argument(
        "--requests-latency",
        type=int,
        default=8000,
        help="GETs at a non-zero latency (default 8000)",
    )
    parser.add_argument(
        "--per-connection",
        type=int,
        default=10,
        help="GETs per connection before moving host (1 = Connection: close)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="stop each phase after this many seconds (default 60)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="wait up to this many seconds for an idle machine before each phase",
    )
    parser.add_argument("--label", default=None, help="result name (default server_capacity)")
    args = parser.parse_args(argv)
    if 1 in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {1})  # the client on CPU1, the server on CPU0
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
        for latency in (float(x) for x in args.latencies.split(",")):
            row = measure(latency, args, Path(tmp))
            rows.append(row)
            print(
                f"latency {latency:g} ms, c{args.concurrency}, {args.per_connection}/conn: "
                f"{row['req_per_s']} req/s ({row['requests_ok']} ok, {row['errors']} errors, "
                f"{row['wall_s']} s); server CPU {row['server_cpu_per_request_ms']} ms/req, "
                f"use {row['server_cpu_use']}; client CPU "
                f"{row['client_cpu_per_request_ms']} ms/req",
                file=sys.stderr,
            )
    name = args.label or "server_capacity"
    path = write_result(
        name,
        {
            "benchmark": "server_capacity",
            "machine": machine(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rows": rows,
        },
    )
    print(
        "| latency | concurrency | per conn | req/s | ideal req/s | server CPU/req | "
        "server CPU use | server capacity est. |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ideal = f"{r['ideal_req_per_s']:.0f}" if r["ideal_req_per_s"] else "-"
        print(
            f"| {r['latency_ms']:g} ms | {r['concurrency']} | {r['per_connection']} | "
            f"{r['req_per_s']:.0f} | {ideal} | {r['server_cpu_per_request_ms']} ms | "
            f"{r['server_cpu_use']:.0%} | {r['server_capacity_estimate_req_per_s']} req/s |"
        )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
