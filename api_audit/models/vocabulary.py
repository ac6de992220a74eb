"""The closed vocabularies: criteria, outcomes, endpoint kinds, service areas, claims."""

from __future__ import annotations

from typing import Literal, get_args

Criterion = Literal["documented", "free", "standards", "hygiene"]
CRITERIA: tuple[Criterion, ...] = get_args(Criterion)

Outcome = Literal["pass", "fail", "inconclusive", "not_applicable"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

Basis = Literal["observed", "attested"]
BASES: tuple[Basis, ...] = get_args(Basis)

# Why a failure is a login wall (DESIGN.md §4): the status asked for credentials (401, 403,
# 407), a redirect went to a sign-in page, the final URL is a sign-in page's, or the page is
# a password form. Stored on the finding; the ladder's `gated` condition reads it.
SignIn = Literal["status", "redirect", "sign_in_url", "password_form"]
SIGN_INS: tuple[SignIn, ...] = get_args(SignIn)

EndpointKind = Literal[
    "docs", "spec", "api_base", "portal", "terms", "pricing", "status", "sandbox"
]
ENDPOINT_KINDS: tuple[EndpointKind, ...] = get_args(EndpointKind)

# The fixed service-area vocabulary (README "Service areas" explains each one).
SERVICE_AREAS: tuple[str, ...] = (
    "planning",
    "building-control",
    "public-protection",
    "revenues-benefits",
    "social-care",
    "education",
    "housing",
    "waste",
    "highways",
    "parking",
    "libraries",
    "elections",
    "democracy",
    "crm",
    "payments",
    "finance-hr",
    "assets",
    "directories",
    "geospatial",
    "open-data",
    "notifications",
    "identity",
)

# Catalogue vocabularies (docs/vendors.schema.json is generated from these).
# Protocols a supplier claims a system speaks.
PROTOCOLS: tuple[str, ...] = (
    "rest",
    "soap",
    "graphql",
    "odata",
    "sftp",
    "csv",
    "xml-rpc",
    "websocket",
    "file-export",
    "other",
)

# Standards a supplier claims a system implements.
STANDARDS: tuple[str, ...] = (
    "openapi",
    "swagger2",
    "open311",
    "oruk",
    "hsds",
    "fhir",
    "ogcapi-features",
    "wfs",
    "wms",
    "ical",
    "vcard",
    "ckan",
    "dcat",
    "ocds",
    "odata",
    "json-api",
    "hal",
    "oauth2",
    "oidc",
    "planning-data",
    "waste-services",
    "bs7666",
    "uprn",
    "other",
)

# How a catalogue fact is known (domain reference §0): seen in public material, seen in
# public code/config, inferred from a pattern, or searched for and not found.
EvidenceLevel = Literal["seen", "code", "inferred", "none"]
EVIDENCE_LEVELS: tuple[EvidenceLevel, ...] = get_args(EvidenceLevel)

# How far a system was researched (issue 11): a gap in our research is not the supplier's
# failure. "not-researched": nobody has looked; "none-found": searched, nothing public found
# (with the date and where); "endpoints-found": the catalogue lists what was found.
# What a vendor is in the market (issue 13): a `supplier` sells its own products; a
# `reseller` (or framework partner) sells others' and is never credited as a product's
# vendor; `public-body` and `data-source` entries (MHCLG, GDS, Ordnance Survey ...) stay
# auditable but are left out of market shares.
VendorRole = Literal["supplier", "public-body", "data-source", "reseller"]
VENDOR_ROLES: tuple[VendorRole, ...] = get_args(VendorRole)

ResearchState = Literal["not-researched", "none-found", "endpoints-found"]
RESEARCH_STATES: tuple[ResearchState, ...] = get_args(ResearchState)
# A supplier's right of reply (README "Right of reply"): where the investigator's decision
# stands, and why the supplier says a finding should not count against it.
ReplyStatus = Literal["open", "accepted", "rejected"]
REPLY_STATUSES: tuple[ReplyStatus, ...] = get_args(ReplyStatus)
ReplyReason = Literal["not-applicable", "remediated-since", "not-detected", "fact-disputed"]
REPLY_REASONS: tuple[ReplyReason, ...] = get_args(ReplyReason)

# Facts an investigator records by hand because probes cannot see them.
CLAIMS: tuple[str, ...] = (
    "api_exists",
    "docs_public",
    "docs_login_required",
    "spec_published",
    "api_access_fee",
    "third_party_access_fee",
    "third_party_access_allowed",
    "sandbox_available",
    "self_service_keys",
    "open_licence",
    "integration_module_sold_separately",
    "partner_only",
    "soap_only",
    "open_standard_implemented",
)
