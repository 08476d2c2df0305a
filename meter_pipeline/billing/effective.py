"""Effective events (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): a
clean event with its accepted corrections applied.

Events are never edited in place. Billing reads the clean events of a landing day and applies the
corrections that concern them: a voided event counts nowhere; amends stack in arrival order (the
last amend that gives a value sets the value, the last that gives dimensions sets the whole
dimension map). Daily tables (clean_events, daily_usage) never change.

A period applies the corrections landed up to its last landing day (it is open until then);
later ones become adjustments on a later invoice.
"""

from __future__ import annotations

import polars as pl

from meter_pipeline.billing.usage_fold import Frame

#: The arrival order of corrections.
ORDER = ["landing_date", "source_file", "line_number"]
KEY = ["event_id", "event_landing_date"]


def corrections_by_event(corrections: pl.DataFrame) -> pl.DataFrame:
    """One row per corrected event: event_id, event_landing_date, _voided, _value, _dimensions
    (null: unchanged)."""
    ordered = corrections.sort(ORDER)
    return ordered.group_by(KEY, maintain_order=True).agg(
        (pl.col("action") == "void").any().alias("_voided"),
        pl.col("value").drop_nulls().last().alias("_value"),
        pl.col("dimensions").drop_nulls().last().alias("_dimensions"),
    )


def effective_events(events: Frame, corrections: pl.DataFrame) -> pl.LazyFrame:
    """``events`` (clean events) with ``corrections`` (rows of event_corrections) applied: voided
    events dropped, amended values and dimensions replaced. Columns and order are kept."""
    lazy = events.lazy()
    if corrections.height == 0:
        return lazy
    columns = lazy.collect_schema().names()
    by_event = corrections_by_event(corrections).lazy()
    joined = lazy.join(
        by_event,
        left_on=["event_id", "landing_date"],
        right_on=KEY,
        how="left",
        maintain_order="left",
    )
    return (
        joined.filter(pl.col("_voided").is_null() | ~pl.col("_voided"))
        .with_columns(
            pl.coalesce("_value", "value").alias("value"),
            pl.coalesce("_dimensions", "dimensions").alias("dimensions"),
        )
        .select(columns)
    )
