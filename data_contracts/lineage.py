"""Contracts of the audit-trail tables
(docs/audit.md#where-a-usage-line-comes-from-invoice_line_events,
docs/audit.md#where-every-event-of-a-month-went-period_trace): invoice-line lineage and the period
trace, partitioned by ``billing_period``."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import PERIOD_PATTERN, QUANTITY, TIMESTAMP, Contract


def _billing_period() -> object:
    return pa.Field(
        str_matches=PERIOD_PATTERN, description="YYYY-MM billing month (the partition)."
    )


class InvoiceLineEvents(Contract):
    """Which events each usage line of an invoice was computed from
    (docs/audit.md#where-a-usage-line-comes-from-invoice_line_events): one row per usage line and
    clean event in the set that line's aggregation ran over (max and latest meters too). An event
    feeding two lines (two charges on one meter) is listed under both. Grain: invoice_id × line_no ×
    event."""

    billing_period: str = _billing_period()
    invoice_id: str = pa.Field(description="Invoice of the line.")
    line_no: pl.Int64 = pa.Field(ge=1, description="The usage line (invoice_lines.line_no).")
    event_id: str = pa.Field(description="The event's id (clean_events.event_id).")
    landing_date: pl.Date = pa.Field(description="The UTC day the event landed.")
    event_time: TIMESTAMP = pa.Field(description="The event's time, UTC.")
    value: QUANTITY = pa.Field(
        nullable=True,
        description="The event's value as billed (null for count and unique_count meters).",
    )


class PeriodTrace(Contract):
    """Where every event of a billing month went
    (docs/audit.md#where-every-event-of-a-month-went-period_trace): events = events_billed +
    events_unbilled + events_not_priced, checked before the month's tables are trusted. One row per
    period, as of its close."""

    billing_period: str = _billing_period()
    events: pl.Int64 = pa.Field(
        ge=0,
        description="Clean events whose billing_period is this month, plus the late_ignored "
        "events reported in its unbilled_usage.",
    )
    events_billed: pl.Int64 = pa.Field(
        ge=0, description="Events listed under at least one usage line (each counted once)."
    )
    events_unbilled: pl.Int64 = pa.Field(
        ge=0, description="Events in unbilled_usage (no_subscription or late_ignored)."
    )
    events_not_priced: pl.Int64 = pa.Field(
        ge=0,
        description="Events a subscription covers but no charge of its plan prices (a meter or "
        "dimension values the plan does not charge for).",
    )


TABLES = {"invoice_line_events": InvoiceLineEvents, "period_trace": PeriodTrace}
