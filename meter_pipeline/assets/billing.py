"""Monthly billing assets (docs/rules.md#6-billing-periods-and-late-events, docs/rules.md#7-pricing,
docs/rules.md#8-uptime-and-sla-credits): one multi-asset closes a month — period usage and
unbilled usage, invoice lines, invoices, SLA credits and the credit ledger — from one read of each
landing day the month bills. Months run in order: each reads the ledger of the month before, and a
ranged run carries it from one month to the next."""

import tempfile
from pathlib import Path

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, conform, empty_frame
from meter_pipeline import checks
from meter_pipeline.assets.adjustment_inputs import earned_periods
from meter_pipeline.assets.close_gate import refuse_incomplete
from meter_pipeline.assets.common import SINGLE_RUN, PartitionRun, table_asset_spec
from meter_pipeline.billing.close import ClosedMonth, close_month
from meter_pipeline.billing.effective import effective_events
from meter_pipeline.billing.lineage import spool_schema
from meter_pipeline.calendar import period_landing_days, previous_period
from meter_pipeline.config.reference import Reference
from meter_pipeline.io import warehouse
from meter_pipeline.io.spool import ArrowSpool
from meter_pipeline.partitions import monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.sla.claims import unmatched_claims
from meter_pipeline.workers import Map, worker_map

GROUP = "billing"
PREVIOUS_LEDGER = dg.AssetDep(
    "sla_credit_ledger",
    partition_mapping=dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    ),
)
#: Folded from the same read of the month's events as the invoice lines; they depend on the
#: events only, not on uptime or the ledger.
USAGE_TABLES = ("period_usage", "unbilled_usage")
#: In the order they are yielded: the ledger first, since every output after it depends on the
#: previous month's ledger (Dagster wants a multi-asset's outputs in topological order).
INVOICE_TABLES = ("sla_credit_ledger", "sla_credits", "invoice_lines", "invoices", "period_trace")
#: Written a landing day at a time from the close's spool
#: (docs/audit.md#where-a-usage-line-comes-from-invoice_line_events).
LINEAGE_TABLE = "invoice_line_events"
#: Per table, the metadata name and the rows and column summed per currency in each month.
CURRENCY_SUMS = {
    "invoices": ("totals_by_currency", pl.lit(True), "total"),
    "sla_credits": ("granted_by_currency", pl.col("status") == "granted", "credit_amount"),
    "sla_credit_ledger": ("applied_by_currency", pl.lit(True), "applied"),
}


def period_days(root: Path, reference: Reference, period: str) -> list[pl.LazyFrame]:
    """Clean events of the landing days a period reads (see period_landing_days), one lazy
    frame per day: the month close holds one day's events at a time."""
    days = period_landing_days(period, reference.grace_days, reference.meters.future_tolerance_us)
    # The corrections landed while the period is open: its events are billed as corrected.
    corrections = warehouse.scan_partitions(root, "event_corrections", days).collect()
    return [
        effective_events(warehouse.scan_partitions(root, "clean_events", [day]), corrections)
        for day in days
    ]


def usage_metadata(
    run: PartitionRun,
    period: str,
    tables: dict[str, pl.DataFrame],
    month_checks: checks.PartitionChecks,
) -> None:
    """One month's period_usage and unbilled_usage metadata, and its unbilled-usage check."""
    by_reason = dict(sorted(events_by_reason(tables["unbilled_usage"]).items()))
    late = int(tables["period_usage"]["late_event_count"].sum())
    run.add(
        {
            "period_usage": {"late_events": late},
            "unbilled_usage": {"events_by_reason": dg.MetadataValue.json(by_reason)},
        }
    )
    checks.unbilled_usage_reported(month_checks, period, by_reason)


def events_by_reason(unbilled: pl.DataFrame) -> dict[str, int]:
    return dict(unbilled.group_by("reason").agg(pl.col("event_count").sum()).iter_rows())


@dg.multi_asset(
    specs=[
        *(
            table_asset_spec(
                name, GROUP, deps=("clean_events", "event_corrections", "reference_files")
            )
            for name in USAGE_TABLES
        ),
        *(
            table_asset_spec(
                name,
                GROUP,
                deps=(
                    "clean_events",
                    "event_corrections",
                    "uptime",
                    PREVIOUS_LEDGER,
                    "reference_files",
                ),
            )
            for name in (*INVOICE_TABLES, LINEAGE_TABLE)
        ),
    ],
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    check_specs=[checks.UNBILLED_REPORTED, *checks.CLOSE_CHECKS],
    name="invoice_period",
    description="Aggregate the events each billing month bills (late ones included) per "
    "customer and meter, and report usage that no subscription bills; price each "
    "subscription's usage and platform fees into invoice lines with the "
    "minimum-commitment true-up; compute the month's SLA credits; apply earlier "
    "credits as negative lines (never below zero, the rest carried or forfeited); "
    "total one invoice per customer and month; list the events behind each usage line and "
    "trace where every event of the month went. Each landing day of the month is read once.",
)
def invoice_period(context: dg.AssetExecutionContext, data_root: DataRoot):
    ref = data_root.reference()
    names = (*USAGE_TABLES, *INVOICE_TABLES, LINEAGE_TABLE)
    run = PartitionRun(context, data_root.path(), names, preview_rows=10)
    previous = read_partition(run.root, "sla_credit_ledger", previous_period(run.keys[0]))
    month_checks = checks.PartitionChecks(context)
    yield from refuse_incomplete(run, ref, month_checks)  # no partial month: close_gate.py
    with worker_map() as map_, tempfile.TemporaryDirectory(prefix="lineage-") as spool_dir:
        for period in run.each():
            spool = ArrowSpool(Path(spool_dir) / f"{period}.arrow", spool_schema())
            previous = close_one_period(run, ref, period, previous, month_checks, map_, spool)
    yield from run.results()
    yield from month_checks.results()


def close_one_period(
    run: PartitionRun,
    ref: Reference,
    period: str,
    previous: pl.DataFrame,
    month_checks: checks.PartitionChecks,
    map_: Map,
    spool: ArrowSpool,
) -> pl.DataFrame:
    """Close one month: write its tables and lineage, record its metadata and checks; returns
    its credit ledger (the next month's ``previous``)."""
    closed = close_month(
        period,
        period_days(run.root, ref, period),
        read_partition(run.root, "uptime", period),
        previous,
        ref,
        map_,
        spool,
        earned_periods(run.root, ref, period, map_),
    )
    checks.landing_days_complete(month_checks, period, None)
    write_lineage(run, period, closed)
    tables = run.write(period, closed.tables())
    usage_metadata(run, period, tables, month_checks)
    checks.close_checks(month_checks, period, closed, previous)
    claims = unmatched_claims(period, tables["sla_credits"], ref.sla.claims if ref.sla else ())
    checks.claims_matched(month_checks, period, claims)
    run.add({"sla_credits": {"unmatched_claims": len(claims)}})
    run.add(
        {
            name: {label: currency_json(sum_by_currency(tables[name].filter(rows), col))}
            for name, (label, rows, col) in CURRENCY_SUMS.items()
        }
    )
    return tables["sla_credit_ledger"]


def write_lineage(run: PartitionRun, period: str, closed: ClosedMonth) -> None:
    """Write ``invoice_line_events`` of ``period`` a spooled chunk at a time (each validated)."""
    rows, head = 0, None
    with warehouse.PartitionWriter(
        run.root, LINEAGE_TABLE, period, empty=empty_frame(CONTRACTS[LINEAGE_TABLE])
    ) as out:
        for chunk in closed.lineage():
            chunk = conform(chunk, CONTRACTS[LINEAGE_TABLE])
            out.write(chunk)
            rows, head = rows + chunk.height, chunk if head is None else head
    empty = empty_frame(CONTRACTS[LINEAGE_TABLE])
    run.written[LINEAGE_TABLE].add_rows(rows, empty if head is None else head)


def read_partition(root: Path, table: str, key: str) -> pl.DataFrame:
    return warehouse.scan_partitions(root, table, [key]).collect()


def sum_by_currency(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """(currency, total) of ``column``."""
    return frame.group_by("currency").agg(pl.col(column).sum().alias("total"))


def currency_json(totals: pl.DataFrame) -> dg.MetadataValue:
    """A month's per-currency totals, as JSON of exact decimal strings."""
    return dg.MetadataValue.json({c: str(t) for c, t in totals.sort("currency").iter_rows()})
