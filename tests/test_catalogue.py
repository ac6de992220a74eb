"""The catalogue loader: valid files load, every bad input gets its exact located message."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.catalogues import catalogue_problems as problems
from support.catalogues import parse_catalogue_text as parse

from api_audit.catalogue import (
    ATTESTATION_KEYS,
    CATALOGUE_KEYS,
    ENDPOINT_KEYS,
    INSTANCE_KEYS,
    REPLY_KEYS,
    SYSTEM_KEYS,
    VENDOR_KEYS,
    catalogue_json_schema,
    expand_instance,
    load_catalogue,
    parse_catalogue,
    select_systems,
    url_problem,
)
from api_audit.errors import CatalogueError, Problem, UsageError
from api_audit.models import Catalogue, Instance, System

ROOT = Path(__file__).resolve().parent.parent


# The keys issue 2 promises, exactly as written there.
ISSUE_2_EXAMPLE = """\
    schema_version: 1
    vendors:
      - id: openco                 # slug, unique
        name: OpenCo
        systems:
          - id: openco-main         # slug, unique across the catalogue
            name: OpenCo Waste Platform
            service_areas: [waste]  # from a fixed vocabulary
            endpoints:              # any subset; all URLs
              docs: https://docs.openco.test/
              spec: https://api.openco.test/openapi.json
              api_base: https://api.openco.test/v1/
"""

# Every key issue 3 adds, used once.
FULL_EXAMPLE = """\
    # yaml-language-server: $schema=./docs/vendors.schema.json
    schema_version: 1
    vendors:
      - id: idox
        name: Idox
        website: https://www.idox.test
        companies_house: "SC002940"
        notes: free text
        systems:
          - id: idox-uniform
            name: Idox Uniform
            service_areas: [planning, building-control]
            endpoints:
              docs: https://idox.test/docs
              spec:
                url: https://idox.test/openapi.json
                evidence: seen
                source: https://src.test/a
                note: found
              portal: "https://{slug}.idox.test/portal"
            protocols: [rest, soap]
            standards: [openapi]
            evidence: seen
            sources: ["https://src.test/b"]
            notes: free text
            url_template: "https://{slug}.idox.test/rest/v1/"
            instances:
              - council: E09000012
                slug: hackney-planning
                contract_start: 2020-04-01
                contract_end: 2027-03-31
                annual_value: 120000
                source: https://contracts.test/1
                notes: per council
              - council: bir
                url: "https://planning.{code}.test/api/"
                endpoints: {docs: "https://docs.{gss}.test/", portal: "https://portal.bir.test/"}
            attestations:
              - claim: api_access_fee
                value: true
                source: https://src.test/c
                seen: 2025-06-01
                quote: "API access is chargeable"
                note: from the price list
              - claim: docs_public
                value: partly
                source: https://src.test/d
                seen: "2025-06-02"
            replies:
              - date: 2026-01-10
                about: api_access_fee
                status: accepted
                reason: fact-disputed
                text: We waive the fee for councils.
                source: https://src.test/e
                decided: 2026-02-01
                decided_by: A. Investigator
                decision_note: the fee schedule was withdrawn
"""


# --- valid files -------------------------------------------------------------------------


def test_issue_2_minimal_example_loads() -> None:
    catalogue = parse(ISSUE_2_EXAMPLE)
    assert catalogue.schema_version == 1
    assert catalogue.source == "vendors.yaml"
    assert len(catalogue.sha256) == 64
    assert catalogue.warnings == ()
    (vendor,) = catalogue.vendors
    assert (vendor.id, vendor.name, vendor.website) == ("openco", "OpenCo", None)
    (system,) = catalogue.systems
    assert system.id == "openco-main"
    assert (system.vendor_id, system.vendor_name) == ("openco", "OpenCo")
    assert system.service_areas == ("waste",)
    assert dict(system.endpoints) == {
        "docs": "https://docs.openco.test/",
        "spec": "https://api.openco.test/openapi.json",
        "api_base": "https://api.openco.test/v1/",
    }
    assert system.endpoint("spec") == "https://api.openco.test/openapi.json"
    assert system.instances == ()
    assert system.council is None


def test_every_issue_3_key_loads_into_the_models() -> None:
    catalogue = parse(FULL_EXAMPLE)
    (vendor,) = catalogue.vendors
    assert (vendor.website, vendor.companies_house, vendor.notes) == (
        "https://www.idox.test",
        ("SC002940",),
        "free text",
    )
    assert (vendor.role, vendor.aliases) == ("supplier", ())  # the defaults
    (system,) = vendor.systems
    assert system.protocols == ("rest", "soap")
    assert system.standards == ("openapi",)
    assert (system.evidence, system.sources, system.notes) == (
        "seen",
        ("https://src.test/b",),
        "free text",
    )
    assert system.url_template == "https://{slug}.idox.test/rest/v1/"
    spec = system.endpoint_evidence["spec"]
    assert (spec.url, spec.evidence, spec.source, spec.note) == (
        "https://idox.test/openapi.json",
        "seen",
        "https://src.test/a",
        "found",
    )
    # The templated portal cannot be fetched until a council fills it.
    assert set(system.endpoints) == {"docs", "spec"}
    assert system.endpoint_evidence["portal"].url == "https://{slug}.idox.test/portal"

    hackney, birmingham = system.instances
    assert (hackney.council, hackney.code, hackney.slug) == ("E09000012", "HCK", "hackney-planning")
    assert (hackney.contract_start, hackney.contract_end) == (
        dt.date(2020, 4, 1),
        dt.date(2027, 3, 31),
    )
    assert (hackney.annual_value, hackney.source, hackney.notes) == (
        120000.0,
        "https://contracts.test/1",
        "per council",
    )
    assert (birmingham.council, birmingham.code) == ("E08000025", "BIR")
    assert birmingham.endpoints == {
        "docs": "https://docs.{gss}.test/",
        "portal": "https://portal.bir.test/",
    }

    fee, docs = system.attestations
    assert (fee.claim, fee.value, fee.seen) == ("api_access_fee", True, dt.date(2025, 6, 1))
    assert (fee.quote, fee.note) == ("API access is chargeable", "from the price list")
    assert (docs.value, docs.seen) == ("partly", dt.date(2025, 6, 2))
    (reply,) = system.replies
    assert (reply.date, reply.about, reply.source) == (
        dt.date(2026, 1, 10),
        "api_access_fee",
        "https://src.test/e",
    )
    assert (reply.status, reply.reason, reply.decided) == (
        "accepted",
        "fact-disputed",
        dt.date(2026, 2, 1),
    )
    assert (reply.decided_by, reply.decision_note) == (
        "A. Investigator",
        "the fee schedule was withdrawn",
    )


def test_default_catalogue_loads_and_points_editors_at_the_schema() -> None:
    path = ROOT / "vendors.yaml"
    assert path.read_text("utf-8").startswith(
        "# yaml-language-server: $schema=./docs/vendors.schema.json\n"
    )
    catalogue = load_catalogue(path)
    assert catalogue.systems
    assert catalogue.source == str(path)


def test_load_catalogue_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "vendors.yaml"
    path.write_text(textwrap.dedent(ISSUE_2_EXAMPLE), "utf-8")
    assert load_catalogue(path).systems[0].id == "openco-main"
    assert load_catalogue(str(path)).source == str(path)


def test_past_authority_is_a_warning_not_an_error() -> None:
    catalogue = parse(
        """\
        schema_version: 1
        vendors:
          - id: v
            name: V
            systems:
              - id: s
                name: S
                service_areas: [waste]
                instances:
                  - council: ALL
        """
    )
    assert [str(w) for w in catalogue.warnings] == [
        "vendors.yaml:10:22: Allerdale (ALL, E07000026) is a past authority (ended 2023-04-01);"
        " replaced by Cumberland (CBD, E06000063)"
    ]
    assert catalogue.systems[0].instances[0].council == "E07000026"


# --- one problem per bad input class ----------------------------------------------------

HEAD = """\
schema_version: 1
vendors:
  - id: v
    name: V
    systems:
      - id: s
        name: S
"""  # a system's further keys start on line 8, at column 9


def system_with(extra: str) -> str:
    return HEAD + textwrap.indent(textwrap.dedent(extra), " " * 8)


BAD_SYSTEMS = {
    "unknown key, did you mean": (
        "service_areas: [waste]\nnotez: x\n",
        "vendors.yaml:9:9: unknown key 'notez' in system (did you mean 'notes'?)",
    ),
    "unknown key, no close match": (
        "service_areas: [waste]\ncolour: blue\n",
        "vendors.yaml:9:9: unknown key 'colour' in system (expected one of: id, name, "
        "service_areas, endpoints, protocols, standards, evidence, sources, notes, "
        "url_template, instances, attestations, replies, keywords, research)",
    ),
    "missing required key": (
        "notes: no areas\n",
        "vendors.yaml:6:9: system is missing required key 'service_areas'",
    ),
    "wrong type: string for a list": (
        "service_areas: waste\n",
        "vendors.yaml:8:24: 'service_areas' must be a list, not a string ('waste')",
    ),
    "wrong type: list for a mapping": (
        "service_areas: [waste]\nendpoints: [https://a.test/]\n",
        "vendors.yaml:9:20: 'endpoints' must be a mapping of kind to URL, not a list",
    ),
    "wrong type: null": (
        "service_areas: [waste]\nnotes:\n",
        "vendors.yaml:9:15: 'notes' must be a string, not null (empty)",
    ),
    "empty service area list": (
        "service_areas: []\n",
        "vendors.yaml:8:24: 'service_areas' must list at least one area",
    ),
    "unknown service area": (
        "service_areas: [wastes]\n",
        "vendors.yaml:8:25: unknown service area 'wastes' (did you mean 'waste'?)",
    ),
    "unknown endpoint kind": (
        "service_areas: [waste]\nendpoints: {doc: https://a.test/}\n",
        "vendors.yaml:9:21: unknown endpoint kind 'doc' (did you mean 'docs'?)",
    ),
    "endpoint neither URL nor mapping": (
        "service_areas: [waste]\nendpoints: {docs: 42}\n",
        "vendors.yaml:9:27: endpoint 'docs' must be a URL or a mapping with 'url', "
        "not a number (42)",
    ),
    "endpoint mapping without url": (
        "service_areas: [waste]\nendpoints: {docs: {evidence: seen}}\n",
        "vendors.yaml:9:27: endpoint 'docs' is missing required key 'url'",
    ),
    "unknown evidence level": (
        "service_areas: [waste]\nevidence: seeen\n",
        "vendors.yaml:9:19: unknown evidence level 'seeen' (did you mean 'seen'?)",
    ),
    "unknown evidence level, no close match": (
        "service_areas: [waste]\nevidence: rumour\n",
        "vendors.yaml:9:19: unknown evidence level 'rumour' "
        "(expected one of: seen, code, inferred, none)",
    ),
    "unknown protocol": (
        "service_areas: [waste]\nprotocols: [rests]\n",
        "vendors.yaml:9:21: unknown protocol 'rests' (did you mean 'rest'?)",
    ),
    "unknown standard": (
        "service_areas: [waste]\nstandards: [open-311]\n",
        "vendors.yaml:9:21: unknown standard 'open-311' (did you mean 'open311'?)",
    ),
    "URL with another scheme": (
        "service_areas: [waste]\nendpoints: {docs: 'ftp://a.test/'}\n",
        "vendors.yaml:9:27: invalid URL 'ftp://a.test/': must start with http:// or https://",
    ),
    "relative URL": (
        "service_areas: [waste]\nendpoints: {docs: /docs}\n",
        "vendors.yaml:9:27: invalid URL '/docs': must start with http:// or https://",
    ),
    "URL without a host": (
        "service_areas: [waste]\nendpoints: {docs: 'https:///docs'}\n",
        "vendors.yaml:9:27: invalid URL 'https:///docs': has no host",
    ),
    "URL with user info": (
        "service_areas: [waste]\nendpoints: {docs: 'https://me:pw@a.test/'}\n",
        "vendors.yaml:9:27: invalid URL 'https://[redacted]@a.test/': "
        "must not contain a user name or password",
    ),
    "URL with a space": (
        "service_areas: [waste]\nendpoints: {docs: 'https://a.test/api docs'}\n",
        "vendors.yaml:9:27: invalid URL 'https://a.test/api docs': "
        "must not contain spaces or control characters",
    ),
    "URL with a bad port": (
        "service_areas: [waste]\nendpoints: {docs: 'https://a.test:99999/'}\n",
        "vendors.yaml:9:27: invalid URL 'https://a.test:99999/': not a well-formed URL",
    ),
    "unknown placeholder": (
        "service_areas: [waste]\nurl_template: 'https://{council}.a.test/'\n",
        "vendors.yaml:9:23: invalid URL 'https://{council}.a.test/': "
        "unknown placeholder {council} (use {slug}, {gss} or {code})",
    ),
    "placeholder where none may be": (
        "service_areas: [waste]\nsources: ['https://{slug}.a.test/']\n",
        "vendors.yaml:9:19: invalid URL 'https://{slug}.a.test/': "
        "placeholders are allowed only in endpoints, url_template and instance URLs",
    ),
    "URL that is not a string": (
        "service_areas: [waste]\nsources: [42]\n",
        "vendors.yaml:9:19: a URL must be a string, not a number (42)",
    ),
    "unknown council, did you mean": (
        "service_areas: [waste]\ninstances: [{council: E0900012}]\n",
        "vendors.yaml:9:31: unknown council 'E0900012': not a GSS or three-letter code in "
        "the council register (did you mean Hackney (HCK, E09000012)?)",
    ),
    "unknown council by name": (
        "service_areas: [waste]\ninstances: [{council: Hackney}]\n",
        "vendors.yaml:9:31: unknown council 'Hackney': not a GSS or three-letter code in "
        "the council register (did you mean Hackney (HCK, E09000012)?)",
    ),
    "council that is not a string": (
        "service_areas: [waste]\ninstances: [{council: 12}]\n",
        "vendors.yaml:9:31: 'council' must be a GSS or three-letter code, not a number (12)",
    ),
    "instance without council": (
        "service_areas: [waste]\ninstances: [{slug: x}]\n",
        "vendors.yaml:9:21: instance is missing required key 'council' "
        "(a GSS code such as E09000012 or a code such as HCK)",
    ),
    "duplicate instance": (
        "service_areas: [waste]\ninstances: [{council: HCK}, {council: e09000012}]\n",
        "vendors.yaml:9:47: duplicate instance for council Hackney (HCK, E09000012) "
        "(first at line 9)",
    ),
    "instance slug missing for the template": (
        "service_areas: [waste]\nurl_template: 'https://{slug}.a.test/'\n"
        "instances: [{council: HCK}]\n",
        "vendors.yaml:10:21: instance is missing 'slug', which the system's URLs use ({slug})",
    ),
    "bad instance slug": (
        "service_areas: [waste]\ninstances: [{council: HCK, slug: a/b}]\n",
        "vendors.yaml:9:42: invalid slug 'a/b': use letters, digits, '.', '-' and '_', "
        "starting with a letter or digit (try 'a-b')",
    ),
    "bad date": (
        "service_areas: [waste]\ninstances: [{council: HCK, contract_start: 2020-02-30}]\n",
        "vendors.yaml:9:52: invalid date '2020-02-30': day is out of range for month",
    ),
    "date in another format": (
        "service_areas: [waste]\ninstances: [{council: HCK, contract_start: 01/04/2020}]\n",
        "vendors.yaml:9:52: 'contract_start' must be a date (YYYY-MM-DD), "
        "not a string ('01/04/2020')",
    ),
    "date with a time": (
        "service_areas: [waste]\ninstances: [{council: HCK, contract_start: 2020-04-01 10:00:00}]"
        "\n",
        "vendors.yaml:9:52: 'contract_start' must be a date (YYYY-MM-DD) without a time",
    ),
    "contract end before start": (
        "service_areas: [waste]\ninstances:\n"
        "  - {council: HCK, contract_start: 2020-04-01, contract_end: 2019-03-31}\n",
        "vendors.yaml:10:70: contract_end 2019-03-31 is before contract_start 2020-04-01",
    ),
    "annual value not a number": (
        "service_areas: [waste]\ninstances: [{council: HCK, annual_value: '£120,000'}]\n",
        "vendors.yaml:9:50: 'annual_value' must be a number of pounds of at least 0 "
        "(e.g. 120000), not a string ('£120,000')",
    ),
    "annual value negative": (
        "service_areas: [waste]\ninstances: [{council: HCK, annual_value: -5}]\n",
        "vendors.yaml:9:50: 'annual_value' must be a number of pounds of at least 0 "
        "(e.g. 120000), not a number (-5)",
    ),
    "attestation without source or seen date": (
        "service_areas: [waste]\nattestations: [{claim: api_exists, value: true}]\n",
        "vendors.yaml:9:24: attestation is missing required key 'source' "
        "(the URL where the fact was seen)\n"
        "vendors.yaml:9:24: attestation is missing required key 'seen' "
        "(the date it was seen, YYYY-MM-DD)",
    ),
    "attestation with an unknown claim": (
        "service_areas: [waste]\nattestations:\n"
        "  - {claim: api_fee, value: true, source: 'https://a.test/', seen: 2025-01-01}\n",
        "vendors.yaml:10:21: unknown claim 'api_fee' (did you mean 'api_access_fee'?)",
    ),
    "attestation value too long": (
        "service_areas: [waste]\nattestations:\n"
        f"  - {{claim: api_exists, value: {'x' * 121}, seen: 2025-01-01,\n"
        "      source: 'https://a.test/'}\n",
        "vendors.yaml:10:40: 'value' must be true, false or a short string (at most 120 "
        f"characters), not a string ('{'x' * 60}...')",
    ),
    "reply without date": (
        "service_areas: [waste]\nreplies: [{about: docs-public, status: open, "
        "reason: not-detected,\n  text: We disagree., source: 'https://r.test/1'}]\n",
        "vendors.yaml:9:19: reply is missing required key 'date' "
        "(the date of the supplier's reply, YYYY-MM-DD)",
    ),
    "reply about something that is not a claim or probe id": (
        "service_areas: [waste]\nreplies: [{date: 2026-01-10, text: No., about: The Fee,\n"
        "  status: open, reason: fact-disputed, source: 'https://r.test/1'}]\n",
        "vendors.yaml:9:56: 'about' must name a probe or a claim, not 'The Fee' "
        "(`api-audit probes list` lists the probes; claims are the attestation claims)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SYSTEMS), ids=list(BAD_SYSTEMS))
def test_bad_system_gets_its_located_message(case: str) -> None:
    extra, expected = BAD_SYSTEMS[case]
    assert problems(system_with(extra)) == expected.split("\n")


BAD_FILES = {
    "empty file": ("", "vendors.yaml:1:1: file is empty"),
    "only a comment": ("# nothing\n", "vendors.yaml:1:1: file is empty"),
    "malformed YAML": (
        "schema_version: 1\nvendors: [\n",
        "vendors.yaml:3:1: invalid YAML: did not find expected node content",
    ),
    "duplicate YAML key": (
        "schema_version: 1\nschema_version: 1\nvendors: []\n",
        "vendors.yaml:2:1: duplicate key 'schema_version'",
    ),
    "top level is a list": (
        "- id: v\n",
        "vendors.yaml:1:1: the catalogue must be a mapping with 'schema_version' and "
        "'vendors', not a list",
    ),
    "top level is a string": (
        "hello\n",
        "vendors.yaml:1:1: the catalogue must be a mapping with 'schema_version' and "
        "'vendors', not a string ('hello')",
    ),
    "schema_version is not 1": (
        "schema_version: 2\nvendors: []\n",
        "vendors.yaml:1:17: unsupported schema_version 2: this api-audit reads schema_version 1",
    ),
    "schema_version is a string": (
        "schema_version: '1'\nvendors: []\n",
        "vendors.yaml:1:17: 'schema_version' must be 1, not a string ('1')",
    ),
    "schema_version is missing": (
        "vendors: []\n",
        "vendors.yaml:1:1: catalogue is missing required key 'schema_version'",
    ),
    "vendors is a mapping": (
        "schema_version: 1\nvendors: {id: v}\n",
        "vendors.yaml:2:10: 'vendors' must be a list, not a mapping",
    ),
    "vendor is a string": (
        "schema_version: 1\nvendors: [idox]\n",
        "vendors.yaml:2:11: each vendor must be a mapping, not a string ('idox')",
    ),
    "number as id": (
        "schema_version: 1\nvendors:\n  - {id: 7, name: V, systems: []}\n",
        "vendors.yaml:3:10: 'id' must be a string, not a number (7)",
    ),
    "bad slug": (
        "schema_version: 1\nvendors:\n  - {id: Idox Ltd, name: Idox, systems: []}\n",
        "vendors.yaml:3:10: invalid id 'Idox Ltd': use lower-case letters, digits and '-', "
        "starting with a letter or digit (try 'idox-ltd')",
    ),
    "duplicate vendor id": (
        "schema_version: 1\nvendors:\n  - {id: v, name: V, systems: []}\n"
        "  - {id: v, name: W, systems: []}\n",
        "vendors.yaml:4:10: duplicate vendor id 'v' (first at line 3)",
    ),
    "duplicate system id across vendors": (
        "schema_version: 1\nvendors:\n"
        "  - {id: v, name: V, systems: [{id: s, name: S, service_areas: [waste]}]}\n"
        "  - {id: w, name: W, systems: [{id: s, name: T, service_areas: [waste]}]}\n",
        "vendors.yaml:4:37: duplicate system id 's' (first at line 3)",
    ),
    "bad website": (
        "schema_version: 1\nvendors:\n  - {id: v, name: V, website: www.v.test, systems: []}\n",
        "vendors.yaml:3:31: invalid URL 'www.v.test': must start with http:// or https://",
    ),
    "unquoted Companies House number": (
        "schema_version: 1\nvendors:\n"
        "  - {id: v, name: V, companies_house: 00002065, systems: []}\n",
        "vendors.yaml:3:39: 'companies_house' must be quoted (e.g. \"00002065\"): unquoted, "
        "YAML reads it as a number (1077)",
    ),
    "bad Companies House number": (
        "schema_version: 1\nvendors:\n  - {id: v, name: V, companies_house: '123', systems: []}\n",
        "vendors.yaml:3:39: invalid Companies House number '123': expected 8 characters, "
        "such as 00002065 or SC002940",
    ),
    "non-string key": (
        "schema_version: 1\nvendors: []\n3: x\n",
        "vendors.yaml:3:1: unknown key '3' in catalogue (expected one of: schema_version, vendors)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file_gets_its_located_message(case: str) -> None:
    text, expected = BAD_FILES[case]
    assert problems(text.encode()) == [expected]


def test_file_not_utf8() -> None:
    assert problems(b"schema_version: 1\nname: \xff\n") == [
        "vendors.yaml:2:7: file is not UTF-8: byte 0xff (invalid start byte)"
    ]


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path / "nope.yaml")
    assert (
        str(caught.value)
        == f"{tmp_path / 'nope.yaml'}: cannot read file: No such file or directory"
    )


def test_alias_bomb_is_one_line_and_quick() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert problems("\n".join(lines) + "\n") == [
        "vendors.yaml: aliases expand to more than 1000000 nodes"
    ]


def test_deep_nesting_is_one_line() -> None:
    found = problems("x: " + "[" * 200 + "]" * 200 + "\n")
    assert len(found) == 1
    assert re.fullmatch(
        r"vendors\.yaml(:\d+:\d+)?: (nested deeper than 64|invalid YAML: .*)", found[0]
    )


def test_nesting_made_deep_by_aliases_is_one_line() -> None:
    """Each anchor is first measured where it sits shallow (the `last` list names them in
    reverse), then used 60 levels deeper by the next: expanded, 6,000 levels deep. The
    problem is shown at the list whose alias takes it past the limit."""
    lines = ["a0: &a0 " + "[" * 60 + "x" + "]" * 60]
    lines += [f"a{i}: &a{i} " + "[" * 60 + f"*a{i - 1}" + "]" * 60 for i in range(1, 100)]
    lines.append("last: [" + ", ".join(f"*a{i}" for i in reversed(range(100))) + "]")
    assert problems("\n".join(lines) + "\n") == ["vendors.yaml:2:68: nested deeper than 64"]


def test_huge_file_is_one_line() -> None:
    assert problems(b"# " + b"x" * (10 * 1024 * 1024) + b"\n") == [
        "vendors.yaml: file is larger than 10485760 bytes"
    ]


def test_several_problems_are_all_reported_in_file_order() -> None:
    found = problems(
        """\
        schema_version: 1
        vendors:
          - id: v
            nmae: V
            systems:
              - id: s
                name: S
                service_areas: [planing]
                endpoints: {docs: 'ftp://x.test/'}
                attestations: [{claim: api_exists, value: true}]
          - id: v
            name: W
            systems: []
        """
    )
    assert found == [
        "vendors.yaml:4:5: unknown key 'nmae' in vendor (did you mean 'name'?)",
        "vendors.yaml:8:25: unknown service area 'planing' (did you mean 'planning'?)",
        "vendors.yaml:9:27: invalid URL 'ftp://x.test/': must start with http:// or https://",
        "vendors.yaml:10:24: attestation is missing required key 'source' "
        "(the URL where the fact was seen)",
        "vendors.yaml:10:24: attestation is missing required key 'seen' "
        "(the date it was seen, YYYY-MM-DD)",
        "vendors.yaml:11:9: duplicate vendor id 'v' (first at line 3)",
    ]


def test_error_string_is_the_first_problem_and_a_count() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(b"schema_version: 3\nvendors: 1\n", "vendors.yaml")
    assert str(caught.value) == (
        "vendors.yaml:1:17: unsupported schema_version 3: this api-audit reads schema_version 1"
        " (and 1 more)"
    )


def test_problems_deep_inside_an_invalid_system_are_still_reported() -> None:
    # The system's own id is bad, yet its attestations are still checked.
    found = problems(
        system_with("service_areas: [waste]\nattestations: [{claim: nope, value: true}]\n").replace(
            "id: s", "id: S"
        )
    )
    assert found[0].startswith("vendors.yaml:6:13: invalid id 'S'")
    assert any("unknown claim 'nope'" in p for p in found)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://a.test/x?q=1#f", None),
        ("http://127.0.0.1:8080/", None),
        ("https://a.test/@user", None),
        ("HTTPS://A.TEST/", None),
        ("mailto:a@b.test", "must start with http:// or https://"),
        ("https://a.test/\x00", "must not contain spaces or control characters"),
        ("https://[::1/", "not a well-formed URL"),
        ("https://@a.test/", "must not contain a user name or password"),
    ],
)
def test_url_rules(url: str, reason: str | None) -> None:
    assert url_problem(url) == reason


# --- filters and per-council expansion --------------------------------------------------

MARKET = """\
    schema_version: 1
    vendors:
      - id: idox
        name: Idox
        systems:
          - id: idox-cloud
            name: Idox Cloud
            service_areas: [planning, public-protection]
            url_template: "https://{slug}.idox.test/rest/v1/"
            endpoints:
              docs: "https://{slug}.idox.test/rest/v1/documentation.html"
              terms: "https://idox.test/terms"
              status: "https://status.idox.test/{code}/{gss}"
            instances:
              - {council: E09000012, slug: hackney-planning}
              - council: BIR
                slug: birmingham
                url: "https://planning.birmingham.test/api/"
                endpoints: {docs: "https://docs.birmingham.test/", pricing: "https://p.test/{gss}"}
          - id: idox-uniform
            name: Idox Uniform
            service_areas: [planning, building-control]
            endpoints: {docs: "https://uniform.idox.test/docs"}
      - id: civica
        name: Civica
        systems:
          - id: civica-cx
            name: Civica CX
            service_areas: [crm]
            instances: [{council: HCK}]
          - id: civica-paris
            name: Civica Paris
            service_areas: [payments]
"""


@pytest.fixture
def market() -> Catalogue:
    return parse(MARKET)


def ids(systems: tuple[System, ...]) -> list[str]:
    return [s.id for s in systems]


def test_no_filter_selects_everything_in_order(market: Catalogue) -> None:
    assert ids(select_systems(market)) == [
        "idox-cloud",
        "idox-uniform",
        "civica-cx",
        "civica-paris",
    ]


def test_filters_or_within_and_across(market: Catalogue) -> None:
    assert ids(select_systems(market, vendors=["civica"])) == ["civica-cx", "civica-paris"]
    assert ids(select_systems(market, systems=["idox-uniform", "civica-cx"])) == [
        "idox-uniform",
        "civica-cx",
    ]
    assert ids(select_systems(market, service_areas=["crm", "building-control"])) == [
        "idox-uniform",
        "civica-cx",
    ]
    assert ids(select_systems(market, vendors=["idox"], service_areas=["planning"])) == [
        "idox-cloud",
        "idox-uniform",
    ]
    assert ids(select_systems(market, vendors=["idox"], service_areas=["crm"])) == []
    assert ids(select_systems(market, service_areas=["libraries"])) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vendors": ["idx"]}, "unknown vendor 'idx' (did you mean 'idox'?)"),
        ({"vendors": ["nec"]}, "unknown vendor 'nec'"),
        ({"systems": ["idox-clod"]}, "unknown system 'idox-clod' (did you mean 'idox-cloud'?)"),
        ({"service_areas": ["wastes"]}, "unknown service area 'wastes' (did you mean 'waste'?)"),
        (
            {"council": "E0900012"},
            "unknown council 'E0900012': not a GSS or three-letter code in the council "
            "register (did you mean Hackney (HCK, E09000012)?)",
        ),
        (
            {"council": "QQQ"},
            "unknown council 'QQQ': not a GSS or three-letter code in the council register",
        ),
    ],
)
def test_unknown_filter_values_are_usage_errors(
    market: Catalogue, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        select_systems(market, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_without_a_council_templated_endpoints_are_left_out(market: Catalogue) -> None:
    cloud = select_systems(market, systems=["idox-cloud"])[0]
    assert dict(cloud.endpoints) == {"terms": "https://idox.test/terms"}
    assert cloud.council is None


def test_council_filter_expands_the_url_template(market: Catalogue) -> None:
    hackney = select_systems(market, council="E09000012")
    assert ids(hackney) == ["idox-cloud@E09000012", "civica-cx@E09000012"]
    cloud = hackney[0]
    assert cloud.council == "E09000012"
    assert dict(cloud.endpoints) == {
        "docs": "https://hackney-planning.idox.test/rest/v1/documentation.html",
        "terms": "https://idox.test/terms",
        "status": "https://status.idox.test/HCK/E09000012",
        "api_base": "https://hackney-planning.idox.test/rest/v1/",
    }
    assert [i.council for i in cloud.instances] == ["E09000012"]
    assert cloud.endpoint_evidence["api_base"].note == "per-council base from the url_template"
    assert hackney[1].endpoints == {}


def test_council_filter_takes_three_letter_codes_in_any_case(market: Catalogue) -> None:
    assert ids(select_systems(market, council="hck")) == ids(
        select_systems(market, council="E09000012")
    )


def test_instance_url_and_endpoints_override_the_system(market: Catalogue) -> None:
    (cloud,) = select_systems(market, council="bir")
    assert cloud.id == "idox-cloud@E08000025"
    assert dict(cloud.endpoints) == {
        "docs": "https://docs.birmingham.test/",
        "terms": "https://idox.test/terms",
        "status": "https://status.idox.test/BIR/E08000025",
        "api_base": "https://planning.birmingham.test/api/",
        "pricing": "https://p.test/E08000025",
    }


def test_council_filter_combines_with_other_filters(market: Catalogue) -> None:
    assert ids(select_systems(market, council="HCK", vendors=["civica"])) == ["civica-cx@E09000012"]
    assert select_systems(market, council="CMD") == ()  # a real council with no instances


def test_expansion_drops_urls_it_cannot_fill() -> None:
    system = System(
        id="s",
        name="S",
        vendor_id="v",
        vendor_name="V",
        service_areas=("waste",),
        endpoints={},
        url_template="https://{slug}.a.test/",
    )
    expanded = expand_instance(system, Instance(council="NIR-A", code="NIR-A"))
    assert expanded.endpoints == {}
    assert expanded.id == "s@NIR-A"


# --- JSON Schema ------------------------------------------------------------------------


def test_committed_schema_matches_the_generated_one() -> None:
    """Regenerate with: .venv/bin/python -c "import json; from api_audit.catalogue import
    catalogue_json_schema as s; print(json.dumps(s(), indent=2))" > docs/vendors.schema.json
    """
    committed = json.loads((ROOT / "docs" / "vendors.schema.json").read_text("utf-8"))
    assert committed == catalogue_json_schema()


def test_schema_keys_match_the_loader() -> None:
    defs = catalogue_json_schema()["$defs"]
    assert isinstance(defs, dict)
    endpoint_object = defs["endpoint"]["oneOf"][1]
    for schema, keys in [
        (catalogue_json_schema(), CATALOGUE_KEYS),
        (defs["vendor"], VENDOR_KEYS),
        (defs["system"], SYSTEM_KEYS),
        (endpoint_object, ENDPOINT_KEYS),
        (defs["instance"], INSTANCE_KEYS),
        (defs["attestation"], ATTESTATION_KEYS),
        (defs["reply"], REPLY_KEYS),
    ]:
        assert sorted(schema["properties"]) == sorted(keys.all)
        assert schema["required"] == list(keys.required)


def schema_errors(value: object, schema: dict[str, object], root: dict[str, object]) -> list[str]:
    """A tiny JSON Schema checker for the keywords our schema uses (no dependency)."""
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix("#/$defs/")
        return schema_errors(value, root["$defs"][name], root)  # type: ignore[index]
    if "oneOf" in schema:
        fits = [s for s in schema["oneOf"] if not schema_errors(value, s, root)]  # type: ignore[attr-defined]
        return [] if len(fits) == 1 else [f"{value!r}: {len(fits)} oneOf branches fit"]
    found: list[str] = []
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float)}
    kind = schema.get("type")
    if kind and not isinstance(value, types[kind]):  # type: ignore[arg-type,index]
        return [f"{value!r} is not {kind}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:  # type: ignore[operator]
        found.append(f"{value!r} not in enum")
    if "pattern" in schema and not re.search(str(schema["pattern"]), str(value)):
        found.append(f"{value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        found += [f"missing {k}" for k in schema.get("required", []) if k not in value]  # type: ignore[attr-defined]
        for k, v in value.items():
            if k in props:  # type: ignore[operator]
                found += schema_errors(v, props[k], root)  # type: ignore[index]
            elif schema.get("additionalProperties") is False:
                found.append(f"unexpected key {k}")
    if isinstance(value, list) and "items" in schema:
        for item in value:
            found += schema_errors(item, schema["items"], root)  # type: ignore[arg-type]
    return found


def as_json(value: object) -> object:
    """YAML data as an editor's YAML 1.2 reader sees it: dates stay strings."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


@pytest.mark.parametrize(
    "text",
    [
        textwrap.dedent(ISSUE_2_EXAMPLE),
        textwrap.dedent(FULL_EXAMPLE),
        textwrap.dedent(MARKET),
        (ROOT / "vendors.yaml").read_text("utf-8"),
    ],
    ids=["issue-2", "full", "market", "default"],
)
def test_schema_accepts_valid_catalogues(text: str) -> None:
    schema = catalogue_json_schema()
    parse_catalogue(text.encode(), "vendors.yaml")  # the loader agrees it is valid
    assert schema_errors(as_json(yaml.safe_load(text)), schema, schema) == []


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = catalogue_json_schema()
    data = as_json(yaml.safe_load(textwrap.dedent(FULL_EXAMPLE)))
    system = data["vendors"][0]["systems"][0]  # type: ignore[index]
    system["colour"] = "blue"
    system["service_areas"] = ["wastes"]
    del system["attestations"][0]["seen"]
    assert schema_errors(data, schema, schema) == [
        "'wastes' not in enum",
        "missing seen",
        "unexpected key colour",
    ]


# --- property tests: any input ends in a Catalogue or a CatalogueError --------------------

ALL_KEYS = sorted(
    {
        k
        for keys in (
            CATALOGUE_KEYS,
            VENDOR_KEYS,
            SYSTEM_KEYS,
            ENDPOINT_KEYS,
            INSTANCE_KEYS,
            ATTESTATION_KEYS,
            REPLY_KEYS,
        )
        for k in keys.all
    }
    | {"docs", "spec", "api_base"}
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.dates()
    | st.datetimes()
    | st.sampled_from(["waste", "HCK", "E09000012", "ALL", "https://a.test/", "{slug}", "seen"])
)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(ALL_KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def check_never_crashes(raw: bytes) -> None:
    """A Catalogue, or a CatalogueError whose problems all name the file; nothing else."""
    found: list[Problem] = []
    try:
        assert isinstance(parse_catalogue(raw, "vendors.yaml"), Catalogue)
    except CatalogueError as exc:
        found = exc.problems
        assert found
    for problem in found:
        assert str(problem).startswith("vendors.yaml")
        assert "internal error" not in problem.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_VALUES)
def test_random_documents_never_crash(value: object) -> None:
    check_never_crashes(yaml.safe_dump(value).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(ALL_KEYS), YAML_VALUES, max_size=6), YAML_VALUES)
def test_random_catalogue_shapes_never_crash(
    system: dict[str, object], vendor_extra: object
) -> None:
    document = {
        "schema_version": 1,
        "vendors": [{"id": "v", "name": "V", "systems": [system], "notes": vendor_extra}],
    }
    check_never_crashes(yaml.safe_dump(document).encode())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_random_text_never_crashes(text: str) -> None:
    check_never_crashes(text.encode("utf-8", "surrogatepass"))


def paths_in(value: object, at: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths_in(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths_in(v, (*at, i))
    return found


def mutate(document: object, path: tuple[object, ...], how: str, junk: object) -> object:
    """Return `document` with one change at `path` (the document is a fresh copy)."""
    if not path:
        return junk
    parent = document
    for step in path[:-1]:
        parent = parent[step]  # type: ignore[index]
    last = path[-1]
    if how == "delete":
        del parent[last]  # type: ignore[attr-defined]
    elif how == "duplicate" and isinstance(parent, list):
        parent.insert(int(last), json.loads(json.dumps(parent[last], default=str)))  # type: ignore[call-overload]
    elif how == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    else:
        parent[last] = junk  # type: ignore[index]
    return document


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_catalogues_never_crash(data: st.DataObject) -> None:
    document = yaml.safe_load(textwrap.dedent(FULL_EXAMPLE))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = paths_in(document)
        path = data.draw(st.sampled_from(paths), label="path")
        how = data.draw(st.sampled_from(["delete", "duplicate", "rename", "replace"]), label="how")
        junk = data.draw(YAML_VALUES | st.text(max_size=2000), label="junk")
        document = mutate(document, path, how, junk)
    check_never_crashes(yaml.safe_dump(document).encode())


# --- scale -------------------------------------------------------------------------------


BIG_SYSTEM = """\
      - id: s{v}-{s}
        name: System {v}-{s}
        service_areas: [waste, planning]
        endpoints:
          docs: https://v{v}.test/{s}/docs
          spec: {{url: "https://v{v}.test/{s}/openapi.json", evidence: seen}}
        instances: [{{council: HCK, slug: s{s}}}]
        attestations:
          - {{claim: api_exists, value: true, source: "https://a.test/", seen: 2025-01-01}}
"""


def test_five_thousand_systems_load(capsys: pytest.CaptureFixture[str]) -> None:
    """Measured, not asserted (DESIGN §8): the time is printed for `pytest -s`."""
    parts = ["schema_version: 1\nvendors:\n"]
    for v in range(250):
        parts.append(f"  - id: v{v}\n    name: Vendor {v}\n    systems:\n")
        parts += [textwrap.indent(BIG_SYSTEM.format(v=v, s=s), "  ") for s in range(20)]
    raw = "".join(parts).encode()
    started = time.perf_counter()
    catalogue = parse_catalogue(raw, "big.yaml")
    elapsed = time.perf_counter() - started
    assert len(catalogue.systems) == 5000
    with capsys.disabled():
        print(f"\n5,000 systems ({len(raw) // 1024} KiB) loaded in {elapsed:.2f}s")


# --- research state (methodology 2027.01) --------------------------------------------------

BAD_RESEARCH = {
    "none-found without a date or where": (
        "service_areas: [waste]\nresearch: {state: none-found}\n",
        [
            "vendors.yaml:9:19: research state 'none-found' needs 'searched' (the date)",
            "vendors.yaml:9:19: research state 'none-found' needs 'where' (where it was searched)",
        ],
    ),
    "none-found with a URL listed": (
        "service_areas: [waste]\nendpoints: {docs: 'https://d.test/'}\n"
        "research: {state: none-found, searched: 2026-11-20, where: [site]}\n",
        ["vendors.yaml:10:27: research state 'none-found', but the system lists docs"],
    ),
    "none-found with a URL template": (
        "service_areas: [waste]\nurl_template: 'https://{slug}.d.test/'\n"
        "research: {state: none-found, searched: 2026-11-20, where: [site]}\n",
        ["vendors.yaml:10:27: research state 'none-found', but the system lists url_template"],
    ),
    "endpoints-found with nothing listed": (
        "service_areas: [waste]\nresearch: {state: endpoints-found}\n",
        ["vendors.yaml:9:27: research state 'endpoints-found', but the system lists no endpoint"],
    ),
    "not-researched with a URL listed": (
        "service_areas: [waste]\nendpoints: {docs: 'https://d.test/'}\n"
        "research: {state: not-researched}\n",
        ["vendors.yaml:10:27: research state 'not-researched', but the system lists docs"],
    ),
    "not_found naming a listed kind, without a date": (
        "service_areas: [waste]\nendpoints: {docs: 'https://d.test/'}\n"
        "research: {state: endpoints-found, not_found: [docs]}\n",
        [
            "vendors.yaml:10:19: research with 'not_found' needs 'searched' (the date)",
            "vendors.yaml:10:55: 'not_found' lists 'docs', but the system has a docs URL",
        ],
    ),
    "not_found on a none-found system": (
        "service_areas: [waste]\n"
        "research: {state: none-found, searched: 2026-11-20, where: [x], not_found: [spec]}\n",
        ["vendors.yaml:9:84: 'not_found' goes with research state endpoints-found"],
    ),
    "unknown state": (
        "service_areas: [waste]\nresearch: {state: looked}\n",
        [
            "vendors.yaml:9:27: unknown research state 'looked' (expected one of: "
            "not-researched, none-found, endpoints-found)"
        ],
    ),
    "unknown endpoint kind in not_found": (
        "service_areas: [waste]\nendpoints: {docs: 'https://d.test/'}\n"
        "research: {state: endpoints-found, searched: 2026-11-20, not_found: [specs]}\n",
        ["vendors.yaml:10:78: unknown endpoint kind 'specs' (did you mean 'spec'?)"],
    ),
    "where is not a list": (
        "service_areas: [waste]\n"
        "research: {state: none-found, searched: 2026-11-20, where: vendor site}\n",
        [
            "vendors.yaml:9:19: research state 'none-found' needs 'where' (where it was searched)",
            "vendors.yaml:9:68: 'where' must be a list, not a string ('vendor site')",
        ],
    ),
}


@pytest.mark.parametrize("case", list(BAD_RESEARCH), ids=list(BAD_RESEARCH))
def test_research_that_contradicts_the_entry_is_refused_where_it_is_written(case: str) -> None:
    extra, expected = BAD_RESEARCH[case]
    assert problems(system_with(extra)) == expected


@pytest.mark.parametrize(
    ("extra", "state", "searched_none"),
    [
        ("service_areas: [waste]\n", "not-researched", None),
        ("service_areas: [waste]\nendpoints: {docs: 'https://d.test/'}\n", "endpoints-found", None),
        (
            "service_areas: [waste]\n"
            "research: {state: none-found, searched: 2026-11-20, where: [site]}\n",
            "none-found",
            "2026-11-20",
        ),
        (
            "service_areas: [waste]\nendpoints: {docs: 'https://d.test/'}\n"
            "research: {state: endpoints-found, searched: 2026-11-20, not_found: [spec]}\n",
            "endpoints-found",
            None,  # searched for a spec, not for everything
        ),
    ],
)
def test_research_state_is_recorded_or_derived(
    extra: str, state: str, searched_none: str | None
) -> None:
    (vendor,) = parse_catalogue(system_with(extra).encode(), "vendors.yaml").vendors
    (system,) = vendor.systems
    assert system.research_state == state
    found = system.searched_none(None)
    assert (found.searched.isoformat() if found and found.searched else None) == searched_none


def test_vendor_roles_aliases_and_several_companies_house_numbers_load() -> None:
    text = (
        HEAD.replace(
            "    name: V\n",
            "    name: V\n"
            "    role: reseller\n"
            "    aliases: [IDOX SOFTWARE LTD, Idox plc]\n"
            '    companies_house: ["SC002940", "03984070", "SC002940"]\n',
        )
        + "        service_areas: [planning]\n        keywords: [Uniform, Acolaid]\n"
    )
    (vendor,) = parse_catalogue(text.encode(), "vendors.yaml").vendors
    (system,) = vendor.systems
    assert vendor.role == "reseller"
    assert vendor.aliases == ("IDOX SOFTWARE LTD", "Idox plc")
    assert vendor.companies_house == ("SC002940", "03984070")  # duplicates dropped
    assert system.keywords == ("Uniform", "Acolaid")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("    role: vendor\n", "unknown vendor role 'vendor'"),
        ("    companies_house: [2065]\n", "'companies_house' must be quoted"),
        ('    companies_house: ["12"]\n', "invalid Companies House number '12'"),
        ("    aliases: Idox\n", "'aliases' must be a list"),
    ],
)
def test_bad_vendor_market_fields_are_located(line: str, problem: str) -> None:
    text = HEAD.replace("    name: V\n", "    name: V\n" + line) + (
        "        service_areas: [planning]\n"
    )
    (found,) = problems(text)
    assert found.startswith("vendors.yaml:5:") and problem in found, found
