"""Parse untrusted bytes from servers into documents: JSON, YAML and API descriptions, with limits.

Limits: size before parsing; depth, YAML alias expansion and alias cycles after; `$ref`s
that leave the document are reported so callers reject it instead of following them (the
local ones are checked by `openapi`).

Everything here works on bytes already in memory: no network or file access, ever. The
parsers themselves are safe on hostile input; the danger is in what *consumes* the result
(recursive walkers, validators, `$ref` resolvers), so every document is checked for depth,
alias expansion and cycles before it is handed on (engineering reference §4.6-4.9).
Every walk in this module is iterative.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

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
