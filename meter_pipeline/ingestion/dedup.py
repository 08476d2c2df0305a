"""Deduplication by event_id over a window of landing days
(docs/rules.md#4-counting-each-event-once-clean_events-duplicate_events)."""

from __future__ import annotations

import datetime as dt

import polars as pl


def dedupe_events(
    valid: pl.DataFrame,
    history: pl.DataFrame,
    landing_date: dt.date,
    first_today: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a day's valid events (in arrival order) into (clean, duplicates).

    ``history`` holds the index rows (landing_date, event_id, payload_hash) of the previous
    ``dedup_window_days`` landing days: each day's first valid occurrence of each id (or only
    those that may be the day's ids: it is probed, never hashed whole). An event is a
    duplicate when its id is in the history or came earlier today; it is compared with the
    earliest occurrence in the window ("the first"), and ``conflict`` is true when its payload
    differs. The clean frame keeps the first copy of each id not seen in the history.
    ``first_today``: ``event_id.is_first_distinct()`` of ``valid``, when the caller has it.
    """
    ids = valid.get_column("event_id")
    in_history = ids.is_in(history.get_column("event_id").implode())
    first_seen = (
        history.join(
            valid.filter(in_history).select("event_id").unique(), on="event_id", how="semi"
        )
        .sort("landing_date", maintain_order=True)
        .group_by("event_id", maintain_order=True)
        .agg(
            pl.col("landing_date").first().alias("_hist_date"),
            pl.col("payload_hash").first().alias("_hist_hash"),
        )
    )
    first_today = ids.is_first_distinct() if first_today is None else first_today
    duplicate = ~first_today | in_history
    clean = valid.filter(~duplicate)  # the day's rows are never joined, only masked
    # The few duplicate rows: compare each with the first copy in the window, or today's.
    repeated = valid.filter(duplicate).select(
        "event_id", "source_file", "line_number", "payload_hash"
    )
    today_first = (
        valid.filter(first_today)
        .select("event_id", "payload_hash")
        .join(repeated.select("event_id").unique(), on="event_id", how="semi")
        .rename({"payload_hash": "_today_hash"})
    )
    duplicates = (
        repeated.join(first_seen, on="event_id", how="left", maintain_order="left")
        .join(today_first, on="event_id", how="left", maintain_order="left")
        .select(
            pl.lit(landing_date, dtype=pl.Date).alias("landing_date"),
            "event_id",
            "source_file",
            "line_number",
            pl.coalesce("_hist_date", pl.lit(landing_date)).alias("first_landing_date"),
            (pl.col("payload_hash") != pl.coalesce("_hist_hash", "_today_hash")).alias("conflict"),
        )
    )
    return clean, duplicates
