"""What-if measurements of api-audit's HTTP engine, to decide what to change (bench only).

Drives `api_audit.http.HttpEngine` directly over the simulated market, with the same request
plan and the same per-system `gather` shape as `api_audit/audit.py`, but without the store,
evaluation or rendering, so the numbers are the HTTP engine's alone. Each variant runs in
its own child process pinned to CPU1 (the server on CPU0), against a fresh server; the
variants are applied in that child only, by patching at run time; no project file changes:

    as-is             the engine as shipped
    keepalive         max_keepalive_connections = concurrency (httpcore's pool otherwise
                      closes every idle connection once more than 20 are open, so nothing
                      is reused)
    asyncio-backend   a lean asyncio network backend (a Protocol-based stream) under the
                      address guard instead of httpcore's AnyIOBackend
    keepalive+asyncio both of the above
    aiohttp           httpx's API over the httpx-aiohttp transport, only when the interpreter
                      has `httpx_aiohttp` (e.g. a scratch venv; NOTE: no address guard there)

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
import ssl
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

VARIANTS = ("as-is", "keepalive", "asyncio-backend", "keepalive+asyncio", "aiohttp")


# --- a lean asyncio network backend for httpcore ------------------------------------------


def _lean_backend() -> typing.Any:
    import httpcore
    from httpcore._utils import is_socket_readable

    class _Protocol(asyncio.Protocol):
        def __init__(self) -> None:
            self.buffer = bytearray()
            self.waiter: asyncio.Future[None] | None = None
            self.eof = False
            self.error: Exception | None = None
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = typing.cast(asyncio.Transport, transport)

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            self._wake()

        def eof_received(self) -> bool:
            self.eof = True
            self._wake()
            return False

        def connection_lost(self, exc: Exception | None) -> None:
            self.eof = True
            self.error = exc
            self._wake()

        def _wake(self) -> None:
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    class Stream(httpcore.AsyncNetworkStream):
        def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
            self._transport = transport
            self._protocol = protocol

        async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            p = self._protocol
            if not p.buffer and not p.eof:
                p.waiter = asyncio.get_running_loop().create_future()
                try:
                    async with asyncio.timeout(timeout):
                        await p.waiter
                except TimeoutError:
                    raise httpcore.ReadTimeout("read timed out") from None
                finally:
                    p.waiter = None
            if p.buffer:
                data = bytes(p.buffer[:max_bytes])
                del p.buffer[:max_bytes]
                return data
            if p.error is not None:
                raise httpcore.ReadError(str(p.error))
            return b""

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            if not buffer:
                return
            if self._transport.is_closing():
                raise httpcore.WriteError("connection closed")
            self._transport.write(buffer)

        async def aclose(self) -> None:
            self._transport.close()

        async def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore.AsyncNetworkStream:
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(timeout):
                    transport = await loop.start_tls(
                        self._transport,
                        self._protocol,
                        ssl_context,
                        server_hostname=server_hostname,
                    )
            except (OSError, ssl.SSLError, TimeoutError) as exc:
                self._transport.close()
                raise httpcore.ConnectError(str(exc)) from None
            return Stream(typing.cast(asyncio.Transport, transport), self._protocol)

        def get_extra_info(self, info: str) -> typing.Any:
            sock = self._transport.get_extra_info("socket")
            if info == "is_readable":
                return sock is not None and is_socket_readable(sock)
            if info == "socket":
                return sock
            if info == "ssl_object":
                return self._transport.get_extra_info("ssl_object")
            if info == "client_addr":
                return self._transport.get_extra_info("sockname")
            if info == "server_addr":
                return self._transport.get_extra_info("peername")
            return None

    class LeanAsyncioBackend(httpcore.AsyncNetworkBackend):
        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: typing.Any = None,
        ) -> httpcore.AsyncNetworkStream:
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(timeout):
                    transport, protocol = await loop.create_connection(
                        _Protocol,
                        host,
                        port,
                        local_addr=(local_address, 0) if local_address else None,
                    )
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"connect to {host}:{port} timed out") from None
            except OSError as exc:
                raise httpcore.ConnectError(str(exc)) from None
            sock = transport.get_extra_info("socket")
            for option in socket_options or ():
                sock.setsockopt(*option)
            return Stream(typing.cast(asyncio.Transport, transport), protocol)

        async def connect_unix_socket(
            self, path: str, timeout: float | None = None, socket_options: typing.Any = None
        ) -> httpcore.AsyncNetworkStream:
            raise httpcore.ConnectError("unix sockets are not supported")

        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(seconds)

    return LeanAsyncioBackend()


# --- the child: one variant, one measurement -----------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(args: argparse.Namespace) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    import httpx

    from api_audit import http as engine_module
    from api_audit.catalogue import load_catalogue, select_systems
    from api_audit.http import FetchOptions, HttpEngine
    from api_audit.plan import distinct_requests, plan_probes
    from api_audit.probes import load_methodology

    variant = args.variant
    if variant in ("keepalive", "keepalive+asyncio"):
        engine_module.KEEPALIVE_CONNECTIONS = args.concurrency  # type: ignore[misc]
    backend = _lean_backend() if variant in ("asyncio-backend", "keepalive+asyncio") else None
    if variant == "aiohttp":
        import httpx_aiohttp  # type: ignore[import-not-found]

        def build_client(self: typing.Any) -> httpx.AsyncClient:
            return httpx_aiohttp.HttpxAiohttpClient(
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(10, connect=5, pool=None),
                limits=httpx.Limits(max_connections=args.concurrency),
                headers={"User-Agent": "api-audit-bench", "Accept-Encoding": "gzip, deflate"},
            )

        HttpEngine._build_client = build_client  # type: ignore[method-assign]

    systems = select_systems(load_catalogue(args.catalogue))
    plans = plan_probes(systems, load_methodology(None), random_token=secrets.token_hex(8))
    by_system: dict[str, list[typing.Any]] = defaultdict(list)
    for plan in plans:
        by_system[plan.system.id].append(plan)
    options = FetchOptions(concurrency=args.concurrency, per_host=args.per_host, allow_private=True)
    errors: Counter[str] = Counter()

    async def main() -> int:
        async with HttpEngine(options, network_backend=backend) as engine:

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
        default="as-is,keepalive,asyncio-backend,keepalive+asyncio",
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
