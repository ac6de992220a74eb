"""A contract's value per year, from its total value and its period; pure.

The catalogue records `annual_value` (GBP a year); a notice gives the total value over the
contract period. The period is counted in whole months (days / 30.4375, rounded), so
1 Oct 2024 - 30 Sep 2026 is 24 months and £280,800 is £140,400 a year (GLA MD3293). A
period under a year counts as one year: its whole value falls in one year's budget.
Nothing is worked out from dates flagged as implausible, a value in another currency, or
a period that is missing or ends before it starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api_audit.models import Contract
from api_audit.sources.ocds import END_UNTRUSTED_FLAGS, UNTRUSTED_DATE_FLAGS

DAYS_A_MONTH = 365.25 / 12


@dataclass(frozen=True)
class AnnualValue:
    """A value a year (None when it cannot be worked out) and how it was worked out."""

    value: float | None
    how: str


def annual_value(contract: Contract) -> AnnualValue:
    """The contract's value a year, with a short sentence saying how (or why not)."""
    if contract.value is None:
        return AnnualValue(None, "the notice gives no value")
    if contract.currency not in (None, "GBP"):
        return AnnualValue(None, f"the value is in {contract.currency}, not GBP")
    flagged = [flag for flag in contract.flags if flag in UNTRUSTED_DATE_FLAGS]
    if flagged:
        return AnnualValue(None, f"dates flagged ({', '.join(flagged)}): check them first")
    if contract.start is None or contract.end is None or contract.end < contract.start:
        return AnnualValue(None, "the notice gives no usable contract period")
    months = max(1, round(((contract.end - contract.start).days + 1) / DAYS_A_MONTH))
    years = max(1.0, months / 12)
    per_year = round(contract.value / years)
    return AnnualValue(
        float(per_year), f"£{contract.value:,.0f} over {months} months ({years:.3g} years)"
    )


def trusted_end(contract: Contract) -> dt.date | None:
    """The contract's end date, unless a flag says it cannot be trusted (ends before it
    starts, after 2080, or more than 25 years after it starts): flagged dates are kept,
    never trusted (issue 13)."""
    if any(flag in END_UNTRUSTED_FLAGS for flag in contract.flags):
        return None
    return contract.end
