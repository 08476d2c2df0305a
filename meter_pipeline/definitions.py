"""The one place the Dagster ``Definitions`` are built, with explicit lists."""

from __future__ import annotations

import warnings

import dagster as dg

# Backfill policies and partition mappings we rely on are marked beta in this Dagster release.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from meter_pipeline.assets.alerts import usage_alerts
from meter_pipeline.assets.billing import invoice_period, usage_of_period
from meter_pipeline.assets.corrections import ingest_corrections
from meter_pipeline.assets.ingestion import daily_usage, ingest_landing_day
from meter_pipeline.assets.landing import EXTERNAL_ASSETS
from meter_pipeline.assets.manifest import close_manifest
from meter_pipeline.assets.sla import monitor_landing_day, uptime
from meter_pipeline.resources import DataRoot
from meter_pipeline.schedules import (
    daily_job,
    daily_schedule,
    monitoring_job,
    monthly_job,
    monthly_schedule,
)
from meter_pipeline.whatif.jobs import asof_job, reprice_job


def build_definitions(root: str | None = None) -> dg.Definitions:
    """Definitions over a data root (``None``: $METER_PIPELINE_ROOT at run time, else ./data)."""
    data_root = DataRoot(root=root)
    return dg.Definitions(
        assets=[
            *EXTERNAL_ASSETS,
            ingest_landing_day,
            daily_usage,
            ingest_corrections,
            usage_alerts,
            monitor_landing_day,
            usage_of_period,
            uptime,
            invoice_period,
            close_manifest,
        ],
        jobs=[daily_job, monitoring_job, monthly_job, asof_job, reprice_job],
        schedules=[daily_schedule, monthly_schedule],
        resources={"data_root": data_root},
    )


defs = build_definitions()
