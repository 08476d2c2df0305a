"""Daily ingestion assets: landing files → raw, quarantined, clean, duplicate events, the audit,
and daily usage. Each asset writes its own partitions (atomically, one per landing day), so a
ranged run handles any number of days with memory bounded by one day."""

import datetime as dt
from collections import Counter

import dagster as dg

from meter_pipeline import checks
from meter_pipeline.assets.common import SINGLE_RUN, PartitionRun, table_asset_spec, table_spec
from meter_pipeline.billing.usage_fold import daily_usage_of
from meter_pipeline.ingestion.audit import audit_counts, conservation_holds
from meter_pipeline.ingestion.day import TABLES as INGESTION_TABLES
from meter_pipeline.ingestion.day import ingest_day
from meter_pipeline.io import warehouse
from meter_pipeline.partitions import daily_partitions
from meter_pipeline.resources import DataRoot

GROUP = "ingestion"
COUNTS = ("rows_read", "rows_quarantined", "rows_duplicate", "rows_accepted", "rows_conflicting")


@dg.multi_asset(
    specs=[table_asset_spec(name, GROUP) for name in INGESTION_TABLES],
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    check_specs=[checks.ROWS_CONSERVED],
    name="ingest_landing_day",
    description="Read every landing file of one UTC day, validate each row (SPEC §3.1), count "
    "each event exactly once against the 40-day id window (§3.2), and audit (§3.3).",
)
def ingest_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    reference, run = (
        data_root.reference(),
        PartitionRun(context, data_root.path(), INGESTION_TABLES),
    )
    counts, unbalanced = Counter(), []
    for key in run.keys:
        day = ingest_day(run.root, dt.date.fromisoformat(key), reference.meters, reference.rules)
        run.note(day.rows, day.heads)
        counts.update(audit_counts(day.audit))
        if not conservation_holds(day.audit):
            unbalanced.append(key)
    yield from run.results(ingestion_metadata(counts))
    yield checks.rows_conserved(counts, unbalanced)


def ingestion_metadata(counts: Counter) -> dict[str, dict]:
    """Per table, what the run's audit counts add to its metadata."""
    by_reason = {
        k.removeprefix("quarantined_"): v
        for k, v in sorted(counts.items())
        if k.startswith("quarantined_") and v
    }
    return {
        "quarantined_events": {"by_reason": dg.MetadataValue.json(by_reason)},
        "duplicate_events": {"conflicts": counts["rows_conflicting"]},
        "ingestion_audit": {k: counts[k] for k in COUNTS},
    }


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    deps=["clean_events"],
    **table_spec("daily_usage", GROUP),
)
def daily_usage(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    """Usage per event date, billing period, customer and meter for one landing day (SPEC §8)."""
    meters, run = (
        data_root.reference().meters,
        PartitionRun(context, data_root.path(), ["daily_usage"]),
    )
    for key in run.keys:
        events = warehouse.scan_partitions(run.root, "clean_events", [key])
        run.write(key, {"daily_usage": daily_usage_of(events, meters.meters)})
    return dg.MaterializeResult(metadata=run.metadata("daily_usage"))
