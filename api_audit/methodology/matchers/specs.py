"""Matchers for API descriptions: OpenAPI/Swagger documents, their quality, SOAP-only surfaces.

An OpenAPI 3.x document earns full credit, Swagger 2.0 the credit a probe gives it; the
quality marks count what a consumer needs (contact, licence, servers, summaries, error
responses, a self-contained document); a WSDL or .asmx surface is a legacy SOAP service,
not a JSON/REST API.

A `$ref` to another document is never fetched (engineering reference §4.8), but it does
not make a published description unpublished: specifications such as Open Referral UK 3
and OGC API - Features keep their schemas in files of their own. Such a document is
credited as published; the quality check names the references it could not resolve.
Only a `$ref` that can mean nothing but the reader's own files or network fails.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from api_audit.methodology.documents import SpecInfo, UnsafeDocument
from api_audit.methodology.matchers.arguments import (
    Always,
    BadArgument,
    only_keys,
    read_true,
    share_option,
)
from api_audit.methodology.matchers.context import (
    JSON_MEDIA,
    XML_MEDIA,
    MatchContext,
    media_is,
    served_as,
)
from api_audit.methodology.matchers.markup import looks_like_html
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import (
    Verdict,
    counted,
    failed,
    not_applicable,
    passed,
    unsure,
)
from api_audit.methodology.openapi import (
    MAX_NAMED_REFS,
    CheckBudgetExceeded,
    ExternalRefs,
    OpenApiReport,
    external_refs,
    local_ref_problems,
)
from api_audit.models import Exchange
from api_audit.text import quote

# --- openapi -------------------------------------------------------------------------------


def read_swagger2_credit(argument: object) -> float:
    """The credit a Swagger 2.0 document earns: 0 for `true`, else `swagger2_credit`."""
    if argument is True:
        return 0.0
    if not isinstance(argument, dict):
        raise BadArgument("give `true` or {swagger2_credit: 0.5}")
    only_keys(argument, ("swagger2_credit",))
    credit = argument.get("swagger2_credit")
    if isinstance(credit, bool) or not isinstance(credit, int | float) or not 0 <= credit <= 1:
        raise BadArgument("swagger2_credit must be a number from 0 to 1")
    return float(credit)


@matcher(
    "openapi",
    read=read_swagger2_credit,
    argument="true, or {swagger2_credit: 0.5}",
    doc="Parses as OpenAPI 3.x with info and paths (full credit) or Swagger 2.0 with info and "
    "paths (the given credit). A $ref to another document is never fetched and does not "
    "stop the credit; one that can only mean the reader's own files or network (file:, "
    "localhost, a private or metadata address) fails, as do dangling local $refs and cycles.",
)
def match_openapi(swagger2_credit: float, ctx: MatchContext) -> Verdict:
    if looks_like_html(ctx.exchange):
        return failed(f"served as {served_as(ctx.exchange)}: a web page, not an OpenAPI document")
    try:
        spec = ctx.spec()
    except UnsafeDocument as exc:
        return failed(f"not a usable API description: {exc.reason}")
    external = _checked_refs(spec)
    if isinstance(external, Verdict):
        return external
    verdict = _spec_verdict(spec, swagger2_credit)
    if verdict.outcome != "pass" or not external.count:
        return verdict
    return passed(f"{verdict.message}; {_elsewhere(external.count)} (not fetched)", verdict.credit)


def _checked_refs(spec: SpecInfo) -> ExternalRefs | Verdict:
    """The document's $refs to other documents, or the verdict its $refs force."""
    try:
        ref_problems = local_ref_problems(spec.document)
        external = external_refs(spec.document)
    except CheckBudgetExceeded as exc:
        return unsure(f"could not check its $refs: {exc.reason}")
    if external.reader_side:
        return failed(reader_side_message(external))
    if ref_problems and spec.kind is not None:
        return failed(f"not a usable API description: {quote(ref_problems[0])}")
    return external


def _elsewhere(count: int) -> str:
    """'1 $ref to another document', '3 $refs to other documents'."""
    where = "another document" if count == 1 else "other documents"
    return f"{counted(count, '$ref')} to {where}"


def reader_side_message(external: ExternalRefs) -> str:
    return (
        f"$ref {quote(external.reader_side[0], 80)!r} points at the reader's own files or "
        "network: no one else can resolve it, and it is never fetched"
    )


def unresolved_refs(external: ExternalRefs) -> str:
    """ "2 $refs to other documents not resolved (never fetched): 'a.json', 'b.json'"."""
    named = ", ".join(repr(quote(ref, 80)) for ref in external.first[:MAX_NAMED_REFS])
    rest = external.count - min(len(external.first), MAX_NAMED_REFS)
    more = f" and {rest} more" if rest else ""
    return f"{_elsewhere(external.count)} not resolved (never fetched): {named}{more}"


def _spec_verdict(spec: SpecInfo, swagger2_credit: float) -> Verdict:  # noqa: PLR0911 - one return per kind of document, in reading order
    title = f" {quote(spec.title)!r}" if spec.title else ""
    version = quote(spec.version, 20)
    if spec.kind == "openapi3":
        if not spec.has_info:
            return failed(f"OpenAPI {version} document without info")
        if not (spec.has_paths or spec.has_webhooks or spec.has_components):
            return failed(f"OpenAPI {version} document{title} describes no paths")
        return passed(f"OpenAPI {version} document{title}, {counted(spec.path_count, 'path')}")
    if spec.kind == "swagger2":
        if not (spec.has_info and spec.has_paths):
            return failed("Swagger 2.0 document without info or paths")
        return passed(
            f"Swagger 2.0 document{title}, {counted(spec.path_count, 'path')} "
            f"(OpenAPI 2.0: {swagger2_credit:g} credit)",
            swagger2_credit,
        )
    if spec.version:
        return failed(f"version {version!r} is neither OpenAPI 3.x nor Swagger 2.0")
    return failed("parses, but is not an OpenAPI or Swagger document (no openapi or swagger field)")


# --- spec_quality --------------------------------------------------------------------------

QUALITY_SUMMARY_SHARE = 0.8  # operations with a summary or description (DISC-03)
QUALITY_ERROR_SHARE = 0.5  # operations that document a 4xx, 5xx or default response


def _quality_marks(report: OpenApiReport) -> list[tuple[str, bool]]:
    """(what, met) for each quality mark that applies to this document."""
    marks = [
        ("info.title and info.version", report.has_title and report.has_version),
        ("servers", report.has_servers),
        ("info.contact", report.has_contact),
        ("info.license or termsOfService", report.has_licence),
        ("a valid structure", report.problem_count == 0 and not report.ref_problems),
    ]
    if report.external.count:
        # Schemas kept in other files cannot be checked here, nor used by a consumer who
        # has this document alone: the mark applies only where there are such $refs, so
        # they cost one mark of several, never the whole credit.
        marks.append(("$refs that resolve within the document", False))
    if report.security_used:  # only an API that requires auth must describe it
        defined = set(report.security_schemes)
        marks.append(
            ("security schemes for its security", all(n in defined for n in report.security_used))
        )
    if report.operations:
        summarised = report.described / report.operations
        errors = report.with_error_responses / report.operations
        marks.append(
            (
                f"summaries on {QUALITY_SUMMARY_SHARE:.0%} of operations",
                summarised >= QUALITY_SUMMARY_SHARE,
            )
        )
        marks.append(
            (
                f"error responses on {QUALITY_ERROR_SHARE:.0%} of operations",
                errors >= QUALITY_ERROR_SHARE,
            )
        )
    return marks


@matcher(
    "spec_quality",
    read=share_option("min_share", 0.5),
    argument="true, or {min_share: 0.5}",
    doc="Quality marks of an OpenAPI/Swagger document: info.title and version, servers, "
    "contact, licence, valid structure, security schemes when security is required, "
    f"summaries on {QUALITY_SUMMARY_SHARE:.0%} and error responses on "
    f"{QUALITY_ERROR_SHARE:.0%} of operations, and (where it has any) $refs to other "
    "documents, which are named, never fetched, and cost that one mark. Credit is the share "
    "met; below `min_share` (default 0.5) it fails.",
)
def match_spec_quality(minimum: float, ctx: MatchContext) -> Verdict:  # noqa: PLR0911 - one return per verdict, in reading order
    if looks_like_html(ctx.exchange):
        return failed(f"served as {served_as(ctx.exchange)}: a web page, not an OpenAPI document")
    try:
        spec = ctx.spec()
        if spec.kind is None:
            return failed("not an OpenAPI 3.x or Swagger 2.0 document")
        report = ctx.openapi_report()
    except CheckBudgetExceeded as exc:
        return unsure(f"could not check the description: {exc.reason}")
    except UnsafeDocument as exc:
        return failed(f"not a usable API description: {exc.reason}")
    if report.external.reader_side:
        return failed(reader_side_message(report.external))
    marks = _quality_marks(report)
    met = sum(1 for _, ok in marks if ok)
    share = met / len(marks)
    missing = [what for what, ok in marks if not ok]
    lacking = f" (lacks {', '.join(missing)})" if missing else ""
    if report.problems:
        lacking += f"; first problem: {quote(report.problems[0], 100)}"
    elif report.ref_problems:
        lacking += f"; {quote(report.ref_problems[0], 100)}"
    if report.external.count:
        lacking += f"; {unresolved_refs(report.external)}"
    summary = f"{met} of {len(marks)} quality marks{lacking}"
    if share < minimum:
        return failed(f"only {summary}")
    return passed(summary, round(share, 2))


# --- not_soap_only -------------------------------------------------------------------------

_SOAP_MARKERS = (
    ("a WSDL 1.1 description", "schemas.xmlsoap.org/wsdl/"),
    ("a WSDL 2.0 description", "www.w3.org/ns/wsdl"),
    ("a SOAP envelope", "schemas.xmlsoap.org/soap/envelope"),
    ("a SOAP 1.2 envelope", "www.w3.org/2003/05/soap-envelope"),
    ("an ASMX help page", "the following operations are supported"),
    ("a WCF service page", "svcutil.exe"),
)
_MACHINE_MEDIA = (*JSON_MEDIA, *XML_MEDIA, "text/csv", "application/yaml")


def _soap_surface(ex: Exchange, text: str) -> str | None:
    for url in (ex.request.url, ex.final_url):
        parts = urlsplit(url)
        path, query = parts.path.lower(), parts.query.lower()
        if path.endswith((".asmx", ".svc")):
            return f"an {path.rsplit('.', 1)[1].upper()} endpoint"
        if query == "wsdl" or query.startswith(("wsdl&", "wsdl=")):
            return "a ?wsdl URL"
    lower = text.lower()
    return next((what for what, marker in _SOAP_MARKERS if marker in lower), None)


@matcher(
    "not_soap_only",
    read=read_true,
    argument="true",
    doc="Fails on a SOAP surface (.asmx, .svc, ?wsdl, a WSDL or SOAP document, an ASMX "
    "help page); passes on another machine-readable answer (JSON, XML, CSV, YAML); "
    "not_applicable on a web page, an empty or untyped answer.",
)
def match_not_soap_only(_: Always, ctx: MatchContext) -> Verdict:
    ex = ctx.exchange
    surface = _soap_surface(ex, ctx.text())
    if surface:
        return failed(f"a SOAP web service ({surface}): a legacy surface, not a JSON/REST API")
    if looks_like_html(ex) or not media_is(ex, _MACHINE_MEDIA):
        return not_applicable(f"no machine-readable answer to judge ({served_as(ex)})")
    return passed(f"a machine surface that is not SOAP ({served_as(ex)})")
