"""Probe results → per-minute status (docs/rules.md#8-uptime-and-sla-credits). Pure: frames in,
sorted frames out.

A *probe* is identified by (service, region, checked_at). The same probe delivered twice counts
once; copies that disagree count as down — so a probe is down exactly when any of its copies says
``down``. Rows of services not in sla.yaml and rows whose status is neither ``up`` nor ``down`` are
ignored and counted (for the asset's metadata).

Two daily tables come out of one landing day's exports:

- ``probe_results`` (internal): the day's probes, deduplicated within the day, one row per probe
  with ``down``. A month merges the results of every day it reads (:func:`merge_probe_results`),
  so a probe exported on two days still counts once and the month's minute status is computed
  over the month's deduplicated probes — not by adding daily minute counts.
- ``probe_minutes`` (data_contracts/docs/README.md): per service and UTC minute with results in that
  day's exports: ``probes``, ``down_probes`` and ``status`` (``down`` when more than half are down).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.sla import ProbeMinutes, ProbeResults
from meter_pipeline.calendar import month_end_instant, month_start_instant
from meter_pipeline.io.monitoring import RAW_PROBE_SCHEMA

PROBE_KEY = ("service", "region", "checked_at")
#: The daily tables' columns after the partition column (declared in data_contracts.sla).
RESULT_SCHEMA = pl.Schema(list(polars_schema(ProbeResults).items())[1:])
MINUTE_SCHEMA = pl.Schema(list(polars_schema(ProbeMinutes).items())[1:])
STATUSES = ("up", "down")


@dataclass
class IgnoredProbes:
    """Rows that do not count, by why (for metadata). ``unreadable`` is set by the reader."""

    unknown_service: int = 0
    other_status: int = 0
    unreadable: int = 0
    unknown_services: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, int | str]:
        return {
            "ignored_unknown_service_rows": self.unknown_service,
            "ignored_other_status_rows": self.other_status,
            "ignored_unreadable_rows": self.unreadable,
            "unknown_services": ", ".join(self.unknown_services),
        }


def merge_probe_results(results: pl.DataFrame) -> pl.DataFrame:
    """One row per probe: ``down`` when any copy is down. Idempotent; order does not matter."""
    return (
        results.group_by(list(PROBE_KEY))
        .agg(pl.col("down").any())
        .select(RESULT_SCHEMA.names())
        .cast(RESULT_SCHEMA)
        .sort(list(PROBE_KEY))
    )


def probe_results(
    raw: pl.DataFrame, services: Iterable[str], unreadable: int = 0
) -> tuple[pl.DataFrame, IgnoredProbes]:
    """Raw probe rows (``RAW_PROBE_SCHEMA``) → deduplicated results and what was ignored.

    A row of an unknown service is counted there whatever its status; a row of a known service
    with another status is counted as ``other_status``.
    """
    raw = raw.select(RAW_PROBE_SCHEMA.names()).cast(RAW_PROBE_SCHEMA)
    known = pl.col("service").is_in(list(services))
    valid_status = pl.col("status").is_in(list(STATUSES))
    unknown = raw.filter(~known)
    ignored = IgnoredProbes(
        unknown_service=unknown.height,
        other_status=raw.filter(known & ~valid_status).height,
        unreadable=unreadable,
        unknown_services=sorted(unknown.get_column("service").unique().to_list()),
    )
    kept = raw.filter(known & valid_status).with_columns(down=pl.col("status") == "down")
    return merge_probe_results(kept.drop("status")), ignored


def probe_minutes(results: pl.DataFrame) -> pl.DataFrame:
    """Per service and UTC minute with results: probes, down_probes, status (``MINUTE_SCHEMA``).

    ``results`` must already be one row per probe (:func:`merge_probe_results`).
    """
    return (
        results.group_by("service", pl.col("checked_at").dt.truncate("1m").alias("minute"))
        .agg(probes=pl.len().cast(pl.Int64), down_probes=pl.col("down").sum().cast(pl.Int64))
        .with_columns(
            status=pl.when(pl.col("down_probes") * 2 > pl.col("probes"))
            .then(pl.lit("down"))
            .otherwise(pl.lit("up"))
        )
        .select(MINUTE_SCHEMA.names())
        .cast(MINUTE_SCHEMA)
        .sort("service", "minute")
    )


def with_landing_date(frame: pl.DataFrame, landing_date: dt.date) -> pl.DataFrame:
    """Put the partition column first, as the daily contracts declare it."""
    return frame.select(pl.lit(landing_date, dtype=pl.Date).alias("landing_date"), pl.all())


def month_probe_minutes(day_results: pl.DataFrame, period: str) -> pl.DataFrame:
    """The month's minutes from the probe results of every day it reads
    (docs/rules.md#8-uptime-and-sla-credits).

    ``day_results``: the ``probe_results`` rows of the landing days from the day before the
    month's first day through its last landing day (a ``landing_date`` column is allowed and
    ignored). Only probes whose ``checked_at`` is inside the month count; a probe exported on
    several of those days counts once.
    """
    start, end = month_start_instant(period), month_end_instant(period)
    inside = (
        day_results.select(RESULT_SCHEMA.names())
        .cast(RESULT_SCHEMA)
        .filter((pl.col("checked_at") >= start) & (pl.col("checked_at") < end))
    )
    return probe_minutes(merge_probe_results(inside))


def probe_day(
    raw: pl.DataFrame, services: Iterable[str], landing_date: dt.date, unreadable: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame, IgnoredProbes]:
    """One landing day's ``(probe_results, probe_minutes, ignored)``, partition column first."""
    results, ignored = probe_results(raw, services, unreadable)
    return (
        with_landing_date(results, landing_date),
        with_landing_date(probe_minutes(results), landing_date),
        ignored,
    )
