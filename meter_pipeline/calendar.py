"""Every date rule in one place (docs/rules.md#6-billing-periods-and-late-events,
docs/rules.md#8-uptime-and-sla-credits,
docs/rules.md#12-running-it-partitions-schedules-and-commands): billing periods ``YYYY-MM``, landing
days, grace, late events, and the days a daily or monthly partition reads.

Periods are ``str`` keys (``"2026-09"``), days are :class:`datetime.date`; a Dagster partition key
of a day is ``day.isoformat()``. Nothing here reads the clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import polars as pl

from data_contracts.base import PERIOD_PATTERN

_PERIOD = re.compile(PERIOD_PATTERN)
DAY = dt.timedelta(days=1)
DAY_US = 86_400_000_000


def is_period(text: str) -> bool:
    """True for a ``YYYY-MM`` key with a month 01–12."""
    return _PERIOD.match(text) is not None


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last calendar day of a ``YYYY-MM`` period."""
    if not is_period(period):
        raise ValueError(f"{period!r} is not a billing period YYYY-MM")
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def next_period(period: str) -> str:
    return period_of(period_bounds(period)[1] + DAY)


def previous_period(period: str) -> str:
    return period_of(period_bounds(period)[0] - DAY)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day of [first, last] (empty when last < first)."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_keys(days: list[dt.date]) -> list[str]:
    """Partition keys of days."""
    return [day.isoformat() for day in days]


def minutes_in_month(period: str) -> int:
    first, last = period_bounds(period)
    return ((last - first).days + 1) * 1440


def month_start_instant(period: str) -> dt.datetime:
    """00:00 UTC of the period's first day."""
    return midnight(period_bounds(period)[0])


def month_end_instant(period: str) -> dt.datetime:
    """00:00 UTC of the day after the period's last day (the end of the half-open month)."""
    return midnight(period_bounds(period)[1] + DAY)


def midnight(day: dt.date) -> dt.datetime:
    """00:00 UTC of ``day``."""
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def last_landing_day(period: str, grace_days: int) -> dt.date:
    """The last landing day whose arrivals period ``period`` accepts."""
    return period_bounds(period)[1] + dt.timedelta(days=grace_days)


def billing_period_for_landing(landing_date: dt.date, grace_days: int) -> str:
    """The earliest period whose last landing day is on or after ``landing_date``."""
    return period_of(landing_date - dt.timedelta(days=grace_days))


def landing_period(grace_days: int) -> pl.Expr:
    """:func:`billing_period_for_landing` of the ``landing_date`` column: where a late event is
    billed, or reported when ignored."""
    return pl.col("landing_date").dt.offset_by(f"-{grace_days}d").dt.strftime("%Y-%m")


def add_billing_period(
    events: pl.DataFrame, landing_date: dt.date, grace_days: int, late_events: str
) -> pl.DataFrame:
    """Stamp each event with ``billing_period`` and ``late`` from its event time and landing day
    (``late_events``: ``next_open_period`` bills a late event in the earliest open period,
    ``ignore`` leaves its billing_period null)."""
    event_day = pl.col("event_time").dt.date()
    landing = pl.lit(landing_date, dtype=pl.Date)
    late_period = (
        pl.lit(billing_period_for_landing(landing_date, grace_days))
        if late_events == "next_open_period"
        else pl.lit(None, dtype=pl.String)
    )
    return (
        events.with_columns(
            (event_day.dt.month_end() + pl.duration(days=grace_days)).alias("_last_landing")
        )
        .with_columns((pl.col("_last_landing") < landing).alias("late"))
        .with_columns(
            pl.when(pl.col("late"))
            .then(late_period)
            .otherwise(event_day.dt.strftime("%Y-%m"))
            .alias("billing_period")
        )
        .drop("_last_landing")
    )


def period_landing_days(period: str, grace_days: int, future_tolerance_us: int) -> list[str]:
    """Landing days a monthly partition reads: from its first day (less the days that
    ``future_tolerance`` reaches back: an event early on the 1st may land the day before, and its
    billing_period is still this month) through its last landing day."""
    first, _ = period_bounds(period)
    start = first - dt.timedelta(days=-(-future_tolerance_us // DAY_US))
    return day_keys(days_between(start, last_landing_day(period, grace_days)))


def monitoring_days(period: str, grace_days: int) -> list[dt.date]:
    """Landing days whose monitoring exports a month reads: first day − 1 … last landing day."""
    first, _ = period_bounds(period)
    return days_between(first - DAY, last_landing_day(period, grace_days))


def window_days(day: dt.date, window: int) -> list[dt.date]:
    """The ``window`` landing days before ``day``, oldest first (the dedup window)."""
    return [day - dt.timedelta(days=n) for n in range(window, 0, -1)]


def closed_periods(start: dt.date, end: dt.date, grace_days: int) -> list[str]:
    """Months ≥ start's month whose last landing day is ≤ end, in order
    (docs/rules.md#12-running-it-partitions-schedules-and-commands)."""
    periods = []
    period = period_of(start)
    while last_landing_day(period, grace_days) <= end:
        periods.append(period)
        period = next_period(period)
    return periods


def period_closing_after(day: dt.date, grace_days: int) -> str | None:
    """The period whose last landing day is the day before ``day``, if any."""
    period = period_of(day - dt.timedelta(days=1 + grace_days))
    return period if last_landing_day(period, grace_days) == day - DAY else None
