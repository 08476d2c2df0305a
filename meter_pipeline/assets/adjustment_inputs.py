"""What a month close needs to bill adjustments of closed periods
(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): for each closed period
with corrections applied to this one, its lines recomputed over the effective events (every
correction landed up to this period's last landing day), its stored lines, and the adjustments of it
already issued; and the same projected to a day of a period still open (usage alerts). Reads the
warehouse; the rule is billing/adjustments.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from data_contracts import CONTRACTS, polars_schema
from meter_pipeline.billing.adjustments import EarnedPeriod
from meter_pipeline.billing.effective import effective_events
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.period_usage import split_period_events
from meter_pipeline.calendar import (
    days_between,
    last_landing_day,
    next_period,
    period_landing_days,
    previous_period,
)
from meter_pipeline.config.reference import Reference
from meter_pipeline.io import warehouse
from meter_pipeline.workers import Map


def _days(period: str, ref: Reference) -> list[str]:
    return period_landing_days(period, ref.grace_days, ref.meters.future_tolerance_us)


def _applied(root: Path, ref: Reference, period: str, last: dt.date) -> pl.DataFrame:
    """Corrections landed up to ``last`` that are applied to ``period`` but concern events of an
    earlier (closed) period."""
    return (
        warehouse.scan_partitions(
            root, "event_corrections", [d for d in _days(period, ref) if d <= last.isoformat()]
        )
        .filter(
            (pl.col("applied_period") == period)
            & pl.col("event_billing_period").is_not_null()
            & (pl.col("event_billing_period") != period)
        )
        .collect()
    )


def _customers(root: Path, ref: Reference, p: str, applied: pl.DataFrame) -> frozenset[str]:
    """The customers of ``p``'s events that ``applied`` corrects."""
    ids = applied.filter(pl.col("event_billing_period") == p)["event_id"].unique().to_list()
    return frozenset(
        warehouse.scan_partitions(root, "clean_events", _days(p, ref))
        .filter(pl.col("event_id").is_in(ids))
        .select("customer_id")
        .unique()
        .collect()["customer_id"]
        .to_list()
    )


def _recomputed(
    root: Path,
    ref: Reference,
    p: str,
    last: dt.date,
    map_: Map,
    customers: frozenset[str] | None = None,
) -> pl.DataFrame:
    """``p``'s invoice lines over its effective events, with every correction landed up to
    ``last``, at ``p``'s prices (of ``customers`` only, when given: lines are per customer)."""
    p_days = _days(p, ref)
    corrections = warehouse.scan_partitions(
        root,
        "event_corrections",
        [d.isoformat() for d in days_between(dt.date.fromisoformat(p_days[0]), last)],
    ).collect()
    subscriptions = ref.subscriptions
    frames = []
    for d in p_days:
        events = warehouse.scan_partitions(root, "clean_events", [d])
        if customers is not None:
            events = events.filter(pl.col("customer_id").is_in(sorted(customers)))
        effective = effective_events(events, corrections)
        frames.append(split_period_events(effective, p, ref.grace_days)[0])
    if customers is not None:
        subscriptions = tuple(s for s in subscriptions if s.customer_id in customers)
    return build_invoice_lines(p, frames, ref.require_pricing(), subscriptions, ref.meters, map_)


def earned_periods(root: Path, ref: Reference, period: str, map_: Map = map) -> list[EarnedPeriod]:
    """What ``period``'s close needs for its adjustment lines: per closed period with
    corrections applied to ``period``, its lines recomputed with every correction landed up to
    ``period``'s last landing day, its stored lines, and the adjustments of it issued since."""
    last = last_landing_day(period, ref.grace_days)
    applied = _applied(root, ref, period, last)
    earned = []
    for p in sorted(applied["event_billing_period"].unique().to_list()):
        between, q = [], next_period(p)
        while q < period:
            between.append(q)
            q = next_period(q)
        earlier = (
            warehouse.scan_partitions(root, "invoice_lines", between)
            .filter((pl.col("kind") == "adjustment") & (pl.col("earned_period") == p))
            .collect()
        )
        stored = warehouse.scan_partitions(root, "invoice_lines", [p]).collect()
        recomputed = _recomputed(root, ref, p, last, map_)
        earned.append(
            EarnedPeriod(p, recomputed, stored, earlier, _customers(root, ref, p, applied))
        )
    return earned


def projected_periods(
    root: Path, ref: Reference, period: str, upto: dt.date, only: frozenset[str]
) -> list[EarnedPeriod]:
    """The adjustments the invoices of ``only`` (customers) in ``period`` would carry if it
    closed with the corrections landed up to ``upto`` (a day of ``period`` still open: usage
    alerts, docs/alerts-and-formats.md#usage-and-cost-alerts).

    What they are measured against is each closed period as known when the period before
    ``period`` closed (its lines plus the adjustments issued since), recomputed from the same
    landing data rather than read from stored invoices: an alert then does not depend on whether
    the earlier month's close has run yet. With unchanged reference files the two are the same.
    """
    applied = _applied(root, ref, period, upto)
    baseline = last_landing_day(previous_period(period), ref.grace_days)
    empty = pl.DataFrame(schema=polars_schema(CONTRACTS["invoice_lines"]))
    earned = []
    for p in sorted(applied["event_billing_period"].unique().to_list()):
        customers = _customers(root, ref, p, applied) & only
        if customers:
            now = _recomputed(root, ref, p, upto, map, customers)
            before = _recomputed(root, ref, p, baseline, map, customers)
            earned.append(EarnedPeriod(p, now, before, empty, customers))
    return earned
