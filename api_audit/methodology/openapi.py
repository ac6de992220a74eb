"""Check a parsed API description: its `$ref`s, then its OpenAPI or Swagger structure.

Local `$ref` chains are resolved with a visited set, so a cycle (A -> B -> A) is reported,
never followed for ever; dangling pointers are reported too. `$ref`s to other documents
are listed and counted, never fetched; those that can only mean a file or address on the
reader's own machine or network are picked out. The OpenAPI 3.x / Swagger 2.0
structure check counts what a quality judgement needs. Both run under a step and time
budget and walk iteratively; they take documents already parsed and limit-checked by
`documents` and touch no file or network (engineering reference §4.8).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from api_audit.methodology.documents import SpecKind, UnsafeDocument, describe_spec

# --- local $ref resolution: dangling pointers and cycles ---------------------------------------

MAX_CHECK_STEPS = 500_000  # nodes visited by one structure or $ref check
MAX_CHECK_SECONDS = 2.0  # wall-clock budget of one check, looked at every 1,000 steps
MAX_REPORTED = 10  # problems listed per check (the count goes on)


class CheckBudgetExceeded(UnsafeDocument):
    """A check ran out of its step or time budget: the document is too big to judge."""


class _Budget:
    """Counts steps and watches the clock; raises CheckBudgetExceeded when either runs out."""

    def __init__(self, steps: int, seconds: float) -> None:
        self.left = steps
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def step(self, count: int = 1) -> None:
        self.left -= count
        if self.left < 0:
            raise CheckBudgetExceeded("too large to check within the step budget")
        if self.left % 1000 < count and time.monotonic() > self.deadline:
            raise CheckBudgetExceeded(f"not checked within {self.seconds:g} s")


_MISSING = object()


def resolve_pointer(document: object, ref: str) -> object:
    """The node a local `$ref` ("#/components/schemas/A") points at; _MISSING if none.

    RFC 6901 JSON Pointer in a URI fragment: percent-decoded, then ~1 is "/" and ~0 is "~".
    """
    if not ref.startswith("#"):
        return _MISSING
    pointer = unquote(ref[1:])
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        return _MISSING  # "#Name" anchors are not JSON pointers
    node = document
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _refs(document: object, budget: _Budget) -> Iterator[str]:
    """Every distinct `$ref` string, in document order, by an iterative walk that charges
    `budget` one step per mapping or list (so a huge or aliased document cannot stall it)."""
    seen: set[int] = set()
    found: set[str] = set()
    stack: list[object] = [document]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict | list) or id(item) in seen:
            continue
        budget.step()
        seen.add(id(item))
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        ref = item.get("$ref")
        if isinstance(ref, str) and ref not in found:
            found.add(ref)
            yield ref
        stack.extend(reversed(list(item.values())))


def _local_refs(document: object, budget: _Budget) -> list[str]:
    """Every distinct local `$ref` string, in document order."""
    return [ref for ref in _refs(document, budget) if ref.startswith("#")]


def local_ref_problems(
    document: object,
    *,
    max_steps: int = MAX_CHECK_STEPS,
    max_seconds: float = MAX_CHECK_SECONDS,
) -> tuple[str, ...]:
    """Dangling local `$ref`s and `$ref` cycles, as short messages (at most MAX_REPORTED).

    Each `$ref` is followed while its target is itself a `$ref` object, with a visited set:
    a chain that comes back to a `$ref` already on it is a cycle ("#/a -> #/b -> #/a"), which
    validators and resolvers recurse on until they crash (engineering reference §4.8). A
    schema that contains a `$ref` to itself further down (a tree of Nodes) is legitimate:
    its `$ref` resolves to an object that is not a bare `$ref`. Raises CheckBudgetExceeded.
    """
    budget = _Budget(max_steps, max_seconds)
    settled: set[str] = set()  # refs known to end somewhere (or already reported)
    problems: list[str] = []
    for start in _local_refs(document, budget):
        chain = [start]
        current = start
        while current not in settled:
            budget.step()
            target = resolve_pointer(document, current)
            if target is _MISSING:
                problems.append(f"$ref {current!r} points at nothing in the document")
                break
            following = target.get("$ref") if isinstance(target, dict) else None
            if not isinstance(following, str) or not following.startswith("#"):
                break
            if following in chain:
                loop = [*chain[chain.index(following) :], following]
                problems.append("$ref cycle: " + " -> ".join(loop))
                break
            chain.append(following)
            current = following
        settled.update(chain)
        if len(problems) >= MAX_REPORTED:
            break
    return tuple(problems)


# --- $refs to other documents: counted and named, never fetched -------------------------------

MAX_NAMED_REFS = 3  # external $refs a message names; the rest are counted
_READER_SIDE_NAMES = ("localhost", ".localhost", ".local", ".internal")  # RFC 6761, 6762


@dataclass(frozen=True)
class ExternalRefs:
    """The `$ref`s of a document that point at other documents (JSON Reference, RFC 3986).

    `first` keeps up to MAX_REPORTED distinct values in document order and `count` counts
    them all. `reader_side` lists those that can only resolve on the reader's own machine
    or network (a `file:` URI, a drive path, localhost, a private, loopback, link-local or
    metadata address): nobody else can resolve them, and a resolver that tried would read
    its own files or reach its own network (engineering reference §4.8).
    """

    count: int = 0
    first: tuple[str, ...] = ()
    reader_side: tuple[str, ...] = ()


def external_refs(
    document: object,
    *,
    max_steps: int = MAX_CHECK_STEPS,
    max_seconds: float = MAX_CHECK_SECONDS,
) -> ExternalRefs:
    """Every distinct `$ref` not starting with "#", by an iterative walk with a budget.

    Raises CheckBudgetExceeded. Nothing is fetched or resolved; only the text is read.
    """
    budget = _Budget(max_steps, max_seconds)
    found = [ref for ref in _refs(document, budget) if not ref.startswith("#")]
    reader_side = list(itertools.islice(filter(on_reader_side, found), MAX_REPORTED))
    return ExternalRefs(len(found), tuple(found[:MAX_REPORTED]), tuple(reader_side))


def on_reader_side(ref: str) -> bool:
    """Whether a `$ref` can only mean something on the reader's own machine or network.

    A relative reference resolves against the document's own URL (RFC 3986 §5), so it is
    as public as the document; an absolute one is judged by its scheme and host alone,
    with no lookup. Host numbers in the legacy forms resolvers still accept ("2852039166",
    "0xa9.0xfe.0xa9.0xfe") are read as inet_aton reads them.
    """
    text = ref.strip()
    if text.startswith("\\\\") or re.match(r"^[A-Za-z]:[\\/]", text):
        return True  # a UNC or Windows drive path
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket: not a usable URL either way
        return False
    if parts.scheme.lower() == "file":
        return True
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(_READER_SIDE_NAMES):
        return True
    address = _host_address(host)
    return address is not None and not address.is_global


def _host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):  # not a host number (ValueError: an embedded NUL)
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# --- a structural check of OpenAPI 3.x (and Swagger 2.0) documents -----------------------------

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_RESPONSE_CODE = re.compile(r"^(default|[1-5][0-9][0-9]|[1-5]XX)$")
_OPENAPI_VERSION = re.compile(r"^3\.[0-9]+(\.[0-9]+)?(-[0-9A-Za-z.-]+)?$")
_SCHEME_TYPES = ("apiKey", "http", "oauth2", "openIdConnect", "mutualTLS")
_PARAMETER_PLACES = ("query", "header", "path", "cookie", "body", "formData")


@dataclass(frozen=True)
class OpenApiReport:
    """What a structural pass over an API description found (no validator involved).

    Counts cover every operation (a method under a path item); `problems` lists the first
    MAX_REPORTED departures from the required structure of OpenAPI 3.x / Swagger 2.0 and
    `problem_count` counts them all.
    """

    kind: SpecKind | None
    problems: tuple[str, ...] = ()
    problem_count: int = 0
    ref_problems: tuple[str, ...] = ()
    external: ExternalRefs = ExternalRefs()  # $refs to other documents, never fetched
    operations: int = 0
    described: int = 0  # operations with a summary or description
    with_error_responses: int = 0  # operations documenting a 4xx, 5xx or default response
    has_title: bool = False
    has_version: bool = False
    has_servers: bool = False
    has_contact: bool = False
    has_licence: bool = False  # info.license or termsOfService
    security_schemes: tuple[str, ...] = ()  # names defined
    security_used: tuple[str, ...] = ()  # names any security requirement refers to


class _Structure:
    """Collects structural problems with a budget; the walk is flat, never recursive."""

    def __init__(self, budget: _Budget, *, responses_required: bool) -> None:
        self.budget = budget
        self.responses_required = responses_required
        self.problems: list[str] = []
        self.count = 0

    def problem(self, message: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(message)


def check_openapi(
    document: object,
    *,
    max_steps: int = MAX_CHECK_STEPS,
    max_seconds: float = MAX_CHECK_SECONDS,
) -> OpenApiReport:
    """Check the required structure of a parsed, limit-checked OpenAPI 3.x or Swagger 2.0
    document and count what a quality check needs. Raises CheckBudgetExceeded."""
    info = describe_spec(document)
    if info.kind is None or not isinstance(document, dict):
        return OpenApiReport(kind=None)
    ref_problems = local_ref_problems(document, max_steps=max_steps, max_seconds=max_seconds)
    external = external_refs(document, max_steps=max_steps, max_seconds=max_seconds)
    # OpenAPI 3.1 made an operation's `responses` optional; 3.0 and Swagger 2.0 require it.
    required = info.kind == "swagger2" or not info.version.startswith("3.1")
    check = _Structure(_Budget(max_steps, max_seconds), responses_required=required)
    top = _text_field(document, "openapi" if info.kind == "openapi3" else "swagger")
    if info.kind == "openapi3" and not (top and _OPENAPI_VERSION.match(top)):
        check.problem('openapi must be a version string such as "3.0.3"')
    meta = document.get("info")
    if not isinstance(meta, dict):
        check.problem("info must be an object")
        meta = {}
    title, version = _text_field(meta, "title"), _text_field(meta, "version")
    if not title:
        check.problem("info.title must be non-empty text")
    if not version:
        check.problem("info.version must be text (quote numbers in YAML)")
    operations = _check_paths(check, document, info.kind)
    schemes = _security_schemes(check, document, info.kind)
    used = _security_used(document, operations)
    for name in used:
        if name not in schemes:
            check.problem(f"security requirement {name!r} has no security scheme")
    has_servers = _has_servers(check, document, info.kind)
    return OpenApiReport(
        kind=info.kind,
        problems=tuple(check.problems),
        problem_count=check.count,
        ref_problems=ref_problems,
        external=external,
        operations=len(operations),
        described=sum(1 for op in operations if _described(op)),
        with_error_responses=sum(1 for op in operations if _documents_errors(op)),
        has_title=bool(title),
        has_version=bool(version),
        has_servers=has_servers,
        has_contact=isinstance(meta.get("contact"), dict) and bool(meta["contact"]),
        has_licence=_has_licence(meta),
        security_schemes=tuple(schemes),
        security_used=tuple(used),
    )


def _text_field(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _check_paths(
    check: _Structure, document: dict[str, object], kind: SpecKind
) -> list[dict[str, object]]:
    """Every operation object, after checking paths, operations, responses and parameters."""
    paths = document.get("paths")
    if paths is None:
        if kind == "swagger2" or not (document.get("webhooks") or document.get("components")):
            check.problem("paths must be an object")
        return []
    if not isinstance(paths, dict):
        check.problem("paths must be an object")
        return []
    operations: list[dict[str, object]] = []
    for path, item in paths.items():
        check.budget.step()
        if not isinstance(path, str) or not path.startswith("/"):
            check.problem(f"path {str(path)[:60]!r} must start with /")
        if not isinstance(item, dict):
            check.problem(f"paths[{str(path)[:60]!r}] must be an object")
            continue
        _check_parameters(check, item.get("parameters"), f"{str(path)[:60]}")
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            where = f"{method.upper()} {str(path)[:60]}"
            if not isinstance(operation, dict):
                check.problem(f"{where} must be an object")
                continue
            operations.append(operation)
            _check_operation(check, operation, where)
    return operations


def _check_operation(check: _Structure, operation: dict[str, object], where: str) -> None:
    check.budget.step()
    _check_parameters(check, operation.get("parameters"), where)
    responses = operation.get("responses")
    if responses is None:
        if check.responses_required:
            check.problem(f"{where} has no responses")
        return
    if not isinstance(responses, dict) or not responses:
        check.problem(f"{where}: responses must be a non-empty object")
        return
    for code, response in responses.items():
        check.budget.step()
        if not _RESPONSE_CODE.match(str(code)):
            check.problem(f"{where}: {str(code)[:20]!r} is not a response code")
        if isinstance(response, dict) and ("$ref" in response or "description" in response):
            continue
        check.problem(f"{where} {str(code)[:20]}: a response needs a description")


def _check_parameters(check: _Structure, parameters: object, where: str) -> None:
    if parameters is None:
        return
    if not isinstance(parameters, list):
        check.problem(f"{where}: parameters must be a list")
        return
    for parameter in parameters:
        check.budget.step()
        if isinstance(parameter, dict) and "$ref" in parameter:
            continue
        if (
            not isinstance(parameter, dict)
            or not _text_field(parameter, "name")
            or parameter.get("in") not in _PARAMETER_PLACES
        ):
            check.problem(f"{where}: a parameter needs a name and `in`")


def _security_schemes(check: _Structure, document: dict[str, object], kind: SpecKind) -> list[str]:
    if kind == "swagger2":
        raw = document.get("securityDefinitions")
    else:
        components = document.get("components")
        raw = components.get("securitySchemes") if isinstance(components, dict) else None
    if raw is None:
        return []
    if not isinstance(raw, dict):
        check.problem("security schemes must be an object")
        return []
    names: list[str] = []
    for name, scheme in raw.items():
        check.budget.step()
        names.append(str(name))
        if isinstance(scheme, dict) and "$ref" in scheme:
            continue
        if not isinstance(scheme, dict) or scheme.get("type") not in (*_SCHEME_TYPES, "basic"):
            check.problem(f"security scheme {str(name)[:40]!r} needs a known type")
    return names


def _security_used(document: dict[str, object], operations: list[dict[str, object]]) -> list[str]:
    """Scheme names in the top-level and per-operation security requirements."""
    used: dict[str, None] = {}
    for holder in (document, *operations):
        requirements = holder.get("security")
        if not isinstance(requirements, list):
            continue
        for requirement in requirements:
            if isinstance(requirement, dict):
                used.update((str(name), None) for name in requirement)
    return list(used)


def _has_servers(check: _Structure, document: dict[str, object], kind: SpecKind) -> bool:
    if kind == "swagger2":
        return isinstance(document.get("host"), str) and bool(document["host"])
    servers = document.get("servers")
    if servers is None:
        return False
    if not isinstance(servers, list) or not all(
        isinstance(s, dict) and isinstance(s.get("url"), str) for s in servers
    ):
        check.problem("servers must be a list of objects with a url")
        return False
    return bool(servers)


def _has_licence(meta: Mapping[str, object]) -> bool:
    licence = meta.get("license")
    if isinstance(licence, dict) and any(
        isinstance(licence.get(k), str) and licence[k] for k in ("name", "identifier", "url")
    ):
        return True
    return isinstance(meta.get("termsOfService"), str) and bool(meta["termsOfService"])


def _described(operation: Mapping[str, object]) -> bool:
    return bool(_text_field(operation, "summary") or _text_field(operation, "description"))


def _documents_errors(operation: Mapping[str, object]) -> bool:
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return False
    return any(str(code)[:1] in ("4", "5") or str(code) == "default" for code in responses)
