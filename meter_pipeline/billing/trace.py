"""``period_trace`` (docs/audit.md#where-every-event-of-a-month-went-period_trace): where every
event of a period went.

One row per period: ``events`` (clean events whose billing_period is P, plus the ``late_ignored``
events reported in P's unbilled_usage) = ``events_billed`` (listed under at least one usage line,
counted once however many lines list it) + ``events_unbilled`` (in unbilled_usage: no subscription
covers them, or late_ignored) + ``events_not_priced`` (covered by a subscription, but no charge of
its plan prices that meter or those dimension values). Each term is counted on its own, a landing
day at a time, so the blocking check ``trace_balances`` compares independent counts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import polars as pl

#: What identifies one clean event across the days of a period (its arrival).
IDENTITY = ["landing_date", "source_file", "line_number"]
TRACE_COUNTS = ["events", "events_billed", "events_unbilled", "events_not_priced"]


@dataclass
class TraceCounts:
    """The counts of one chunk of events (or, summed, of a period)."""

    events: int = 0
    events_billed: int = 0
    events_unbilled: int = 0
    events_not_priced: int = 0

    def __iadd__(self, other: TraceCounts) -> TraceCounts:
        for field in fields(self):
            name = field.name
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def count_chunk(assigned: pl.LazyFrame, charged: pl.LazyFrame) -> TraceCounts:
    """Counts of one chunk of billed events: ``assigned`` has plan_id (null when no subscription
    covers the event), ``charged`` one row per (event, charge it feeds)."""
    covered = assigned.filter(pl.col("plan_id").is_not_null())
    listed = charged.select(IDENTITY).unique()
    events, uncovered, billed, not_priced = pl.collect_all(
        [
            assigned.select(pl.len()),
            assigned.filter(pl.col("plan_id").is_null()).select(pl.len()),
            listed.select(pl.len()),
            covered.join(listed, on=IDENTITY, how="anti").select(pl.len()),
        ]
    )
    return TraceCounts(
        events=int(events.item()),
        events_billed=int(billed.item()),
        events_unbilled=int(uncovered.item()),
        events_not_priced=int(not_priced.item()),
    )


def count_ignored(late_ignored: pl.LazyFrame) -> TraceCounts:
    """``late_ignored`` events: in the period's events and its unbilled usage."""
    n = int(late_ignored.select(pl.len()).collect().item())
    return TraceCounts(events=n, events_unbilled=n)


def trace_frame(period: str, counts: TraceCounts) -> pl.DataFrame:
    return pl.DataFrame(
        [{"billing_period": period, **{name: getattr(counts, name) for name in TRACE_COUNTS}}],
        schema={"billing_period": pl.String, **{name: pl.Int64 for name in TRACE_COUNTS}},
    )


def trace_unbalanced(trace: pl.DataFrame) -> list[str]:
    """Periods where events ≠ billed + unbilled + not_priced (the blocking check's predicate)."""
    broken = trace.filter(
        pl.col("events")
        != pl.col("events_billed") + pl.col("events_unbilled") + pl.col("events_not_priced")
    )
    return broken["billing_period"].to_list()
