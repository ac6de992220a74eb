"""A matcher's answer, the Verdict, and the wording every matcher's message shares."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

VerdictOutcome = Literal["pass", "fail", "inconclusive", "not_applicable"]


@dataclass(frozen=True)
class Verdict:
    outcome: VerdictOutcome
    message: str
    credit: float = 1.0  # share of the probe's weight a pass earns


def passed(message: str, credit: float = 1.0) -> Verdict:
    return Verdict("pass", message, credit)


def failed(message: str) -> Verdict:
    return Verdict("fail", message)


def unsure(message: str) -> Verdict:
    return Verdict("inconclusive", message)


def not_applicable(message: str) -> Verdict:
    return Verdict("not_applicable", message)


def describe_status(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def counted(number: int, noun: str) -> str:
    """'1 path', '2 paths', '3 entries'."""
    if noun.endswith("y"):
        plural = noun[:-1] + "ies"
    else:
        plural = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{number} {noun if number == 1 else plural}"
