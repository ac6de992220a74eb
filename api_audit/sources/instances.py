"""Matched contracts as catalogue instances, for `run --council CODE --with-contracts`; pure.

The systems still come from the catalogue: a contract matched to a council and a system
only adds that council's instance of the system, when the catalogue has none, so the
council's audit covers every system it is known to buy. Nothing is written to vendors.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from api_audit.catalogue.councils import load_register
from api_audit.models import Catalogue, Instance, System
from api_audit.sources.matching import MatchedContract
from api_audit.sources.periods import annual_value

_NEVER = dt.date.min  # a contract with no end date sorts before any with one


def contract_instance(item: MatchedContract) -> Instance:
    """The instance a contract matched to a council and a system describes."""
    c, key = item.contract, str(item.council.target)
    council = load_register().lookup(key)
    return Instance(
        council=key,
        code=council.code if council else "",
        contract_start=c.start,
        contract_end=c.end,
        annual_value=annual_value(c).value,
        source=c.notice_url,
        notes=f"from contract notice {c.ocid}",
    )


def with_contract_instances(
    catalogue: Catalogue, matched: Iterable[MatchedContract], council: str
) -> Catalogue:
    """The catalogue with an instance at `council` (a Council.key) for every system its
    matched contracts name and the catalogue does not already place there; for several
    contracts of one system, the one ending last."""
    newest: dict[str, MatchedContract] = {}
    for item in matched:
        system = item.system.target
        if item.council.target != council or system is None:
            continue
        kept = newest.get(system)
        if kept is None or (item.contract.end or _NEVER) > (kept.contract.end or _NEVER):
            newest[system] = item
    vendors = tuple(
        replace(v, systems=tuple(_with(s, newest.get(s.id), council) for s in v.systems))
        for v in catalogue.vendors
    )
    return replace(catalogue, vendors=vendors)


def _with(system: System, item: MatchedContract | None, council: str) -> System:
    if item is None or any(i.council == council for i in system.instances):
        return system
    return replace(system, instances=(*system.instances, contract_instance(item)))
