"""Invoice-line lineage (docs/audit.md#where-a-usage-line-comes-from-invoice_line_events): which
events each usage line ran over.

The month close hands every landing day's (event, charge) rows to a :class:`Spool` as it folds
the day, keyed by the line they feed (customer, subscription, charge). Line numbers are known only
once every day is folded, so the lineage table and the per-line digests are made afterwards from
the spool, a chunk (a day) or a bucket of lines at a time: memory stays bounded by a day, not by
the month. The spool's storage is the caller's choice: :class:`MemorySpool` here (tests, small
months), an Arrow IPC file on disk in the wiring (``io/spool.py``).

- ``invoice_line_events`` lists, per usage line, every event of the set its aggregation ran over
  (max and latest too), with its value (null for count and unique_count meters); an event feeding
  two lines is listed under both.
- ``events_sha256`` is the lowercase hex SHA-256 of the line's event ids sorted by their UTF-8
  bytes, each followed by ``\\n``; a line over no events hashes the empty input. Other kinds of
  lines have ``event_count`` 0 and ``events_sha256`` null.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Protocol

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.lineage import InvoiceLineEvents

#: The key of a usage line within a period: one line per subscription × charge.
LINE_KEYS = ["customer_id", "subscription_start", "charge_id"]
EVENT_COLUMNS = ["event_id", "landing_date", "event_time", "value"]
LINEAGE_SCHEMA = polars_schema(InvoiceLineEvents)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: Spooled rows hashed per pass: lines are split into buckets so one bucket's ids fit in memory.
ROWS_PER_BUCKET = 2_000_000


class Spool(Protocol):
    """Where the close parks lineage rows (LINE_KEYS + EVENT_COLUMNS) until lines are numbered."""

    rows: int

    def add(self, frame: pl.DataFrame) -> None: ...

    def chunks(self) -> Iterator[pl.DataFrame]: ...

    def scan(self) -> pl.LazyFrame: ...


class MemorySpool:
    """A :class:`Spool` in memory (a list of frames)."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []
        self.rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        self.frames.append(frame)
        self.rows += frame.height

    def chunks(self) -> Iterator[pl.DataFrame]:
        yield from self.frames

    def scan(self) -> pl.LazyFrame:
        if not self.frames:
            return pl.DataFrame(schema=spool_schema()).lazy()
        return pl.concat(self.frames).lazy()


def spool_schema() -> pl.Schema:
    return pl.Schema(
        {
            "customer_id": pl.String,
            "subscription_start": pl.Date,
            "charge_id": pl.String,
            **{name: LINEAGE_SCHEMA[name] for name in EVENT_COLUMNS},
        }
    )


def spool_rows(charge_events: pl.LazyFrame) -> pl.LazyFrame:
    """The lineage rows of one chunk of :func:`~meter_pipeline.billing.charge_usage.
    charge_events` output (the events must carry ``event_id``)."""
    return charge_events.select(*LINE_KEYS, *EVENT_COLUMNS).cast(dict(spool_schema()))


def usage_line_keys(lines: pl.DataFrame) -> pl.DataFrame:
    """LINE_KEYS → billing_period, invoice_id, line_no of the usage lines."""
    return lines.filter(pl.col("kind") == "usage").select(
        *LINE_KEYS, "billing_period", "invoice_id", "line_no"
    )


def lineage_chunks(spool: Spool, lines: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """``invoice_line_events`` a spooled chunk at a time, each sorted by invoice_id, line_no,
    event_id (the order of chunks is the order they were spooled: the bytes are repeatable)."""
    keys = usage_line_keys(lines)
    for chunk in spool.chunks():
        joined = chunk.join(keys, on=LINE_KEYS, how="inner", nulls_equal=True)
        if joined.height != chunk.height:
            raise ValueError(f"{chunk.height - joined.height} lineage rows match no usage line")
        yield joined.select(list(LINEAGE_SCHEMA)).sort(
            "invoice_id", "line_no", "event_id", "landing_date"
        )


def digest(ids: list[str]) -> str:
    """SHA-256 of ids sorted by their UTF-8 bytes, each followed by ``\\n``
    (docs/audit.md#can-anyone-have-changed-it-the-close-manifest)."""
    data = b"".join(i.encode() + b"\n" for i in sorted(ids, key=str.encode))
    return hashlib.sha256(data).hexdigest()


def line_digests(spool: Spool) -> pl.DataFrame:
    """LINE_KEYS + events_sha256 of every line with spooled events, hashed a bucket of lines at a
    time (memory holds one bucket's ids). Lines absent here hash the empty input."""
    buckets = max(1, -(-spool.rows // ROWS_PER_BUCKET))
    scan = spool.scan().select(*LINE_KEYS, "event_id")
    bucket = pl.struct(LINE_KEYS).hash(seed=7) % buckets
    parts = []
    for number in range(buckets):
        grouped = (
            scan.filter(bucket == number)
            .group_by(LINE_KEYS)
            .agg(pl.col("event_id").sort().str.join("\n").alias("_ids"))
            .collect()
        )
        hashes = [
            hashlib.sha256((ids + "\n").encode()).hexdigest() for ids in grouped["_ids"].to_list()
        ]
        parts.append(grouped.drop("_ids").with_columns(pl.Series("events_sha256", hashes)))
    schema = {**{k: spool_schema()[k] for k in LINE_KEYS}, "events_sha256": pl.String}
    return pl.concat([pl.DataFrame(schema=schema), *parts])


def with_digests(lines: pl.DataFrame, spool: Spool) -> pl.DataFrame:
    """``lines`` with ``event_count`` 0 on non-usage lines and ``events_sha256`` on usage lines
    (the empty input's hash for a line over no events)."""
    usage = pl.col("kind") == "usage"
    return (
        lines.drop("events_sha256", strict=False)
        .join(line_digests(spool), on=LINE_KEYS, how="left", nulls_equal=True)
        .with_columns(
            pl.when(usage)
            .then(pl.col("event_count").fill_null(0))
            .otherwise(0)
            .alias("event_count"),
            pl.when(usage)
            .then(pl.col("events_sha256").fill_null(EMPTY_SHA256))
            .otherwise(None)
            .alias("events_sha256"),
        )
        .sort("customer_id", "line_no")
    )
