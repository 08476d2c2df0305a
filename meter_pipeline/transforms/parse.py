"""One landing day's rows → raw, quarantined and valid frames (SPEC §3, §3.1)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from data_contracts import polars_schema
from data_contracts.ingestion import EventIndex, QuarantinedEvents, RawEvents
from meter_pipeline.io.records import LandingFile, RawRow
from meter_pipeline.money import QUANTITY
from meter_pipeline.transforms.validate import (
    KNOWN_FIELDS,
    Event,
    ValidationContext,
    validate_fields,
)

VALID_SCHEMA = pl.Schema({
    "source_file": pl.String, "line_number": pl.Int64, "event_id": pl.String,
    "customer_id": pl.String, "meter": pl.String, "event_time": pl.Datetime("us", "UTC"),
    "value": QUANTITY, "dimensions": pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
    "payload_hash": pl.UInt64,
})
INDEX_SCHEMA = polars_schema(EventIndex)


@dataclass
class ParsedDay:
    raw: pl.DataFrame
    quarantined: pl.DataFrame
    valid: pl.DataFrame  # in arrival order
    unknown_fields: Counter = field(default_factory=Counter)


def _is_set(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and value == "")


def parse_day(files: list[tuple[LandingFile, list[RawRow]]], ctx: ValidationContext,
              landing_date: dt.date) -> ParsedDay:
    """Validate every row of a day, in arrival order (files in byte order of path, then rows)."""
    raw_cols: dict[str, list] = {"source_file": [], "line_number": [], "raw_record": []}
    q_cols: dict[str, list] = {"source_file": [], "line_number": [], "reason": [],
                               "detail": [], "raw_record": []}
    v_cols: dict[str, list] = {name: [] for name in VALID_SCHEMA if name != "dimensions"}
    dims: list[tuple[tuple[str, str], ...]] = []
    unknown: Counter = Counter()
    for info, rows in files:
        path = info.path
        for row in rows:
            raw_cols["source_file"].append(path)
            raw_cols["line_number"].append(row.line_number)
            raw_cols["raw_record"].append(row.raw_record)
            if row.fields is None:
                outcome: Event | tuple[str, str] = ("malformed", row.error or "malformed")
            else:
                for name, value in row.fields.items():
                    if name not in KNOWN_FIELDS and _is_set(value):
                        unknown[name] += 1
                outcome = validate_fields(row.fields, ctx)
            if isinstance(outcome, Event):
                v_cols["source_file"].append(path)
                v_cols["line_number"].append(row.line_number)
                v_cols["event_id"].append(outcome.event_id)
                v_cols["customer_id"].append(outcome.customer_id)
                v_cols["meter"].append(outcome.meter)
                v_cols["event_time"].append(outcome.event_time_us)
                v_cols["value"].append(outcome.value)
                dims.append(outcome.dimensions)
                v_cols["payload_hash"].append(outcome.payload_hash())
            else:
                q_cols["source_file"].append(path)
                q_cols["line_number"].append(row.line_number)
                q_cols["reason"].append(outcome[0])
                q_cols["detail"].append(outcome[1])
                q_cols["raw_record"].append(row.raw_record)
    day = pl.lit(landing_date, dtype=pl.Date).alias("landing_date")
    raw = pl.DataFrame(raw_cols, schema={"source_file": pl.String, "line_number": pl.Int64,
                                         "raw_record": pl.String}).with_columns(day)
    quarantined = pl.DataFrame(q_cols, schema={k: pl.String for k in q_cols} | {
        "line_number": pl.Int64}).with_columns(day)
    valid = _valid_frame(v_cols, dims)
    return ParsedDay(raw.select(list(polars_schema(RawEvents))),
                     quarantined.select(list(polars_schema(QuarantinedEvents))), valid, unknown)


def dimensions_series(dims: list[tuple[tuple[str, str], ...]]) -> pl.Series:
    """Sorted (key, value) tuples per row → a List(Struct(key, value)) column, built in bulk."""
    offsets = [0]
    keys: list[str] = []
    values: list[str] = []
    for pairs in dims:
        for key, value in pairs:
            keys.append(key)
            values.append(value)
        offsets.append(len(keys))
    structs = pa.StructArray.from_arrays([pa.array(keys, pa.large_string()),
                                          pa.array(values, pa.large_string())], ["key", "value"])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), structs)
    return pl.Series("dimensions", lists).cast(VALID_SCHEMA["dimensions"])


def _valid_frame(cols: dict[str, list], dims: list) -> pl.DataFrame:
    times = pl.Series("event_time", cols.pop("event_time"), dtype=pl.Int64)
    frame = pl.DataFrame(cols, schema={k: v for k, v in VALID_SCHEMA.items()
                                       if k not in ("event_time", "dimensions")})
    return frame.with_columns(times.cast(pl.Datetime("us", "UTC")),
                              dimensions_series(dims)).select(list(VALID_SCHEMA))


def day_index(valid: pl.DataFrame) -> pl.DataFrame:
    """The compact index of a day: each valid event_id's first occurrence and payload hash."""
    return valid.filter(pl.col("event_id").is_first_distinct()).select(list(INDEX_SCHEMA))
