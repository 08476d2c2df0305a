"""Monitoring exports of one landing day: ``<root>/landing/monitoring/<YYYY-MM-DD>/``
(docs/rules.md#8-uptime-and-sla-credits).

Files ``*.csv`` and ``*.csv.gz`` (case-sensitive; names starting with ``.`` or ``_``, other names
and sub-folders are skipped and listed). Each CSV has a header naming at least
``checked_at,service,region,status``; extra columns are ignored. A row is *unreadable* when it is
not a valid CSV record, lacks one of the four cells, or its ``checked_at`` is not RFC 3339; a file
that cannot be decompressed or parsed at all is one unreadable row. Unreadable rows are counted,
never fatal. Which services and statuses count is decided later, by
:func:`meter_pipeline.sla.probes.probe_results`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts.base import TIMESTAMP
from meter_pipeline.grammar import parse_rfc3339_us
from meter_pipeline.io.csvfile import read_csv
from meter_pipeline.io.landing import list_landing, read_landing_file
from meter_pipeline.io.limits import Limits
from meter_pipeline.io.records import LandingFile

MONITORING_FORMATS = {".csv": (read_csv, False), ".csv.gz": (read_csv, True)}
PROBE_FIELDS = ("checked_at", "service", "region", "status")
#: Probe rows as read from the exports, before filtering and deduplication.
RAW_PROBE_SCHEMA = pl.Schema(
    {"service": pl.String, "region": pl.String, "checked_at": TIMESTAMP, "status": pl.String}
)


@dataclass
class MonitoringDay:
    """The probe rows of one day's exports, as read (not yet filtered or deduplicated)."""

    probes: pl.DataFrame  # RAW_PROBE_SCHEMA, in arrival order (file path, row)
    unreadable_rows: int = 0
    files: list[LandingFile] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)


def monitoring_folder(day: dt.date) -> str:
    """A day's monitoring folder, relative to the data root."""
    return f"landing/monitoring/{day.isoformat()}"


def read_monitoring_day(
    root: str | Path, day: dt.date, limits: Limits | None = None
) -> MonitoringDay:
    """Read every export of ``day``; a missing folder is a day with no probes. ``limits``: the
    ingestion limits of meters.yaml (defaults without): a file over one is one unreadable row."""
    listing = list_landing(root, monitoring_folder(day), MONITORING_FORMATS, limits)
    columns: dict[str, list] = {name: [] for name in RAW_PROBE_SCHEMA}
    unreadable = 0
    files = []
    for entry in listing.files:
        info, rows = read_landing_file(*entry, limits=listing.limits)
        files.append(info)
        for row in rows:
            fields = row.fields
            cells = [fields.get(name) if fields is not None else None for name in PROBE_FIELDS]
            if not all(isinstance(cell, str) for cell in cells):
                unreadable += 1
                continue
            checked_at = parse_rfc3339_us(cells[0])
            if checked_at is None:
                unreadable += 1
                continue
            columns["checked_at"].append(checked_at)
            columns["service"].append(cells[1])
            columns["region"].append(cells[2])
            columns["status"].append(cells[3])
    probes = pl.DataFrame(
        {**columns, "checked_at": pl.Series(columns["checked_at"], dtype=pl.Int64)}
    ).with_columns(pl.col("checked_at").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    return MonitoringDay(
        probes.select(RAW_PROBE_SCHEMA.names()).cast(dict(RAW_PROBE_SCHEMA)),
        unreadable,
        files,
        listing.skipped,
    )
