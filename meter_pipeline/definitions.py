"""The one place the Dagster ``Definitions`` are built, with explicit lists.

Two environment variables, read when the definitions load, spread the work
(:mod:`meter_pipeline.deployment`, docs/deploy.md#environment-variables):
``METER_PIPELINE_PARTITIONS_PER_RUN`` sets every asset's backfill policy to runs of at most N
partitions, and ``METER_PIPELINE_EXECUTOR=celery`` runs the steps on Dagster's Celery executor.
Unset, the definitions are exactly the embedded default: single-run backfills and Dagster's
default executor.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import dagster as dg

# Backfill policies and partition mappings we rely on are marked beta in this Dagster release.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from meter_pipeline.assets.alerts import usage_alerts
from meter_pipeline.assets.billing import invoice_period
from meter_pipeline.assets.corrections import ingest_corrections
from meter_pipeline.assets.ingestion import daily_usage, ingest_landing_day
from meter_pipeline.assets.landing import EXTERNAL_ASSETS
from meter_pipeline.assets.manifest import close_manifest
from meter_pipeline.assets.sla import monitor_landing_day, uptime
from meter_pipeline.deployment import executor, partitions_per_run
from meter_pipeline.resources import DataRoot
from meter_pipeline.schedules import (
    daily_job,
    daily_schedule,
    monitoring_job,
    monthly_job,
    monthly_schedule,
)
from meter_pipeline.whatif.jobs import asof_job, reprice_job

ASSETS = (
    ingest_landing_day,
    daily_usage,
    ingest_corrections,
    usage_alerts,
    monitor_landing_day,
    uptime,
    invoice_period,
    close_manifest,
)


def build_definitions(
    root: str | None = None, environ: Mapping[str, str] | None = None
) -> dg.Definitions:
    """Definitions over a data root (``None``: $METER_PIPELINE_ROOT at run time, else ./data);
    ``environ`` (default ``os.environ``) holds the deployment variables."""
    data_root = DataRoot(root=root)
    per_run = partitions_per_run(environ)
    assets = list(ASSETS)
    if per_run is not None:
        policy = dg.BackfillPolicy.multi_run(per_run)
        assets = [asset.with_attributes(backfill_policy=policy) for asset in assets]
    extra = {}
    chosen = executor(environ)
    if chosen is not None:
        extra["executor"] = chosen
    return dg.Definitions(
        assets=[*EXTERNAL_ASSETS, *assets],
        jobs=[daily_job, monitoring_job, monthly_job, asof_job, reprice_job],
        schedules=[daily_schedule, monthly_schedule],
        resources={"data_root": data_root},
        **extra,
    )


defs = build_definitions()
