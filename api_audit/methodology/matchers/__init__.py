"""The matchers and link extractors probes name, one module per family, all registered.

Importing this package imports every family, so MATCHERS and LINKS are complete.

Families: `http` (status, media type, headers, scheme, TLS, charset), `body` (words, JSON
fields), `pages` (login walls, soft-200 shells), `wording` (phrases, open licences,
sandboxes), `specs` (OpenAPI/Swagger and their quality, SOAP), `discovery` (well-known
documents), `conventions` (rate limits, deprecation, versions, problem+json), `standards`
(Open311, FHIR, OData ...) and `links` (what a two-stage probe follows). The shared parts:
`registry` (the decorators and the vocabularies), `arguments` (YAML arguments read once
into typed values), `context` (what a matcher looks at), `verdict` (what it says) and
`markup` (linear-time HTML scanning).
"""

from api_audit.methodology.matchers import (  # noqa: F401 - imported to register each family
    body,
    conventions,
    discovery,
    http,
    links,
    pages,
    specs,
    standards,
    wording,
)
from api_audit.methodology.matchers.arguments import BadArgument
from api_audit.methodology.matchers.context import MatchContext
from api_audit.methodology.matchers.pages import page_similarity, sign_in_redirect, sign_in_url
from api_audit.methodology.matchers.registry import (
    LINKS,
    MATCHERS,
    FoundLink,
    LinkExtractor,
    LinkSpec,
    MatcherSpec,
    expectation,
)
from api_audit.methodology.matchers.verdict import Verdict, VerdictOutcome, describe_status

__all__ = [
    "LINKS",
    "MATCHERS",
    "BadArgument",
    "FoundLink",
    "LinkExtractor",
    "LinkSpec",
    "MatchContext",
    "MatcherSpec",
    "Verdict",
    "VerdictOutcome",
    "describe_status",
    "expectation",
    "page_similarity",
    "sign_in_redirect",
    "sign_in_url",
]
