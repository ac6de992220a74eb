"""Which systems an audit covers: filters by vendor, system, service area and council.

A council filter expands each chosen system into that council's instance, with the
{slug}, {gss} and {code} placeholders in its URLs filled in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from api_audit.catalogue.councils import load_register
from api_audit.catalogue.rules import PLACEHOLDER_RE
from api_audit.errors import UsageError
from api_audit.loading import did_you_mean
from api_audit.loading.wording import quoted
from api_audit.models import SERVICE_AREAS, Catalogue, Council, EndpointEvidence, Instance, System


def select_systems(
    catalogue: Catalogue,
    *,
    vendors: Sequence[str] = (),
    systems: Sequence[str] = (),
    service_areas: Sequence[str] = (),
    council: str | None = None,
) -> tuple[System, ...]:
    """The systems an audit covers, in catalogue order.

    Within one filter the values are alternatives (OR); different filters must all hold
    (AND). An unknown vendor, system, service area or council raises UsageError with a
    did-you-mean. With `council` (a GSS or registry code), only systems with an instance
    at that council are kept, each expanded into that instance (`expand_instance`).
    Without it, endpoints whose URLs hold placeholders are not in `System.endpoints`:
    they cannot be fetched until a council fills them.
    """
    _require_known("vendor", vendors, [v.id for v in catalogue.vendors])
    _require_known("system", systems, [s.id for s in catalogue.systems])
    _require_known("service area", service_areas, SERVICE_AREAS)
    chosen = [
        s
        for s in catalogue.systems
        if (not vendors or s.vendor_id in vendors)
        and (not systems or s.id in systems)
        and (not service_areas or any(a in service_areas for a in s.service_areas))
    ]
    if council is None:
        return tuple(chosen)
    key = _council_or_usage_error(council).key
    return tuple(expand_instance(s, i) for s in chosen for i in s.instances if i.council == key)


def expand_instance(system: System, instance: Instance) -> System:
    """The system as deployed at one council: id "{system}@{council}", URLs filled in.

    Endpoints: the system's, with {slug}/{gss}/{code} filled from the instance; then the
    instance's base (its `url`, else the system's `url_template` filled) as `api_base`;
    then the instance's own `endpoints` on top. A URL left with an unfilled placeholder
    is dropped, as it cannot be fetched.
    """
    gss = instance.council if instance.council != instance.code else None
    values = {"slug": instance.slug, "gss": gss, "code": instance.code or None}
    evidence: dict[str, EndpointEvidence] = {}
    for kind, endpoint in system.endpoint_evidence.items():
        filled = fill_placeholders(endpoint.url, values)
        if filled is not None:
            evidence[kind] = replace(endpoint, url=filled)
    base = fill_placeholders(instance.url or system.url_template or "", values)
    if base:
        origin = "instance url" if instance.url else "url_template"
        evidence["api_base"] = EndpointEvidence(base, note=f"per-council base from the {origin}")
    for kind, endpoint in instance.endpoint_evidence.items():
        filled = fill_placeholders(endpoint.url, values)
        if filled is not None:
            evidence[kind] = replace(endpoint, url=filled)
    return replace(
        system,
        id=f"{system.id}@{instance.council}",
        council=instance.council,
        endpoints={kind: e.url for kind, e in evidence.items()},
        endpoint_evidence=evidence,
        instances=(instance,),
    )


def fill_placeholders(url: str, values: Mapping[str, str | None]) -> str | None:
    """`url` with {name} placeholders replaced, or None when one has no value."""
    names = PLACEHOLDER_RE.findall(url)
    if any(not values.get(name) for name in names):
        return None
    return PLACEHOLDER_RE.sub(lambda match: values[match.group(1)] or "", url)


def _require_known(what: str, wanted: Sequence[str], known: Sequence[str]) -> None:
    for value in wanted:
        if value not in known:
            hint = did_you_mean(value, known, listing=what == "service area")
            raise UsageError(f"unknown {what} {quoted(value)}{hint}")


def _council_or_usage_error(code: str) -> Council:
    register = load_register()
    council = register.lookup(code)
    if council is not None:
        return council
    raise UsageError(register.unknown(code))
