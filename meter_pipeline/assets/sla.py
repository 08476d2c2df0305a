"""SLA assets: probe minutes from the daily monitoring exports, and monthly uptime (SPEC §7)."""

import datetime as dt
from collections import Counter

import dagster as dg

from data_contracts import CONTRACTS, empty_frame
from meter_pipeline.assets.common import (
    SINGLE_RUN,
    table_asset_spec,
    Written,
    table_spec,
    write_table,
)
from meter_pipeline.io import warehouse
from meter_pipeline.io.monitoring import read_monitoring_day
from meter_pipeline.partitions import daily_partitions, monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.sla.excused import excused_intervals, not_excusing
from meter_pipeline.sla.probes import month_probe_minutes, probe_day
from meter_pipeline.calendar import monitoring_days
from meter_pipeline.sla.uptime import compute_uptime, low_coverage

COVERAGE = dg.AssetCheckSpec(
    "uptime_coverage_sufficient", asset="uptime",
    description="Warns when a service's probe coverage in the month (minutes with probe "
                "results / minutes in the month) is below min_coverage_pct of sla.yaml; minutes "
                "without data count as up.")


@dg.multi_asset(
    specs=[table_asset_spec(name, "monitoring") for name in ("probe_results", "probe_minutes")],
    partitions_def=daily_partitions, backfill_policy=SINGLE_RUN, name="monitor_landing_day",
    description="Read the day's monitoring exports: each probe once (copies that disagree are "
                "down), and per service and UTC minute the probe and down counts.",
)
def monitor_landing_day(context: dg.AssetExecutionContext, data_root: DataRoot):
    root, config = data_root.path(), data_root.sla()
    services = config.policy.services if config else ()
    written = {"probe_results": Written(), "probe_minutes": Written()}
    down_minutes = 0
    ignored: Counter = Counter()
    for key in sorted(context.partition_keys):
        day = dt.date.fromisoformat(key)
        read = read_monitoring_day(root, day)
        results, minutes, skipped = probe_day(read.probes, services, day, read.unreadable_rows)
        written["probe_results"].add(write_table(root, "probe_results", key, results))
        minutes = written["probe_minutes"].add(write_table(root, "probe_minutes", key, minutes))
        down_minutes += int((minutes["status"] == "down").sum())
        ignored.update({k: v for k, v in skipped.as_metadata().items() if isinstance(v, int)})
        ignored["files"] += len(read.files)
        ignored["skipped_files"] += len(read.skipped_files)
    for name, table in written.items():
        meta = {**table.metadata(), **ignored}
        if name == "probe_minutes":
            meta["down_minutes"] = down_minutes
        yield dg.MaterializeResult(asset_key=name, metadata=meta)


@dg.asset(partitions_def=monthly_partitions, backfill_policy=SINGLE_RUN, deps=["probe_results"],
          check_specs=[COVERAGE], **table_spec("uptime", "sla"))
def uptime(context: dg.AssetExecutionContext, data_root: DataRoot):
    """Monthly uptime per service from the probes checked in the month (SPEC §7.1–7.3)."""
    root, config = data_root.path(), data_root.sla()
    written, low = Written(), []
    for period in sorted(context.partition_keys):
        if config is None:
            frame = empty_frame(CONTRACTS["uptime"])
        else:
            days = [d.isoformat()
                    for d in monitoring_days(period, data_root.billing_rules().grace_days)]
            results = warehouse.scan_partitions(root, "probe_results", days).collect()
            frame = compute_uptime(period, month_probe_minutes(results, period), config.policy,
                                   excused_intervals(config))
            low += [f"{period} {s}" for s in
                    low_coverage(frame, config.policy.min_coverage_pct)["service"].to_list()]
        last = written.add(write_table(root, "uptime", period, frame))
    yield dg.MaterializeResult(metadata={
        **written.metadata(),
        "uptime_pct": dg.MetadataValue.json({r["service"]: str(r["uptime_pct"])
                                             for r in last.iter_rows(named=True)}),
        "services_missing_target": int((~last["met"]).sum()) if last.height else 0,
        **({f"not_excusing_{k}": v for k, v in not_excusing(config).items()} if config else {}),
    })
    yield dg.AssetCheckResult(
        check_name="uptime_coverage_sufficient", passed=not low,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"low_coverage": ", ".join(low) or "none"})
