"""Deduplication by event_id over a window of landing days (SPEC §3.2)."""

from __future__ import annotations

import datetime as dt

import polars as pl


def dedupe_events(valid: pl.DataFrame, history: pl.DataFrame, landing_date: dt.date
                  ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a day's valid events (in arrival order) into (clean, duplicates).

    ``history`` holds the index rows (landing_date, event_id, payload_hash) of the previous
    ``dedup_window_days`` landing days: each day's first valid occurrence of each id. An event is a
    duplicate when its id is in the history or came earlier today; it is compared with the
    earliest occurrence in the window ("the first"), and ``conflict`` is true when its payload
    differs. The clean frame keeps the first copy of each id not seen in the history.
    """
    first_seen = (
        history.join(valid.select("event_id").unique(), on="event_id", how="semi")
        .sort("landing_date", maintain_order=True)
        .group_by("event_id", maintain_order=True)
        .agg(pl.col("landing_date").first().alias("_hist_date"),
             pl.col("payload_hash").first().alias("_hist_hash"))
    )
    marked = (
        valid.with_columns(
            pl.col("event_id").is_first_distinct().alias("_first_today"),
            pl.col("payload_hash").first().over("event_id").alias("_today_hash"),
        )
        .join(first_seen, on="event_id", how="left", maintain_order="left")
        .with_columns(
            (pl.col("_hist_date").is_not_null() | ~pl.col("_first_today")).alias("_duplicate"),
            pl.coalesce("_hist_date", pl.lit(landing_date)).alias("first_landing_date"),
            (pl.col("payload_hash") != pl.coalesce("_hist_hash", "_today_hash")).alias("conflict"),
        )
    )
    clean = marked.filter(~pl.col("_duplicate")).select(valid.columns)
    duplicates = marked.filter(pl.col("_duplicate")).select(
        pl.lit(landing_date, dtype=pl.Date).alias("landing_date"),
        "event_id", "source_file", "line_number", "first_landing_date", "conflict",
    )
    return clean, duplicates
