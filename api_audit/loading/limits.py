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
    once but counted every time it is used. Its height is kept too, so a subtree measured
    where it sits shallow still counts where it is used deep: a node whose expanded
    subtree reaches past the limit is reported, but only when the walk finds nothing else.
    """
    counts: dict[int, int] = {}  # id(node) -> nodes when expanded
    heights: dict[int, int] = {}  # id(node) -> levels when expanded
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    active: set[int] = set()
    deep_use: Breach | None = None
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if depth > max_depth:
            return Breach("depth", node)
        children = _children(node)
        if not children:  # a scalar (or empty) node: measured at once
            counts[key] = heights[key] = 1
            continue
        if done:
            active.discard(key)
            ids = [id(c) for c in children]
            total = 1 + sum(map(counts.__getitem__, ids))
            if total > max_nodes:
                return Breach("nodes", node)
            counts[key] = total
            heights[key] = height = 1 + max(map(heights.__getitem__, ids))
            if deep_use is None and depth + height - 1 > max_depth:
                deep_use = Breach("depth", node)
            continue
        if key in counts:
            continue
        if key in active:
            return Breach("cycle", node)
        active.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in counts)
    return deep_use


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
