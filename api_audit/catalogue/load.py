"""vendors.yaml -> Catalogue, validated, with file:line:col errors.

`load_catalogue` reports every problem in the file at once (`CatalogueError.problems`),
each located at the key or value it is about. Any YAML that parses but has the wrong
shape (a list where a mapping belongs, a number as an id, null ...) becomes a problem,
never a traceback. Warnings that do not stop a run (a past authority) are kept on
`Catalogue.warnings`.

The document is walked shape by shape, as `fields.py` lists them: every field present is
read by its kind (even when an earlier one was wrong, so all problems are found), and a
shape becomes its model only when every required field was read.

URLs in a system's `endpoints`, its `url_template`, and an instance's `url` and
`endpoints` may hold the placeholders {slug} (the instance's slug), {gss} and {code} (the
council's GSS and registry codes). They are filled only when a system is expanded into
one council's instance (`select_systems(..., council=...)`, `expand_instance`); until
then an endpoint with placeholders cannot be fetched, so it is kept out of
`System.endpoints` and stays only in `System.endpoint_evidence`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, assert_never, cast

from api_audit.catalogue.councils import describe, load_register
from api_audit.catalogue.fields import (
    CATALOGUE,
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
from api_audit.catalogue.probe_ids import probe_ids_in
from api_audit.catalogue.rules import (
    INSTANCE_SLUG_RE,
    INSTANCE_SLUG_RULE,
    PLACEHOLDER_RE,
    SCHEMA_VERSION,
)
from api_audit.catalogue.values import ValueReader
from api_audit.errors import CatalogueError, Problem
from api_audit.loading import (
    PathKey,
    YamlLoadError,
    close_match,
    did_you_mean,
    in_file_order,
    load_yaml_bytes,
    read_yaml_file,
)
from api_audit.loading.wording import kind_of, quoted
from api_audit.models import (
    ENDPOINT_KINDS,
    EVIDENCE_LEVELS,
    Catalogue,
    EndpointEvidence,
    Instance,
    Research,
    Vendor,
)


def load_catalogue(path: str | Path, probe_ids: Collection[str] | None = None) -> Catalogue:
    """Read and validate a catalogue file; raise CatalogueError listing every problem.

    `probe_ids` are the probes a reply may name (default: the shipped probe set)."""
    try:
        raw = read_yaml_file(path)  # a regular file of bounded size; never a FIFO or device
    except YamlLoadError as exc:
        raise CatalogueError([exc.problem]) from None
    return parse_catalogue(raw, str(path), probe_ids)


def parse_catalogue(
    raw: bytes, source: str = "<catalogue>", probe_ids: Collection[str] | None = None
) -> Catalogue:
    """Validate catalogue bytes; `source` is the name problems are reported against."""
    try:
        doc = load_yaml_bytes(raw, source)
    except YamlLoadError as exc:
        raise CatalogueError([exc.problem]) from None
    known = probe_ids_in() if probe_ids is None else probe_ids
    reader = _CatalogueReader(doc, load_register(), known)
    vendors: tuple[Vendor, ...] | None = None
    try:
        vendors = reader.catalogue()
    # A bug in a check must still end in one line naming the file, never a traceback;
    # the property tests assert that this message never appears.
    except Exception as exc:  # pragma: no cover - reached only through a bug
        reader.problems.append(
            Problem(source, 0, 0, f"internal error while validating ({exc!r}); please report it")
        )
    if reader.problems or vendors is None:
        raise CatalogueError(in_file_order(reader.problems))
    digest = hashlib.sha256(raw).hexdigest()
    return Catalogue(SCHEMA_VERSION, vendors, source, digest, tuple(reader.warnings))


def _listed_urls(system: Mapping[str, Any]) -> list[str]:
    """What a system's entry lists: its endpoint kinds, and "url_template" for per-council
    URLs (a template, or an instance's own URL or endpoints)."""
    listed = list(system.get("endpoints") or {})
    instances: tuple[Instance, ...] = system.get("instances") or ()
    if system.get("url_template") or any(i.url or i.endpoints for i in instances):
        listed.append("url_template")
    return listed


class _CatalogueReader(ValueReader):
    """Walks the YAML data once, shape by shape, collecting problems and building models."""

    def catalogue(self) -> tuple[Vendor, ...] | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.error(
                (),
                "the catalogue must be a mapping with 'schema_version' and 'vendors', "
                f"not {kind_of(data)}",
            )
            return None
        return cast(tuple[Vendor, ...] | None, self.shape(CATALOGUE, data, (), {}))

    def shape(
        self, shape: Shape, value: object, at: PathKey, parent: Mapping[str, Any], what: str = ""
    ) -> object | None:
        """The shape's model, or None when it is not a mapping or lacks a required field."""
        m = self.mapping(value, at, what or shape.name, shape)
        if m is None:
            return None
        values: dict[str, Any] = {}
        for field in shape.fields:
            if field.key in m:
                values[field.key] = self.read(field.kind, m[field.key], (*at, field.key), values)
            else:
                values[field.key] = field.absent
        if any(values[key] is None for key in shape.keys.required):
            return None
        rule_problems = shape.check(values)
        for key, message in rule_problems:
            self.error((*at, key) if key in m else at, message)
        return None if rule_problems else shape.build(values, parent)

    def mapping(
        self, value: object, at: PathKey, what: str, shape: Shape
    ) -> dict[str, object] | None:
        """The mapping's known keys; unknown and missing keys are reported."""
        if not isinstance(value, dict):
            self.error(at, f"each {what} must be a mapping, not {kind_of(value)}")
            return None
        keys = shape.keys
        known: dict[str, object] = {}
        suggested: set[str] = set()
        for key, item in value.items():
            name = str(key)
            if isinstance(key, str) and key in keys.all:
                known[key] = item
                continue
            guess = close_match(name, keys.all)
            if guess is not None:
                suggested.add(guess)
            hint = did_you_mean(name, keys.all, listing=True)
            self.error((*at, name), f"unknown key {quoted(name)} in {what}{hint}", key=True)
        for field in shape.fields:
            if field.required and field.key not in known and field.key not in suggested:
                extra = f" ({field.hint})" if field.hint else ""
                self.error(at, f"{what} is missing required key '{field.key}'{extra}")
        return known

    def read(  # noqa: PLR0911, PLR0912 - one case per kind of value
        self, kind: Kind, value: object, at: PathKey, context: Mapping[str, Any]
    ) -> object:
        """Read one field's value by its kind; `context` holds the fields read before it."""
        match kind:
            case SchemaVersion():
                return self.schema_version(value, at)
            case Text():
                return self.text(value, at)
            case Id(scope=scope):
                return self.unique_id(value, at, scope)
            case InstanceSlug():
                return self.patterned(value, at, INSTANCE_SLUG_RE, INSTANCE_SLUG_RULE)
            case Url(placeholders=placeholders):
                return self.url(value, at, placeholders=placeholders)
            case Urls():
                return self.urls(value, at)
            case Texts():
                return self.texts(value, at)
            case Evidence():
                return self.choice(value, at, EVIDENCE_LEVELS, "evidence level")
            case Word(words=words, what=what):
                return self.choice(value, at, words, what)
            case Words():
                return self.words(value, at, kind)
            case Date(not_before=""):
                return self.date(value, at)
            case Date(not_before=name):
                return self.date_not_before(value, at, context.get(name), name)
            case Amount():
                return self.amount(value, at)
            case CompaniesHouse():
                return self.companies_house_numbers(value, at)
            case CouncilCode():
                return self.council(value, at)
            case ClaimValue():
                return self.claim_value(value, at)
            case About():
                return self.about(value, at)
            case Endpoints(shape=shape):
                return self.endpoints(value, at, shape)
            case Objects(shape=shape):
                return self.objects(value, at, shape, context)
            case Instances(shape=shape):
                return self.instances(value, at, shape, context)
            case ResearchRecord(shape=shape):
                return self.research(value, at, shape, context)
            case _:  # pragma: no cover - mypy checks that every kind is handled above
                assert_never(kind)

    def objects(
        self, value: object, at: PathKey, shape: Shape, parent: Mapping[str, Any]
    ) -> tuple[object, ...]:
        built = [self.shape(shape, item, i_at, parent) for i_at, item in self.items(value, at)]
        return tuple(b for b in built if b is not None)

    # --- endpoints ---

    def endpoints(self, value: object, at: PathKey, shape: Shape) -> dict[str, EndpointEvidence]:
        if not isinstance(value, dict):
            self.error(at, f"'endpoints' must be a mapping of kind to URL, not {kind_of(value)}")
            return {}
        found: dict[str, EndpointEvidence] = {}
        for key, item in value.items():
            kind = str(key)
            if kind not in ENDPOINT_KINDS:
                hint = did_you_mean(kind, ENDPOINT_KINDS, listing=True)
                self.error((*at, kind), f"unknown endpoint kind {quoted(kind)}{hint}", key=True)
                continue
            endpoint = self.endpoint(item, (*at, kind), kind, shape)
            if endpoint is not None:
                found[kind] = endpoint
        return found

    def endpoint(
        self, value: object, at: PathKey, kind: str, shape: Shape
    ) -> EndpointEvidence | None:
        """A URL on its own, or a mapping with the URL and how it is known."""
        if isinstance(value, str):
            url = self.url(value, at, placeholders=True)
            return EndpointEvidence(url) if url else None
        if not isinstance(value, dict):
            self.error(
                at,
                f"endpoint '{kind}' must be a URL or a mapping with 'url', not {kind_of(value)}",
            )
            return None
        return cast(EndpointEvidence | None, self.shape(shape, value, at, {}, f"endpoint '{kind}'"))

    def texts(self, value: object, at: PathKey) -> tuple[str, ...]:
        found = [self.text(v, t_at) for t_at, v in self.items(value, at)]
        return tuple(t for t in found if t is not None)

    # --- research ---

    def research(
        self, value: object, at: PathKey, shape: Shape, system: Mapping[str, Any]
    ) -> Research | None:
        """The research record, which must agree with the system's URLs: a search that
        found nothing lists none, one that found some lists them, and `not_found` names
        kinds the system does not list."""
        research = cast(Research | None, self.shape(shape, value, at, system))
        if research is None:
            return None
        listed = _listed_urls(system)
        if research.state == "none-found":
            for key, what in (("searched", "the date"), ("where", "where it was searched")):
                if not getattr(research, key):
                    self.error(at, f"research state 'none-found' needs '{key}' ({what})")
        found = research.state == "endpoints-found"
        if found != bool(listed):
            lists = f"lists {', '.join(listed)}" if listed else "lists no endpoint"
            self.error((*at, "state"), f"research state '{research.state}', but the system {lists}")
        if research.not_found:
            self.check_not_found(research, at, system)
        return research

    def check_not_found(self, research: Research, at: PathKey, system: Mapping[str, Any]) -> None:
        """`not_found` records a search for kinds an endpoints-found system lacks."""
        if research.state != "endpoints-found":
            self.error((*at, "not_found"), "'not_found' goes with research state endpoints-found")
        if research.searched is None:
            self.error(at, "research with 'not_found' needs 'searched' (the date)")
        endpoints: Mapping[str, object] = system.get("endpoints") or {}
        for kind in research.not_found:
            if kind in endpoints:
                self.error(
                    (*at, "not_found"),
                    f"'not_found' lists '{kind}', but the system has a {kind} URL",
                )

    # --- instances ---

    def instances(
        self, value: object, at: PathKey, shape: Shape, system: Mapping[str, Any]
    ) -> tuple[Instance, ...]:
        """At most one instance per council, each able to fill the system's placeholders."""
        found: list[Instance] = []
        first: dict[str, PathKey] = {}
        for i_at, item in self.items(value, at):
            instance = cast(Instance | None, self.shape(shape, item, i_at, system))
            if instance is None:
                continue
            if instance.council in first:
                line = self.line_of(first[instance.council])
                council = self.register.lookup(instance.council)
                shown = describe(council) if council else instance.council
                self.error(
                    (*i_at, "council"),
                    f"duplicate instance for council {shown} (first at line {line})",
                )
                continue
            first[instance.council] = (*i_at, "council")
            self.check_fillable(instance, i_at, system)
            found.append(instance)
        return tuple(found)

    def check_fillable(self, instance: Instance, at: PathKey, system: Mapping[str, Any]) -> None:
        """Every placeholder this instance's URLs will need must have a value."""
        endpoints: Mapping[str, EndpointEvidence] = system.get("endpoints") or {}
        urls = [instance.url or system.get("url_template") or ""]
        urls += [e.url for kind, e in endpoints.items() if kind not in instance.endpoints]
        urls += list(instance.endpoints.values())
        needed = {name for url in urls for name in PLACEHOLDER_RE.findall(url)}
        if "slug" in needed and instance.slug is None:
            self.error(at, "instance is missing 'slug', which the system's URLs use ({slug})")
        if "gss" in needed and instance.council == instance.code:
            self.error(
                (*at, "council"),
                f"council {instance.code} has no GSS code to fill {{gss}} in the system's URLs",
            )
