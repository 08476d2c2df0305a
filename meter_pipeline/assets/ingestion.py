"""Daily ingestion assets: landing files → raw, quarantined, clean, duplicate events, the audit,
and daily usage. Each asset writes its own partitions (atomically, one per landing day), so a
ranged run handles any number of days with memory bounded by one day."""

import datetime as dt
from collections import Counter

import dagster as dg

from meter_pipeline import checks
from meter_pipeline.assets.common import SINGLE_RUN, PartitionRun, table_asset_spec, table_spec
from meter_pipeline.billing.usage_fold import daily_usage_of
from meter_pipeline.config.reference import Reference
from meter_pipeline.ingestion.audit import audit_counts
from meter_pipeline.ingestion.day import TABLES as INGESTION_TABLES
from meter_pipeline.ingestion.day import DayReads, finish_day
from meter_pipeline.ingestion.event_index import WindowCache
from meter_pipeline.io import warehouse
from meter_pipeline.operator_errors import explain_exception
from meter_pipeline.partitions import daily_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.workers import Map, worker_map

GROUP = "ingestion"
COUNTS = ("rows_read", "rows_quarantined", "rows_duplicate", "rows_accepted", "rows_conflicting")


@dg.multi_asset(
    specs=[
        table_asset_spec(name, GROUP, deps=("landing_events", "reference_files"))
        for name in INGESTION_TABLES
    ],
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    check_specs=[checks.ROWS_CONSERVED],
    name="ingest_landing_day",
    description="Read every landing file of one UTC day, validate each row "
    "(docs/rules.md#3-validation-quarantined_events), count each event exactly once against the "
    "40-day id window and account for every row "
    "(docs/rules.md#4-counting-each-event-once-clean_events-duplicate_events).",
)
def ingest_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    reference = data_root.reference()
    run = PartitionRun(context, data_root.path(), INGESTION_TABLES)
    day_checks = checks.PartitionChecks(context)
    window = WindowCache()  # a ranged run reads the id window once, not once per day
    days = [dt.date.fromisoformat(key) for key in run.keys]
    with worker_map() as map_, DayReads(run.root, days, reference.meters, map_) as reads:
        for key in run.each():  # the next day is read while this one finishes
            ingest_one_day(context, run, reference, key, day_checks, window, reads, map_)
    yield from run.results()
    yield from day_checks.results()


def ingest_one_day(
    context: dg.AssetExecutionContext,
    run: PartitionRun,
    reference: Reference,
    key: str,
    day_checks: checks.PartitionChecks,
    window: WindowCache,
    reads: DayReads,
    map_: Map,
) -> None:
    """Ingest one landing day and record its metadata and conservation check; a day that fails
    is recorded as failed and never stops the other days of the range."""
    try:
        read = reads.read(dt.date.fromisoformat(key))
        day = finish_day(run.root, read, reference.meters, reference.rules, map_, window)
    except Exception as exc:
        error = explain_exception(exc)
        context.log.error(f"landing day {key} failed (it has no audit until re-run): {error}")
        checks.day_failed(day_checks, key, error)
        return
    run.note(day.rows, day.heads)
    run.add(ingestion_metadata(Counter(audit_counts(day.audit))))
    checks.rows_conserved(day_checks, key, day.audit)


def ingestion_metadata(counts: Counter) -> dict[str, dict]:
    """Per table, what a day's audit counts add to its metadata."""
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
    """Usage per event date, billing period, customer and meter of one landing day
    (data_contracts/docs/daily_usage.md)."""
    meters, run = (
        data_root.reference().meters,
        PartitionRun(context, data_root.path(), ["daily_usage"]),
    )
    for key in run.each():
        events = warehouse.scan_partitions(run.root, "clean_events", [key])
        run.write(key, {"daily_usage": daily_usage_of(events, meters.meters)})
    return run.result()
