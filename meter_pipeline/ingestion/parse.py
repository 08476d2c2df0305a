"""One landing day's rows → raw, quarantined and valid frames (docs/rules.md#2-an-event,
docs/rules.md#3-validation-quarantined_events)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import polars as pl
import polars_hash  # noqa: F401  (registers the stable .nchash expression namespace)
import pyarrow as pa

from data_contracts import polars_schema
from data_contracts.base import DIMENSIONS, TIMESTAMP
from data_contracts.ingestion import EventIndex, QuarantinedEvents, RawEvents, ValidEvents
from meter_pipeline.ingestion.fast_path import fast_events
from meter_pipeline.ingestion.formats import KNOWN, form_of, is_jsonl, recognise
from meter_pipeline.ingestion.validate import Event, ValidationContext, validate_fields
from meter_pipeline.io.jsonl import parse_json_object
from meter_pipeline.io.records import LandingFile, RawRow
from meter_pipeline.workers import Map

#: The valid events of a file (the :class:`~data_contracts.ingestion.ValidEvents` contract), and
#: the same without the payload hash, as validation produces them.
VALID_SCHEMA = polars_schema(ValidEvents)
EVENT_SCHEMA = pl.Schema({k: v for k, v in VALID_SCHEMA.items() if k != "payload_hash"})
INDEX_SCHEMA = polars_schema(EventIndex)


#: Files with fewer lines take the per-line path only (the vectorised path costs ~10 ms a call).
FAST_MIN_LINES = 512
#: Lines per batch of the vectorised path: consecutive files are batched up to this many lines
#: (it costs ~10 ms a call), and a batch is cut into at least two slices of at most this many
#: lines, parsed two at a time (memory is bounded by the batch, not by the day).
FAST_CHUNK_LINES = 131_072

Content = list[RawRow] | pl.DataFrame


@dataclass
class ParsedFile:
    raw: pl.DataFrame  # RawEvents columns
    quarantined: pl.DataFrame  # QuarantinedEvents columns
    valid: pl.DataFrame  # VALID_SCHEMA, in line order


def _is_set(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and value == "")


def _fast(lines: pl.DataFrame, ctx: ValidationContext, map_: Map = map) -> pl.DataFrame:
    """The vectorised path over a batch of lines, in at least two slices, mapped with ``map_``
    (a thread pool's map runs them at once: Polars releases the GIL)."""
    n = lines.height
    if n < max(2, 2 * FAST_MIN_LINES):
        return fast_events(lines, ctx)
    size = -(-n // max(2, -(-n // FAST_CHUNK_LINES)))
    slices = [lines.slice(start, size) for start in range(0, n, size)]
    return pl.concat(map_(lambda part: fast_events(part, ctx), slices))


def parse_file(
    info: LandingFile,
    content: Content,
    ctx: ValidationContext,
    landing_date: dt.date,
    unknown: Counter,
    fast: pl.DataFrame | None = None,
    map_: Map = map,
) -> ParsedFile:
    """Validate every row of one file, in line order; ``unknown`` counts unknown fields.

    A file's content is its rows, or (JSONL) a frame of its lines: plainly valid lines are then
    parsed by the vectorised fast path (or taken from ``fast``, its result computed already) and
    the rest row by row, with the same result.
    """
    if isinstance(content, pl.DataFrame) and content.height < FAST_MIN_LINES:
        content = _rows(content)
    if isinstance(content, pl.DataFrame):
        fast = _fast(content, ctx, map_) if fast is None else fast
        rows = _rows(content.join(fast.select("line_number"), on="line_number", how="anti"))
        _, quarantined, valid = _parse_rows(info.path, rows, ctx, unknown)
        raw = content.select(
            pl.lit(info.path).alias("source_file"),
            "line_number",
            pl.col("text").alias("raw_record"),
        )
        native = pl.lit(None, dtype=pl.String).alias("source")  # the fast path is native-only
        valid = pl.concat(
            [valid, fast.select(pl.lit(info.path).alias("source_file"), pl.all(), native)]
        ).sort("line_number")
    else:
        raw, quarantined, valid = _parse_rows(info.path, content, ctx, unknown)
    day = pl.lit(landing_date, dtype=pl.Date).alias("landing_date")
    return ParsedFile(
        raw.with_columns(day).select(list(polars_schema(RawEvents))),
        quarantined.with_columns(day).select(list(polars_schema(QuarantinedEvents))),
        valid.with_columns(payload_digest().alias("payload_hash")),
    )


_FILE_KEY = 2**32  # within a batch, a line's key is file position × 2³² + line number


def parse_files(
    files: Iterable[tuple[LandingFile, Content]],
    ctx: ValidationContext,
    landing_date: dt.date,
    unknown: Counter,
    map_: Map = map,
) -> Iterator[tuple[LandingFile, ParsedFile]]:
    """:func:`parse_file` of each file, in order. Consecutive JSONL files share the calls of the
    vectorised path (it has a fixed cost per call) until they hold FAST_CHUNK_LINES lines; a
    big file is a batch of its own, cut into slices. Memory holds one batch at a time."""
    batch: list[tuple[LandingFile, Content]] = []
    lines = 0
    for info, content in files:
        if isinstance(content, pl.DataFrame) and content.height < FAST_MIN_LINES:
            content = _rows(content)
        batch.append((info, content))
        lines += content.height if isinstance(content, pl.DataFrame) else 0
        if lines >= FAST_CHUNK_LINES:
            yield from _parse_batch(batch, ctx, landing_date, unknown, map_)
            batch, lines = [], 0
    yield from _parse_batch(batch, ctx, landing_date, unknown, map_)


def _parse_batch(
    batch: list[tuple[LandingFile, Content]],
    ctx: ValidationContext,
    landing_date: dt.date,
    unknown: Counter,
    map_: Map,
) -> Iterator[tuple[LandingFile, ParsedFile]]:
    frames = [
        (n, content) for n, (_, content) in enumerate(batch) if isinstance(content, pl.DataFrame)
    ]
    fast_of: dict[int, pl.DataFrame] = {}
    if frames:
        keyed = pl.concat(
            [
                content.select((pl.col("line_number") + n * _FILE_KEY).alias("line_number"), "text")
                for n, content in frames
            ]
        )
        fast = _fast(keyed, ctx, map_).with_columns(
            (pl.col("line_number") // _FILE_KEY).alias("_file"), pl.col("line_number") % _FILE_KEY
        )
        fast_of = {
            n: part.drop("_file") for (n,), part in fast.partition_by("_file", as_dict=True).items()
        }
        empty = fast.clear().drop("_file")
    for n, (info, content) in enumerate(batch):
        given = fast_of.get(n, empty) if isinstance(content, pl.DataFrame) else None
        yield info, parse_file(info, content, ctx, landing_date, unknown, fast=given)


def _rows(lines: pl.DataFrame) -> list[RawRow]:
    """Lines (line_number, text) for the per-line path."""
    return [RawRow(n, text, *parse_json_object(text)) for n, text in lines.iter_rows()]


def _parse_rows(
    path: str, rows: list[RawRow], ctx: ValidationContext, unknown: Counter
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The per-row path: each row's form recognised (JSONL lines only) and the row validated
    exactly by :func:`validate_fields`."""
    jsonl = is_jsonl(path)
    raw_cols: dict[str, list] = {"line_number": [], "raw_record": []}
    q_cols: dict[str, list] = {"line_number": [], "reason": [], "detail": [], "raw_record": []}
    v_cols: dict[str, list] = {
        name: [] for name in EVENT_SCHEMA if name not in ("dimensions", "source_file")
    }
    dims: list[tuple[tuple[str, str], ...]] = []
    for row in rows:
        raw_cols["line_number"].append(row.line_number)
        raw_cols["raw_record"].append(row.raw_record)
        if row.fields is None:
            outcome: Event | tuple[str, str] = ("malformed", row.error or "malformed")
        else:
            form = form_of(row.fields, jsonl)
            for name, value in row.fields.items():
                if name not in KNOWN[form] and _is_set(value):
                    unknown[name] += 1
            line = recognise(row.fields, ctx.meters, form)
            if isinstance(line, tuple):  # a CloudEvents line of another specversion
                outcome = line
            else:
                outcome = validate_fields(line.fields, ctx, line.type_error)
        if isinstance(outcome, Event):
            v_cols["line_number"].append(row.line_number)
            v_cols["event_id"].append(outcome.event_id)
            v_cols["customer_id"].append(outcome.customer_id)
            v_cols["meter"].append(outcome.meter)
            v_cols["event_time"].append(outcome.event_time_us)
            v_cols["value"].append(outcome.value)
            v_cols["source"].append(line.source)
            dims.append(outcome.dimensions)
        else:
            q_cols["line_number"].append(row.line_number)
            q_cols["reason"].append(outcome[0])
            q_cols["detail"].append(outcome[1])
            q_cols["raw_record"].append(row.raw_record)
    source = pl.lit(path, dtype=pl.String).alias("source_file")
    raw = pl.DataFrame(raw_cols, schema={"line_number": pl.Int64, "raw_record": pl.String})
    quarantined = pl.DataFrame(
        q_cols,
        schema={
            "line_number": pl.Int64,
            "reason": pl.String,
            "detail": pl.String,
            "raw_record": pl.String,
        },
    )
    return (
        raw.select(source, pl.all()),
        quarantined.select(source, pl.all()),
        _valid_frame(v_cols, dims).select(source, pl.all()).select(list(EVENT_SCHEMA)),
    )


def payload_digest() -> pl.Expr:
    """A stable 64-bit digest (xxHash64) of what a re-send must repeat to not be a conflict:
    customer, meter, UTC instant, Decimal value (null for count/unique_count) and dimensions."""
    dims = (
        pl.col("dimensions")
        .list.eval(
            pl.concat_str(
                pl.element().struct.field("key"), pl.lit("\x1d"), pl.element().struct.field("value")
            )
        )
        .list.join("\x1e")
    )
    text = pl.concat_str(
        pl.col("customer_id"),
        pl.col("meter"),
        pl.col("event_time").dt.epoch("us").cast(pl.String),
        pl.col("value").cast(pl.String).fill_null("\x00"),
        dims,
        separator="\x1f",
    )
    return text.nchash.xxhash64()  # the namespace polars_hash registers


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
    structs = pa.StructArray.from_arrays(
        [pa.array(keys, pa.large_string()), pa.array(values, pa.large_string())], ["key", "value"]
    )
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), structs)
    return pl.Series("dimensions", lists).cast(DIMENSIONS)


def _valid_frame(cols: dict[str, list], dims: list) -> pl.DataFrame:
    times = pl.Series("event_time", cols.pop("event_time"), dtype=pl.Int64)
    frame = pl.DataFrame(
        cols,
        schema={
            k: v
            for k, v in EVENT_SCHEMA.items()
            if k not in ("event_time", "dimensions", "source_file")
        },
    )
    return frame.with_columns(times.cast(TIMESTAMP), dimensions_series(dims))


def id_hash() -> pl.Expr:
    """A stable 64-bit key of ``event_id`` (xxHash64): the window is searched by it."""
    return pl.col("event_id").nchash.xxhash64().alias("id_hash")


def day_index(valid: pl.DataFrame, first: pl.Series | None = None) -> pl.DataFrame:
    """The compact index of a day: each valid event_id's first occurrence, its id hash and
    payload hash (``first``: ``event_id.is_first_distinct()`` of ``valid``, when known), in
    ascending id_hash order (arrival order among equal hashes), so the window is searched by a
    merge (:func:`meter_pipeline.ingestion.event_index.window_hits`)."""
    first = valid.get_column("event_id").is_first_distinct() if first is None else first
    return (
        valid.filter(first)
        .select("event_id", id_hash(), "payload_hash")
        .select(list(INDEX_SCHEMA))
        .sort("id_hash", maintain_order=True)
    )
