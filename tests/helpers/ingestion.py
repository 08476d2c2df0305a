"""Builders for ingestion tests: a data root under ``tmp_path`` holding real landing files.

A test writes ``reference/meters.yaml`` and landing files (JSONL, NDJSON, gzip, CSV, Parquet) the
way a sender would, runs :func:`meter_pipeline.ingestion.day.ingest_day` on a landing day, and
asserts values worked out by hand from SPEC.md. Nothing here computes an expected value.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from data_contracts import empty_frame
from data_contracts.ingestion import QuarantinedEvents, RawEvents
from meter_pipeline.config.meters import load_meters
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.ingestion.day import ingest_day
from meter_pipeline.ingestion.event_index import WindowCache
from meter_pipeline.ingestion.parse import VALID_SCHEMA, parse_files
from meter_pipeline.io import warehouse

UTC = dt.UTC
DAY = dt.date(2026, 9, 1)

#: The meters every ingestion test uses unless it writes its own meters.yaml.
METERS_YAML = """\
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - name: api_calls
    aggregation: count
    unit: call
  - name: tokens
    aggregation: sum
    unit: token
  - name: llm_tokens
    aggregation: sum
    unit: token
    required_dimensions: [model]
  - name: storage_gb
    aggregation: max
  - name: seats
    aggregation: latest
  - name: active_users
    aggregation: unique_count
    unique_dimension: user_id
  - name: credit_adjustment
    aggregation: sum
    unit: USD
    allow_negative: true
"""

OMIT = object()  # a field left out of an event


class Raw(str):
    """A JSON token written as is (``Raw("1.50")`` writes the number 1.50, not a string)."""


def to_json(value: Any) -> str:
    """Compact JSON, with :class:`Raw` tokens written verbatim and non-ASCII kept as is."""
    if isinstance(value, Raw):
        return str.__str__(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(k, ensure_ascii=False)}:{to_json(v)}"
                for k, v in value.items()
                if v is not OMIT
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def event(event_id: str = "e1", **fields: Any) -> dict[str, Any]:
    """A valid event on the ``tokens`` (sum) meter, landing on :data:`DAY`; override any field,
    pass :data:`OMIT` to leave one out."""
    base: dict[str, Any] = {
        "event_id": event_id,
        "customer_id": "c1",
        "meter": "tokens",
        "timestamp": "2026-09-01T12:00:00Z",
        "value": "1",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not OMIT}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def epoch_ms(moment: dt.datetime) -> int:
    return (moment - utc(1970, 1, 1)) // dt.timedelta(milliseconds=1)


@dataclass
class DataRoot:
    """A data root in a temporary folder: reference/meters.yaml plus landing files."""

    path: Path
    rules: BillingRules = field(default_factory=BillingRules)

    @classmethod
    def create(
        cls, path: Path, meters_yaml: str = METERS_YAML, rules: BillingRules | None = None
    ) -> DataRoot:
        (path / "reference").mkdir(parents=True, exist_ok=True)
        (path / "reference" / "meters.yaml").write_text(meters_yaml, encoding="utf-8")
        return cls(path, rules or BillingRules())

    @staticmethod
    def rel(name: str, day: dt.date = DAY) -> str:
        """A landing file's ``source_file``: relative to the root, ``/``-separated."""
        return f"landing/events/{day.isoformat()}/{name}"

    def landing(self, day: dt.date = DAY) -> Path:
        folder = self.path / "landing" / "events" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_bytes(self, name: str, data: bytes, day: dt.date = DAY) -> Path:
        target = self.landing(day) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def write_jsonl(
        self, name: str, lines: Iterable[dict | str | bytes], day: dt.date = DAY
    ) -> Path:
        """One line per item (dicts through :func:`to_json`); gzipped when the name ends .gz."""
        parts = [
            item
            if isinstance(item, bytes)
            else (item if isinstance(item, str) else to_json(item)).encode("utf-8")
            for item in lines
        ]
        data = b"".join(p + b"\n" for p in parts)
        return self.write_bytes(name, gzip.compress(data) if name.endswith(".gz") else data, day)

    def write_csv(
        self, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]], day: dt.date = DAY
    ) -> Path:
        """RFC 4180 CSV (csv module, minimal quoting, LF line ends); ``None`` is an empty cell."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if cell is None else cell for cell in row])
        data = buffer.getvalue().encode("utf-8")
        return self.write_bytes(name, gzip.compress(data) if name.endswith(".gz") else data, day)

    def write_parquet(self, name: str, table: pa.Table, day: dt.date = DAY) -> Path:
        target = self.landing(day) / name
        pq.write_table(table, target)
        return target

    def meters(self):
        return load_meters(self.path)

    def ingest(self, day: dt.date = DAY, window: WindowCache | None = None) -> DayTables:
        """Ingest the day (with a ranged run's ``window``, when given) and read its five tables
        back from the warehouse's Parquet files."""
        ingest_day(self.path, day, self.meters(), self.rules, window)
        return read_day(self.path, day)


def audit_row(tables: DayTables) -> dict[str, Any]:
    """The day's single audit row as a dict."""
    assert tables.ingestion_audit.height == 1
    return tables.ingestion_audit.row(0, named=True)


def counts(tables: DayTables) -> tuple[int, int, int, int]:
    """(rows_read, rows_quarantined, rows_duplicate, rows_accepted) of the day's audit."""
    row = audit_row(tables)
    return (row["rows_read"], row["rows_quarantined"], row["rows_duplicate"], row["rows_accepted"])


def reasons(tables: DayTables) -> list[tuple[str, int, str]]:
    """(source_file, line_number, reason) of every quarantined row, sorted."""
    q = tables.quarantined_events
    return sorted(
        zip(
            q["source_file"].to_list(),
            q["line_number"].to_list(),
            q["reason"].to_list(),
            strict=True,
        )
    )


def clean_rows(tables: DayTables) -> list[dict[str, Any]]:
    """Clean events as dicts (dimensions as a plain dict), sorted by arrival."""
    frame = tables.clean_events.sort(["source_file", "line_number"])
    out = []
    for row in frame.iter_rows(named=True):
        row["dimensions"] = {d["key"]: d["value"] for d in row["dimensions"]}
        out.append(row)
    return out


def duplicate_rows(tables: DayTables) -> list[tuple[str, str, int, dt.date, bool]]:
    """(event_id, source_file, line_number, first_landing_date, conflict), sorted."""
    d = tables.duplicate_events
    return sorted(
        zip(
            d["event_id"].to_list(),
            d["source_file"].to_list(),
            d["line_number"].to_list(),
            d["first_landing_date"].to_list(),
            d["conflict"].to_list(),
            strict=True,
        )
    )


def frames(tables: DayTables) -> dict[str, pl.DataFrame]:
    return {
        "raw_events": tables.raw_events,
        "quarantined_events": tables.quarantined_events,
        "clean_events": tables.clean_events,
        "duplicate_events": tables.duplicate_events,
        "ingestion_audit": tables.ingestion_audit,
    }


@dataclass
class DayTables:
    raw_events: pl.DataFrame
    quarantined_events: pl.DataFrame
    clean_events: pl.DataFrame
    duplicate_events: pl.DataFrame
    ingestion_audit: pl.DataFrame


def read_day(root: Path, day: dt.date) -> DayTables:
    """The five tables of an ingested landing day, read back from the warehouse."""
    return DayTables(
        *[
            warehouse.scan_partitions(root, name, [day.isoformat()]).collect()
            for name in (
                "raw_events",
                "quarantined_events",
                "clean_events",
                "duplicate_events",
                "ingestion_audit",
            )
        ]
    )


@dataclass
class ParsedDay:
    raw: pl.DataFrame
    quarantined: pl.DataFrame
    valid: pl.DataFrame  # in arrival order
    unknown_fields: Counter = field(default_factory=Counter)


def parse_day(files, ctx, landing_date: dt.date) -> ParsedDay:
    """Validate every row of a day held in memory, in arrival order (ingestion itself streams
    the files)."""
    unknown: Counter = Counter()
    parsed = [p for _, p in parse_files(files, ctx, landing_date, unknown)]
    raw = pl.concat([empty_frame(RawEvents), *[p.raw for p in parsed]])
    quarantined = pl.concat([empty_frame(QuarantinedEvents), *[p.quarantined for p in parsed]])
    valid = pl.concat([pl.DataFrame(schema=VALID_SCHEMA), *[p.valid for p in parsed]])
    return ParsedDay(raw, quarantined, valid, unknown)
