"""A billing period's events: which period bills them, which subscription covers them, and the
``period_usage`` and ``unbilled_usage`` tables (docs/rules.md#6-billing-periods-and-late-events,
docs/rules.md#7-pricing, docs/rules.md#usage-that-is-reported-period_usage-and-unbilled_usage).

Inputs are frames of clean events (the CleanEvents columns). Choices the rules leave open:

- ``period_usage`` aggregates the events the period bills (its on-time events and the late events
  it bills); late events under ``late_events: ignore`` are not in it (they are in unbilled_usage).
- An event is covered by a subscription when the UTC date of its event time is within the
  subscription's inclusive dates; coverage does not depend on the plan charging that meter (an
  event of a covered customer on a meter the plan does not price is billed at nothing, not
  reported as unbilled).
- A late event under ``late_events: ignore`` is ``late_ignored`` whether or not a subscription
  covers it (it has one reason, and lateness is why it is not billed).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from data_contracts import polars_schema
from data_contracts.ingestion import CleanEvents
from meter_pipeline.billing.usage_fold import Frame, UsageFold
from meter_pipeline.calendar import landing_period
from meter_pipeline.config.customers import Subscription
from meter_pipeline.config.meters import MetersConfig

SUBSCRIPTION_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String,
        "plan_id": pl.String,
        "subscription_start": pl.Date,
        "subscription_end": pl.Date,
    }
)
UNBILLED_COLUMNS = ["billing_period", "customer_id", "meter", "reason", "event_count", "quantity"]
PERIOD_USAGE_COLUMNS = [
    "billing_period",
    "customer_id",
    "meter",
    "quantity",
    "event_count",
    "late_event_count",
]


#: Events given whole (one frame) or in chunks (e.g. one frame per landing day); the results do
#: not depend on how the events are chunked, only memory does.
Chunks = Frame | Iterable[Frame]
USAGE_KEYS = ["customer_id", "meter"]
UNBILLED_KEYS = ["customer_id", "meter", "reason"]


def chunks(events: Chunks) -> list[Frame]:
    """The chunks of ``events``; no chunk at all is one empty chunk (clean-event columns)."""
    if isinstance(events, pl.DataFrame | pl.LazyFrame):
        return [events]
    return list(events) or [pl.DataFrame(schema=polars_schema(CleanEvents))]


def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy()


def split_period_events(
    events: pl.DataFrame | pl.LazyFrame, period: str, grace_days: int
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split clean events into ``(billed, late_ignored)`` for ``period``.

    ``billed`` are the events with ``billing_period == period``; ``late_ignored`` the late events
    with a null billing_period (``late_events: ignore``) whose landing day closes into ``period``.
    Pass the clean events of every landing day from the period's first day to its last landing day.
    """
    lazy = _lazy(events)
    billed = lazy.filter(pl.col("billing_period") == period)
    ignored = lazy.filter(
        pl.col("billing_period").is_null() & pl.col("late") & (landing_period(grace_days) == period)
    )
    return billed, ignored


def period_usage_fold(meters: MetersConfig) -> UsageFold:
    """The fold of ``period_usage``: customer × meter, with the late events counted."""
    return UsageFold(meters.meters, USAGE_KEYS, flags={"late_event_count": pl.col("late")})


def finish_period_usage(fold: UsageFold, period: str) -> pl.DataFrame:
    return (
        fold.result()
        .with_columns(pl.lit(period).alias("billing_period"))
        .select(PERIOD_USAGE_COLUMNS)
    )


def subscriptions_frame(subscriptions: Iterable[Subscription]) -> pl.DataFrame:
    """customer_id, plan_id, subscription_start, subscription_end (null = open)."""
    rows = [(s.customer_id, s.plan_id, s.start_date, s.end_date) for s in subscriptions]
    return pl.DataFrame(rows, schema=SUBSCRIPTION_SCHEMA, orient="row")


def _coverage(events: pl.LazyFrame, subscriptions: Iterable[Subscription]) -> pl.LazyFrame:
    """Per (customer_id, _event_date) of the events: plan_id and subscription_start of the
    subscription covering that day (both null when none does). Subscriptions of a customer never
    overlap, so the one that started last on or before the day is the only candidate. Coverage
    is resolved once per (customer, day) — a small frame — so the events are never sorted."""
    subs = subscriptions_frame(subscriptions).sort("subscription_start")
    days = (
        events.select("customer_id", "_event_date")
        .unique()
        .sort("_event_date")
        .join_asof(
            subs.lazy(),
            left_on="_event_date",
            right_on="subscription_start",
            by="customer_id",
            strategy="backward",
            check_sortedness=False,
            coalesce=False,
        )
    )
    covered = pl.col("subscription_end").is_null() | (
        pl.col("_event_date") <= pl.col("subscription_end")
    )
    covered = covered & pl.col("subscription_start").is_not_null()
    return days.select(
        "customer_id",
        "_event_date",
        pl.when(covered).then(pl.col("plan_id")).alias("plan_id"),
        pl.when(covered).then(pl.col("subscription_start")).alias("subscription_start"),
    )


_EVENT_DATE = pl.col("event_time").dt.date().alias("_event_date")


def assign_subscriptions(events: Frame, subscriptions: Iterable[Subscription]) -> pl.LazyFrame:
    """Add plan_id and subscription_start of the subscription covering each event's UTC date
    (both null when none does)."""
    events = _lazy(events).with_columns(_EVENT_DATE)
    return events.join(
        _coverage(events, subscriptions), on=["customer_id", "_event_date"], how="left"
    ).drop("_event_date")


def unbilled_fold(meters: MetersConfig) -> UsageFold:
    return UsageFold(meters.meters, UNBILLED_KEYS)


def finish_unbilled_usage(fold: UsageFold, period: str) -> pl.DataFrame:
    return (
        fold.result().with_columns(pl.lit(period).alias("billing_period")).select(UNBILLED_COLUMNS)
    )
