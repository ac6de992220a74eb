"""Shared helpers for the matcher tests: exchanges built from plain values, and a matcher
run the way a loaded probe runs it (its argument read first)."""

from __future__ import annotations

from datetime import UTC, datetime

from api_audit.methodology import MATCHERS, MatchContext, Verdict
from api_audit.models import Exchange, FetchRequest, Hop

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
URL = "https://api.example.test/docs"


def exchange(
    status: int | None = 200,
    body: str | bytes = "",
    content_type: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    final_url: str = URL,
    redirects: tuple[Hop, ...] = (),
    error: str | None = None,
    error_detail: str = "",
) -> Exchange:
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    return Exchange(
        request=FetchRequest(URL),
        final_url=final_url,
        status=status,
        headers=tuple((k.lower(), v) for k, v in all_headers.items()),
        body=body.encode() if isinstance(body, str) else body,
        redirects=redirects,
        error=error,
        error_detail=error_detail,
    )


def check(
    name: str,
    argument: object,
    target: Exchange,
    baseline: Exchange | None = None,
    now: datetime = NOW,
) -> Verdict:
    spec = MATCHERS[name]
    assert spec.validate(argument) is None, spec.validate(argument)
    return spec.match(spec.read(argument), MatchContext(target, baseline, now))


def outcome(verdict: Verdict) -> tuple[str, str]:
    return verdict.outcome, verdict.message


def at(url: str, **kwargs: object) -> Exchange:
    """An exchange whose request (and final URL) is `url`."""
    base = exchange(**kwargs)  # type: ignore[arg-type]  # keyword pass-through
    return Exchange(
        request=FetchRequest(url),
        final_url=str(kwargs.get("final_url", url)),
        status=base.status,
        headers=base.headers,
        body=base.body,
        redirects=base.redirects,
        error=base.error,
        tls_version=None,
    )


def kind_check(name: str, argument: object, target: Exchange, kind: str | None) -> Verdict:
    spec = MATCHERS[name]
    assert spec.validate(argument) is None
    return spec.match(spec.read(argument), MatchContext(target, None, NOW, endpoint_kind=kind))


def check_credit(verdict: Verdict) -> tuple[str, float]:
    return verdict.outcome, verdict.credit


SHELL = (
    '<!doctype html><html><div id="root"></div><script src="/static/app.4f3e.js"></script></html>'
)
