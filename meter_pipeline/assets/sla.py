"""SLA assets: probe minutes from the daily monitoring exports, and monthly uptime
(docs/rules.md#8-uptime-and-sla-credits)."""

import datetime as dt
from collections import Counter
from pathlib import Path

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, empty_frame
from meter_pipeline import checks
from meter_pipeline.assets.common import SINGLE_RUN, PartitionRun, table_asset_spec, table_spec
from meter_pipeline.calendar import day_keys, monitoring_days
from meter_pipeline.config.reference import Reference
from meter_pipeline.io import warehouse
from meter_pipeline.io.monitoring import read_monitoring_day
from meter_pipeline.partitions import daily_partitions, monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.sla.excused import excused_intervals, not_excusing
from meter_pipeline.sla.probes import month_probe_minutes, probe_day
from meter_pipeline.sla.uptime import compute_uptime, low_coverage

PROBE_TABLES = ("probe_results", "probe_minutes")


@dg.multi_asset(
    specs=[
        table_asset_spec(name, "monitoring", deps=("landing_monitoring", "reference_files"))
        for name in PROBE_TABLES
    ],
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    name="monitor_landing_day",
    description="Read the day's monitoring exports: each probe once (copies that disagree are "
    "down), and per service and UTC minute the probe and down counts.",
)
def monitor_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    config, run = data_root.reference().sla, PartitionRun(context, data_root.path(), PROBE_TABLES)
    services = config.policy.services if config else ()
    for key in run.each():
        day = dt.date.fromisoformat(key)
        read = read_monitoring_day(run.root, day, data_root.reference().meters.limits)
        results, minutes, skipped = probe_day(read.probes, services, day, read.unreadable_rows)
        tables = run.write(key, {"probe_results": results, "probe_minutes": minutes})
        ignored: Counter = Counter()
        ignored.update({k: v for k, v in skipped.as_metadata().items() if isinstance(v, int)})
        ignored.update(files=len(read.files), skipped_files=len(read.skipped_files))
        down = {"down_minutes": int((tables["probe_minutes"]["status"] == "down").sum())}
        run.add({"probe_results": dict(ignored), "probe_minutes": {**ignored, **down}})
    yield from run.results()


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=SINGLE_RUN,
    deps=["probe_results", "reference_files"],
    check_specs=[checks.COVERAGE_SUFFICIENT],
    **table_spec("uptime", "sla"),
)
def uptime(context: dg.AssetExecutionContext, data_root: DataRoot):
    """Monthly uptime per service from the probes checked in the month
    (docs/rules.md#8-uptime-and-sla-credits)."""
    ref, run = data_root.reference(), PartitionRun(context, data_root.path(), ["uptime"])
    month_checks = checks.PartitionChecks(context)
    for period in run.each():
        frame, low = uptime_of_period(run.root, ref, period)
        written = run.write(period, {"uptime": frame})["uptime"]
        run.add({"uptime": uptime_metadata(written, ref.sla)})
        checks.uptime_coverage_sufficient(month_checks, period, low)
    yield run.result()
    yield from month_checks.results()


def uptime_of_period(root: Path, ref: Reference, period: str) -> tuple[pl.DataFrame, list[str]]:
    """The month's uptime (empty without an SLA) and the services below min_coverage_pct."""
    if ref.sla is None:
        return empty_frame(CONTRACTS["uptime"]), []
    days = day_keys(monitoring_days(period, ref.grace_days))
    results = warehouse.scan_partitions(root, "probe_results", days).collect()
    frame = compute_uptime(
        period, month_probe_minutes(results, period), ref.sla.policy, excused_intervals(ref.sla)
    )
    return frame, low_coverage(frame, ref.sla.policy.min_coverage_pct)["service"].to_list()


def uptime_metadata(last, config) -> dict:
    """A month's uptime per service, services missing target, what excuses nothing."""
    return {
        "uptime_pct": dg.MetadataValue.json(
            {r["service"]: str(r["uptime_pct"]) for r in last.iter_rows(named=True)}
        ),
        "services_missing_target": int((~last["met"]).sum()) if last.height else 0,
        **({f"not_excusing_{k}": v for k, v in not_excusing(config).items()} if config else {}),
    }
