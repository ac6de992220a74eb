"""What-if measurements of api-audit's HTTP engine, to decide what to change (bench only).

Drives `api_audit.net.HttpEngine` directly over the simulated market, with the same request
plan and the same per-system `gather` shape as `api_audit/audit.py`, but without the store,
evaluation or rendering, so the numbers are the HTTP engine's alone. Each variant runs in
its own child process pinned to CPU1 (the server on CPU0), against a fresh server; the
variants are applied in that child only, by patching at run time; no project file changes:

    as-is             the engine as shipped (httpx API over api_audit/net/transport.py: aiohttp's
                      connector, address guard in its resolver and socket factory)
    httpx-transport   httpx's own transport (httpcore pool, its default limits: 20 kept
                      alive), the engine's transport before the switch; NOTE: no address
                      guard (the old guard, a wrapped httpcore backend, is in git history)
    httpx-aiohttp     httpx's API over the third-party httpx-aiohttp transport, only when
                      the interpreter has `httpx_aiohttp` (a scratch venv); no address guard

    .venv/bin/python bench/engine_variants.py --systems 200 --repeat 3
"""

# ruff: noqa: PLC0415 - the child imports the engine after choosing its variant

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import typing
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ROOT,
    machine,
    pinned,
    python,
    start_server,
    stop_server,
    wait_for_quiet,
    write_result,
)
from make_catalogue import build

VARIANTS = ("as-is", "httpx-transport", "httpx-aiohttp")


# --- the child: one variant, one measurement -----------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(args: argparse.Namespace) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    import httpx

    from api_audit.catalogue import load_catalogue, select_systems
    from api_audit.methodology import load_methodology
    from api_audit.net import FetchOptions, HttpEngine
    from api_audit.plan import distinct_requests, plan_probes

    variant = args.variant

    def httpx_transport() -> httpx.AsyncBaseTransport:
        limits = httpx.Limits(max_connections=args.concurrency)
        return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)

    def httpx_aiohttp_transport() -> httpx.AsyncBaseTransport:
        import httpx_aiohttp  # type: ignore[import-not-found]

        return httpx_aiohttp.AiohttpTransport()  # type: ignore[no-any-return]

    # None: the engine's own guarded transport
    make_transport = {
        "as-is": None,
        "httpx-transport": httpx_transport,
        "httpx-aiohttp": httpx_aiohttp_transport,
    }[variant]

    systems = select_systems(load_catalogue(args.catalogue))
    plans = plan_probes(systems, load_methodology(None), random_token=secrets.token_hex(8))
    by_system: dict[str, list[typing.Any]] = defaultdict(list)
    for plan in plans:
        by_system[plan.system.id].append(plan)
    options = FetchOptions(concurrency=args.concurrency, per_host=args.per_host, allow_private=True)
    errors: Counter[str] = Counter()

    async def main() -> int:
        async with HttpEngine(options, transport=make_transport) as engine:

            async def one(system_plans: list[typing.Any]) -> None:
                for exchange in await asyncio.gather(
                    *(engine.fetch(r) for r in distinct_requests(system_plans))
                ):
                    errors[exchange.error or "ok"] += 1

            await asyncio.gather(*(one(p) for p in by_system.values()))
            return engine.requests_sent

    cpu0, wall0 = _cpu(), time.perf_counter()
    sent = asyncio.run(main())
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    return {
        "variant": variant,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "sent": sent,
        "cpu_per_request_ms": round(cpu / max(sent, 1) * 1000, 3),
        "outcomes": dict(errors),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- the parent: a server per measurement, each variant in a pinned child ------------------


def measure(
    variant: str, args: argparse.Namespace, tmp: Path, interpreter: str
) -> dict[str, object]:
    hosts = min(args.systems, args.hosts)
    quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait > 0 else {}
    stats_path = tmp / f"server-{variant}.json"
    server, port = start_server(
        hosts=hosts, latency_ms=args.latency_ms, stats=stats_path, cpu=0, duration=args.timeout + 60
    )
    try:
        catalogue = tmp / "catalogue.yaml"
        catalogue.write_text(build(args.systems, hosts, port), "utf-8")
        cmd = pinned(
            [
                interpreter,
                str(Path(__file__).resolve()),
                "--child",
                "--variant",
                variant,
                "--catalogue",
                str(catalogue),
                "--concurrency",
                str(args.concurrency),
                "--per-host",
                str(args.per_host),
            ],
            1,
        )
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            env=env,
            cwd=ROOT,
            check=False,
        )
    finally:
        stats = stop_server(server, stats_path)
    if done.returncode != 0:
        return {"variant": variant, "error": done.stderr.strip().splitlines()[-1:]}
    row: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    row.update(quiet)
    row["server_served"] = stats["served"]
    row["server_connections"] = stats["connections"]
    row["server_peak_in_flight_per_host"] = stats["peak_in_flight_per_host"]
    per_host = [h["served"] for h in stats["per_host"].values()]  # type: ignore[union-attr]
    waves = max(
        -(-sum(per_host) // args.concurrency),
        *(-(-n // min(args.per_host, n)) for n in per_host if n),
    )
    row["ideal_s"] = round(waves * args.latency_ms / 1000, 3)
    row["ratio_to_ideal"] = round(float(row["wall_s"]) / row["ideal_s"], 3)  # type: ignore[arg-type]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument(
        "--variants",
        default="as-is,httpx-transport",
        help=f"comma-separated, from {', '.join(VARIANTS)}",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="wait up to this many seconds for an idle machine before each run",
    )
    parser.add_argument(
        "--python", default=None, help="interpreter for the children (default the project venv's)"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--label", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--catalogue", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0

    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    interpreter = args.python or python()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-variants-") as tmp:
        for rep in range(args.repeat):
            for variant in variants:  # interleaved, so drift hits every variant alike
                row = measure(variant, args, Path(tmp), interpreter)
                row["rep"] = rep + 1
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    summary = []
    for variant in variants:
        ok = [r for r in rows if r["variant"] == variant and "error" not in r]
        if not ok:
            summary.append(
                {
                    "variant": variant,
                    "error": [r.get("error") for r in rows if r["variant"] == variant][:1],
                }
            )
            continue

        def med(key: str, ok: list[dict[str, object]] = ok) -> float:
            return float(statistics.median(float(r[key]) for r in ok))  # type: ignore[arg-type]

        summary.append(
            {
                "variant": variant,
                "runs": len(ok),
                "wall_s": med("wall_s"),
                "ideal_s": med("ideal_s"),
                "ratio_to_ideal": med("ratio_to_ideal"),
                "cpu_per_request_ms": med("cpu_per_request_ms"),
                "sent": med("sent"),
                "server_connections": med("server_connections"),
                "peak_rss_mb": med("peak_rss_mb"),
            }
        )
    label = args.label or f"engine-variants-s{args.systems}"
    path = write_result(
        label,
        {
            "benchmark": "engine_variants",
            "machine": machine(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "config": {
                k: v for k, v in vars(args).items() if k not in ("child", "variant", "catalogue")
            },
            "summary": summary,
            "runs": rows,
        },
    )
    print("| variant | wall s (median) | ideal s | ratio | CPU ms/req | requests | connections |")
    print("|---|---|---|---|---|---|---|")
    for s in summary:
        if "error" in s:
            print(f"| {s['variant']} | error: {s['error']} | | | | | |")
            continue
        print(
            f"| {s['variant']} | {s['wall_s']:.2f} | {s['ideal_s']:.2f} | "
            f"{s['ratio_to_ideal']:.2f} | {s['cpu_per_request_ms']:.3f} | {s['sent']:.0f} | "
            f"{s['server_connections']:.0f} |"
        )
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
