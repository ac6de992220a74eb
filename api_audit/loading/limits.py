"""The limits every YAML input file is held to: its size, its depth and its alias expansion.

They are checked on PyYAML's node graph *before* any Python objects are built, so an alias
bomb or a deeply nested file costs milliseconds and ends in one clear line (engineering
reference §4.7). One set of limits serves the catalogue and the probe files alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000  # after alias expansion


@dataclass(frozen=True)
class Breach:
    """The first limit a document breaks, and the node where it was found."""

    limit: Literal["depth", "nodes", "cycle"]
    node: yaml.Node


def find_breach(
    root: yaml.Node, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES
) -> Breach | None:
    """Count nodes as they would be after alias expansion, and the depth, iteratively.

    A post-order walk with a memo by node identity: a shared (aliased) subtree is measured
    once but counted every time it is used. Its height is kept too, so a subtree that was
    measured where it sits shallow but is also used deep still counts at its deepest use;
    that breach is reported only when the walk finds nothing else.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes when expanded, height)
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    active: set[int] = set()
    deep_use: Breach | None = None
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if depth > max_depth:
            return Breach("depth", node)
        children = _children(node)
        if done:
            active.discard(key)
            sizes = [measured[id(c)] for c in children]
            total = 1 + sum(count for count, _ in sizes)
            if total > max_nodes:
                return Breach("nodes", node)
            measured[key] = (total, 1 + max((height for _, height in sizes), default=0))
            continue
        if key in measured:
            deep_use = deep_use or _deep_use(node, depth, measured[key][1], max_depth)
            continue
        if key in active:
            return Breach("cycle", node)
        active.add(key)
        stack.append((node, depth, True))
        for child in children:
            if id(child) in measured:
                found = _deep_use(child, depth + 1, measured[id(child)][1], max_depth)
                deep_use = deep_use or found
            else:
                stack.append((child, depth + 1, False))
    return deep_use


def _deep_use(node: yaml.Node, depth: int, height: int, max_depth: int) -> Breach | None:
    """A measured subtree used again at `depth`: too deep when its leaves pass the limit."""
    return Breach("depth", node) if depth + height - 1 > max_depth else None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
