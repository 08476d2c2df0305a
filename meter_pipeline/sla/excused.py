"""Excused downtime (docs/rules.md#8-uptime-and-sla-credits): which down minutes do not count
against the SLA. Pure.

- A maintenance window is excused when it was announced at least ``maintenance_notice_hours``
  before its start: ``start − announced_at ≥ notice`` (exactly 48 h qualifies, 47 h 59 min does
  not). A window announced too late excuses nothing.
- An incident of ``excused_downtime.csv`` is excused when its cause is in ``excused_causes``;
  other causes excuse nothing (the customer keeps the credit).
- Intervals are half-open ``[start, end)``; ``*`` stands for every service of sla.yaml and is
  expanded here, so matching is a plain join on the service.
- A down minute ``[m, m + 1 min)`` is excused when it overlaps an excused interval by a positive
  length: ``start < m + 1 min`` and ``end > m``. A minute is counted once however many intervals
  cover it, so an incident inside a maintenance window is not excused twice.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from meter_pipeline.config.sla import ALL_SERVICES, SlaConfig

TIMESTAMP = pl.Datetime("us", "UTC")
INTERVAL_SCHEMA = pl.Schema(
    {
        "service": pl.String(),
        "start": TIMESTAMP,
        "end": TIMESTAMP,
        "source": pl.String(),
        "source_line": pl.Int64(),
    }
)
MINUTE = dt.timedelta(minutes=1)


def excused_intervals(config: SlaConfig) -> pl.DataFrame:
    """The intervals that excuse downtime, one row per service (``*`` expanded), sorted."""
    policy = config.policy
    notice = dt.timedelta(hours=policy.maintenance_notice_hours)
    rows = [
        (w.service, w.start, w.end, "maintenance", w.line)
        for w in config.maintenance
        if w.start - w.announced_at >= notice
    ]
    rows += [
        (i.service, i.start, i.end, "incident", i.line)
        for i in config.excused_downtime
        if i.cause in policy.excused_causes
    ]
    expanded = [
        (service, *rest)
        for (named, *rest) in rows
        for service in (policy.services if named == ALL_SERVICES else (named,))
    ]
    return pl.DataFrame(expanded, schema=INTERVAL_SCHEMA, orient="row").sort(
        "service", "start", "end", "source", "source_line"
    )


def not_excusing(config: SlaConfig) -> dict[str, int]:
    """Reference rows that excuse nothing under the policy (for metadata)."""
    notice = dt.timedelta(hours=config.policy.maintenance_notice_hours)
    return {
        "maintenance_announced_late": sum(
            w.start - w.announced_at < notice for w in config.maintenance
        ),
        "incidents_cause_not_excused": sum(
            i.cause not in config.policy.excused_causes for i in config.excused_downtime
        ),
    }


def excused_minutes(down_minutes: pl.DataFrame, intervals: pl.DataFrame) -> pl.DataFrame:
    """The ``(service, minute)`` rows of ``down_minutes`` that an interval excuses, each once."""
    down = down_minutes.select("service", "minute").unique()
    hits = down.join(intervals.select("service", "start", "end"), on="service").filter(
        (pl.col("start") < pl.col("minute") + MINUTE) & (pl.col("end") > pl.col("minute"))
    )
    return hits.select("service", "minute").unique().sort("service", "minute")
