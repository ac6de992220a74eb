"""The JSON Schema (draft 2020-12) of vendors.yaml, generated from the field list.

docs/vendors.schema.json is its committed copy (`api-audit schema` prints it). Each
mapping's properties come from its `Shape` in `fields.py` and each property's schema
from its field's kind, so the schema lists exactly the keys the loader reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from api_audit.catalogue.fields import (
    ATTESTATION,
    CATALOGUE,
    ENDPOINT,
    INSTANCE,
    REPLY,
    RESEARCH,
    SYSTEM,
    VENDOR,
    About,
    Amount,
    ClaimValue,
    CompaniesHouse,
    CouncilCode,
    Date,
    Endpoints,
    Evidence,
    Id,
    Instances,
    InstanceSlug,
    Kind,
    Objects,
    ResearchRecord,
    SchemaVersion,
    Shape,
    Text,
    Texts,
    Url,
    Urls,
    Word,
    Words,
)
from api_audit.catalogue.rules import (
    COMPANIES_HOUSE_RE,
    DATE_RE,
    INSTANCE_SLUG_RE,
    MAX_SHORT_VALUE,
    PROBE_ID_RE,
    SCHEMA_VERSION,
    SLUG_RE,
)
from api_audit.models import ENDPOINT_KINDS, EVIDENCE_LEVELS

# http(s), a host without user info, then anything without spaces (ECMA-262 syntax).
_URL_PATTERN = r"^https?://[^\s/?#@]+([/?#]\S*)?$"


def catalogue_json_schema() -> dict[str, object]:
    """A JSON Schema (draft 2020-12) for vendors.yaml, from the loader's own field list.

    Editors use it for completion and early errors; the loader stays the authority (it
    also checks uniqueness, the council register, dates in order and URL details).
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "api-audit catalogue (vendors.yaml)",
        "description": "UK local-government suppliers, their systems and council instances.",
        **_object(CATALOGUE),
        "$defs": _schema_defs(),
    }


def _schema_defs() -> dict[str, object]:
    """Values used in several places, then one definition per shape, in a fixed order."""
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
            "inferred: from a pattern; none: not evidenced in the sources read (a search "
            "that found nothing is recorded as a system's research instead).",
        },
        "endpoints": {
            "type": "object",
            "additionalProperties": False,
            "properties": {kind: _ref("endpoint") for kind in ENDPOINT_KINDS},
        },
        "endpoint": {"oneOf": [_ref("url_template"), _object(ENDPOINT)]},
        **{
            shape.name: _object(shape)
            for shape in (VENDOR, SYSTEM, INSTANCE, ATTESTATION, REPLY, RESEARCH)
        },
    }


def _object(shape: Shape) -> dict[str, object]:
    return {
        "type": "object",
        "required": list(shape.keys.required),
        "additionalProperties": False,
        "properties": {field.key: _kind_schema(field.kind) for field in shape.fields},
    }


def _kind_schema(kind: Kind) -> dict[str, object]:  # noqa: PLR0911, PLR0912 - one case per kind
    """The schema of one kind of value (a reference where it is defined once in $defs)."""
    match kind:
        case SchemaVersion():
            return {"const": SCHEMA_VERSION}
        case Text():
            return {"type": "string", "minLength": 1}
        case Id():
            return _ref("slug")
        case InstanceSlug():
            return {"type": "string", "pattern": INSTANCE_SLUG_RE.pattern}
        case Url(placeholders=placeholders):
            return _ref("url_template" if placeholders else "url")
        case Urls():
            return _array_of(_ref("url"))
        case Texts():
            return _array_of({"type": "string", "minLength": 1})
        case Evidence():
            return _ref("evidence")
        case Word(words=words):
            return _enum(words)
        case Words(words=words, at_least_one=at_least_one):
            items = _array_of(_enum(words))
            return {**items, "minItems": 1} if at_least_one else items
        case Date():
            return _ref("date")
        case Amount():
            return {"type": "number", "minimum": 0}
        case CompaniesHouse():
            number: dict[str, object] = {"type": "string", "pattern": COMPANIES_HOUSE_RE.pattern}
            return {"oneOf": [number, _array_of(number)]}
        case CouncilCode():
            return {
                "type": "string",
                "description": "GSS code (E09000012) or registry code (HCK).",
                "pattern": "^[A-Za-z0-9-]{3,9}$",
            }
        case ClaimValue():
            return {
                "oneOf": [
                    {"type": "boolean"},
                    {"type": "string", "minLength": 1, "maxLength": MAX_SHORT_VALUE},
                ]
            }
        case About():
            # The loader checks the name against the probe set; listing the probes here
            # would make the schema change with every new probe.
            return {
                "type": "string",
                "description": "A probe id (docs-public), a claim (api_access_fee) or "
                "attested:<claim>.",
                "pattern": "^(attested:)?" + PROBE_ID_RE.pattern.removeprefix("^"),
            }
        case Endpoints():
            return _ref("endpoints")
        case Objects(shape=shape) | Instances(shape=shape):
            return _array_of(_ref(shape.name))
        case ResearchRecord(shape=shape):
            return _ref(shape.name)
        case _:  # pragma: no cover - mypy checks that every kind is handled above
            assert_never(kind)


def _ref(name: str) -> dict[str, object]:
    return {"$ref": f"#/$defs/{name}"}


def _array_of(item: dict[str, object]) -> dict[str, object]:
    return {"type": "array", "items": item}


def _enum(values: Sequence[str]) -> dict[str, object]:
    return {"type": "string", "enum": list(values)}
