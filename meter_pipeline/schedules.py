"""Jobs and schedules: the daily landing day and the monthly close
(docs/rules.md#12-running-it-partitions-schedules-and-commands)."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from meter_pipeline.calendar import period_closing_after
from meter_pipeline.config.errors import ConfigError
from meter_pipeline.resources import DataRoot

daily_job = dg.define_asset_job(
    "daily_ingestion",
    selection=dg.AssetSelection.groups("ingestion", "monitoring", "alerts"),
    description="Ingest one landing day: validate, deduplicate, audit and aggregate daily usage; "
    "read the day's monitoring exports into probe minutes; evaluate usage and cost alerts.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=1,
    minute_of_hour=0,
    description="Every day at 01:00 UTC: ingest yesterday's landing day.",
)


monitoring_job = dg.define_asset_job(
    "daily_monitoring",
    selection=dg.AssetSelection.groups("monitoring"),
    description="Read one day's monitoring exports (a backfill also runs the day before its "
    "start, so the first month sees its first day's early exports).",
)

monthly_job = dg.define_asset_job(
    "monthly_close",
    selection=dg.AssetSelection.groups("billing", "sla"),
    description="Close one billing month: period usage, unbilled usage, uptime, SLA credits and "
    "their ledger, invoice lines and invoices.",
)


@dg.schedule(
    job=monthly_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description="Every day at 03:00 UTC, check whether yesterday was a period's last "
    "landing day (month end + grace_days); if so, close that period.",
)
def monthly_schedule(context: dg.ScheduleEvaluationContext, data_root: DataRoot):
    today = context.scheduled_execution_time.date()
    try:
        grace = data_root.reference().grace_days
    except ConfigError as exc:
        return dg.SkipReason(f"configuration error: {exc}")
    period = period_closing_after(today, grace)
    if period is None:
        return dg.SkipReason(f"{today - dt.timedelta(days=1)} is no period's last landing day")
    return dg.RunRequest(partition_key=period, run_key=f"close-{period}")
