"""The JSON Schema (draft 2020-12) of vendors.yaml, for editors.

docs/vendors.schema.json is its committed copy (`api-audit schema` prints it).
"""

from __future__ import annotations

from collections.abc import Sequence

from api_audit.catalogue.rules import (
    ATTESTATION_KEYS,
    CATALOGUE_KEYS,
    COMPANIES_HOUSE_RE,
    DATE_RE,
    ENDPOINT_KEYS,
    INSTANCE_KEYS,
    INSTANCE_SLUG_RE,
    MAX_SHORT_VALUE,
    PROBE_ID_RE,
    REPLY_KEYS,
    SCHEMA_VERSION,
    SLUG_RE,
    SYSTEM_KEYS,
    VENDOR_KEYS,
    Keys,
)
from api_audit.models import (
    CLAIMS,
    ENDPOINT_KINDS,
    EVIDENCE_LEVELS,
    PROTOCOLS,
    SERVICE_AREAS,
    STANDARDS,
)


def catalogue_json_schema() -> dict[str, object]:
    """A JSON Schema (draft 2020-12) for vendors.yaml, from the loader's own vocabularies.

    Editors use it for completion and early errors; the loader stays the authority (it
    also checks uniqueness, the council register, dates in order and URL details).
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "api-audit catalogue (vendors.yaml)",
        "description": "UK local-government suppliers, their systems and council instances.",
        **_object(
            CATALOGUE_KEYS,
            {
                "schema_version": {"const": SCHEMA_VERSION},
                "vendors": {"type": "array", "items": {"$ref": "#/$defs/vendor"}},
            },
        ),
        "$defs": _schema_defs(),
    }


def _object(keys: Keys, properties: dict[str, object]) -> dict[str, object]:
    return {
        "type": "object",
        "required": list(keys.required),
        "additionalProperties": False,
        "properties": properties,
    }


def _ref(name: str) -> dict[str, object]:
    return {"$ref": f"#/$defs/{name}"}


def _array_of(item: dict[str, object]) -> dict[str, object]:
    return {"type": "array", "items": item}


def _enum(values: Sequence[str]) -> dict[str, object]:
    return {"type": "string", "enum": list(values)}


# http(s), a host without user info, then anything without spaces (ECMA-262 syntax).
_URL_PATTERN = r"^https?://[^\s/?#@]+([/?#]\S*)?$"


def _schema_defs() -> dict[str, object]:
    text = {"type": "string", "minLength": 1}
    return {
        "slug": {"type": "string", "pattern": SLUG_RE.pattern},
        "url": {"type": "string", "format": "uri", "pattern": _URL_PATTERN},
        "url_template": {
            "type": "string",
            "description": "An http(s) URL; may hold {slug}, {gss} and {code}.",
            "pattern": _URL_PATTERN,
        },
        "date": {"type": "string", "format": "date", "pattern": DATE_RE.pattern},
        "evidence": {
            **_enum(EVIDENCE_LEVELS),
            "description": "seen: in public material; code: in public code or config; "
            "inferred: from a pattern; none: searched for, not found.",
        },
        "endpoints": {
            "type": "object",
            "additionalProperties": False,
            "properties": {kind: _ref("endpoint") for kind in ENDPOINT_KINDS},
        },
        "endpoint": {
            "oneOf": [
                _ref("url_template"),
                _object(
                    ENDPOINT_KEYS,
                    {
                        "url": _ref("url_template"),
                        "evidence": _ref("evidence"),
                        "source": _ref("url"),
                        "note": text,
                    },
                ),
            ]
        },
        "vendor": _object(
            VENDOR_KEYS,
            {
                "id": _ref("slug"),
                "name": text,
                "website": _ref("url"),
                "companies_house": {"type": "string", "pattern": COMPANIES_HOUSE_RE.pattern},
                "notes": text,
                "systems": _array_of(_ref("system")),
            },
        ),
        "system": _object(
            SYSTEM_KEYS,
            {
                "id": _ref("slug"),
                "name": text,
                "service_areas": {**_array_of(_enum(SERVICE_AREAS)), "minItems": 1},
                "endpoints": _ref("endpoints"),
                "protocols": _array_of(_enum(PROTOCOLS)),
                "standards": _array_of(_enum(STANDARDS)),
                "evidence": _ref("evidence"),
                "sources": _array_of(_ref("url")),
                "notes": text,
                "url_template": _ref("url_template"),
                "instances": _array_of(_ref("instance")),
                "attestations": _array_of(_ref("attestation")),
                "replies": _array_of(_ref("reply")),
            },
        ),
        "instance": _object(
            INSTANCE_KEYS,
            {
                "council": {
                    "type": "string",
                    "description": "GSS code (E09000012) or registry code (HCK).",
                    "pattern": "^[A-Za-z0-9-]{3,9}$",
                },
                "slug": {"type": "string", "pattern": INSTANCE_SLUG_RE.pattern},
                "url": _ref("url_template"),
                "endpoints": _ref("endpoints"),
                "contract_start": _ref("date"),
                "contract_end": _ref("date"),
                "annual_value": {"type": "number", "minimum": 0},
                "source": _ref("url"),
                "notes": text,
            },
        ),
        "attestation": _object(
            ATTESTATION_KEYS,
            {
                "claim": _enum(CLAIMS),
                "value": {
                    "oneOf": [
                        {"type": "boolean"},
                        {"type": "string", "minLength": 1, "maxLength": MAX_SHORT_VALUE},
                    ]
                },
                "source": _ref("url"),
                "seen": _ref("date"),
                "quote": text,
                "note": text,
            },
        ),
        "reply": _object(
            REPLY_KEYS,
            {
                "date": _ref("date"),
                "text": text,
                "about": {"type": "string", "pattern": PROBE_ID_RE.pattern},
                "source": _ref("url"),
            },
        ),
    }
