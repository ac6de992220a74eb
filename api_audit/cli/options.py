"""The options of `api-audit run` as one frozen value: engine options and the run's record.

Each value is written once, here: the engine's `FetchOptions` and the options stored with
the run (and shown by later commands) are both derived from a `RunOptions`, so the two can
never disagree, and a stored run can be turned back into the options that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from api_audit.net import POLITE_MIN_INTERVAL, FetchOptions

# Stored keys keep the command line's singular names (--vendor, repeatable -> "vendor").
_RECORDED_NAMES = {"vendors": "vendor", "systems": "system", "service_areas": "service_area"}


@dataclass(frozen=True)
class RunOptions:
    """What a run was asked to fetch, from where, and how politely."""

    allow_private: bool = False
    concurrency: int = FetchOptions.concurrency
    per_host: int = FetchOptions.per_host
    min_interval: float = POLITE_MIN_INTERVAL
    deadline: float = FetchOptions.deadline
    max_host_errors: int = FetchOptions.host_error_budget
    host_wait_budget: float = FetchOptions.host_wait_budget
    ignore_robots: bool = False
    vendors: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    service_areas: tuple[str, ...] = ()
    council: str | None = None
    # with `council`: also the systems its imported contracts name (sources/instances.py)
    with_contracts: bool = False
    # `run --shard K/N` (api_audit/shards.py): this run audits share K of N; None: all
    shard: str | None = None

    def fetch_options(self) -> FetchOptions:
        """The HTTP engine's options."""
        return FetchOptions(
            concurrency=self.concurrency,
            per_host=self.per_host,
            min_interval=self.min_interval,
            deadline=self.deadline,
            host_error_budget=self.max_host_errors,
            host_wait_budget=self.host_wait_budget,
            respect_robots=not self.ignore_robots,
            allow_private=self.allow_private,
        )

    def recorded(self) -> dict[str, object]:
        """The options as stored with the run (JSON-ready: lists, not tuples)."""
        record: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "shard" and value is None:
                continue  # a run of the whole selection is recorded as before sharding
            record[_RECORDED_NAMES.get(item.name, item.name)] = (
                list(value) if isinstance(value, tuple) else value
            )
        return record

    @classmethod
    def from_recorded(cls, record: Mapping[str, object]) -> RunOptions:
        """The options a stored run was made with; keys it lacks take today's defaults."""
        values: dict[str, object] = {}
        for item in fields(cls):
            name = _RECORDED_NAMES.get(item.name, item.name)
            if name in record:
                value = record[name]
                values[item.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)  # type: ignore[arg-type]
