"""Matchers for discovery documents at well-known paths: API catalogs, security.txt, OAuth.

An RFC 9727 API catalog (a linkset) or an APIs.json index says where a supplier's APIs
are; security.txt (RFC 9116) says whom to tell about a flaw; OAuth / OpenID Connect
metadata (RFC 8414) says how a client gets a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from api_audit.methodology.matchers.arguments import Always, read_true
from api_audit.methodology.matchers.context import (
    MatchContext,
    json_or_failure,
    served_as,
    typed_json,
)
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import Verdict, counted, failed, passed
from api_audit.text import quote

# --- linkset (RFC 9727 api-catalog) --------------------------------------------------------

_CATALOG_RELATIONS = ("service-desc", "service-doc", "service-meta", "item")


def _linkset_problem(data: object) -> tuple[str, list[str]]:
    """('', relations found) for a usable API catalog linkset, else (problem, [])."""
    linkset = data.get("linkset") if isinstance(data, dict) else None
    if not isinstance(linkset, list):
        return "no linkset array", []
    if not linkset:
        return "the linkset is empty", []
    found: set[str] = set()
    for number, entry in enumerate(linkset, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("anchor"), str):
            return f"linkset entry {number} has no anchor", []
        for rel in _CATALOG_RELATIONS:
            targets = entry.get(rel)
            if isinstance(targets, list) and any(
                isinstance(t, dict) and isinstance(t.get("href"), str) for t in targets
            ):
                found.add(rel)
    if not found:
        return "no service-desc, service-doc, service-meta or item links", []
    return "", sorted(found)


@matcher(
    "linkset",
    read=read_true,
    argument="true",
    doc="An RFC 9727 API catalog: application/linkset+json with anchored entries that link "
    "service-desc, service-doc, service-meta or item.",
)
def match_linkset(_: Always, ctx: MatchContext) -> Verdict:
    # RFC 9727 §4.2: the catalog MUST be a linkset in application/linkset+json.
    if ctx.exchange.content_type != "application/linkset+json":
        return failed(f"served as {served_as(ctx.exchange)}, not application/linkset+json")
    data = json_or_failure(ctx)
    if isinstance(data, Verdict):
        return data
    problem, relations = _linkset_problem(data)
    if problem:
        return failed(problem)
    entries = len(cast(Sequence[object], cast(dict[str, object], data)["linkset"]))
    return passed(f"API catalog linkset, {counted(entries, 'entry')} ({', '.join(relations)})")


# --- apis_json -----------------------------------------------------------------------------


@matcher(
    "apis_json",
    read=read_true,
    argument="true",
    doc="An APIs.json document: JSON with a name and a list of apis, each with a "
    "baseURL or humanURL.",
)
def match_apis_json(_: Always, ctx: MatchContext) -> Verdict:
    data = typed_json(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return failed("not an APIs.json document (no name)")
    apis = data.get("apis")
    if not isinstance(apis, list) or not apis:
        return failed("no apis listed")
    for api in apis:
        if not isinstance(api, dict) or not any(
            isinstance(api.get(k), str) for k in ("baseURL", "humanURL")
        ):
            return failed("an API entry without baseURL or humanURL")
    return passed(f"APIs.json {quote(data['name'], 60)!r} listing {counted(len(apis), 'API')}")


# --- security_txt (RFC 9116) ---------------------------------------------------------------


def _security_fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, value = line.split(":", 1)
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _parse_expires(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _single_expires(values: list[str]) -> datetime | Verdict:
    """RFC 9116 §2.5.5: Expires MUST be present, at most once, as an RFC 3339 date-time."""
    if not values:
        return failed("no Expires: line")
    if len(values) > 1:
        return failed("more than one Expires: line")
    moment = _parse_expires(values[0])
    if moment is None:
        return failed(f"Expires: {quote(values[0])!r} is not an ISO 8601 date-time")
    return moment


@matcher(
    "security_txt",
    read=read_true,
    argument="true",
    doc="An RFC 9116 security.txt: text/plain with Contact: and one future Expires:.",
)
def match_security_txt(_: Always, ctx: MatchContext) -> Verdict:
    if ctx.exchange.content_type != "text/plain":
        return failed(f"served as {served_as(ctx.exchange)}, not text/plain")
    fields = _security_fields(ctx.text())
    contacts = fields.get("contact", [])
    if not contacts:
        return failed("no Contact: line")
    expires = _single_expires(fields.get("expires", []))
    if isinstance(expires, Verdict):
        return expires
    shown = expires.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if expires <= ctx.now:
        return failed(f"expired on {shown}")
    return passed(f"Contact {quote(contacts[0])}, expires {shown}")


# --- oidc_discovery ------------------------------------------------------------------------


@matcher(
    "oidc_discovery",
    read=read_true,
    argument="true",
    doc="OpenID Connect / RFC 8414 metadata: JSON with issuer, token_endpoint and "
    "authorization_endpoint or jwks_uri.",
)
def match_oidc_discovery(_: Always, ctx: MatchContext) -> Verdict:
    data = json_or_failure(ctx)
    if isinstance(data, Verdict):
        return data
    if not isinstance(data, dict):
        return failed("not a JSON object")
    issuer = data.get("issuer")
    if not isinstance(issuer, str) or not issuer.strip():
        return failed("no issuer")
    if not isinstance(data.get("token_endpoint"), str):
        return failed("no token_endpoint")
    if not any(isinstance(data.get(k), str) for k in ("authorization_endpoint", "jwks_uri")):
        return failed("neither authorization_endpoint nor jwks_uri")
    return passed(f"authorization server metadata for issuer {quote(issuer)}")
