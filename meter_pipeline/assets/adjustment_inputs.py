"""What a month close needs to bill adjustments of closed periods (SPEC §15): for each closed
period with corrections applied to this one, its lines recomputed over the effective events
(every correction landed up to this period's last landing day), its stored lines, and the
adjustments of it already issued. Reads the warehouse; the rule is billing/adjustments.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from meter_pipeline.billing.adjustments import EarnedPeriod
from meter_pipeline.billing.effective import effective_events
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.period_usage import split_period_events
from meter_pipeline.calendar import days_between, last_landing_day, next_period, period_landing_days
from meter_pipeline.config.reference import Reference
from meter_pipeline.io import warehouse
from meter_pipeline.workers import Map


def _days(period: str, ref: Reference) -> list[str]:
    return period_landing_days(period, ref.grace_days, ref.meters.future_tolerance_us)


def earned_periods(root: Path, ref: Reference, period: str, map_: Map = map) -> list[EarnedPeriod]:
    pricing = ref.require_pricing()
    applied = (
        warehouse.scan_partitions(root, "event_corrections", _days(period, ref))
        .filter(
            (pl.col("applied_period") == period)
            & pl.col("event_billing_period").is_not_null()
            & (pl.col("event_billing_period") != period)
        )
        .collect()
    )
    earned = []
    for p in sorted(applied["event_billing_period"].unique().to_list()):
        p_days = _days(p, ref)
        upto = days_between(
            dt.date.fromisoformat(p_days[0]), last_landing_day(period, ref.grace_days)
        )
        corrections = warehouse.scan_partitions(
            root, "event_corrections", [d.isoformat() for d in upto]
        ).collect()
        ids = applied.filter(pl.col("event_billing_period") == p)["event_id"].unique().to_list()
        customers = (
            warehouse.scan_partitions(root, "clean_events", p_days)
            .filter(pl.col("event_id").is_in(ids))
            .select("customer_id")
            .unique()
            .collect()["customer_id"]
            .to_list()
        )
        frames = [
            split_period_events(
                effective_events(warehouse.scan_partitions(root, "clean_events", [d]), corrections),
                p,
                ref.grace_days,
            )[0]
            for d in p_days
        ]
        recomputed = build_invoice_lines(p, frames, pricing, ref.subscriptions, ref.meters, map_)
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
        earned.append(EarnedPeriod(p, recomputed, stored, earlier, frozenset(customers)))
    return earned
