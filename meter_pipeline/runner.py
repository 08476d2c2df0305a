"""Run the Dagster graph over a range of partitions: the engine behind ``meter-pipeline backfill``.

The monitoring partition of the day before start runs first (so the first month sees its first
day's early probe exports), then the daily partitions of [start, end] as one ranged run (each
asset loops over the days in date order), then every monthly partition whose last landing day
is ≤ end and whose month is ≥ the start's month, as one ranged run in month order (SPEC §9).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from meter_pipeline.calendar import closed_periods, day_keys, days_between
from meter_pipeline.config.reference import Reference, load_reference
from meter_pipeline.definitions import build_definitions
from meter_pipeline.io import warehouse

#: Keep Dagster's per-event console log out of the CLI's output (it is in the instance).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class Backfill:
    root: Path
    start: dt.date
    end: dt.date

    def days(self) -> list[str]:
        return day_keys(days_between(self.start, self.end))


@dataclass
class BackfillResult:
    failed: list[str] = field(default_factory=list)
    runs: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def check_config(root: Path) -> Reference:
    """Load every reference file; a ConfigError stops the run before anything materializes."""
    return load_reference(root)


def _run(
    job: dg.JobDefinition,
    first: str,
    last: str,
    instance: dg.DagsterInstance,
    result: BackfillResult,
    echo: Callable[[str], None],
) -> None:
    """One run of ``job`` over the partition range [first, last] (assets loop over it)."""
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    run = job.execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET, tags=tags
    )
    result.runs += 1
    failed_checks = [
        evaluation.check_name
        for evaluation in run.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    label = first if first == last else f"{first}…{last}"
    if not run.success or failed_checks:
        result.failed.append(label)
        why = ", ".join(failed_checks) or "a step failed"
        echo(f"{job.name} {label}: FAILED ({why})")


def run_backfill(
    backfill: Backfill,
    instance: dg.DagsterInstance,
    echo: Callable[[str], None] = print,
    reference: Reference | None = None,
) -> BackfillResult:
    """Daily partitions of [start, end] in one ranged run (plus the monitoring day before
    start), then the closed months in one ranged run; prints what each day and month gave.
    ``reference``: the root's reference as already loaded (else it is loaded here); each run
    loads its own once, so a file edited meanwhile can never mix two configurations in a run."""
    defs = build_definitions(str(backfill.root))
    result = BackfillResult()
    day_before = (backfill.start - dt.timedelta(days=1)).isoformat()
    _run(defs.resolve_job_def("daily_monitoring"), day_before, day_before, instance, result, echo)
    days = backfill.days()
    _run(defs.resolve_job_def("daily_ingestion"), days[0], days[-1], instance, result, echo)
    audit = warehouse.scan_partitions(backfill.root, "ingestion_audit", days).collect()
    echo(f"{'landing_date':<12} {'read':>8} {'accepted':>9} {'duplicate':>9} {'quarantined':>11}")
    for row in audit.sort("landing_date").iter_rows(named=True):
        echo(
            f"{row['landing_date']!s:<12} {row['rows_read']:>8} {row['rows_accepted']:>9} "
            f"{row['rows_duplicate']:>9} {row['rows_quarantined']:>11}"
        )
    reference = reference or load_reference(backfill.root)
    if reference.pricing is None:
        echo("no reference/pricing.yaml: monthly billing skipped")
        return result
    periods = closed_periods(backfill.start, backfill.end, reference.grace_days)
    if not periods:
        return result
    _run(defs.resolve_job_def("monthly_close"), periods[0], periods[-1], instance, result, echo)
    invoices = warehouse.scan_partitions(backfill.root, "invoices", periods).collect()
    for period in periods:
        month = invoices.filter(pl.col("billing_period") == period)
        totals = month.group_by("currency").agg(pl.col("total").sum()).sort("currency")
        money = ", ".join(f"{c} {t}" for c, t in totals.iter_rows()) or "no invoices"
        echo(f"{period:<12} {month.height} invoices: {money}")
    return result
