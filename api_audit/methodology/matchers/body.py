"""Generic matchers on a body's content: the words it mentions and the fields its JSON has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from api_audit.methodology.matchers.arguments import BadArgument, string_list
from api_audit.methodology.matchers.context import MatchContext, json_or_failure
from api_audit.methodology.matchers.registry import matcher
from api_audit.methodology.matchers.verdict import Verdict, failed, passed

# --- body_contains -------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyTerms:
    mode: Literal["any", "all"]  # any one term is enough, or every term must appear
    terms: tuple[str, ...]


def read_body_terms(argument: object) -> BodyTerms:
    if isinstance(argument, dict) and len(argument) == 1:
        ((mode, terms),) = argument.items()
        items = string_list(terms)
        if mode == "any" and items is not None:
            return BodyTerms("any", items)
        if mode == "all" and items is not None:
            return BodyTerms("all", items)
    else:
        items = string_list(argument)
        if items is not None:
            return BodyTerms("all", items)
    raise BadArgument("give a string, a list (all must appear), or {any: [...]} / {all: [...]}")


@matcher(
    "body_contains",
    read=read_body_terms,
    argument="a string, a list (all), or {any: [...]} / {all: [...]}",
    doc="The body mentions these words (case-insensitive).",
)
def match_body_contains(wanted: BodyTerms, ctx: MatchContext) -> Verdict:
    terms = wanted.terms
    text = ctx.text().casefold()
    found = [t for t in terms if t.casefold() in text]
    shown = ", ".join(repr(t) for t in terms)
    if wanted.mode == "any":
        if found:
            return passed(f"body mentions {found[0]!r}")
        return failed(f"body mentions none of {shown}")
    missing = [t for t in terms if t not in found]
    if missing:
        return failed(f"body does not mention {missing[0]!r}")
    return passed(f"body mentions {shown}")


# --- json_fields ---------------------------------------------------------------------------


def read_json_paths(argument: object) -> tuple[str, ...]:
    items = string_list(argument)
    if items is None:
        raise BadArgument("give a dotted path or a list of them, e.g. [info.title, paths]")
    for item in items:
        if any(not part for part in item.split(".")):
            raise BadArgument(f"{item!r} is not a dotted path")
    return items


def _lookup(data: object, path: str) -> bool:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


@matcher(
    "json_fields",
    read=read_json_paths,
    argument="a dotted path or list, e.g. [info.title, paths]",
    doc="The body is JSON and has these dotted paths.",
)
def match_json_fields(paths: tuple[str, ...], ctx: MatchContext) -> Verdict:
    data = json_or_failure(ctx)
    if isinstance(data, Verdict):
        return data
    for path in paths:
        if not _lookup(data, path):
            return failed(f"JSON has no {path}")
    return passed(f"JSON has {', '.join(paths)}")
