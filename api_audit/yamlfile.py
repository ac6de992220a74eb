"""Read our own YAML input files safely, keeping the line and column of every value.

Used by the catalogue and probe loaders so each problem can be reported as
`file:line:col: message`. Limits (size, depth, alias expansion) are checked on the node
graph *before* any Python objects are built, so an alias bomb or a deeply nested file
costs milliseconds and ends in one clear line (engineering reference §4.7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from api_audit.errors import Problem

try:  # libyaml is ~4x faster and has its own nesting limit; fall back if not built
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000  # after alias expansion

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain Python data plus where each value (and each mapping key) was written."""

    path: str
    data: object
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def problem(self, at: PathKey, message: str, *, key: bool = False) -> Problem:
        """A Problem located at the value (or the key) for `at`, or its nearest parent."""
        marks = self.key_marks if key else self.value_marks
        probe = at
        while probe not in marks and probe:
            probe = probe[:-1]
        line, col = marks.get(probe, self.value_marks.get(probe, (0, 0)))
        return Problem(self.path, line, col, message)


class YamlLoadError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def load_yaml_file(path: str | Path) -> YamlDocument:
    """Read, limit-check and convert one YAML file; raise YamlLoadError on any problem."""
    shown = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise YamlLoadError(Problem(shown, 0, 0, f"cannot read file: {exc.strerror}")) from None
    return load_yaml_bytes(raw, shown)


def load_yaml_bytes(raw: bytes, shown: str) -> YamlDocument:
    if len(raw) > MAX_BYTES:
        raise YamlLoadError(Problem(shown, 0, 0, f"file is larger than {MAX_BYTES} bytes"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlLoadError(Problem(shown, 0, 0, f"file is not UTF-8 ({exc.reason})")) from None
    if not text.strip():
        raise YamlLoadError(Problem(shown, 1, 1, "file is empty"))
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = exc.problem or exc.context or "invalid YAML"
        raise YamlLoadError(Problem(shown, line, col, f"invalid YAML: {reason}")) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(Problem(shown, 0, 0, f"invalid YAML: {exc}")) from None
    except RecursionError:
        raise YamlLoadError(Problem(shown, 0, 0, "YAML is nested too deeply")) from None
    if root is None:
        raise YamlLoadError(Problem(shown, 1, 1, "file is empty"))
    _check_limits(root, shown)
    doc = YamlDocument(shown, None)
    constructor = yaml.SafeLoader("")  # builds scalars with YAML 1.1 types (true, 3, dates)
    try:
        data = _to_python(root, (), doc, constructor)
    finally:
        constructor.dispose()
    return YamlDocument(shown, data, doc.value_marks, doc.key_marks)


def _check_limits(root: yaml.Node, shown: str) -> None:
    """Count nodes as they would be after alias expansion, and the depth, iteratively."""
    expanded: dict[int, int] = {}
    # (node, depth, children_done): post-order walk with memo by identity, so a shared
    # (aliased) subtree is measured once but counted every time it is used.
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    active: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise YamlLoadError(
                Problem(shown, mark.line + 1, mark.column + 1, f"nested deeper than {MAX_DEPTH}")
            )
        children = _children(node)
        if done:
            active.discard(key)
            total = 1 + sum(expanded[id(c)] for c in children)
            if total > MAX_NODES:
                raise YamlLoadError(
                    Problem(shown, 0, 0, f"aliases expand to more than {MAX_NODES} nodes")
                )
            expanded[key] = total
            continue
        if key in expanded:
            continue
        if key in active:
            mark = node.start_mark
            raise YamlLoadError(
                Problem(shown, mark.line + 1, mark.column + 1, "an alias refers to itself")
            )
        active.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in expanded)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _to_python(
    node: yaml.Node, at: PathKey, doc: YamlDocument, constructor: yaml.SafeLoader
) -> object:
    doc.value_marks.setdefault(at, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[object, object] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = _scalar(key_node, constructor)
            else:
                key = "<complex key>"
            child_at = (*at, str(key))
            mark = key_node.start_mark
            if str(key) in seen:
                raise YamlLoadError(
                    Problem(doc.path, mark.line + 1, mark.column + 1, f"duplicate key {key!r}")
                )
            seen.add(str(key))
            doc.key_marks[child_at] = (mark.line + 1, mark.column + 1)
            result[key] = _to_python(value_node, child_at, doc, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*at, i), doc, constructor) for i, child in enumerate(node.value)]
    return _scalar(node, constructor)


def _scalar(node: yaml.Node, constructor: yaml.SafeLoader) -> object:
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.constructor.ConstructorError, ValueError):
        return node.value
