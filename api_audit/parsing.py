"""Parse untrusted bytes from servers: JSON, YAML and OpenAPI documents, with limits.

Limits: size before parsing; depth, YAML alias expansion and alias cycles after; `$ref`s
that leave the document are reported so callers reject it instead of following them; local
`$ref` chains are resolved with a visited set, so a cycle (A -> B -> A) is reported, never
followed for ever; and the OpenAPI structure check runs under a step and time budget.

Everything here works on bytes already in memory: no network or file access, ever. The
parsers themselves are safe on hostile input; the danger is in what *consumes* the result
(recursive walkers, validators, `$ref` resolvers), so every document is checked for depth,
alias expansion and cycles before it is handed on (engineering reference §4.6-4.9).
Every walk in this module is iterative.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

import yaml

try:  # libyaml is ~4x faster than the pure-Python parser (reference §4.7)
    _YamlLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _YamlLoader = yaml.SafeLoader

# json.loads runs at ~70 MB/s, CSafeLoader at ~1.6 MB/s: YAML gets the smaller budget so a
# large YAML spec costs at most a few seconds (reference §4.7).
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 128  # real OpenAPI documents stay far below; deep ones only hurt consumers
MAX_NODES = 1_000_000  # YAML nodes after alias expansion (a billion-laughs bomb stops here)

SpecKind = Literal["openapi3", "swagger2"]


class UnsafeDocument(ValueError):
    """A document we will not use: invalid, too big, too deep, or an alias bomb."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class SpecInfo:
    """What a parsed API description says about itself, and the `$ref`s that leave it."""

    kind: SpecKind | None  # None: parsed, but neither OpenAPI 3.x nor Swagger 2.0
    version: str  # the `openapi` or `swagger` field as written ("" when absent)
    title: str  # info.title ("" when absent)
    has_info: bool
    has_paths: bool  # a non-empty `paths` object
    has_webhooks: bool = False  # OpenAPI 3.1 allows webhooks instead of paths
    has_components: bool = False  # ... or components alone
    path_count: int = 0
    external_refs: tuple[str, ...] = ()  # `$ref` values not starting with "#" (up to 10)
    document: object = field(default=None, repr=False, compare=False)


def parse_json(body: bytes) -> object:
    """Parse a JSON body (UTF-8, -16 or -32, as RFC 8259 allows); raise UnsafeDocument."""
    if len(body) > MAX_JSON_BYTES:
        raise UnsafeDocument(f"JSON larger than {MAX_JSON_BYTES} bytes")
    try:
        data = json.loads(body)
    except RecursionError:
        raise UnsafeDocument(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError:  # a ValueError too; say which kind of invalid it is
        raise UnsafeDocument("not valid UTF-8") from None
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python allows
        raise UnsafeDocument(f"not valid JSON: {_short(exc)}") from None
    _check_depth(data)
    return data


def parse_yaml(body: bytes) -> object:
    """Parse one YAML document; limits are checked on the node graph before construction."""
    if len(body) > MAX_YAML_BYTES:
        raise UnsafeDocument(f"YAML larger than {MAX_YAML_BYTES} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsafeDocument("not valid UTF-8") from None
    loader = _YamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_nodes(root)
        return loader.construct_document(root)
    except UnsafeDocument:
        raise
    except yaml.YAMLError as exc:
        raise UnsafeDocument(f"not valid YAML: {_yaml_reason(exc)}") from None
    except RecursionError:  # the pure-Python composer recurses; libyaml does not
        raise UnsafeDocument(f"YAML nested deeper than {MAX_DEPTH} levels") from None
    except (TypeError, ValueError) as exc:  # e.g. an unhashable mapping key
        raise UnsafeDocument(f"not usable YAML: {_short(exc)}") from None
    finally:
        loader.dispose()


def parse_spec(body: bytes, content_type: str = "") -> SpecInfo:
    """Parse an API description (JSON first when it looks like JSON, else YAML).

    Raise UnsafeDocument when it cannot be parsed safely. The result lists `$ref`s that
    point outside the document; callers must reject such a document rather than follow
    them (openapi-spec-validator and prance fetch remote refs and read local files,
    reference §4.8).
    """
    first = body.lstrip(b" \t\r\n\xef\xbb\xbf")[:1]  # skip whitespace and a UTF-8 BOM
    media = content_type.split(";", 1)[0].strip().lower()
    if first in (b"{", b"["):
        try:
            data = parse_json(body)
        except UnsafeDocument:
            if media == "application/json" or media.endswith("+json"):
                raise
            data = parse_yaml(body)  # YAML flow style that is not strict JSON
    else:
        data = parse_yaml(body)
    return describe_spec(data)


def describe_spec(data: object) -> SpecInfo:
    """Classify an already-parsed (and limit-checked) document."""
    refs = tuple(_external_refs(data))
    if not isinstance(data, dict):
        return SpecInfo(None, "", "", False, False, external_refs=refs, document=data)
    info = data.get("info")
    paths = data.get("paths")
    title = info.get("title") if isinstance(info, dict) else None
    kind: SpecKind | None = None
    version = ""
    if "openapi" in data:
        version = str(data["openapi"])
        kind = "openapi3" if version.startswith("3.") else None
    elif "swagger" in data:
        version = str(data["swagger"])
        kind = "swagger2" if version in ("2.0", "2") else None
    return SpecInfo(
        kind=kind,
        version=version,
        title=title if isinstance(title, str) else "",
        has_info=isinstance(info, dict),
        has_paths=isinstance(paths, dict) and bool(paths),
        has_webhooks=isinstance(data.get("webhooks"), dict) and bool(data["webhooks"]),
        has_components=isinstance(data.get("components"), dict) and bool(data["components"]),
        path_count=len(paths) if isinstance(paths, dict) else 0,
        external_refs=refs,
        document=data,
    )


def _external_refs(data: object, limit: int = 10) -> Iterator[str]:
    """Every string `$ref` not starting with "#", by an iterative walk.

    A YAML alias makes containers shared, so each container is visited once.
    """
    seen: set[int] = set()
    stack: list[object] = [data]
    found = 0
    while stack and found < limit:
        item = stack.pop()
        if not isinstance(item, dict | list) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                found += 1
                yield ref
            stack.extend(item.values())
        else:
            stack.extend(item)


def _check_depth(data: object) -> None:
    """Reject JSON nested deeper than MAX_DEPTH (containers count as levels)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UnsafeDocument(f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


def _check_nodes(root: yaml.Node) -> None:
    """Expanded node count, expanded depth and alias cycles, on the node graph.

    Post-order walk with a memo by node identity: a shared (aliased) subtree is measured
    once, but its size and height count every time it is used, so the numbers are those
    of the document as a consumer would see it after expanding aliases.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id -> (expanded nodes, height)
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _node_children(node)
        if children_done:
            active.discard(key)
            count = 1 + sum(sizes[id(c)][0] for c in children)
            height = 1 + max((sizes[id(c)][1] for c in children), default=0)
            if count > MAX_NODES:
                raise UnsafeDocument(f"YAML aliases expand to more than {MAX_NODES} nodes")
            if height > MAX_DEPTH:
                raise UnsafeDocument(f"YAML nested deeper than {MAX_DEPTH} levels")
            sizes[key] = (count, height)
            continue
        if key in sizes:
            continue
        if key in active:
            raise UnsafeDocument("a YAML alias refers to itself (a cycle)")
        if len(active) >= MAX_DEPTH:
            raise UnsafeDocument(f"YAML nested deeper than {MAX_DEPTH} levels")
        active.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in active:
                raise UnsafeDocument("a YAML alias refers to itself (a cycle)")
            if id(child) not in sizes:
                stack.append((child, False))


def _node_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and (exc.problem or exc.context):
        reason = ", ".join(part for part in (exc.context, exc.problem) if part)
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"{reason}{where}"
    return _short(exc)


def _short(exc: BaseException) -> str:
    """The first line of a parser's message, without the document text it may quote."""
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


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


def _local_refs(document: object, budget: _Budget) -> list[str]:
    """Every distinct local `$ref` string, in document order (iterative walk)."""
    seen: set[int] = set()
    found: dict[str, None] = {}
    stack: list[object] = [document]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict | list) or id(item) in seen:
            continue
        budget.step()
        seen.add(id(item))
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                found.setdefault(ref)
            stack.extend(reversed(list(item.values())))
        else:
            stack.extend(reversed(item))
    return list(found)


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
