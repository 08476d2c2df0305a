"""Ingest one landing day: landing files → the daily tables
(docs/rules.md#1-landing-days-and-the-data-root). No Dagster here.

A day is processed file by file: each file is validated and its raw rows written out (one row
group of ``raw_events`` per file) before the next is looked at, so the raw text of the day is
never all in memory; only the day's valid events (without their raw text) are kept for
deduplication. Every table of the day is replaced atomically, like every warehouse partition.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import CONTRACTS, conform, empty_frame
from meter_pipeline.calendar import add_billing_period
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.ingestion import event_index, line_scan
from meter_pipeline.ingestion.audit import build_audit
from meter_pipeline.ingestion.dedup import dedupe_events
from meter_pipeline.ingestion.parse import VALID_SCHEMA, day_index, parse_files
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io import warehouse
from meter_pipeline.io.jsonl import read_jsonl
from meter_pipeline.io.landing import event_folder, iter_event_files, list_landing
from meter_pipeline.io.records import LandingFile
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
    index) to the warehouse: :func:`read_day`, then :func:`finish_day`. The vectorised parse of
    a batch runs on :func:`~meter_pipeline.workers.worker_map`'s threads, and today's index is
    written while the window's is read. A ranged run passes one ``window`` for all its days (the
    window's id hashes stay in memory from day to day) and reads the next day while it finishes
    one (:class:`DayReads`)."""
    with worker_map() as map_:
        return finish_day(root, read_day(root, day, meters, map_), meters, rules, map_, window)


@dataclass
class DayRead:
    """A landing day read and validated, its raw rows written (:func:`read_day`): what
    :func:`finish_day` needs to deduplicate it and write the rest."""

    day: dt.date
    written: DayWritten
    files: list[LandingFile]
    skipped: list[str]
    reasons: list[str]
    unknown: Counter
    stats: str
    valid: pl.DataFrame
    quarantined: pl.DataFrame

    @property
    def rows(self) -> int:
        """The rows held for the second half: valid events and quarantined rows."""
        return self.valid.height + self.quarantined.height


def read_day(root: Path, day: dt.date, meters: MetersConfig, map_: Map) -> DayRead:
    """The first half of a landing day: list, read and validate its files, writing their raw
    rows; keep the valid events (without their raw text) and the quarantined rows."""
    key = day.isoformat()
    # No audit while the day is being written: a failure or kill half-way leaves the day
    # incomplete (no month closes over it) until it is re-run; the audit is written last.
    warehouse.remove_partition(root, "ingestion_audit", key)
    listing = list_landing(root, event_folder(key), limits=meters.limits)
    file_stats = event_index.stat_rows(listing)  # before reading: a later change is then seen
    stats = json.dumps(file_stats)
    if any(
        reader is read_jsonl and size >= line_scan.PREPARE_BYTES
        for (_, _, reader, _), (_, size, *_) in zip(listing.files, file_stats, strict=True)
    ):
        line_scan.prepare()  # the line scan's kernels load while the first file is read
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
    quarantined = pl.concat([empty_frame(CONTRACTS["quarantined_events"]), *quarantines])
    return DayRead(
        day, written, files, listing.skipped, listing.reasons, unknown, stats, valid, quarantined
    )


def finish_day(
    root: Path,
    read: DayRead,
    meters: MetersConfig,
    rules: BillingRules,
    map_: Map,
    window: event_index.WindowCache | None = None,
) -> DayWritten:
    """The second half of a landing day: its event index, deduplication against the window,
    and the quarantined, clean, duplicate and audit tables (the audit last)."""
    day, key, written = read.day, read.day.isoformat(), read.written
    valid, read.valid = read.valid, pl.DataFrame(schema=VALID_SCHEMA)  # held here only
    stamp = event_index.stamp_of(meters, read.files)  # the SHA-256 of what was read
    first = valid.get_column("event_id").is_first_distinct()  # for the index and dedup
    index = day_index(valid, first)
    with ThreadPoolExecutor(max_workers=1) as pool:  # today's index is written meanwhile
        index_written = pool.submit(
            event_index.write_day_index, root, day, index, stamp, read.stats
        )
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
        read.files,
        read.skipped,
        read.unknown,
        read.quarantined,
        duplicates.height,
        int(duplicates.get_column("conflict").sum()),
        clean.height,
        read.reasons,
    )
    for name, frame in (
        ("quarantined_events", read.quarantined),
        ("clean_events", clean),
        ("duplicate_events", duplicates),
        ("ingestion_audit", audit),
    ):
        frame = conform(frame, CONTRACTS[name])
        warehouse.write_partition(root, name, key, written.note(name, frame))
    written.audit = frame  # the conformed audit row, written last
    return written


#: A ranged run reads the next landing day while it finishes one when the finishing day holds at
#: most this many rows (so two days are in memory at once only when the first is small; a run of
#: big days goes one day at a time, as before).
PREFETCH_ROWS = 1_500_000


class DayReads:
    """:func:`read_day` for the days of a ranged run, in order: while a day is finished, the
    next one is read in a background thread (when the day being finished holds at most
    :data:`PREFETCH_ROWS` rows). Reading and finishing use different parts of the
    machine (files, the line scan; the window, the writes), so the two overlap. A day whose
    read fails raises from :meth:`read`, for that day only."""

    def __init__(self, root: Path, days: list[dt.date], meters: MetersConfig, map_: Map) -> None:
        self.root, self.days, self.meters, self.map_ = root, days, meters, map_
        self.ahead: tuple[dt.date, Future[DayRead]] | None = None
        self.pool = ThreadPoolExecutor(max_workers=1)

    def __enter__(self) -> DayReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ahead = None
        self.pool.shutdown(wait=True, cancel_futures=True)

    def read(self, day: dt.date) -> DayRead:
        """Day's read (the one made ahead, or made now), and the next day's started."""
        ahead, self.ahead = self.ahead, None
        if ahead is not None and ahead[0] == day:
            read = ahead[1].result()
        else:
            if ahead is not None:
                wait([ahead[1]])  # a read not asked for (yet): two reads never overlap
            read = read_day(self.root, day, self.meters, self.map_)
        position = self.days.index(day) if day in self.days else len(self.days)
        if position + 1 < len(self.days) and read.rows <= PREFETCH_ROWS:
            upcoming = self.days[position + 1]
            future = self.pool.submit(read_day, self.root, upcoming, self.meters, self.map_)
            self.ahead = (upcoming, future)
        return read
