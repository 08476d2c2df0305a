"""SLA assets: probe minutes from the daily monitoring exports, and monthly uptime (SPEC §7)."""

import datetime as dt

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, conform, empty_frame
from meter_pipeline.assets.common import preview, table_spec
from meter_pipeline.io import warehouse
from meter_pipeline.io.monitoring import read_monitoring_day
from meter_pipeline.partitions import daily_partitions, monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.sla.excused import excused_intervals, not_excusing
from meter_pipeline.sla.probes import month_probe_minutes, probe_day
from meter_pipeline.sla.uptime import compute_uptime, low_coverage, monitoring_days

COVERAGE = dg.AssetCheckSpec(
    "uptime_coverage_sufficient", asset="uptime",
    description="Warns when a service's probe coverage in the month (minutes with probe "
                "results / minutes in the month) is below min_coverage_pct of sla.yaml; minutes "
                "without data count as up.")


@dg.multi_asset(
    outs={name: dg.AssetOut(**table_spec(name, "monitoring"))
          for name in ("probe_results", "probe_minutes")},
    partitions_def=daily_partitions, name="monitor_landing_day",
    description="Read the day's monitoring exports: each probe once (copies that disagree are "
                "down), and per service and UTC minute the probe and down counts.",
)
def monitor_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    day = dt.date.fromisoformat(context.partition_key)
    config = data_root.sla()
    read = read_monitoring_day(data_root.path(), day)
    services = config.policy.services if config else ()
    results, minutes, ignored = probe_day(read.probes, services, day, read.unreadable_rows)
    for name, frame in (("probe_results", results), ("probe_minutes", minutes)):
        frame = conform(frame, CONTRACTS[name])
        meta = {"dagster/row_count": frame.height, "preview": preview(frame),
                "files": len(read.files), "skipped_files": len(read.skipped_files),
                **ignored.as_metadata()}
        if name == "probe_minutes":
            meta["down_minutes"] = int((frame["status"] == "down").sum())
        yield dg.Output(frame, output_name=name, metadata=meta)


@dg.asset(partitions_def=monthly_partitions, deps=[dg.AssetDep("probe_results")],
          check_specs=[COVERAGE], **table_spec("uptime", "sla"))
def uptime(context: dg.AssetExecutionContext, data_root: DataRoot):
    """Monthly uptime per service from the probes checked in the month (SPEC §7.1–7.3)."""
    period = context.partition_key
    config = data_root.sla()
    if config is None:
        frame, problems, ignored = empty_frame(CONTRACTS["uptime"]), empty_frame(
            CONTRACTS["uptime"]), {}
    else:
        days = [d.isoformat() for d in monitoring_days(period, data_root.billing_rules().grace_days)]
        results = warehouse.scan_partitions(data_root.path(), "probe_results", days).collect()
        frame = conform(compute_uptime(period, month_probe_minutes(results, period),
                                       config.policy, excused_intervals(config)),
                        CONTRACTS["uptime"])
        problems = low_coverage(frame, config.policy.min_coverage_pct)
        ignored = not_excusing(config)
    yield dg.Output(frame, metadata={
        "dagster/row_count": frame.height, "preview": preview(frame),
        "uptime_pct": dg.MetadataValue.json({r["service"]: str(r["uptime_pct"])
                                             for r in frame.iter_rows(named=True)}),
        "services_missing_target": int((~frame["met"]).sum()) if frame.height else 0,
        **{f"not_excusing_{k}": v for k, v in ignored.items()}})
    yield dg.AssetCheckResult(
        check_name="uptime_coverage_sufficient", passed=problems.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"low_coverage_services": ", ".join(problems["service"].to_list()) or "none"})


