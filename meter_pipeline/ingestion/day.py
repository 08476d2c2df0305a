"""Ingest one landing day: landing files → the daily tables
(docs/rules.md#1-landing-days-and-the-data-root). No Dagster here.

A day is processed file by file: each file is validated and its raw rows written out (one row
group of ``raw_events`` per file) before the next is looked at, so the raw text of the day is
never all in memory; only the day's valid events (without their raw text) are kept for
deduplication. Every table of the day is replaced atomically, like every warehouse partition.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import CONTRACTS, conform, empty_frame
from meter_pipeline.calendar import add_billing_period
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.ingestion import event_index
from meter_pipeline.ingestion.audit import build_audit
from meter_pipeline.ingestion.dedup import dedupe_events
from meter_pipeline.ingestion.parse import VALID_SCHEMA, day_index, parse_files
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import event_folder, iter_event_files, list_landing
from meter_pipeline.workers import Map, worker_map

TABLES = ("raw_events", "quarantined_events", "clean_events", "duplicate_events", "ingestion_audit")
HEAD_ROWS = 20


@dataclass
class DayWritten:
    """What :func:`ingest_day` wrote: rows and first rows of each table, and the audit row."""

    rows: dict[str, int] = field(default_factory=dict)
    heads: dict[str, pl.DataFrame] = field(default_factory=dict)
    audit: pl.DataFrame | None = None

    def note(self, table: str, frame: pl.DataFrame) -> pl.DataFrame:
        self.rows[table] = self.rows.get(table, 0) + frame.height
        head = self.heads.get(table)
        if head is None or head.height < HEAD_ROWS:
            parts = [frame] if head is None else [head, frame]
            self.heads[table] = pl.concat([p.head(HEAD_ROWS) for p in parts]).head(HEAD_ROWS)
        return frame


def ingest_day(
    root: Path,
    day: dt.date,
    meters: MetersConfig,
    rules: BillingRules,
    window: event_index.WindowCache | None = None,
) -> DayWritten:
    """Read, validate and deduplicate one landing day and write its five tables (and its event
    index) to the warehouse. The day's orchestration: the vectorised parse of a batch runs on
    :func:`~meter_pipeline.workers.worker_map`'s threads, and today's index is written while the
    window's is read. A ranged run passes one ``window`` for all its days (the window's id
    hashes stay in memory from day to day); the day then adds its own index to it."""
    with worker_map() as map_:
        return _ingest_day(root, day, meters, rules, map_, window)


def _ingest_day(
    root: Path,
    day: dt.date,
    meters: MetersConfig,
    rules: BillingRules,
    map_: Map,
    window: event_index.WindowCache | None = None,
) -> DayWritten:
    key = day.isoformat()
    # No audit while the day is being written: a failure or kill half-way leaves the day
    # incomplete (no month closes over it) until it is re-run; the audit is written last.
    warehouse.remove_partition(root, "ingestion_audit", key)
    listing = list_landing(root, event_folder(key), limits=meters.limits)
    stats = event_index.landing_stats(listing)  # before reading: a later change is then seen
    ctx = context_for(meters, day)
    written, unknown = DayWritten(), Counter()
    files, valids, quarantines = [], [], []
    raw_contract = CONTRACTS["raw_events"]
    raw_empty = empty_frame(raw_contract)
    written.note("raw_events", raw_empty)  # a day with no file has no raw row
    with (
        warehouse.PartitionWriter(
            root, "raw_events", key, empty=raw_empty, plain=["raw_record"]
        ) as raw_out,
        ThreadPoolExecutor(max_workers=1) as raw_writer,  # a file's raw rows, while the next parses
    ):
        pending = None
        for info, parsed in parse_files(iter_event_files(listing), ctx, day, unknown, map_):
            raw = written.note("raw_events", conform(parsed.raw, raw_contract))
            if pending is not None:
                pending.result()  # in file order, one file's raw rows waiting at most
            pending = raw_writer.submit(raw_out.write, raw)
            files.append(info)
            valids.append(parsed.valid)
            quarantines.append(parsed.quarantined)
            del parsed, raw
        if pending is not None:
            pending.result()
    valid = pl.concat([pl.DataFrame(schema=VALID_SCHEMA), *valids])
    del valids
    quarantined = pl.concat([empty_frame(CONTRACTS["quarantined_events"]), *quarantines])
    stamp = event_index.stamp_of(meters, files)  # the SHA-256 of what was read
    first = valid.get_column("event_id").is_first_distinct()  # for the index and dedup
    index = day_index(valid, first)
    with ThreadPoolExecutor(max_workers=1) as pool:  # today's index is written meanwhile
        index_written = pool.submit(event_index.write_day_index, root, day, index, stamp, stats)
        history = event_index.load_history(root, day, meters, index, map_, window)  # days before
        clean, duplicates = dedupe_events(valid, history, day, first)
        del valid, history, first
        index_written.result()
    if window is not None:
        window.keep(day, index)
    del index
    clean = add_billing_period(
        clean.with_columns(pl.lit(day, dtype=pl.Date).alias("landing_date")),
        day,
        rules.grace_days,
        rules.late_events,
    )
    audit = build_audit(
        day,
        files,
        listing.skipped,
        unknown,
        quarantined,
        duplicates.height,
        int(duplicates.get_column("conflict").sum()),
        clean.height,
        listing.reasons,
    )
    for name, frame in (
        ("quarantined_events", quarantined),
        ("clean_events", clean),
        ("duplicate_events", duplicates),
        ("ingestion_audit", audit),
    ):
        frame = conform(frame, CONTRACTS[name])
        warehouse.write_partition(root, name, key, written.note(name, frame))
    written.audit = frame  # the conformed audit row, written last
    return written
