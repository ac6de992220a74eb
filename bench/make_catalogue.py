"""Write the catalogue (vendors.yaml shape) that matches bench/market_server.py.

N systems are spread round-robin over H hosts (one vendor per host, as one supplier per
host); a host's systems live under distinct path prefixes (/s0/, /s1/, ...), so every
system's URLs are distinct (`--layout interleaved` lists one vendor per system, round-robin
over the hosts, instead of a host's systems together). Endpoints follow the host's
archetype: docs-only systems list only `docs`; the others list docs, spec and api_base.
Hosts that the server leaves unbound ("down") are still in the catalogue: they are part of
a real market.

    python bench/make_catalogue.py --systems 200 --hosts 200 --port 8080 --out /tmp/cat.yaml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from market_server import archetype, host_address

SERVICE_AREAS = (
    "waste",
    "planning",
    "housing",
    "revenues-benefits",
    "parking",
    "libraries",
    "crm",
    "highways",
    "democracy",
    "social-care",
)


LAYOUTS = ("vendor-per-host", "interleaved")


def build(
    systems: int,
    hosts: int,
    port: int,
    down_share: float = 0.05,
    layout: str = "vendor-per-host",
) -> str:
    """The catalogue as YAML text (written by hand: PyYAML is slow on 5,000 systems).

    `vendor-per-host`: one vendor per host with all its systems, so the catalogue lists a
    host's systems together (how a real catalogue groups a supplier's products).
    `interleaved`: one vendor per system, listed round-robin over the hosts, so consecutive
    systems are on different hosts (same URLs, only the order and vendor grouping differ).
    """
    if systems < 1 or hosts < 1:
        raise ValueError("--systems and --hosts must be at least 1")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    hosts = min(hosts, systems)
    width = max(4, len(str(systems)))
    lines = [
        "# Benchmark market written by bench/make_catalogue.py; every host is on 127.0.0.0/8.",
        f"# systems={systems} hosts={hosts} port={port} down_share={down_share} layout={layout}",
        "schema_version: 1",
        "vendors:",
    ]

    def system_lines(n: int, h: int, slot: int) -> list[str]:
        prefix = f"http://{host_address(h)}:{port}/s{slot}"
        if archetype(h, down_share) == "docs-only":
            endpoints = f'{{docs: "{prefix}/docs"}}'
        else:
            endpoints = (
                f'{{docs: "{prefix}/docs", spec: "{prefix}/openapi.json", '
                f'api_base: "{prefix}/api"}}'
            )
        return [
            f"      - id: s{n + 1:0{width}d}",
            f"        name: System {n + 1}",
            f"        service_areas: [{SERVICE_AREAS[n % len(SERVICE_AREAS)]}]",
            f"        endpoints: {endpoints}",
        ]

    if layout == "interleaved":
        for n in range(systems):
            h, slot = n % hosts, n // hosts
            lines += [
                f"  - id: v{n + 1:0{width}d}",
                f"    name: Vendor {n + 1} ({archetype(h, down_share)})",
                "    systems:",
                *system_lines(n, h, slot),
            ]
        return "\n".join(lines) + "\n"
    per_host: list[list[int]] = [[] for _ in range(hosts)]
    for n in range(systems):
        per_host[n % hosts].append(n)
    for h, numbers in enumerate(per_host):
        lines += [
            f"  - id: v{h + 1:0{width}d}",
            f"    name: Vendor {h + 1} ({archetype(h, down_share)})",
            "    systems:",
        ]
        for slot, n in enumerate(numbers):
            lines += system_lines(n, h, slot)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=200)
    parser.add_argument(
        "--hosts",
        type=int,
        default=None,
        help="hosts to spread the systems over (default: min(systems, 200))",
    )
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--down-share",
        type=float,
        default=0.05,
        help="must match the server's --down-share (default 0.05)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="vendor-per-host",
        help="vendor-per-host (default: a host's systems listed together) or interleaved",
    )
    parser.add_argument("--out", type=Path, default=None, help="file to write (default stdout)")
    args = parser.parse_args(argv)
    hosts = args.hosts if args.hosts is not None else min(args.systems, 200)
    text = build(args.systems, hosts, args.port, args.down_share, args.layout)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(
            f"wrote {args.out}: {args.systems} systems on {min(hosts, args.systems)} hosts",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
