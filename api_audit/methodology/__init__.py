"""The methodology's code: loading the probes and rubric, and the matchers they name.

    loader       probes/*.yaml -> Methodology, every problem located and raised together
    probe_files  one probe file -> Probe (expectations typed once, examples read)
    rubric       rubric.yaml -> Rubric (weights, grade bands, attestation rules, ladder)
    checker      the located checker both readers use
    matchers/    the closed vocabulary of `expect:` and `follow: {link: ...}`, by family
    documents    untrusted bytes parsed with limits (JSON, YAML, specs)
    openapi      a parsed API description checked
    examples     each probe's examples run as a probe would be (imported on its own)

The names other stages use are re-exported here. (The probe YAML itself ships as the data
package `api_audit.probe_data`.)
"""

from api_audit.methodology.documents import (
    SpecInfo,
    UnsafeDocument,
    parse_json,
    parse_spec,
    parse_yaml,
)
from api_audit.methodology.loader import (
    RUBRIC_FILE,
    default_probe_directory,
    load_methodology,
    methodology_sha256,
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
    "RUBRIC_FILE",
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
    "default_probe_directory",
    "describe_status",
    "expectation",
    "load_methodology",
    "local_ref_problems",
    "methodology_sha256",
    "page_similarity",
    "parse_json",
    "parse_spec",
    "parse_yaml",
    "sign_in_redirect",
    "sign_in_url",
]
