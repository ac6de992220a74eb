"""Catalogue builders the tests share: vendors.yaml text in, a Catalogue or its problems out."""

from __future__ import annotations

import textwrap

import pytest

from api_audit.catalogue import parse_catalogue
from api_audit.errors import CatalogueError
from api_audit.models import Catalogue

# One vendor with one system and one endpoint: the smallest catalogue a command can use.
SMALL_CATALOGUE = textwrap.dedent(
    """\
    schema_version: 1
    vendors:
      - id: openco
        name: OpenCo
        systems:
          - id: openco-main
            name: OpenCo Waste
            service_areas: [waste]
            endpoints: {docs: "https://docs.openco.test/"}
    """
)


def parse_catalogue_text(text: str) -> Catalogue:
    """The catalogue in `text` (indented as in a test; dedented first), named vendors.yaml."""
    return parse_catalogue(textwrap.dedent(text).encode(), "vendors.yaml")


def catalogue_problems(text: str | bytes) -> list[str]:
    """Every problem the loader reports for `text` (str is dedented first), as printed."""
    raw = text if isinstance(text, bytes) else textwrap.dedent(text).encode()
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(raw, "vendors.yaml")
    return [str(p) for p in caught.value.problems]
