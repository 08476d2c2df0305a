"""Jobs and schedules: the daily landing day and the monthly close (SPEC §9)."""

from __future__ import annotations

import dagster as dg

daily_job = dg.define_asset_job(
    "daily_ingestion",
    selection=dg.AssetSelection.groups("ingestion"),
    description="Ingest one landing day: validate, deduplicate, audit and aggregate daily usage.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job, hour_of_day=1, minute_of_hour=0,
    description="Every day at 01:00 UTC: ingest yesterday's landing day.",
)

