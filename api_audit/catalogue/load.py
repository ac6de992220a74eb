"""vendors.yaml -> Catalogue, validated, with file:line:col errors.

`load_catalogue` reports every problem in the file at once (`CatalogueError.problems`),
each located at the key or value it is about. Any YAML that parses but has the wrong
shape (a list where a mapping belongs, a number as an id, null ...) becomes a problem,
never a traceback. Warnings that do not stop a run (a past authority) are kept on
`Catalogue.warnings`.

URLs in a system's `endpoints`, its `url_template`, and an instance's `url` and
`endpoints` may hold the placeholders {slug} (the instance's slug), {gss} and {code} (the
council's GSS and registry codes). They are filled only when a system is expanded into
one council's instance (`select_systems(..., council=...)`, `expand_instance`); until
then an endpoint with placeholders cannot be fetched, so it is kept out of
`System.endpoints` and stays only in `System.endpoint_evidence`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from api_audit.catalogue.councils import CouncilRegister, describe, load_register
from api_audit.catalogue.rules import (
    ATTESTATION_KEYS,
    CATALOGUE_KEYS,
    COMPANIES_HOUSE_RE,
    DATE_RE,
    ENDPOINT_KEYS,
    INSTANCE_KEYS,
    INSTANCE_SLUG_RE,
    INSTANCE_SLUG_RULE,
    MAX_SHORT_VALUE,
    PLACEHOLDER_RE,
    PROBE_ID_RE,
    REPLY_KEYS,
    SCHEMA_VERSION,
    SLUG_RE,
    SLUG_RULE,
    SYSTEM_KEYS,
    VENDOR_KEYS,
    Keys,
    has_placeholders,
    url_problem,
)
from api_audit.errors import CatalogueError, Problem
from api_audit.loading import (
    LocatedValidator,
    PathKey,
    YamlDocument,
    YamlLoadError,
    close_match,
    did_you_mean,
    in_file_order,
    load_yaml_bytes,
    read_yaml_file,
)
from api_audit.loading.wording import kind_of, quoted
from api_audit.models import (
    CLAIMS,
    ENDPOINT_KINDS,
    EVIDENCE_LEVELS,
    PROTOCOLS,
    SERVICE_AREAS,
    STANDARDS,
    Attestation,
    Catalogue,
    Council,
    EndpointEvidence,
    Instance,
    Reply,
    System,
    Vendor,
)

# Said after "X is missing required key 'k'" where the bare key name is not enough.
_MISSING_HINTS = {
    ("attestation", "source"): "the URL where the fact was seen",
    ("attestation", "seen"): "the date it was seen, YYYY-MM-DD",
    ("reply", "date"): "the date of the supplier's reply, YYYY-MM-DD",
    ("instance", "council"): "a GSS code such as E09000012 or a code such as HCK",
}


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue file; raise CatalogueError listing every problem."""
    try:
        raw = read_yaml_file(path)  # a regular file of bounded size; never a FIFO or device
    except YamlLoadError as exc:
        raise CatalogueError([exc.problem]) from None
    return parse_catalogue(raw, str(path))


def parse_catalogue(raw: bytes, source: str = "<catalogue>") -> Catalogue:
    """Validate catalogue bytes; `source` is the name problems are reported against."""
    try:
        doc = load_yaml_bytes(raw, source)
    except YamlLoadError as exc:
        raise CatalogueError([exc.problem]) from None
    checker = _Checker(doc, load_register())
    vendors: tuple[Vendor, ...] | None = None
    try:
        vendors = checker.catalogue()
    # A bug in a check must still end in one line naming the file, never a traceback;
    # the property tests assert that this message never appears.
    except Exception as exc:  # pragma: no cover - reached only through a bug
        checker.problems.append(
            Problem(source, 0, 0, f"internal error while validating ({exc!r}); please report it")
        )
    if checker.problems or vendors is None:
        raise CatalogueError(in_file_order(checker.problems))
    digest = hashlib.sha256(raw).hexdigest()
    return Catalogue(SCHEMA_VERSION, vendors, source, digest, tuple(checker.warnings))


class _Checker(LocatedValidator):
    """Walks the YAML data once, collecting problems and building the models."""

    def __init__(self, doc: YamlDocument, register: CouncilRegister) -> None:
        super().__init__(doc)
        self.register = register
        self.vendor_ids: dict[str, PathKey] = {}
        self.system_ids: dict[str, PathKey] = {}

    # --- the document, vendors, systems ---

    def catalogue(self) -> tuple[Vendor, ...] | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.error(
                (),
                "the catalogue must be a mapping with 'schema_version' and 'vendors', "
                f"not {kind_of(data)}",
            )
            return None
        top = self.mapping(data, (), "catalogue", CATALOGUE_KEYS)
        if top is None:
            return None
        self.schema_version(top)
        built = [self.vendor(item, at) for at, item in self.sequence(top, "vendors", ())]
        return tuple(v for v in built if v is not None)

    def schema_version(self, top: Mapping[str, object]) -> None:
        if "schema_version" not in top:
            return
        value = top["schema_version"]
        if not isinstance(value, int) or isinstance(value, bool):
            self.error(("schema_version",), f"'schema_version' must be 1, not {kind_of(value)}")
        elif value != SCHEMA_VERSION:
            self.error(
                ("schema_version",),
                f"unsupported schema_version {value}: this api-audit reads schema_version "
                f"{SCHEMA_VERSION}",
            )

    def vendor(self, value: object, at: PathKey) -> Vendor | None:
        m = self.mapping(value, at, "vendor", VENDOR_KEYS)
        if m is None:
            return None
        vendor_id = self.unique_id(m, at, self.vendor_ids, "vendor")
        name = self.text(m, "name", at)
        website = self.url(m, "website", at)
        companies_house = self.companies_house(m, at)
        notes = self.text(m, "notes", at)
        systems = [
            self.system(item, s_at, vendor_id or "", name or "")
            for s_at, item in self.sequence(m, "systems", at)
        ]
        if vendor_id is None or name is None:
            return None
        kept = tuple(s for s in systems if s is not None)
        return Vendor(vendor_id, name, kept, website, companies_house, notes)

    def system(self, value: object, at: PathKey, vendor_id: str, vendor_name: str) -> System | None:
        m = self.mapping(value, at, "system", SYSTEM_KEYS)
        if m is None:
            return None
        system_id = self.unique_id(m, at, self.system_ids, "system")
        name = self.text(m, "name", at)
        areas = self.words(m, "service_areas", at, SERVICE_AREAS, "service area")
        if m.get("service_areas") == []:
            self.error((*at, "service_areas"), "'service_areas' must list at least one area")
        endpoints = self.endpoints(m, at)
        template = self.url(m, "url_template", at, placeholders=True)
        system = System(
            id=system_id or "",
            name=name or "",
            vendor_id=vendor_id,
            vendor_name=vendor_name,
            service_areas=areas or (),
            endpoints={k: e.url for k, e in endpoints.items() if not has_placeholders(e.url)},
            endpoint_evidence=endpoints,
            protocols=self.words(m, "protocols", at, PROTOCOLS, "protocol") or (),
            standards=self.words(m, "standards", at, STANDARDS, "standard") or (),
            evidence=self.choice(m, "evidence", at, EVIDENCE_LEVELS, "evidence level"),
            sources=self.urls(m, "sources", at),
            notes=self.text(m, "notes", at),
            url_template=template,
            instances=self.instances(m, at, template, endpoints),
            attestations=self.attestations(m, at),
            replies=self.replies(m, at),
        )
        # Every field above was checked (and its problems kept) before deciding this.
        return system if system_id and name and areas else None

    # --- endpoints ---

    def endpoints(self, m: Mapping[str, object], at: PathKey) -> dict[str, EndpointEvidence]:
        if "endpoints" not in m:
            return {}
        where = (*at, "endpoints")
        raw = m["endpoints"]
        if not isinstance(raw, dict):
            self.error(where, f"'endpoints' must be a mapping of kind to URL, not {kind_of(raw)}")
            return {}
        found: dict[str, EndpointEvidence] = {}
        for key, value in raw.items():
            kind = str(key)
            if kind not in ENDPOINT_KINDS:
                hint = did_you_mean(kind, ENDPOINT_KINDS, listing=True)
                self.error((*where, kind), f"unknown endpoint kind {quoted(kind)}{hint}", key=True)
                continue
            endpoint = self.endpoint(value, (*where, kind), kind)
            if endpoint is not None:
                found[kind] = endpoint
        return found

    def endpoint(self, value: object, at: PathKey, kind: str) -> EndpointEvidence | None:
        if isinstance(value, str):
            url = self.url_value(value, at, placeholders=True)
            return EndpointEvidence(url) if url else None
        if not isinstance(value, dict):
            self.error(
                at,
                f"endpoint '{kind}' must be a URL or a mapping with 'url', not {kind_of(value)}",
            )
            return None
        m = self.mapping(value, at, f"endpoint '{kind}'", ENDPOINT_KEYS)
        if m is None:
            return None
        url = self.url(m, "url", at, placeholders=True)
        evidence = self.choice(m, "evidence", at, EVIDENCE_LEVELS, "evidence level")
        source = self.url(m, "source", at)
        note = self.text(m, "note", at)
        return EndpointEvidence(url, evidence, source, note) if url else None

    # --- instances ---

    def instances(
        self,
        m: Mapping[str, object],
        at: PathKey,
        template: str | None,
        endpoints: Mapping[str, EndpointEvidence],
    ) -> tuple[Instance, ...]:
        found: list[Instance] = []
        first: dict[str, PathKey] = {}
        for i_at, item in self.sequence(m, "instances", at):
            instance = self.instance(item, i_at)
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
            self.check_fillable(instance, i_at, template, endpoints)
            found.append(instance)
        return tuple(found)

    def instance(self, value: object, at: PathKey) -> Instance | None:
        m = self.mapping(value, at, "instance", INSTANCE_KEYS)
        if m is None:
            return None
        council = self.council(m, at)
        endpoints = self.endpoints(m, at)
        start = self.date(m, "contract_start", at)
        end = self.date(m, "contract_end", at)
        if start is not None and end is not None and end < start:
            self.error(
                (*at, "contract_end"), f"contract_end {end} is before contract_start {start}"
            )
        instance = Instance(
            council=council.key if council else "",
            code=council.code if council else "",
            slug=self.patterned(m, "slug", at, INSTANCE_SLUG_RE, INSTANCE_SLUG_RULE),
            url=self.url(m, "url", at, placeholders=True),
            endpoints={kind: e.url for kind, e in endpoints.items()},
            endpoint_evidence=endpoints,
            contract_start=start,
            contract_end=end,
            annual_value=self.amount(m, "annual_value", at),
            source=self.url(m, "source", at),
            notes=self.text(m, "notes", at),
        )
        return instance if council else None

    def council(self, m: Mapping[str, object], at: PathKey) -> Council | None:
        if "council" not in m:
            return None
        where = (*at, "council")
        value = m["council"]
        if not isinstance(value, str):
            self.error(where, f"'council' must be a GSS or three-letter code, not {kind_of(value)}")
            return None
        council = self.register.lookup(value)
        if council is None:
            guess = self.register.suggest(value)
            hint = f" (did you mean {describe(guess)}?)" if guess else ""
            self.error(
                where,
                f"unknown council {quoted(value)}: not a GSS or three-letter code in the "
                f"council register{hint}",
            )
            return None
        if not council.current:
            self.warn(where, self.past_authority(council))
        return council

    def past_authority(self, council: Council) -> str:
        message = f"{describe(council)} is a past authority"
        if council.end_date:
            message += f" (ended {council.end_date})"
        successor = self.register.lookup(council.replaced_by or "")
        if successor is not None:
            message += f"; replaced by {describe(successor)}"
        return message

    def check_fillable(
        self,
        instance: Instance,
        at: PathKey,
        template: str | None,
        endpoints: Mapping[str, EndpointEvidence],
    ) -> None:
        """Every placeholder this instance's URLs will need must have a value."""
        urls = [instance.url or template or ""]
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

    # --- attestations and replies ---

    def attestations(self, m: Mapping[str, object], at: PathKey) -> tuple[Attestation, ...]:
        built = [
            self.attestation(item, a_at) for a_at, item in self.sequence(m, "attestations", at)
        ]
        return tuple(a for a in built if a is not None)

    def attestation(self, value: object, at: PathKey) -> Attestation | None:
        m = self.mapping(value, at, "attestation", ATTESTATION_KEYS)
        if m is None:
            return None
        claim = self.choice(m, "claim", at, CLAIMS, "claim")
        claimed = self.claim_value(m, at)
        source = self.url(m, "source", at)
        seen = self.date(m, "seen", at)
        quote = self.text(m, "quote", at)
        note = self.text(m, "note", at)
        if claim is None or claimed is None or source is None or seen is None:
            return None
        return Attestation(claim, claimed, source, seen, quote, note)

    def claim_value(self, m: Mapping[str, object], at: PathKey) -> bool | str | None:
        if "value" not in m:
            return None
        value = m["value"]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip() and len(value) <= MAX_SHORT_VALUE:
            return value
        self.error(
            (*at, "value"),
            f"'value' must be true, false or a short string (at most {MAX_SHORT_VALUE} "
            f"characters), not {kind_of(value)}",
        )
        return None

    def replies(self, m: Mapping[str, object], at: PathKey) -> tuple[Reply, ...]:
        built = [self.reply(item, r_at) for r_at, item in self.sequence(m, "replies", at)]
        return tuple(r for r in built if r is not None)

    def reply(self, value: object, at: PathKey) -> Reply | None:
        m = self.mapping(value, at, "reply", REPLY_KEYS)
        if m is None:
            return None
        date = self.date(m, "date", at)
        text = self.text(m, "text", at)
        about = self.text(m, "about", at)
        if about is not None and about not in CLAIMS and not PROBE_ID_RE.fullmatch(about):
            self.error(
                (*at, "about"),
                f"'about' must be a claim name or a probe id, not {quoted(about)}"
                f"{did_you_mean(about, CLAIMS)}",
            )
            about = None
        source = self.url(m, "source", at)
        if date is None or text is None:
            return None
        return Reply(date, text, about, source)

    # --- generic shapes ---

    def mapping(
        self, value: object, at: PathKey, what: str, keys: Keys
    ) -> dict[str, object] | None:
        """The mapping's known keys; unknown and missing keys are reported."""
        if not isinstance(value, dict):
            self.error(at, f"each {what} must be a mapping, not {kind_of(value)}")
            return None
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
        for name in keys.required:
            if name not in known and name not in suggested:
                why = _MISSING_HINTS.get((what, name))
                extra = f" ({why})" if why else ""
                self.error(at, f"{what} is missing required key '{name}'{extra}")
        return known

    def sequence(
        self, m: Mapping[str, object], name: str, at: PathKey
    ) -> list[tuple[PathKey, object]]:
        if name not in m:
            return []
        where = (*at, name)
        value = m[name]
        if not isinstance(value, list):
            self.error(where, f"'{name}' must be a list, not {kind_of(value)}")
            return []
        return [((*where, i), item) for i, item in enumerate(value)]

    def text(self, m: Mapping[str, object], name: str, at: PathKey) -> str | None:
        if name not in m:
            return None
        value = m[name]
        if not isinstance(value, str):
            self.error((*at, name), f"'{name}' must be a string, not {kind_of(value)}")
            return None
        if not value.strip():
            self.error((*at, name), f"'{name}' must not be empty")
            return None
        return value

    def patterned(
        self, m: Mapping[str, object], name: str, at: PathKey, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        value = self.text(m, name, at)
        # fullmatch, not match: the patterns end in `$`, which also matches before a final
        # newline, and an id or slug with a control character in it must not pass
        if value is not None and not pattern.fullmatch(value):
            tidy = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
            hint = f" (try {tidy!r})" if tidy and pattern.fullmatch(tidy) and len(tidy) < 60 else ""
            self.error((*at, name), f"invalid {name} {quoted(value)}: {rule}{hint}")
            return None
        return value

    def unique_id(
        self, m: Mapping[str, object], at: PathKey, seen: dict[str, PathKey], what: str
    ) -> str | None:
        value = self.patterned(m, "id", at, SLUG_RE, SLUG_RULE)
        if value is None:
            return None
        if value in seen:
            line = self.line_of(seen[value])
            self.error((*at, "id"), f"duplicate {what} id {quoted(value)} (first at line {line})")
        else:
            seen[value] = (*at, "id")
        return value

    def choice(
        self,
        m: Mapping[str, object],
        name: str,
        at: PathKey,
        allowed: Sequence[str],
        what: str,
    ) -> str | None:
        if name not in m:
            return None
        return self.choice_value(m[name], (*at, name), allowed, what)

    def choice_value(
        self, value: object, at: PathKey, allowed: Sequence[str], what: str
    ) -> str | None:
        if not isinstance(value, str):
            self.error(at, f"{what} must be a string, not {kind_of(value)}")
            return None
        if value not in allowed:
            hint = did_you_mean(value, allowed, listing=True)
            self.error(at, f"unknown {what} {quoted(value)}{hint}")
            return None
        return value

    def words(
        self,
        m: Mapping[str, object],
        name: str,
        at: PathKey,
        allowed: Sequence[str],
        what: str,
    ) -> tuple[str, ...] | None:
        """A list of vocabulary words (duplicates dropped); None when not a list."""
        if name in m and not isinstance(m[name], list):
            self.error((*at, name), f"'{name}' must be a list, not {kind_of(m[name])}")
            return None
        found: dict[str, None] = {}
        for w_at, item in self.sequence(m, name, at):
            word = self.choice_value(item, w_at, allowed, what)
            if word is not None:
                found[word] = None
        return tuple(found)

    def url(
        self, m: Mapping[str, object], name: str, at: PathKey, *, placeholders: bool = False
    ) -> str | None:
        if name not in m:
            return None
        return self.url_value(m[name], (*at, name), placeholders=placeholders)

    def url_value(self, value: object, at: PathKey, *, placeholders: bool) -> str | None:
        if not isinstance(value, str):
            self.error(at, f"a URL must be a string, not {kind_of(value)}")
            return None
        reason = url_problem(value, placeholders=placeholders)
        if reason:
            self.error(at, f"invalid URL {quoted(value)}: {reason}")
            return None
        return value

    def urls(self, m: Mapping[str, object], name: str, at: PathKey) -> tuple[str, ...]:
        found = [
            self.url_value(v, u_at, placeholders=False) for u_at, v in self.sequence(m, name, at)
        ]
        return tuple(u for u in found if u is not None)

    def date(self, m: Mapping[str, object], name: str, at: PathKey) -> dt.date | None:
        if name not in m:
            return None
        value = m[name]
        where = (*at, name)
        if isinstance(value, dt.datetime):
            self.error(where, f"'{name}' must be a date (YYYY-MM-DD) without a time")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and DATE_RE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                self.error(where, f"invalid date {quoted(value)}: {exc}")
                return None
        self.error(where, f"'{name}' must be a date (YYYY-MM-DD), not {kind_of(value)}")
        return None

    def amount(self, m: Mapping[str, object], name: str, at: PathKey) -> float | None:
        if name not in m:
            return None
        value = m[name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isfinite(number) and number >= 0:
                return number
        self.error(
            (*at, name),
            f"'{name}' must be a number of pounds of at least 0 (e.g. 120000), "
            f"not {kind_of(value)}",
        )
        return None

    def companies_house(self, m: Mapping[str, object], at: PathKey) -> str | None:
        name = "companies_house"
        if name in m and isinstance(m[name], int) and not isinstance(m[name], bool):
            # YAML 1.1 reads an unquoted 00002065 as an octal number (1077).
            self.error(
                (*at, name),
                f"'{name}' must be quoted (e.g. \"00002065\"): unquoted, YAML reads it as "
                f"{kind_of(m[name])}",
            )
            return None
        value = self.text(m, name, at)
        if value is not None and not COMPANIES_HOUSE_RE.fullmatch(value):
            self.error(
                (*at, name),
                f"invalid Companies House number {quoted(value)}: expected 8 characters, "
                "such as 00002065 or SC002940",
            )
            return None
        return value
