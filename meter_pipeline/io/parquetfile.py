"""Parquet landing files: the CSV column layout, with typed columns (docs/rules.md#2-an-event)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from meter_pipeline.io.csvfile import DIM_PREFIX, UnreadableFile, merge_dimension_columns
from meter_pipeline.io.jsonl import parse_json_object
from meter_pipeline.io.limits import LimitExceeded, Limits
from meter_pipeline.io.records import BadType, ParquetInt, RawRow, TzTimestampUs


def _column_values(column: pa.ChunkedArray) -> list:
    """A column as Python values tagged with the type they came from."""
    t = column.type
    if pa.types.is_timestamp(t):
        if t.tz is None:
            return [
                None if v is None else BadType("TIMESTAMP without time zone")
                for v in pc.cast(column, pa.int64()).to_pylist()
            ]
        ints = pc.cast(column, pa.int64()).to_pylist()
        per_us = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": None}[t.unit]
        return [
            None if v is None else TzTimestampUs(v // 1000 if per_us is None else v * per_us)
            for v in ints
        ]
    if pa.types.is_int64(t):  # INT64 epoch milliseconds; other integers are not listed
        return [None if v is None else ParquetInt(v) for v in column.to_pylist()]
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_decimal(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    ):
        return column.to_pylist()
    if pa.types.is_map(t) and _is_string(t.key_type) and _is_string(t.item_type):
        return [None if v is None else dict(v) for v in column.to_pylist()]
    return [None if v is None else BadType(f"Parquet {t}") for v in column.to_pylist()]


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _json_default(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _raw_table(table: pa.Table) -> pa.Table:
    """The table for raw records: nanosecond timestamps as text (Python datetimes stop at µs)."""
    for i, column in enumerate(table.columns):
        if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
            table = table.set_column(i, table.field(i).name, pc.cast(column, pa.string()))
    return table


def check_parquet_footer(data: bytes, limits: Limits) -> None:
    """Refuse, from the footer alone and before any data is decoded, a file that declares more
    rows than its size allows or more bytes than ``max_file_bytes`` (a small file can declare
    millions of rows). A footer that cannot be read is left to :func:`read_parquet`."""
    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    except Exception:  # unreadable: read_parquet makes it one malformed row
        return
    allowed = limits.parquet_rows(len(data))
    if meta.num_rows > allowed:
        what = f"the {meta.num_rows} rows declared by a file of {len(data)} bytes"
        name = "max_parquet_rows_per_kib"
        if allowed == limits.max_parquet_rows:
            name = "max_parquet_rows"
        raise LimitExceeded(name, getattr(limits, name), what)
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > limits.max_file_bytes:
        raise LimitExceeded("max_file_bytes", limits.max_file_bytes, f"the {size} bytes declared")


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns (pandas ``category``, many writers) as their plain values."""
    for i, column in enumerate(table.columns):
        if pa.types.is_dictionary(column.type):
            table = table.set_column(i, table.field(i).name, column.cast(column.type.value_type))
    return table


def read_parquet(data: bytes) -> Iterator[RawRow]:
    """Yield one row per Parquet row, numbered row index + 1."""
    try:
        table = _decoded(pq.read_table(pa.BufferReader(data)))
    except Exception as exc:  # any failure to decode is an unreadable file
        raise UnreadableFile(f"not a readable Parquet file ({exc})") from None
    names = table.column_names
    if len(set(names)) != len(names):
        raise UnreadableFile("a column name appears more than once")
    try:
        raw_rows = _raw_table(table).to_pylist()
        typed = {name: _column_values(table.column(name)) for name in names}
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        raise UnreadableFile(f"Parquet values cannot be decoded ({exc})") from None
    for i, raw in enumerate(raw_rows):
        fields: dict[str, object] = {}
        dims: dict[str, object] = {}
        for name in names:
            value = typed[name][i]
            if value is None or value == "":
                continue
            if name.startswith(DIM_PREFIX):
                dims[name[len(DIM_PREFIX) :]] = value
            elif name == "dimensions" and isinstance(value, str):
                obj, _ = parse_json_object(value)
                fields[name] = obj if obj is not None else BadType("dimensions not a JSON object")
            else:
                fields[name] = value
        raw_text = json.dumps(raw, default=_json_default, ensure_ascii=False)
        yield RawRow(i + 1, raw_text, merge_dimension_columns(fields, dims))
