"""Contracts of the daily ingestion tables (docs/rules.md#3-validation-quarantined_events,
docs/rules.md#9-tables-and-guarantees), partitioned by ``landing_date``."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import DIMENSIONS, PERIOD_PATTERN, QUANTITY, TIMESTAMP, Contract

REASONS = (
    "malformed",
    "missing_field",
    "invalid_type",
    "field_too_long",
    "unknown_meter",
    "invalid_timestamp",
    "too_old",
    "future_timestamp",
    "invalid_value",
    "negative_value",
    "missing_dimension",
)


def _landing_date() -> object:
    return pa.Field(description="UTC day the row's file arrived (the partition).")


def _source_file() -> object:
    return pa.Field(
        description="Path of the landing file, relative to the data root, `/`-separated."
    )


def _line_number() -> object:
    return pa.Field(
        ge=0,
        description="JSONL physical line / CSV data row / Parquet row index + 1, "
        "from 1; 0 for a file that could not be read.",
    )


def _source() -> object:
    return pa.Field(
        nullable=True,
        description="The CloudEvents `source` attribute of the event's line; null for the other "
        "forms (native, Amberflo, Stripe).",
    )


class RawEvents(Contract):
    """Every input row of a landing day, lossless. Grain: one row per input row
    (an unreadable file is one row with line_number 0 and a null raw_record)."""

    landing_date: pl.Date = _landing_date()
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    raw_record: str = pa.Field(
        nullable=True,
        description="The row as it appears in the file, "
        "without its line end; a Parquet row as a JSON object.",
    )


class QuarantinedEvents(Contract):
    """Rows that broke a rule, with the first reason that applies
    (docs/rules.md#3-validation-quarantined_events). Grain: one row per
    quarantined input row."""

    landing_date: pl.Date = _landing_date()
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    reason: str = pa.Field(isin=list(REASONS), description="The first rule the row breaks.")
    detail: str = pa.Field(description="What exactly is wrong, in words.")
    raw_record: str = pa.Field(
        nullable=True, description="The row's text (null for an unreadable file)."
    )


class CleanEvents(Contract):
    """Valid events counted exactly once: the first arrival of each event_id within the dedup
    window (docs/rules.md#4-counting-each-event-once-clean_events-duplicate_events), stamped with
    the billing period that bills them (docs/rules.md#6-billing-periods-and-late-events). Grain: one
    row per distinct accepted event."""

    event_id: str = pa.Field(description="The idempotency key.")
    customer_id: str = pa.Field(description="Who used it.")
    meter: str = pa.Field(description="What was used (a meter of meters.yaml).")
    event_time: TIMESTAMP = pa.Field(description="When it was used, UTC microseconds.")
    value: QUANTITY = pa.Field(
        nullable=True, description="How much, exact; null on count and unique_count meters."
    )
    dimensions: DIMENSIONS = pa.Field(description="Where/which: key/value pairs sorted by key.")
    landing_date: pl.Date = _landing_date()
    billing_period: str = pa.Field(
        nullable=True,
        str_matches=PERIOD_PATTERN,
        description="YYYY-MM that bills the event; null when late under late_events: ignore.",
    )
    late: bool = pa.Field(description="Landed after its month's last landing day.")
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    source: str = _source()


class DuplicateEvents(Contract):
    """Valid events whose event_id came earlier in arrival order within the dedup window.
    Grain: one row per later copy."""

    landing_date: pl.Date = _landing_date()
    event_id: str = pa.Field(description="The repeated idempotency key.")
    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    first_landing_date: pl.Date = pa.Field(description="Landing day of the first (billed) copy.")
    conflict: bool = pa.Field(
        description="True when customer, meter, time, value or dimensions "
        "differ from the first copy; the first stays billed."
    )


class DailyUsage(Contract):
    """Meter aggregation over one landing day's clean events. Grain: landing_date × usage_date ×
    billing_period × customer_id × meter."""

    landing_date: pl.Date = _landing_date()
    usage_date: pl.Date = pa.Field(description="UTC date of the event time.")
    billing_period: str = pa.Field(nullable=True, description="The period billing these events.")
    customer_id: str = pa.Field(description="Customer.")
    meter: str = pa.Field(description="Meter.")
    event_count: pl.Int64 = pa.Field(ge=0, description="Number of clean events.")
    quantity: QUANTITY = pa.Field(description="The meter's aggregation over these events.")


FILE_ENTRY = pl.Struct(
    {"path": pl.String, "bytes": pl.Int64, "sha256": pl.String, "rows": pl.Int64}
)
UNKNOWN_FIELD = pl.Struct({"name": pl.String, "rows": pl.Int64})


class IngestionAudit(Contract):
    """Where every row of a landing day went
    (docs/rules.md#4-counting-each-event-once-clean_events-duplicate_events). Grain: one row per
    landing day. rows_read = rows_quarantined + rows_duplicate + rows_accepted, enforced by a
    blocking check."""

    landing_date: pl.Date = _landing_date()
    rows_read: pl.Int64 = pa.Field(ge=0, description="Input rows (blank lines not counted).")
    rows_quarantined: pl.Int64 = pa.Field(ge=0, description="Rows in quarantined_events.")
    rows_duplicate: pl.Int64 = pa.Field(ge=0, description="Rows in duplicate_events.")
    rows_accepted: pl.Int64 = pa.Field(ge=0, description="Rows in clean_events.")
    rows_conflicting: pl.Int64 = pa.Field(ge=0, description="Duplicates with conflict = true.")
    quarantined_malformed: pl.Int64 = pa.Field(ge=0, description="Rows quarantined as malformed.")
    quarantined_missing_field: pl.Int64 = pa.Field(ge=0, description="… as missing_field.")
    quarantined_invalid_type: pl.Int64 = pa.Field(ge=0, description="… as invalid_type.")
    quarantined_field_too_long: pl.Int64 = pa.Field(ge=0, description="… as field_too_long.")
    quarantined_unknown_meter: pl.Int64 = pa.Field(ge=0, description="… as unknown_meter.")
    quarantined_invalid_timestamp: pl.Int64 = pa.Field(ge=0, description="… invalid_timestamp.")
    quarantined_too_old: pl.Int64 = pa.Field(ge=0, description="… as too_old.")
    quarantined_future_timestamp: pl.Int64 = pa.Field(ge=0, description="… future_timestamp.")
    quarantined_invalid_value: pl.Int64 = pa.Field(ge=0, description="… as invalid_value.")
    quarantined_negative_value: pl.Int64 = pa.Field(ge=0, description="… as negative_value.")
    quarantined_missing_dimension: pl.Int64 = pa.Field(ge=0, description="… missing_dimension.")
    files: pl.List(FILE_ENTRY) = pa.Field(
        description="Files read: path, bytes, lowercase hex "
        "sha256, rows (1 for an unreadable file)."
    )
    skipped_files: pl.List(pl.String) = pa.Field(
        description="Paths not read: other names, names starting with . or _, sub-folders, "
        "links, special files, names not valid UTF-8 (escaped as \\xNN)."
    )
    skipped_reasons: pl.List(pl.String) = pa.Field(
        description="Why each path of skipped_files was not read, in the same order: "
        "not a landing file name, sub-folder, symbolic link (not followed), not a regular "
        "file, name is not valid UTF-8 (listed escaped), folder is outside the data root."
    )
    unknown_fields: pl.List(UNKNOWN_FIELD) = pa.Field(
        description="Fields not in the event schema, with the rows carrying a value."
    )


class ValidEvents(Contract):
    """Internal: the valid events of a landing day before deduplication, in arrival order, as
    parsing hands them to dedup and to the event index. Grain: one row per valid input row."""

    source_file: str = _source_file()
    line_number: pl.Int64 = _line_number()
    event_id: str = pa.Field(description="The idempotency key.")
    customer_id: str = pa.Field(description="Who used it.")
    meter: str = pa.Field(description="What was used (a meter of meters.yaml).")
    event_time: TIMESTAMP = pa.Field(description="When it was used, UTC microseconds.")
    value: QUANTITY = pa.Field(
        nullable=True, description="How much, exact; null on count and unique_count meters."
    )
    dimensions: DIMENSIONS = pa.Field(description="Where/which: key/value pairs sorted by key.")
    source: str = _source()
    payload_hash: pl.UInt64 = pa.Field(
        description="64-bit xxHash64 of customer, meter, time, "
        "value and dimensions: what a re-send must repeat."
    )


class EventIndex(Contract):
    """Internal: the compact per-day index of valid event ids that dedup reads for the 40 days
    before a landing day. Grain: one row per distinct valid event_id of the day (its first
    occurrence)."""

    event_id: str = pa.Field(description="Valid event id seen that day.")
    id_hash: pl.UInt64 = pa.Field(
        description="64-bit xxHash64 of event_id: the window is "
        "searched by this compact key, then ids are compared exactly."
    )
    payload_hash: pl.UInt64 = pa.Field(
        description="64-bit xxHash64 of customer, meter, time, "
        "value and dimensions of the first occurrence."
    )


TABLES = {
    "raw_events": RawEvents,
    "quarantined_events": QuarantinedEvents,
    "clean_events": CleanEvents,
    "duplicate_events": DuplicateEvents,
    "ingestion_audit": IngestionAudit,
    "daily_usage": DailyUsage,
}
