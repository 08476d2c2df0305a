"""Ingest one landing day: landing files → the daily tables (SPEC §3). No Dagster here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.io import event_index
from meter_pipeline.io.landing import event_dir, list_landing, read_event_file
from meter_pipeline.transforms.audit import build_audit
from meter_pipeline.transforms.dedup import dedupe_events
from meter_pipeline.transforms.parse import day_index, parse_day
from meter_pipeline.transforms.periods import add_billing_period
from meter_pipeline.transforms.validate import context_for


@dataclass
class DayTables:
    raw_events: pl.DataFrame
    quarantined_events: pl.DataFrame
    clean_events: pl.DataFrame
    duplicate_events: pl.DataFrame
    ingestion_audit: pl.DataFrame


def ingest_day(root: Path, day: dt.date, meters: MetersConfig, rules: BillingRules) -> DayTables:
    """Read, validate and deduplicate one landing day; also (re)writes the day's event index."""
    root = Path(root)
    stamp = event_index.landing_stamp(root, day, meters)
    listing = list_landing(root, event_dir(root, day.isoformat()))
    files = [read_event_file(*entry) for entry in listing.files]
    parsed = parse_day(files, context_for(meters, day), day)
    event_index.write_day_index(root, day, day_index(parsed.valid), stamp)
    history = event_index.load_history(root, day, meters, ids=parsed.valid)
    clean, duplicates = dedupe_events(parsed.valid, history, day)
    clean = add_billing_period(
        clean.with_columns(pl.lit(day, dtype=pl.Date).alias("landing_date")), day, rules)
    audit = build_audit(day, [f for f, _ in files], listing.skipped, parsed.unknown_fields,
                        parsed.quarantined, duplicates.height,
                        int(duplicates.get_column("conflict").sum()), clean.height)
    return DayTables(parsed.raw, parsed.quarantined, clean, duplicates, audit)
