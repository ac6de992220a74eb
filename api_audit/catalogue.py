"""vendors.yaml → Catalogue, validated, with file:line:col errors.

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

`catalogue_json_schema()` describes the same keys and vocabularies as a JSON Schema
(draft 2020-12); docs/vendors.schema.json is its committed copy, for editors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from api_audit.councils import CouncilRegister, describe, load_register
from api_audit.errors import CatalogueError, Problem, UsageError
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
from api_audit.redact import redact_text

SCHEMA_VERSION = 1
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# An instance slug is a host label or path segment: dots and underscores allowed, no '/'.
INSTANCE_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PROBE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Eight characters: two digits or a prefix such as SC, NI, OC; then six digits.
COMPANIES_HOUSE_RE = re.compile(r"^[A-Z0-9]{2}[0-9]{6}$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PLACEHOLDERS = ("slug", "gss", "code")
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
MAX_SHORT_VALUE = 120  # an attestation's string value is a word or phrase, not prose


class Keys(NamedTuple):
    """The keys one kind of mapping may have."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


CATALOGUE_KEYS = Keys(("schema_version", "vendors"))
VENDOR_KEYS = Keys(("id", "name", "systems"), ("website", "companies_house", "notes"))
SYSTEM_KEYS = Keys(
    ("id", "name", "service_areas"),
    (
        "endpoints",
        "protocols",
        "standards",
        "evidence",
        "sources",
        "notes",
        "url_template",
        "instances",
        "attestations",
        "replies",
    ),
)
ENDPOINT_KEYS = Keys(("url",), ("evidence", "source", "note"))
INSTANCE_KEYS = Keys(
    ("council",),
    (
        "slug",
        "url",
        "endpoints",
        "contract_start",
        "contract_end",
        "annual_value",
        "source",
        "notes",
    ),
)
ATTESTATION_KEYS = Keys(("claim", "value", "source", "seen"), ("quote", "note"))
REPLY_KEYS = Keys(("date", "text"), ("about", "source"))

# Said after "X is missing required key 'k'" where the bare key name is not enough.
_MISSING_HINTS = {
    ("attestation", "source"): "the URL where the fact was seen",
    ("attestation", "seen"): "the date it was seen, YYYY-MM-DD",
    ("reply", "date"): "the date of the supplier's reply, YYYY-MM-DD",
    ("instance", "council"): "a GSS code such as E09000012 or a code such as HCK",
}


# --- loading -----------------------------------------------------------------------------


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
                f"not {_kind(data)}",
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
            self.error(("schema_version",), f"'schema_version' must be 1, not {_kind(value)}")
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
            endpoints={k: e.url for k, e in endpoints.items() if not _has_placeholders(e.url)},
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
            self.error(where, f"'endpoints' must be a mapping of kind to URL, not {_kind(raw)}")
            return {}
        found: dict[str, EndpointEvidence] = {}
        for key, value in raw.items():
            kind = str(key)
            if kind not in ENDPOINT_KINDS:
                hint = did_you_mean(kind, ENDPOINT_KINDS, listing=True)
                self.error((*where, kind), f"unknown endpoint kind {_show(kind)}{hint}", key=True)
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
                f"endpoint '{kind}' must be a URL or a mapping with 'url', not {_kind(value)}",
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
            slug=self.patterned(m, "slug", at, INSTANCE_SLUG_RE, _INSTANCE_SLUG_RULE),
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
            self.error(where, f"'council' must be a GSS or three-letter code, not {_kind(value)}")
            return None
        council = self.register.lookup(value)
        if council is None:
            guess = self.register.suggest(value)
            hint = f" (did you mean {describe(guess)}?)" if guess else ""
            self.error(
                where,
                f"unknown council {_show(value)}: not a GSS or three-letter code in the "
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
            f"characters), not {_kind(value)}",
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
                f"'about' must be a claim name or a probe id, not {_show(about)}"
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
            self.error(at, f"each {what} must be a mapping, not {_kind(value)}")
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
            self.error((*at, name), f"unknown key {_show(name)} in {what}{hint}", key=True)
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
            self.error(where, f"'{name}' must be a list, not {_kind(value)}")
            return []
        return [((*where, i), item) for i, item in enumerate(value)]

    def text(self, m: Mapping[str, object], name: str, at: PathKey) -> str | None:
        if name not in m:
            return None
        value = m[name]
        if not isinstance(value, str):
            self.error((*at, name), f"'{name}' must be a string, not {_kind(value)}")
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
            self.error((*at, name), f"invalid {name} {_show(value)}: {rule}{hint}")
            return None
        return value

    def unique_id(
        self, m: Mapping[str, object], at: PathKey, seen: dict[str, PathKey], what: str
    ) -> str | None:
        value = self.patterned(m, "id", at, SLUG_RE, _SLUG_RULE)
        if value is None:
            return None
        if value in seen:
            line = self.line_of(seen[value])
            self.error((*at, "id"), f"duplicate {what} id {_show(value)} (first at line {line})")
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
            self.error(at, f"{what} must be a string, not {_kind(value)}")
            return None
        if value not in allowed:
            hint = did_you_mean(value, allowed, listing=True)
            self.error(at, f"unknown {what} {_show(value)}{hint}")
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
            self.error((*at, name), f"'{name}' must be a list, not {_kind(m[name])}")
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
            self.error(at, f"a URL must be a string, not {_kind(value)}")
            return None
        reason = url_problem(value, placeholders=placeholders)
        if reason:
            self.error(at, f"invalid URL {_show(value)}: {reason}")
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
                self.error(where, f"invalid date {_show(value)}: {exc}")
                return None
        self.error(where, f"'{name}' must be a date (YYYY-MM-DD), not {_kind(value)}")
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
            f"'{name}' must be a number of pounds of at least 0 (e.g. 120000), not {_kind(value)}",
        )
        return None

    def companies_house(self, m: Mapping[str, object], at: PathKey) -> str | None:
        name = "companies_house"
        if name in m and isinstance(m[name], int) and not isinstance(m[name], bool):
            # YAML 1.1 reads an unquoted 00002065 as an octal number (1077).
            self.error(
                (*at, name),
                f"'{name}' must be quoted (e.g. \"00002065\"): unquoted, YAML reads it as "
                f"{_kind(m[name])}",
            )
            return None
        value = self.text(m, name, at)
        if value is not None and not COMPANIES_HOUSE_RE.fullmatch(value):
            self.error(
                (*at, name),
                f"invalid Companies House number {_show(value)}: expected 8 characters, "
                "such as 00002065 or SC002940",
            )
            return None
        return value


_SLUG_RULE = "use lower-case letters, digits and '-', starting with a letter or digit"
_INSTANCE_SLUG_RULE = "use letters, digits, '.', '-' and '_', starting with a letter or digit"
PROBE_ID_RULE = "use lower-case letters, digits, '-' and '_', starting with a letter or digit"


# --- small pure helpers ------------------------------------------------------------------


def url_problem(url: str, *, placeholders: bool = False) -> str | None:  # noqa: PLR0911 - one return per rule
    """Why `url` is not an absolute http(s) URL we may fetch, or None when it is."""
    if any(c.isspace() for c in url) or not url.isprintable():
        return "must not contain spaces or control characters"
    if placeholders:
        for name in PLACEHOLDER_RE.findall(url):
            if name not in PLACEHOLDERS:
                return f"unknown placeholder {{{name}}} (use {{slug}}, {{gss}} or {{code}})"
        url = PLACEHOLDER_RE.sub("x", url)
    if "{" in url or "}" in url:
        return "placeholders are allowed only in endpoints, url_template and instance URLs"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a well-formed URL"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if "@" in parts.netloc:
        return "must not contain a user name or password"
    if not parts.hostname:
        return "has no host"
    return None


def _has_placeholders(url: str) -> bool:
    return PLACEHOLDER_RE.search(url) is not None


def _show(value: str, limit: int = 60) -> str:
    """A value quoted for a message: secrets redacted (a URL's password or key never reaches
    an error line), escaped like repr, shortened when long."""
    value = redact_text(value)
    shown = repr(value[:limit])
    return shown[:-1] + "..." + shown[-1] if len(value) > limit else shown


def _kind(value: object) -> str:  # noqa: PLR0911 - one return per YAML type
    """How a wrong value is described: 'a list', 'a number (3)', 'null (empty)'."""
    if value is None:
        return "null (empty)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        text = str(value)
        return f"a number ({text if len(text) <= 30 else text[:30] + '...'})"
    if isinstance(value, dt.datetime | dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, str):
        return f"a string ({_show(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


# --- filters and per-council expansion ---------------------------------------------------


def select_systems(
    catalogue: Catalogue,
    *,
    vendors: Sequence[str] = (),
    systems: Sequence[str] = (),
    service_areas: Sequence[str] = (),
    council: str | None = None,
) -> tuple[System, ...]:
    """The systems an audit covers, in catalogue order.

    Within one filter the values are alternatives (OR); different filters must all hold
    (AND). An unknown vendor, system, service area or council raises UsageError with a
    did-you-mean. With `council` (a GSS or registry code), only systems with an instance
    at that council are kept, each expanded into that instance (`expand_instance`).
    Without it, endpoints whose URLs hold placeholders are not in `System.endpoints`:
    they cannot be fetched until a council fills them.
    """
    _require_known("vendor", vendors, [v.id for v in catalogue.vendors])
    _require_known("system", systems, [s.id for s in catalogue.systems])
    _require_known("service area", service_areas, SERVICE_AREAS)
    chosen = [
        s
        for s in catalogue.systems
        if (not vendors or s.vendor_id in vendors)
        and (not systems or s.id in systems)
        and (not service_areas or any(a in service_areas for a in s.service_areas))
    ]
    if council is None:
        return tuple(chosen)
    key = _council_or_usage_error(council).key
    return tuple(expand_instance(s, i) for s in chosen for i in s.instances if i.council == key)


def expand_instance(system: System, instance: Instance) -> System:
    """The system as deployed at one council: id "{system}@{council}", URLs filled in.

    Endpoints: the system's, with {slug}/{gss}/{code} filled from the instance; then the
    instance's base (its `url`, else the system's `url_template` filled) as `api_base`;
    then the instance's own `endpoints` on top. A URL left with an unfilled placeholder
    is dropped, as it cannot be fetched.
    """
    gss = instance.council if instance.council != instance.code else None
    values = {"slug": instance.slug, "gss": gss, "code": instance.code or None}
    evidence: dict[str, EndpointEvidence] = {}
    for kind, endpoint in system.endpoint_evidence.items():
        filled = fill_placeholders(endpoint.url, values)
        if filled is not None:
            evidence[kind] = replace(endpoint, url=filled)
    base = fill_placeholders(instance.url or system.url_template or "", values)
    if base:
        origin = "instance url" if instance.url else "url_template"
        evidence["api_base"] = EndpointEvidence(base, note=f"per-council base from the {origin}")
    for kind, endpoint in instance.endpoint_evidence.items():
        filled = fill_placeholders(endpoint.url, values)
        if filled is not None:
            evidence[kind] = replace(endpoint, url=filled)
    return replace(
        system,
        id=f"{system.id}@{instance.council}",
        council=instance.council,
        endpoints={kind: e.url for kind, e in evidence.items()},
        endpoint_evidence=evidence,
        instances=(instance,),
    )


def fill_placeholders(url: str, values: Mapping[str, str | None]) -> str | None:
    """`url` with {name} placeholders replaced, or None when one has no value."""
    names = PLACEHOLDER_RE.findall(url)
    if any(not values.get(name) for name in names):
        return None
    return PLACEHOLDER_RE.sub(lambda match: values[match.group(1)] or "", url)


def _require_known(what: str, wanted: Sequence[str], known: Sequence[str]) -> None:
    for value in wanted:
        if value not in known:
            hint = did_you_mean(value, known, listing=what == "service area")
            raise UsageError(f"unknown {what} {_show(value)}{hint}")


def _council_or_usage_error(code: str) -> Council:
    register = load_register()
    council = register.lookup(code)
    if council is not None:
        return council
    guess = register.suggest(code)
    hint = f" (did you mean {describe(guess)}?)" if guess else ""
    raise UsageError(
        f"unknown council {_show(code)}: not a GSS or three-letter code in the council "
        f"register{hint}"
    )


# --- JSON Schema -------------------------------------------------------------------------


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
