"""Service credits per invoiced customer and service (docs/rules.md#8-uptime-and-sla-credits,
docs/rules.md#fine-print-of-credits). Pure.

Exactness: the uptime is recomputed from the uptime table's integer minute counts as a
:class:`~fractions.Fraction`, so ``shortfall = target − uptime`` is exact (99.9 − 94.9 is 5, not
4.999…); ``credit_amount = fee × credit_pct / 100`` is rounded once, by
:func:`meter_pipeline.money.round_money`, with pricing.yaml's rounding and the currency's minor
units. Shown percentages are decimal(9, 4) rounded down.

Credit rules:

- linear: ``credit_pct = min(round(shortfall) × credit_per_point_pct, max_credit_pct)`` with
  ``floor`` / ``ceil`` / ``exact`` rounding of the shortfall; 0 when the target is met.
- ladder (``credit_schedule``): the ``credit_pct`` of the lowest ``below`` the uptime is strictly
  under; 0 when under none.

Status of the row earned in a period: ``none`` when no credit is due (credit_pct 0, a zero fee —
credit_pct is kept — or a credit that rounds to 0, amount 0); otherwise ``pending`` when
``require_claim``, else ``granted``. The fee is the sum of that customer's ``platform_fee`` lines
for the service in the period (after proration); a customer is *invoiced* when it has any
non-credit invoice line in the period, and gets one row per service of sla.yaml.

Claims: a claim counts when ``period start ≤ submitted_at < period end + claim_window_days``
(period end = the first instant of the next month). The window closes at that instant; the credit
is resolved on the first period whose last landing day begins at or after it, and never before
the next period (:func:`resolving_period`). That period's ``sla_credits`` also lists the resolved
credit, with its ``earned_period`` and the figures it was earned with, as ``granted`` or
``unclaimed``. Pending credits come from the previous period's ledger (they are ledger rows,
carried). A pending credit whose resolving period has already passed is resolved now, so none
stays pending forever.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.sla import SlaCredits
from meter_pipeline.calendar import last_landing_day, midnight, next_period, period_bounds
from meter_pipeline.config.sla import SlaClaim, SlaConfig, SlaPolicy
from meter_pipeline.money import EXACT, round_money
from meter_pipeline.sla.uptime import shown_pct, uptime_exact

CREDIT_SCHEMA = polars_schema(SlaCredits)


def credit_pct(uptime: Fraction, policy: SlaPolicy) -> Fraction:
    """The exact credit percentage for an exact uptime percentage."""
    if policy.credit_schedule is not None:
        for step in policy.credit_schedule:  # ascending ``below``: the lowest that applies
            if uptime < Fraction(step.below):
                return Fraction(step.credit_pct)
        return Fraction(0)
    shortfall = Fraction(policy.target_uptime_pct) - uptime
    if shortfall <= 0:
        return Fraction(0)
    points = {"floor": math.floor, "ceil": math.ceil, "exact": lambda f: f}[
        policy.shortfall_rounding
    ](shortfall)
    return min(
        Fraction(points) * Fraction(policy.credit_per_point_pct), Fraction(policy.max_credit_pct)
    )


def credit_amount(fee: Decimal, pct: Fraction, minor_units: int, rounding: str) -> Decimal:
    """``fee × pct / 100``, rounded once to the currency's minor unit.

    The exact product is turned into a Decimal with 200 significant digits first: a terminating
    value is exact, a repeating one is never a rounding tie, so the single rounding is correct.
    """
    exact = Fraction(fee) * pct / 100
    as_decimal = EXACT.divide(Decimal(exact.numerator), Decimal(exact.denominator))
    return round_money(as_decimal, minor_units, rounding)


def claim_window(period: str, window_days: int) -> tuple[dt.datetime, dt.datetime]:
    """``[period start, period end + window_days)``: when a claim for ``period`` counts."""
    first, last = period_bounds(period)
    return midnight(first), midnight(last + dt.timedelta(days=1 + window_days))


def resolving_period(earned_period: str, window_days: int, grace_days: int) -> str:
    """The first period after ``earned_period`` whose last landing day begins at or after the
    claim window's close."""
    closes = claim_window(earned_period, window_days)[1]
    period = next_period(earned_period)
    while midnight(last_landing_day(period, grace_days)) < closes:
        period = next_period(period)
    return period


def is_claimed(
    claims: Iterable[SlaClaim], customer_id: str, service: str, earned_period: str, window_days: int
) -> bool:
    start, end = claim_window(earned_period, window_days)
    return any(
        c.customer_id == customer_id
        and c.service == service
        and c.billing_period == earned_period
        and start <= c.submitted_at < end
        for c in claims
    )


def earned_credits(
    period: str,
    uptime: pl.DataFrame,
    invoice_lines: pl.DataFrame,
    policy: SlaPolicy,
    minor_units: Mapping[str, int],
    rounding: str,
) -> pl.DataFrame:
    """Credits earned in ``period``: one row per invoiced customer × service (``CREDIT_SCHEMA``).

    ``uptime``: the period's uptime table (service, minutes, down_minutes, excused_minutes).
    ``invoice_lines``: the period's lines (customer_id, kind, service, amount, currency), credit
    lines excluded or ignored. ``minor_units``: currency → minor units; ``rounding``: half_up or
    half_even (pricing.yaml).
    """
    exact = {
        s: uptime_exact(m, d, e)
        for s, m, d, e in uptime.select(
            "service", "minutes", "down_minutes", "excused_minutes"
        ).iter_rows()
    }
    missing = sorted(set(policy.services) - set(exact))
    if missing:
        raise ValueError(f"uptime of {period} has no row for service(s) {', '.join(missing)}")
    lines = invoice_lines.filter(pl.col("kind") != "sla_credit")
    currencies = lines.group_by("customer_id").agg(pl.col("currency").unique().sort())
    fees = (
        lines.filter(pl.col("kind") == "platform_fee")
        .group_by("customer_id", "service")
        .agg(pl.col("amount").sum())
    )
    fee_of = {(c, s): Decimal(a) for c, s, a in fees.iter_rows()}
    rows = []
    for customer, currency_list in sorted(currencies.iter_rows()):
        if len(currency_list) != 1:
            raise ValueError(
                f"{period}: invoice lines of {customer} mix currencies {currency_list}"
            )
        currency = currency_list[0]
        if currency not in minor_units:
            raise ValueError(f"{period}: no minor units given for currency {currency!r}")
        for service in sorted(policy.services):
            pct = credit_pct(exact[service], policy)
            fee = fee_of.get((customer, service), Decimal(0))
            amount = credit_amount(fee, pct, minor_units[currency], rounding)
            status = "none" if amount == 0 else "pending" if policy.require_claim else "granted"
            rows.append(
                (
                    period,
                    customer,
                    service,
                    period,
                    currency,
                    shown_pct(exact[service]),
                    shown_pct(pct),
                    fee,
                    amount,
                    status,
                )
            )
    return pl.DataFrame(rows, schema=CREDIT_SCHEMA, orient="row")


def resolved_credits(
    period: str, previous_ledger: pl.DataFrame, config: SlaConfig, grace_days: int
) -> pl.DataFrame:
    """Pending credits of the previous ledger that ``period`` resolves: granted or unclaimed."""
    window = config.policy.claim_window_days
    pending = previous_ledger.filter((pl.col("status") == "pending") & (pl.col("carried") > 0))
    rows = []
    for r in pending.iter_rows(named=True):
        if resolving_period(r["earned_period"], window, grace_days) > period:
            continue
        claimed = is_claimed(
            config.claims, r["customer_id"], r["service"], r["earned_period"], window
        )
        rows.append(
            (
                period,
                r["customer_id"],
                r["service"],
                r["earned_period"],
                r["currency"],
                r["uptime_pct"],
                r["credit_pct"],
                r["fee_amount"],
                r["amount"],
                "granted" if claimed else "unclaimed",
            )
        )
    return pl.DataFrame(rows, schema=CREDIT_SCHEMA, orient="row")


def sla_credits(
    period: str,
    uptime: pl.DataFrame,
    invoice_lines: pl.DataFrame,
    previous_ledger: pl.DataFrame,
    config: SlaConfig,
    grace_days: int,
    minor_units: Mapping[str, int],
    rounding: str,
) -> pl.DataFrame:
    """The ``sla_credits`` partition of ``period``: earned rows plus resolved pending credits,
    sorted by customer_id, earned_period, service."""
    earned = earned_credits(period, uptime, invoice_lines, config.policy, minor_units, rounding)
    resolved = resolved_credits(period, previous_ledger, config, grace_days)
    return pl.concat([earned, resolved]).sort("customer_id", "earned_period", "service")


def credits_over_fee(credits: pl.DataFrame) -> pl.DataFrame:
    """Check helper: rows whose credit exceeds its fee base (must be empty)."""
    return credits.filter(pl.col("credit_amount") > pl.col("fee_amount"))
