"""The catalogue stage: vendors.yaml -> a validated Catalogue, and what is chosen from it.

- `fields`: the field list: every mapping's keys and the kind of value each holds;
- `load`, `values`: read and validate vendors.yaml, every problem located as file:line:col;
- `rules`: what ids, slugs, dates and URLs may be;
- `select`: the systems an audit covers, expanded per council;
- `schema`: the JSON Schema of vendors.yaml;
- `councils`: the council register (GSS and registry codes);
- `renewals`: council contracts that end soon.
"""

from api_audit.catalogue.councils import CouncilRegister, describe, load_register, parse_register
from api_audit.catalogue.fields import (
    ATTESTATION_KEYS,
    CATALOGUE_KEYS,
    ENDPOINT_KEYS,
    INSTANCE_KEYS,
    REPLY_KEYS,
    SYSTEM_KEYS,
    VENDOR_KEYS,
    Keys,
)
from api_audit.catalogue.load import load_catalogue, parse_catalogue
from api_audit.catalogue.renewals import Renewal, renewal_rows, upcoming_renewals
from api_audit.catalogue.rules import (
    COMPANIES_HOUSE_RE,
    DATE_RE,
    INSTANCE_SLUG_RE,
    MAX_SHORT_VALUE,
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    PROBE_ID_RE,
    PROBE_ID_RULE,
    SCHEMA_VERSION,
    SLUG_RE,
    url_problem,
)
from api_audit.catalogue.schema import catalogue_json_schema
from api_audit.catalogue.select import expand_instance, fill_placeholders, select_systems

__all__ = [
    "ATTESTATION_KEYS",
    "CATALOGUE_KEYS",
    "COMPANIES_HOUSE_RE",
    "DATE_RE",
    "ENDPOINT_KEYS",
    "INSTANCE_KEYS",
    "INSTANCE_SLUG_RE",
    "MAX_SHORT_VALUE",
    "PLACEHOLDERS",
    "PLACEHOLDER_RE",
    "PROBE_ID_RE",
    "PROBE_ID_RULE",
    "REPLY_KEYS",
    "SCHEMA_VERSION",
    "SLUG_RE",
    "SYSTEM_KEYS",
    "VENDOR_KEYS",
    "CouncilRegister",
    "Keys",
    "Renewal",
    "catalogue_json_schema",
    "describe",
    "expand_instance",
    "fill_placeholders",
    "load_catalogue",
    "load_register",
    "parse_catalogue",
    "parse_register",
    "renewal_rows",
    "select_systems",
    "upcoming_renewals",
    "url_problem",
]
