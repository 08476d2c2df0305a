"""Daily ingestion assets: landing files → raw, quarantined, clean, duplicate events, the audit,
and daily usage. Each asset writes its own partitions (atomically, one per landing day), so a
ranged run handles any number of days with memory bounded by one day."""

import datetime as dt
from collections import Counter

import dagster as dg
import polars as pl

from meter_pipeline.assets.common import (
    SINGLE_RUN,
    table_asset_spec,
    Written,
    table_spec,
    write_table,
)
from meter_pipeline.ingestion.day import ingest_day
from meter_pipeline.io import warehouse
from meter_pipeline.partitions import daily_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.ingestion.audit import conservation_holds
from meter_pipeline.billing.usage_fold import aggregate_usage

GROUP = "ingestion"
INGESTION_TABLES = ("raw_events", "quarantined_events", "clean_events", "duplicate_events",
                    "ingestion_audit")
COUNTS = ("rows_read", "rows_quarantined", "rows_duplicate", "rows_accepted", "rows_conflicting")

CONSERVATION = dg.AssetCheckSpec(
    "rows_conserved", asset="ingestion_audit", blocking=True,
    description="Every input row of the landing day ends in exactly one place: rows_read = "
                "rows_quarantined + rows_duplicate + rows_accepted. Blocks downstream assets.")


@dg.multi_asset(
    specs=[table_asset_spec(name, GROUP) for name in INGESTION_TABLES],
    partitions_def=daily_partitions, backfill_policy=SINGLE_RUN, check_specs=[CONSERVATION],
    name="ingest_landing_day",
    description="Read every landing file of one UTC day, validate each row (SPEC §3.1), count "
                "each event exactly once against the 40-day id window (§3.2), and audit (§3.3).",
)
def ingest_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    root, meters, rules = data_root.path(), data_root.meters(), data_root.billing_rules()
    written = {name: Written() for name in INGESTION_TABLES}
    counts: Counter = Counter()
    unbalanced = []
    for key in sorted(context.partition_keys):
        day = ingest_day(root, dt.date.fromisoformat(key), meters, rules)
        for name in INGESTION_TABLES:
            written[name].add_rows(day.rows[name], day.heads[name])
        audit = day.audit
        counts.update({k: v for k, v in audit.row(0, named=True).items()
                       if k in COUNTS or k.startswith("quarantined_")})
        if not conservation_holds(audit):
            unbalanced.append(key)
    for name in INGESTION_TABLES:
        meta = written[name].metadata()
        if name == "quarantined_events":
            meta["by_reason"] = dg.MetadataValue.json(
                {k.removeprefix("quarantined_"): v for k, v in sorted(counts.items())
                 if k.startswith("quarantined_") and v})
        if name == "duplicate_events":
            meta["conflicts"] = counts["rows_conflicting"]
        if name == "ingestion_audit":
            meta.update({k: counts[k] for k in COUNTS})
        yield dg.MaterializeResult(asset_key=name, metadata=meta)
    yield dg.AssetCheckResult(
        check_name="rows_conserved", asset_key="ingestion_audit", passed=not unbalanced,
        metadata={**{k: counts[k] for k in COUNTS[:4]},
                  "unbalanced_days": ", ".join(unbalanced) or "none"})


@dg.asset(partitions_def=daily_partitions, backfill_policy=SINGLE_RUN, deps=["clean_events"],
          **table_spec("daily_usage", GROUP))
def daily_usage(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    """Usage per event date, billing period, customer and meter for one landing day (SPEC §8)."""
    root, meters = data_root.path(), data_root.meters().meters
    written = Written()
    for key in sorted(context.partition_keys):
        events = warehouse.scan_partitions(root, "clean_events", [key]).with_columns(
            pl.col("event_time").dt.date().alias("usage_date"))
        usage = aggregate_usage(events, meters, ["landing_date", "usage_date", "billing_period",
                                                 "customer_id", "meter"]).collect()
        written.add(write_table(root, "daily_usage", key, usage))
    return dg.MaterializeResult(metadata=written.metadata())
