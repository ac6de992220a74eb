"""Render a Scorecard as the stable JSON contract of DESIGN.md §7 (docs/json.md)."""

from __future__ import annotations

import json

from api_audit.models import CRITERIA, Scorecard

JSON_FORMAT_VERSION = 1


def scorecard_document(card: Scorecard) -> dict[str, object]:
    run = card.run
    return {
        "format_version": JSON_FORMAT_VERSION,
        "run": {
            "id": run.id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "status": run.status,
            "tool_version": run.tool_version,
            "rubric_version": run.rubric_version,
            "methodology_sha256": run.methodology_sha256,
            "catalogue_sha256": run.catalogue_sha256,
        },
        "systems": [
            {
                "vendor": row.vendor_id,
                "vendor_name": row.vendor_name,
                "system": row.system_id,
                "name": row.name,
                "grade": row.score.grade,
                "score": row.score.score,
                "coverage": row.score.coverage,
                "ladder": None,  # the openness ladder arrives with the full methodology
                "criteria": {
                    c: {
                        "score": row.score.criteria[c].score,
                        "coverage": row.score.criteria[c].coverage,
                    }
                    for c in CRITERIA
                    if c in row.score.criteria
                },
                "findings": [
                    {
                        "probe": f.probe_id,
                        "criterion": f.criterion,
                        "outcome": f.outcome,
                        "message": f.message,
                    }
                    for f in row.findings
                ],
            }
            for row in card.systems
        ],
    }


def scorecard_json(card: Scorecard) -> str:
    return json.dumps(scorecard_document(card), indent=2, ensure_ascii=False)
