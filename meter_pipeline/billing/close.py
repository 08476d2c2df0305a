"""The month close (docs/rules.md#7-pricing, docs/rules.md#8-uptime-and-sla-credits) as one pure
function over frames and the reference.

A period's tables come from its clean events (one frame per landing day it reads), its uptime and
the credit ledger of the month before, in this order: ``period_usage``, ``unbilled_usage`` and the
invoice lines before credits, all folded from one read of each day → SLA credits earned (and
pending ones resolved) → the credit ledger and the credit lines it applies → the lines with
credits → one invoice per customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

from data_contracts import CONTRACTS, empty_frame
from meter_pipeline.billing.adjustments import EarnedPeriod, adjustment_lines, append_adjustments
from meter_pipeline.billing.invoice_lines import LINE_SCHEMA, build_invoice_lines
from meter_pipeline.billing.invoices import append_credit_lines, summarize_invoices
from meter_pipeline.billing.lineage import (
    MemorySpool,
    Spool,
    lineage_chunks,
    spool_rows,
    with_digests,
)
from meter_pipeline.billing.period_usage import (
    Frame,
    finish_period_usage,
    finish_unbilled_usage,
    period_usage_fold,
    split_period_events,
    unbilled_fold,
)
from meter_pipeline.billing.trace import TraceCounts, count_chunk, count_ignored, trace_frame
from meter_pipeline.config.reference import Reference
from meter_pipeline.sla.credits import sla_credits
from meter_pipeline.sla.ledger import credit_ledger, empty_ledger, subscription_ends
from meter_pipeline.workers import Map


@dataclass(frozen=True)
class ClosedMonth:
    """The tables a month close writes, in the order Dagster gets them; the lineage
    (``invoice_line_events``) comes a chunk at a time from :meth:`lineage`."""

    period_usage: pl.DataFrame
    unbilled_usage: pl.DataFrame
    sla_credit_ledger: pl.DataFrame
    sla_credits: pl.DataFrame
    invoice_lines: pl.DataFrame
    invoices: pl.DataFrame
    period_trace: pl.DataFrame
    spool: Spool = field(default_factory=MemorySpool)

    def tables(self) -> dict[str, pl.DataFrame]:
        return {
            "period_usage": self.period_usage,
            "unbilled_usage": self.unbilled_usage,
            "sla_credit_ledger": self.sla_credit_ledger,
            "sla_credits": self.sla_credits,
            "invoice_lines": self.invoice_lines,
            "invoices": self.invoices,
            "period_trace": self.period_trace,
        }

    def lineage(self) -> Iterator[pl.DataFrame]:
        """``invoice_line_events``, a spooled chunk (a landing day) at a time."""
        return lineage_chunks(self.spool, self.invoice_lines)

    def lineage_frame(self) -> pl.DataFrame:
        """The whole ``invoice_line_events`` partition in memory (tests, small months)."""
        return pl.concat([empty_frame(CONTRACTS["invoice_line_events"]), *self.lineage()])


def close_month(
    period: str,
    days: Iterable[Frame],
    uptime: pl.DataFrame,
    previous_ledger: pl.DataFrame,
    reference: Reference,
    map_: Map = map,
    spool: Spool | None = None,
    earned: list[EarnedPeriod] | None = None,
) -> ClosedMonth:
    """Close ``period``.

    Parameters
    ----------
    period
        ``YYYY-MM``.
    days
        The clean events of every landing day the period reads (see
        :func:`meter_pipeline.calendar.period_landing_days`), one frame per day.
    uptime
        The period's ``uptime`` partition (ignored without an SLA).
    previous_ledger
        The ``sla_credit_ledger`` partition of the month before (empty for the first month).
    reference
        The loaded reference (pricing required).
    map_
        How days are reduced (the built-in ``map``, or a thread pool's).
    spool
        Where the lineage rows wait until the lines are numbered (default: in memory).
    earned
        Closed periods whose corrections this period bills as adjustment lines (after the
        SLA credits, which never see them).
    """
    pricing = reference.require_pricing()
    spool = MemorySpool() if spool is None else spool
    split = [split_period_events(day, period, pricing.grace_days) for day in days]
    counts = TraceCounts()
    usage, unbilled = period_usage_fold(reference.meters), unbilled_fold(reference.meters)
    for _, ignored in split:
        ignored = ignored.collect()  # few: late events under late_events: ignore
        counts += count_ignored(ignored.lazy())
        unbilled.merge(unbilled.partial(ignored.with_columns(_reason("late_ignored"))))

    def observe(assigned: pl.LazyFrame, charged: pl.LazyFrame) -> tuple:
        """Per day, from the one read of its billed events: the lineage rows, the trace counts,
        and the day's partial period_usage and (events no subscription covers) unbilled_usage."""
        uncovered = assigned.filter(pl.col("plan_id").is_null())
        return (
            spool_rows(charged).collect(),
            count_chunk(assigned, charged),
            usage.partial(assigned),
            unbilled.partial(uncovered.with_columns(_reason("no_subscription"))),
        )

    def collect(seen: tuple) -> None:
        nonlocal counts
        rows, chunk_counts, usage_part, unbilled_part = seen
        spool.add(rows)
        counts += chunk_counts
        usage.merge(usage_part)
        unbilled.merge(unbilled_part)

    lines = build_invoice_lines(
        period,
        [billed for billed, _ in split],
        pricing,
        reference.subscriptions,
        reference.meters,
        map_,
        observe,
        collect,
    )
    if reference.sla is None:
        credits, ledger, credit_lines = empty_frame(CONTRACTS["sla_credits"]), empty_ledger(), None
    else:
        minor = {plan.currency: plan.minor_units for plan in pricing.plans.values()}
        credits = sla_credits(
            period,
            uptime,
            lines,
            previous_ledger,
            reference.sla,
            pricing.grace_days,
            minor,
            pricing.rounding,
        )
        ledger, credit_lines = credit_ledger(
            period, previous_ledger, credits, lines, subscription_ends(reference.subscriptions)
        )
    lines = append_credit_lines(lines, credit_lines)
    lines = append_adjustments(lines, adjustment_lines(period, earned or [], LINE_SCHEMA))
    lines = with_digests(lines, spool)
    invoices = summarize_invoices(lines)
    return ClosedMonth(
        finish_period_usage(usage, period),
        finish_unbilled_usage(unbilled, period),
        ledger,
        credits,
        lines,
        invoices,
        trace_frame(period, counts),
        spool,
    )


def _reason(reason: str) -> pl.Expr:
    return pl.lit(reason).alias("reason")
