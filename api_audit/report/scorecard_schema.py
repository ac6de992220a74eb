"""The JSON Schema (draft 2020-12) of the scorecard JSON contract (report/json.py,
docs/json.md), published as docs/scorecard.schema.json:
`python -m api_audit.report.scorecard_schema > docs/scorecard.schema.json` (a test checks
the file for drift and every report's scores.json against it).

Objects allow additional properties: additions are not a breaking change (docs/json.md).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from api_audit.models import CRITERIA

SCHEMA_ID = "https://github.com/api-audit/api-audit/blob/main/docs/scorecard.schema.json"


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required if required is not None else list(properties),
        "properties": properties,
    }


_REPLY = _object(
    {
        "date": {"type": "string"},
        "about": {"type": "string"},
        "text": {"type": "string"},
        "source": _nullable("string"),
        "status": {"type": "string"},
    }
)
_EVIDENCE = _object(
    {
        "url": {"type": "string"},
        "final_url": _nullable("string"),
        "status": _nullable("integer"),
        "sha256": _nullable("string"),
        "fetched_at": _nullable("string"),
        "error": _nullable("string"),
    }
)
_FINDING = _object(
    {
        "probe": {"type": "string"},
        "criterion": {"type": "string"},
        "outcome": {"enum": ["pass", "fail", "inconclusive", "not_applicable"]},
        "message": {"type": "string"},
        "basis": {"enum": ["observed", "attested"]},
        "excerpt": _nullable("string"),
        "evidence": {"type": "array", "items": _EVIDENCE},
        "replies": {"type": "array", "items": _REPLY},
        "set_aside": {"type": ["object", "null"]},
    }
)
_CRITERION = _object(
    {"score": _nullable("number"), "coverage": {"type": "number", "minimum": 0, "maximum": 1}},
)
_SYSTEM = _object(
    {
        "vendor": {"type": "string"},
        "vendor_name": {"type": "string"},
        "system": {"type": "string"},
        "name": {"type": "string"},
        "audited": {"type": "boolean"},
        "grade": {"enum": ["A", "B", "C", "D", "E", "?"]},
        "score": {"type": ["number", "null"], "minimum": 0, "maximum": 10},
        "coverage": {"type": "number", "minimum": 0, "maximum": 1},
        "ladder": _nullable("string"),
        "ladder_label": _nullable("string"),
        "research": {"type": "object"},
        "criteria": _object(dict.fromkeys(CRITERIA, _CRITERION), required=[]),
        "findings": {"type": "array", "items": _FINDING},
        "disagreements": {"type": "array", "items": {"type": "object"}},
        "replies": {"type": "array", "items": _REPLY},
    }
)
_RUN = _object(
    {
        "id": {"type": "integer"},
        "started_at": {"type": "string"},
        "finished_at": _nullable("string"),
        "status": {"type": "string"},
        "tool_version": {"type": "string"},
        "rubric_version": {"type": "string"},
        "methodology_version": {"type": "string"},
        "methodology_sha256": {"type": "string"},
        "catalogue_sha256": {"type": "string"},
    }
)


def scorecard_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "api-audit scorecard",
        "description": "`api-audit scorecard --format json` and a report's scores.json "
        "(docs/json.md).",
        **_object(
            {
                "format_version": {"const": 1},
                "run": _RUN,
                "systems": {"type": "array", "items": _SYSTEM},
            }
        ),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(scorecard_schema(), indent=2, ensure_ascii=False) + "\n")
