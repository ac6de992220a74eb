"""A matcher's answer, the Verdict, and the wording every matcher's message shares."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from api_audit.models import SignIn

VerdictOutcome = Literal["pass", "fail", "inconclusive", "not_applicable"]


@dataclass(frozen=True)
class Verdict:
    outcome: VerdictOutcome
    message: str
    credit: float = 1.0  # share of the probe's weight a pass earns
    sign_in: SignIn | None = None  # a fail because the resource is behind a sign-in
    # The sentence of a page that decided a wording verdict, cleaned (text.quote) and
    # capped; None when no sentence decided (issue 11: a supplier can check what we read).
    excerpt: str | None = None


def passed(message: str, credit: float = 1.0, *, excerpt: str | None = None) -> Verdict:
    return Verdict("pass", message, credit, excerpt=excerpt)


def failed(message: str, *, excerpt: str | None = None) -> Verdict:
    return Verdict("fail", message, excerpt=excerpt)


def behind_sign_in(message: str, why: SignIn) -> Verdict:
    """A fail because the resource needs an account: the ladder's "gated" evidence."""
    return Verdict("fail", message, sign_in=why)


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
