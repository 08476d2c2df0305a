"""The corrections of each landing day
(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): accepted, quarantined
and repeated rows of ``landing/corrections/<day>/`` and where every row went."""

import datetime as dt

import dagster as dg

from meter_pipeline import checks
from meter_pipeline.assets.common import SINGLE_RUN, PartitionRun, table_asset_spec
from meter_pipeline.ingestion.correction_day import correct_day, correction_audit_balanced
from meter_pipeline.partitions import daily_partitions
from meter_pipeline.resources import DataRoot

CORRECTION_TABLES = (
    "event_corrections",
    "quarantined_corrections",
    "duplicate_corrections",
    "correction_audit",
)


@dg.multi_asset(
    specs=[
        table_asset_spec(
            name, "ingestion", deps=("clean_events", "landing_corrections", "reference_files")
        )
        for name in CORRECTION_TABLES
    ],
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    check_specs=[checks.CORRECTIONS_CONSERVED],
    name="ingest_corrections",
    description="Read the day's correction files: voids and amends of clean events accepted in "
    "arrival order, rejected rows with their first reason, repeated correction ids; every row "
    "accounted for. Events are never edited: billing applies the corrections.",
)
def ingest_corrections(context: dg.AssetExecutionContext, data_root: DataRoot):
    ref = data_root.reference()
    run = PartitionRun(context, data_root.path(), CORRECTION_TABLES)
    day_checks = checks.PartitionChecks(context)
    for key in run.each():
        tables = correct_day(run.root, dt.date.fromisoformat(key), ref.meters, ref.grace_days)
        audit = run.write(key, tables)["correction_audit"]
        checks.corrections_conserved(day_checks, key, correction_audit_balanced(audit), audit)
    yield from run.results()
    yield from day_checks.results()
