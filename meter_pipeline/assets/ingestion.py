"""Daily ingestion assets: landing files → raw, quarantined, clean, duplicate events and the audit."""


import datetime as dt

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, conform
from meter_pipeline.assets.common import preview, table_spec
from meter_pipeline.ingest import ingest_day
from meter_pipeline.partitions import daily_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.transforms.audit import conservation_holds
from meter_pipeline.transforms.usage import aggregate_usage

GROUP = "ingestion"
INGESTION_TABLES = ("raw_events", "quarantined_events", "clean_events", "duplicate_events",
                    "ingestion_audit")

CONSERVATION = dg.AssetCheckSpec(
    "rows_conserved", asset="ingestion_audit", blocking=True,
    description="Every input row of the landing day ends in exactly one place: rows_read = "
                "rows_quarantined + rows_duplicate + rows_accepted. Blocks downstream assets.")


def _landing_date(context: dg.AssetExecutionContext) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)


@dg.multi_asset(
    outs={name: dg.AssetOut(**table_spec(name, GROUP)) for name in INGESTION_TABLES},
    partitions_def=daily_partitions,
    check_specs=[CONSERVATION],
    name="ingest_landing_day",
    description="Read every landing file of one UTC day, validate each row (SPEC §3.1), count "
                "each event exactly once against the 40-day id window (§3.2), and audit (§3.3).",
)
def ingest_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    day = _landing_date(context)
    tables = ingest_day(data_root.path(), day, data_root.meters(), data_root.billing_rules())
    audit = tables.ingestion_audit.row(0, named=True)
    reasons = {k.removeprefix("quarantined_"): v for k, v in audit.items()
               if k.startswith("quarantined_") and v}
    for name in INGESTION_TABLES:
        frame = conform(getattr(tables, name), CONTRACTS[name])
        meta = {"dagster/row_count": frame.height, "preview": preview(frame)}
        if name == "quarantined_events":
            meta["by_reason"] = dg.MetadataValue.json(reasons)
        if name == "duplicate_events":
            meta["conflicts"] = audit["rows_conflicting"]
        if name == "ingestion_audit":
            meta.update({k: audit[k] for k in ("rows_read", "rows_quarantined", "rows_duplicate",
                                                "rows_accepted")})
            meta["files"] = len(audit["files"])
            meta["skipped_files"] = len(audit["skipped_files"])
        yield dg.Output(frame, output_name=name, metadata=meta)
    yield dg.AssetCheckResult(
        check_name="rows_conserved", asset_key="ingestion_audit",
        passed=conservation_holds(tables.ingestion_audit),
        metadata={k: audit[k] for k in ("rows_read", "rows_quarantined", "rows_duplicate",
                                        "rows_accepted")},
    )


@dg.asset(partitions_def=daily_partitions, io_manager_key="io_manager",
          **table_spec("daily_usage", GROUP))
def daily_usage(context: dg.AssetExecutionContext, data_root: DataRoot,
                clean_events: pl.LazyFrame) -> dg.Output[pl.DataFrame]:
    """Usage per event date, billing period, customer and meter for one landing day (SPEC §8)."""
    events = clean_events.with_columns(pl.col("event_time").dt.date().alias("usage_date"))
    usage = aggregate_usage(events, data_root.meters().meters,
                            ["landing_date", "usage_date", "billing_period", "customer_id",
                             "meter"]).collect()
    frame = conform(usage, CONTRACTS["daily_usage"])
    return dg.Output(frame, metadata={"dagster/row_count": frame.height,
                                      "preview": preview(frame)})
