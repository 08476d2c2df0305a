"""A vectorised fast path for JSONL lines that are plainly valid events (docs/rules.md#2-an-event,
docs/rules.md#3-validation-quarantined_events).

Most lines of a real feed are flat JSON objects with the known field names, plain string values
(no escapes), plain decimal numbers and a flat string-to-string ``dimensions`` object. Such a
line is recognised with a strict regular expression over the whole line and taken apart into
exact texts with Polars string expressions, in Rust, many lines at a time. A line is accepted
here only when every rule of docs/rules.md is checked and passes; any line that is unusual (escapes,
nulls, booleans, exponents, unknown fields, repeated keys …) or breaks any rule goes to the exact
per-line path in :mod:`meter_pipeline.ingestion.validate`, which gives the reason and detail.
So the fast path can only make things faster, never different.

Its grammar is :mod:`meter_pipeline.grammar`'s, anchored for Polars, and narrowed where noted:
a value must be a plain decimal (no exponent, at most 20 integer digits and 9 fraction digits)
and epoch milliseconds a plain integer of at most 15 digits; anything else goes per line.
"""

from __future__ import annotations

import polars as pl

from data_contracts.base import DIMENSIONS, TIMESTAMP
from meter_pipeline.grammar import (
    JSON_NUMBER_PATTERN,
    MAX_LEN,
    MAX_MS_DIGITS,
    MAX_OFFSET_HOURS,
    MAX_OFFSET_MINUTES,
    MAX_US,
    RFC3339_PATTERN,
    json_fraction,
    json_integer,
)
from meter_pipeline.ingestion.validate import ALIASES, ValidationContext
from meter_pipeline.money import QUANTITY, VALUE_LIMIT

# The shape of a plain line: a flat object of known fields, strings without escapes, numbers,
# and a flat string-to-string dimensions object.
_WS = "[ \t\r]*"
_STR = r'"[^"\\\x00-\x1f]*"'
_NUM = JSON_NUMBER_PATTERN
_PAIR = f"{_STR}{_WS}:{_WS}{_STR}"
_OBJ = rf"\{{{_WS}(?:{_PAIR}(?:{_WS},{_WS}{_PAIR})*)?{_WS}\}}"
_NAMES = sorted({*ALIASES, *ALIASES.values(), "dimensions"}, key=len, reverse=True)
_KEY = "(?:" + "|".join(_NAMES) + ")"
_ITEM = f'"{_KEY}"{_WS}:{_WS}(?:{_STR}|{_NUM}|{_OBJ})'
LINE = f"^{_WS}\\{{{_WS}{_ITEM}(?:{_WS},{_WS}{_ITEM})*{_WS}\\}}{_WS}$"

#: A timestamp string's text: the grammar's RFC 3339 form, its eleven groups extracted at once.
_RFC3339 = f"^{RFC3339_PATTERN}$"
#: A value: the grammar's JSON number narrowed to no exponent, at most 20 integer digits (so
#: |value| < 10^20 holds without a comparison) and 1–9 fraction digits (exact in Decimal(38, 9):
#: nothing to round).
_PLAIN_DECIMAL = f"^{json_integer(VALUE_LIMIT.adjusted())}(?:{json_fraction(QUANTITY.scale)})?$"
#: Epoch milliseconds: the grammar's JSON integer narrowed to no sign and at most 15 digits
#: (every instant in range has at most that many; ×1000 stays inside int64).
_INTEGER = f"^{json_integer(MAX_MS_DIGITS, signed=False)}$"
FIELDS = ("event_id", "customer_id", "meter", "timestamp", "value", "dimensions")


def _days_from_civil(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (years ≥ 1), integers only."""
    y = y - (m <= 2).cast(pl.Int64)
    era = y // 400
    yoe = y - era * 400
    mp = pl.when(m > 2).then(m - 3).otherwise(m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _rfc3339_us(g: pl.Expr) -> pl.Expr:
    """UTC microseconds from the groups of :data:`_RFC3339` (a struct column, extracted once:
    see :data:`meter_pipeline.grammar.RFC3339_PATTERN` for their numbers); null when the text is
    not a valid instant in range."""
    y, mo, d, h, mi, s = (g.struct.field(str(i)).cast(pl.Int64) for i in range(1, 7))
    micro = g.struct.field("7").fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64)
    oh = g.struct.field("10").cast(pl.Int64).fill_null(0)
    om = g.struct.field("11").cast(pl.Int64).fill_null(0)
    sign = pl.when(g.struct.field("9") == "-").then(-1).otherwise(1)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = (
        pl.when(mo == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(mo.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )
    ok = (
        (y >= 1)
        & mo.is_between(1, 12)
        & (d >= 1)
        & (d <= dim)
        & (h <= 23)
        & (mi <= 59)
        & (s <= 59)
        & (oh <= MAX_OFFSET_HOURS)
        & (om <= MAX_OFFSET_MINUTES)
    )
    local = ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s
    us = local * 1_000_000 + micro - sign * (oh * 60 + om) * 60_000_000
    return pl.when(ok & us.is_between(0, MAX_US, closed="left")).then(us)


def _unquote(text: pl.Expr) -> pl.Expr:
    return text.str.slice(1, text.str.len_chars() - 2)


def _fields(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines whose whole text is a flat event object with no repeated field (under either
    name), one column per field holding the value's JSON text (null when absent)."""
    shaped = lines.filter(pl.col("text").str.contains(LINE)).with_columns(
        pl.col("text").str.extract_all(_ITEM).alias("item")
    )
    halves = pl.col("item").str.splitn(":", 2)  # a field name never holds ':'
    items = (
        shaped.select("line_number", "item")
        .explode("item")
        .select(
            "line_number",
            halves.struct.field("field_0").str.strip_chars(' \t"').replace(ALIASES).alias("field"),
            halves.struct.field("field_1").str.strip_chars_start(" \t").alias("json"),
        )
    )
    wide = items.pivot(on="field", index="line_number", values="json", aggregate_function="first")
    missing = [
        pl.lit(None, dtype=pl.String).alias(name) for name in FIELDS if name not in wide.columns
    ]
    given = pl.sum_horizontal(*[pl.col(n).is_not_null() for n in FIELDS])
    return (
        wide.with_columns(missing)
        .select("line_number", *FIELDS)
        .join(shaped.select("line_number", pl.col("item").list.len().alias("_n")), on="line_number")
        .filter(given == pl.col("_n"))  # a field given twice (or under both names) is not
        .drop("_n")
        .sort("line_number")
    )


def _dimensions(events: pl.DataFrame) -> pl.DataFrame:
    """(line_number, key, value) of every dimension of the lines, from flat string objects."""
    return (
        events.select("line_number", pl.col("dimensions").str.extract_all(_PAIR).alias("p"))
        .explode("p")
        .drop_nulls("p")
        .select(
            "line_number",
            pl.col("p")
            .str.extract_groups(f'^"([^"]*)"{_WS}:{_WS}"([^"]*)"$')
            .struct.rename_fields(["key", "value"])
            .alias("kv"),
        )
        .unnest("kv")
    )


def fast_events(lines: pl.DataFrame, ctx: ValidationContext) -> pl.DataFrame:
    """The lines (``line_number``, ``text``) that are plainly valid events, parsed.

    Returns line_number, event_id, customer_id, meter, event_time, value, dimensions for exactly
    those lines; every other line must take the per-line path.
    """
    meters = ctx.meters
    value_meters = [m.name for m in meters.values() if m.needs_value]
    negative_ok = [m.name for m in meters.values() if m.allow_negative]
    ids = ("event_id", "customer_id", "meter")
    stamp, value = pl.col("timestamp"), pl.col("value")
    as_millis = pl.when(stamp.str.contains(_INTEGER)).then(
        stamp.cast(pl.Int64, strict=False) * 1000
    )
    event_us = (
        pl.when(stamp.str.starts_with('"')).then(_rfc3339_us(pl.col("_ts"))).otherwise(as_millis)
    )
    value_text = pl.when(value.str.starts_with('"')).then(_unquote(value)).otherwise(value)
    needs = pl.col("meter").is_in(value_meters)
    events = (
        _fields(lines)
        .filter(
            *[pl.col(n).str.starts_with('"') for n in (*ids, "timestamp") if n != "timestamp"],
            pl.col("timestamp").is_not_null(),
        )
        .with_columns(*[_unquote(pl.col(n)).alias(n) for n in ids])
        .filter(
            *[pl.col(n).str.len_chars().is_between(1, MAX_LEN) for n in ids],
            pl.col("meter").is_in(list(meters)),
            pl.col("dimensions").is_null() | pl.col("dimensions").str.starts_with("{"),
        )
        .with_columns(_unquote(stamp).str.extract_groups(_RFC3339).alias("_ts"))
        .with_columns(event_us.alias("event_us"), value_text.alias("value_text"))
        .filter(
            pl.col("event_us").is_between(
                max(ctx.oldest_us, 0), min(ctx.future_us, MAX_US), closed="left"
            ),
            stamp.str.starts_with('"') | (stamp.str.len_chars() <= ctx.max_number_chars),
            ~needs | (pl.col("value_text").str.len_chars() <= ctx.max_number_chars),
            ~needs
            | (
                pl.col("value_text").str.contains(_PLAIN_DECIMAL).fill_null(False)
                & (
                    ~pl.col("value_text").str.starts_with("-")
                    | pl.col("meter").is_in(negative_ok)
                    | ~pl.col("value_text").str.contains("[1-9]")
                )
            ),
        )
    )
    dims = _dimensions(events)
    required = pl.DataFrame(
        [(m.name, d) for m in meters.values() for d in m.all_required_dimensions],
        schema={"meter": pl.String, "key": pl.String},
        orient="row",
    )
    bad = pl.concat(
        [
            dims.group_by("line_number")
            .agg(pl.col("key").n_unique() == pl.len())
            .filter(~pl.col("key"))
            .select("line_number"),  # a repeated dimension key is malformed
            dims.filter(
                (pl.col("key").str.len_chars() > MAX_LEN)
                | (pl.col("value").str.len_chars() > MAX_LEN)
            ).select("line_number"),
            events.select("line_number", "meter")
            .join(required, on="meter")
            .join(dims.filter(pl.col("value") != ""), on=["line_number", "key"], how="anti")
            .select("line_number"),
        ]
    )
    events = events.join(bad, on="line_number", how="anti")
    sorted_dims = (
        dims.join(events.select("line_number"), on="line_number", how="semi")
        .sort("line_number", "key")
        .group_by("line_number", maintain_order=True)
        .agg(pl.struct("key", "value").alias("dimensions"))
    )
    return (
        events.select(
            "line_number",
            *ids,
            pl.col("event_us").cast(TIMESTAMP).alias("event_time"),
            pl.when(needs).then(pl.col("value_text")).cast(QUANTITY).alias("value"),
        )
        .join(sorted_dims, on="line_number", how="left", maintain_order="left")
        .with_columns(pl.col("dimensions").cast(DIMENSIONS).fill_null(pl.lit([], dtype=DIMENSIONS)))
    )
