"""Billing periods and late events (SPEC §5)."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from meter_pipeline.config.pricing import BillingRules


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last calendar day of a ``YYYY-MM`` period."""
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def last_landing_day(period: str, grace_days: int) -> dt.date:
    """The last landing day whose arrivals period ``period`` accepts."""
    return period_bounds(period)[1] + dt.timedelta(days=grace_days)


def billing_period_for_landing(landing_date: dt.date, grace_days: int) -> str:
    """The earliest period whose last landing day is on or after ``landing_date``."""
    return period_of(landing_date - dt.timedelta(days=grace_days))


def add_billing_period(events: pl.DataFrame, landing_date: dt.date, rules: BillingRules
                       ) -> pl.DataFrame:
    """Stamp each event with ``billing_period`` and ``late`` from its event time and landing day."""
    event_day = pl.col("event_time").dt.date()
    landing = pl.lit(landing_date, dtype=pl.Date)
    late_period = (pl.lit(billing_period_for_landing(landing_date, rules.grace_days))
                   if rules.late_events == "next_open_period" else pl.lit(None, dtype=pl.String))
    return (events
            .with_columns((event_day.dt.month_end() + pl.duration(days=rules.grace_days))
                          .alias("_last_landing"))
            .with_columns((pl.col("_last_landing") < landing).alias("late"))
            .with_columns(pl.when(pl.col("late")).then(late_period)
                          .otherwise(event_day.dt.strftime("%Y-%m")).alias("billing_period"))
            .drop("_last_landing"))


def period_landing_days(period: str, grace_days: int, future_tolerance_us: int) -> list[str]:
    """Landing days a monthly partition reads: from its first day (less the days that
    ``future_tolerance`` reaches back: an event early on the 1st may land the day before, and its
    billing_period is still this month) through its last landing day."""
    first, _ = period_bounds(period)
    last = last_landing_day(period, grace_days)
    start = first - dt.timedelta(days=-(-future_tolerance_us // 86_400_000_000))
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((last - start).days + 1)]
