"""Event-level aggregation for invoicing: each subscription's usage per charge
(docs/rules.md#7-pricing).

The heavy part runs in Polars over the events; the result has one row per customer ×
subscription × charge that has matching events, small enough to price in Python Decimal.
"""

from __future__ import annotations

import polars as pl

from meter_pipeline.billing.usage_fold import UsageFold
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import PricingConfig

CHARGE_KEYS = ["customer_id", "subscription_start", "plan_id", "charge_id", "meter"]


def charges_frame(pricing: PricingConfig) -> pl.DataFrame:
    """One row per plan × charge: plan_id, charge_id, meter."""
    rows = [
        (plan.id, charge.id, charge.meter)
        for plan in pricing.plans.values()
        for charge in plan.charges
    ]
    return pl.DataFrame(
        rows,
        schema={"plan_id": pl.String, "charge_id": pl.String, "meter": pl.String},
        orient="row",
    )


def has_dimension(key: str, value: str) -> pl.Expr:
    """True when the event's ``dimensions`` hold the pair key = value."""
    element = pl.element().struct
    return (
        pl.col("dimensions")
        .list.eval((element.field("key") == key) & (element.field("value") == value))
        .list.any()
    )


def matches_charge_filter(pricing: PricingConfig) -> pl.Expr:
    """Per (event, charge) row: True when the event's dimensions match every pair of the charge's
    ``filter`` (always True for a charge without a filter)."""
    expr = pl.lit(True)
    for plan in pricing.plans.values():
        for charge in plan.charges:
            if not charge.filter:
                continue
            match = pl.lit(True)
            for key, value in charge.filter:
                match = match & has_dimension(key, value)
            this = (pl.col("plan_id") == plan.id) & (pl.col("charge_id") == charge.id)
            expr = pl.when(this).then(match).otherwise(expr)
    return expr


def charge_events(assigned: pl.LazyFrame, pricing: PricingConfig) -> pl.LazyFrame:
    """The covered events, one row per (event, charge of its plan on its meter whose filter it
    matches), with ``charge_id``.

    ``assigned`` is the output of :func:`~meter_pipeline.billing.period_usage.
    assign_subscriptions`.
    """
    covered = assigned.filter(pl.col("plan_id").is_not_null())
    return covered.join(charges_frame(pricing).lazy(), on=["plan_id", "meter"], how="inner").filter(
        matches_charge_filter(pricing)
    )


def charge_usage_fold(meters: MetersConfig) -> UsageFold:
    """The meter's aggregation per customer × subscription × charge (CHARGE_KEYS): feed it
    :func:`charge_events`; charges without matching events get no row (priced at zero usage)."""
    return UsageFold(meters.meters, CHARGE_KEYS)


def subscriptions_with_events(assigned: pl.LazyFrame) -> pl.LazyFrame:
    """customer_id, subscription_start of every subscription covering at least one event."""
    return (
        assigned.filter(pl.col("plan_id").is_not_null())
        .select("customer_id", "subscription_start")
        .unique()
    )
