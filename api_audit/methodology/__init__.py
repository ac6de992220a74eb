"""The methodology's code: safe documents, OpenAPI checks, and the matchers probes name.

`documents` parses untrusted bytes with limits, `openapi` checks a parsed API description,
and `matchers/` holds the closed vocabulary of `expect:` and `follow: {link: ...}` by
family. The names other stages use are re-exported here. (The probe YAML itself ships as
the data package `api_audit.probe_data`.)
"""

from api_audit.methodology.documents import (
    SpecInfo,
    UnsafeDocument,
    parse_json,
    parse_spec,
    parse_yaml,
)
from api_audit.methodology.matchers import (
    LINKS,
    MATCHERS,
    BadArgument,
    FoundLink,
    LinkExtractor,
    LinkSpec,
    MatchContext,
    MatcherSpec,
    Verdict,
    VerdictOutcome,
    describe_status,
    expectation,
    page_similarity,
    sign_in_redirect,
    sign_in_url,
)
from api_audit.methodology.openapi import (
    CheckBudgetExceeded,
    OpenApiReport,
    check_openapi,
    local_ref_problems,
)

__all__ = [
    "LINKS",
    "MATCHERS",
    "BadArgument",
    "CheckBudgetExceeded",
    "FoundLink",
    "LinkExtractor",
    "LinkSpec",
    "MatchContext",
    "MatcherSpec",
    "OpenApiReport",
    "SpecInfo",
    "UnsafeDocument",
    "Verdict",
    "VerdictOutcome",
    "check_openapi",
    "describe_status",
    "expectation",
    "local_ref_problems",
    "page_similarity",
    "parse_json",
    "parse_spec",
    "parse_yaml",
    "sign_in_redirect",
    "sign_in_url",
]
