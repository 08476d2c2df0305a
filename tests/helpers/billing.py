"""Builders for billing tests: clean-event frames, meters, plans and subscriptions in code.

Nothing here computes an expected value; tests work amounts out by hand in their comments.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.ingestion import CleanEvents
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.invoices import append_credit_lines, summarize_invoices
from meter_pipeline.billing.period_usage import (
    assign_subscriptions,
    chunks,
    finish_period_usage,
    finish_unbilled_usage,
    period_usage_fold,
    unbilled_fold,
)
from meter_pipeline.config.charges import Charge, Tier
from meter_pipeline.config.customers import Subscription
from meter_pipeline.config.meters import Meter, MetersConfig
from meter_pipeline.config.pricing import Plan, PlatformFee, PricingConfig

UTC = dt.UTC
D = Decimal
_ids = itertools.count(1)

METERS = MetersConfig(
    {
        m.name: m
        for m in (
            Meter("api_calls", "count", "call"),
            Meter("llm_tokens", "sum", "token", ("model",)),
            Meter("storage_gb", "max"),
            Meter("seats", "latest"),
            Meter("active_users", "unique_count", unique_dimension="user_id"),
            Meter("recovered_amount", "sum", "USD"),
        )
    }
)


def event(
    customer: str,
    meter: str,
    when: str,
    value: str | None = None,
    dims: dict[str, str] | None = None,
    *,
    period: str | None = "auto",
    late: bool = False,
    landing: str | None = None,
) -> dict[str, Any]:
    """One clean event; ``when`` is ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``. ``period="auto"``
    bills it in its event month (pass a period for a late event, None for an ignored one)."""
    time = dt.datetime.fromisoformat(when if "T" in when else f"{when}T12:00")
    time = time.replace(tzinfo=UTC)
    number = next(_ids)
    return {
        "event_id": f"e{number}",
        "customer_id": customer,
        "meter": meter,
        "event_time": time,
        "value": None if value is None else D(value),
        "dimensions": [{"key": k, "value": v} for k, v in sorted((dims or {}).items())],
        "landing_date": dt.date.fromisoformat(landing) if landing else time.date(),
        "billing_period": time.strftime("%Y-%m") if period == "auto" else period,
        "late": late,
        "source_file": "landing/events/x.jsonl",
        "line_number": number,
    }


def events_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(CleanEvents))


def tiers(*specs: tuple[str | None, str, str]) -> tuple[Tier, ...]:
    """``("5", "1", "0")`` = up_to, unit_price, flat_fee; up_to None = no bound."""
    return tuple(Tier(None if up is None else D(up), D(price), D(fee)) for up, price, fee in specs)


def charge(id: str, meter: str, model: str, **kw: Any) -> Charge:
    """A charge; string keyword values become Decimals, ``filter`` a dict."""
    values: dict[str, Any] = {}
    for key, value in kw.items():
        if key == "filter":
            value = tuple(sorted(value.items()))
        elif isinstance(value, str):
            value = D(value)
        values[key] = value
    return Charge(id, meter, model, **values)


def plan(
    id: str,
    *charges: Charge,
    currency: str = "USD",
    minor_units: int = 2,
    fees: dict[str, str] | None = None,
    minimum: str | None = None,
) -> Plan:
    return Plan(
        id,
        currency,
        minor_units,
        tuple(PlatformFee(s, D(a)) for s, a in (fees or {}).items()),
        None if minimum is None else D(minimum),
        tuple(charges),
    )


def pricing(
    *plans: Plan,
    rounding: str = "half_up",
    late_events: str = "next_open_period",
    grace_days: int = 3,
) -> PricingConfig:
    return PricingConfig(grace_days, late_events, rounding, {p.id: p for p in plans})


def sub(customer: str, plan_id: str, start: str, end: str | None = None) -> Subscription:
    return Subscription(
        customer,
        customer.title(),
        plan_id,
        dt.date.fromisoformat(start),
        None if end is None else dt.date.fromisoformat(end),
    )


# Whole-frame forms of the month close's pieces, for tests (the close itself folds day by day).


def build_invoices(period: str, events, pricing, subscriptions, meters, credits=None):
    """``(invoice_lines, invoices)`` of ``period``; ``credits`` as in append_credit_lines."""
    lines = build_invoice_lines(period, events, pricing, subscriptions, meters)
    lines = append_credit_lines(lines, credits)
    return lines, summarize_invoices(lines)


def build_period_usage(events, meters, period: str) -> pl.DataFrame:
    """``period_usage`` of events given whole or in chunks."""
    fold = period_usage_fold(meters)
    for chunk in chunks(events):
        fold.add(chunk)
    return finish_period_usage(fold, period)


def build_unbilled_usage(billed, late_ignored, subscriptions, meters, period: str) -> pl.DataFrame:
    """``unbilled_usage`` of billed and late-ignored events given whole: the billed events no
    subscription covers (``no_subscription``) and the late-ignored ones (``late_ignored``)."""
    uncovered = assign_subscriptions(billed, subscriptions).filter(pl.col("plan_id").is_null())
    fold = unbilled_fold(meters)
    fold.add(uncovered.with_columns(pl.lit("no_subscription").alias("reason")))
    fold.add(late_ignored.lazy().with_columns(pl.lit("late_ignored").alias("reason")))
    return finish_unbilled_usage(fold, period)


def life_imbalances(history: pl.DataFrame) -> pl.DataFrame:
    """Over all ledger partitions: credits whose earned amount ≠ Σ applied + Σ forfeited + the
    last carried balance (must be empty)."""
    key = ["customer_id", "service", "earned_period"]
    last = pl.col("carried").sort_by("billing_period").last()
    return (
        history.group_by(key)
        .agg(
            pl.col("amount").first(),
            applied=pl.col("applied").sum(),
            forfeited=pl.col("forfeited").sum(),
            carried=last,
        )
        .filter(pl.col("amount") != pl.col("applied") + pl.col("forfeited") + pl.col("carried"))
        .sort(key)
    )
