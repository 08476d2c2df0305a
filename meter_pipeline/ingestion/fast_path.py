"""A vectorised fast path for JSONL lines that are plainly valid events (docs/rules.md#2-an-event,
docs/rules.md#3-validation-quarantined_events).

Most lines of a real feed are flat JSON objects with the known field names, plain string values
(no escapes), plain decimal numbers and a flat string-to-string ``dimensions`` object. The
plainest of them are read by a compiled pass first (:mod:`meter_pipeline.ingestion.line_scan`);
what it leaves, when there are enough such lines (:data:`BULK_MIN_LINES`), is the second tier
described here. Such a line is recognised with a strict regular expression over the whole line
(Polars, Rust regex);
the recognised lines are then read in bulk by pyarrow's JSON reader (C++) into typed columns —
the value straight into ``decimal128(38, 9)`` from its decimal text, never through a float — and
every rule of docs/rules.md is checked on those columns. A line is accepted here only when every
rule is checked and passes; any line that is unusual (escapes, nulls, booleans, exponents,
unknown or repeated fields …) or breaks any rule goes to the exact per-line path in
:mod:`meter_pipeline.ingestion.validate`, which gives the reason and detail. So the fast path can
only make things faster, never different.

Its grammar is :mod:`meter_pipeline.grammar`'s, anchored for Polars, and narrowed where noted: a
value must be a plain decimal (no exponent, at most 20 integer digits and 9 fraction digits) and
epoch milliseconds a plain integer of at most 15 digits; anything else goes per line. The shape
check is what makes pyarrow's reading exact: pyarrow's decimal reader alone would also accept
``"+2.5"``, ``".5"``, ``"2."``, ``"00.5"`` or ``"1E3"``, which the rules reject, and a number's text
cannot be had back from its column — so the form is checked on the line itself, before pyarrow
reads it.

pyarrow refuses a whole block for one line it cannot read (a repeated key, a field of another
type): the block is then read again without the line its error names (or in halves when it names
none), at most :data:`MAX_REREADS` times per call; whatever is left after that goes per line.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from data_contracts.base import DIMENSIONS, TIMESTAMP
from meter_pipeline.config.meters import Meter
from meter_pipeline.grammar import (
    MAX_LEN,
    MAX_MS_DIGITS,
    MAX_OFFSET_HOURS,
    MAX_OFFSET_MINUTES,
    MAX_US,
    RFC3339_PATTERN,
    json_fraction,
    json_integer,
)
from meter_pipeline.ingestion.line_scan import scan_lines
from meter_pipeline.ingestion.validate import ALIASES, ValidationContext
from meter_pipeline.money import QUANTITY, VALUE_LIMIT

# The shape of a plain line: a flat object of known fields, each with the JSON type the bulk
# reader gives it (strings without escapes or control characters, plain decimal values, plain
# integer or string timestamps), and a flat string-to-string dimensions object. Whitespace is
# blanks and tabs only: pyarrow would take a carriage return inside a line for a line end.
_WS = "[ \t]*"
_STR = r'"[^"\\\x00-\x1f]*"'
#: A value: a JSON number narrowed to no exponent, at most 20 integer digits (so |value| < 10^20
#: holds without a comparison) and 1–9 fraction digits (exact in Decimal(38, 9): nothing to
#: round); as a number or inside a string.
_DECIMAL = f"{json_integer(VALUE_LIMIT.adjusted())}(?:{json_fraction(QUANTITY.scale)})?"
#: Epoch milliseconds: a JSON integer narrowed to no sign and at most 15 digits (every instant in
#: range has at most that many; ×1000 stays inside int64).
_MILLIS = json_integer(MAX_MS_DIGITS, signed=False)
#: The longest number token the shape admits (sign, 20 digits, point, 9 digits): a smaller
#: ``limits.max_number_chars`` sends every line per line.
LONGEST_NUMBER = 1 + VALUE_LIMIT.adjusted() + 1 + QUANTITY.scale
_PAIR = f"{_STR}{_WS}:{_WS}{_STR}"
_OBJ = rf"\{{{_WS}(?:{_PAIR}(?:{_WS},{_WS}{_PAIR})*)?{_WS}\}}"


def _names(canonical: str) -> list[str]:
    return [canonical, *(alias for alias, name in ALIASES.items() if name == canonical)]


_ID_FIELDS = ("event_id", "customer_id", "meter")
_IDS = [name for field in _ID_FIELDS for name in _names(field)]
_STAMPS, _VALUES = _names("timestamp"), _names("value")


def _key(names: list[str]) -> str:
    return '"(?:' + "|".join(names) + f')"{_WS}:{_WS}'


_ITEM = (
    f"(?:{_key(_IDS)}{_STR}|{_key(_STAMPS)}(?:{_STR}|{_MILLIS})"
    f'|{_key(_VALUES)}(?:{_DECIMAL}|"{_DECIMAL}")|{_key(["dimensions"])}{_OBJ})'
)
LINE = f"^{_WS}\\{{{_WS}{_ITEM}(?:{_WS},{_WS}{_ITEM})*{_WS}\\}}{_WS}$"
#: A line whose timestamp is a string (else it is epoch milliseconds, or absent); a dimension
#: named like a timestamp field can mislead it, and pyarrow then refuses the line.
_STRING_STAMP = f'{_key(_STAMPS)}"'

#: A timestamp string's text: the grammar's RFC 3339 form.
_RFC3339 = f"^{RFC3339_PATTERN}$"
#: pyarrow's reads of one call that may fail before the rest goes per line.
MAX_REREADS = 16
#: Distinct dimension keys in one read beyond which the read is halved (the keys become struct
#: fields, and each costs a pass over the rows).
MAX_DIMENSION_KEYS = 64
_ERROR_ROW = re.compile(r"\bin row (\d+)\b")


def _schema(stamp: pa.DataType, aliased: bool) -> pa.Schema:
    def named(names: list[str]) -> list[str]:
        return names if aliased else [name for name in names if name not in ALIASES]

    return pa.schema(
        [(name, pa.string()) for name in named(_IDS)]
        + [(name, stamp) for name in named(_STAMPS)]
        + [(name, pa.decimal128(QUANTITY.precision, QUANTITY.scale)) for name in named(_VALUES)]
    )


#: The reader's schema by (timestamp is a string, the line may use an alias name): alias
#: columns cost the reader time, so lines without any alias are read without them.
_SCHEMAS = {
    (string, aliased): _schema(pa.string() if string else pa.int64(), aliased)
    for string in (True, False)
    for aliased in (True, False)
}
#: A line that may use an alias name (any mention of one: the reader refuses a column it was
#: not given, so a false mention only costs time).
_ALIASED = "|".join(ALIASES)


class _Unread(Exception):
    """A read whose rows cannot be used as they are (rows miscounted, a field not asked for,
    dimensions not a struct or with too many keys): read again in halves."""


def _days_from_civil(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (years ≥ 1), integers only."""
    y = y - (m <= 2).cast(pl.Int64)
    era = y // 400
    yoe = y - era * 400
    mp = pl.when(m > 2).then(m - 3).otherwise(m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _rfc3339_parts(stamp: pl.Expr) -> list[pl.Expr]:
    """The parts of a timestamp's text as integer columns ``_y`` … ``_om`` (and ``_shaped``),
    for :func:`_rfc3339_us`; each is read once.

    The text must have :data:`_RFC3339`'s shape (one regex test); its parts are then at fixed
    places, read by slicing (ASCII only, so bytes are characters): the date and time are the
    first 19 characters, the zone is the final ``Z`` or the last six (``±HH:MM``), and the
    fraction digits lie between (beyond microseconds truncated, as the grammar says)."""

    def number(part: pl.Expr) -> pl.Expr:
        return part.cast(pl.Int64, strict=False)  # used only where the shape holds

    def at(start: int, length: int) -> pl.Expr:
        return number(stamp.str.slice(start, length))

    zulu = stamp.str.ends_with("Z")
    digits = stamp.str.len_bytes().cast(pl.Int64) - pl.when(zulu).then(21).otherwise(26)
    fraction = stamp.str.slice(20, pl.max_horizontal(digits, 0))
    return [
        stamp.str.contains(_RFC3339).alias("_shaped"),
        *(at(start, n).alias(name) for name, start, n in _PLACES),
        number(fraction.str.pad_end(6, "0").str.slice(0, 6)).alias("_micro"),
        pl.when(zulu).then(0).otherwise(at(-5, 2)).alias("_oh"),
        pl.when(zulu).then(0).otherwise(at(-2, 2)).alias("_om"),
        pl.when(~zulu & (stamp.str.slice(-6, 1) == "-")).then(-1).otherwise(1).alias("_sign"),
    ]


#: Where :data:`_RFC3339`'s date and time parts are: (column, first character, length).
_PLACES = (("_y", 0, 4), ("_mo", 5, 2), ("_d", 8, 2), ("_h", 11, 2), ("_mi", 14, 2), ("_s", 17, 2))


def _rfc3339_us() -> pl.Expr:
    """UTC microseconds from the columns of :func:`_rfc3339_parts`; null when the text is not a
    valid instant in range."""
    y, mo, d, h, mi, s, micro, oh, om, sign = (
        pl.col(f"_{name}") for name in ("y", "mo", "d", "h", "mi", "s", "micro", "oh", "om", "sign")
    )
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = (
        pl.when(mo == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(mo.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )
    ok = (
        pl.col("_shaped")
        & (y >= 1)
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


def _read(lines: pl.DataFrame, schema: pa.Schema) -> pl.DataFrame:
    """pyarrow's read of the lines (one block, so an error names its row in the block), as
    line_number and the typed columns of ``schema``, and ``dimensions`` (a struct of the keys
    seen) when a line has one."""
    data = lines.get_column("text").str.join("\n").item().encode()
    table = pa_json.read_json(
        pa.BufferReader(data),
        read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
        ),
    )
    if table.num_rows != lines.height:
        raise _Unread(f"{table.num_rows} rows read from {lines.height} lines")
    unexpected = set(table.column_names) - {*schema.names, "dimensions"}
    if unexpected:  # cannot be (the shape admits known names only, and aliases are looked for)
        raise _Unread(f"fields {sorted(unexpected)} read")
    if "dimensions" in table.column_names:
        kind = table.schema.field("dimensions").type
        if not pa.types.is_struct(kind) or kind.num_fields > MAX_DIMENSION_KEYS:
            raise _Unread(f"dimensions read as {kind}")
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(lines.get_column("line_number"))


def _bulk(lines: pl.DataFrame, schema: pa.Schema) -> list[pl.DataFrame]:
    """:func:`_read` of the lines, in parts; a line pyarrow refuses is left out (it goes per
    line), and after :data:`MAX_REREADS` refusals so is every line not read yet."""
    pending, read, rereads = [lines], [], 0
    while pending:
        part = pending.pop()
        if part.height == 0:
            continue
        try:
            read.append(_read(part, schema))
        except (pa.ArrowInvalid, _Unread) as error:
            if rereads == MAX_REREADS:
                continue
            rereads += 1
            named = _ERROR_ROW.search(str(error)) if isinstance(error, pa.ArrowInvalid) else None
            row = int(named.group(1)) if named else part.height
            if row < part.height:
                pending += [part.slice(row + 1), part.slice(0, row)]
            elif part.height > 1:
                half = part.height // 2
                pending += [part.slice(half), part.slice(0, half)]
    return read


def _events(read: pl.DataFrame, ctx: ValidationContext) -> pl.DataFrame:
    """The plainly valid events of one read (see :func:`fast_events`)."""
    meters = ctx.meters
    needs_value = [m.name for m in meters.values() if m.needs_value]
    negative_ok = [m.name for m in meters.values() if m.allow_negative]
    given = {
        field: [name for name in _names(field) if name in read.columns]
        for field in (*_ID_FIELDS, "timestamp", "value")
    }
    columns = [pl.coalesce(names).alias(field) for field, names in given.items()]
    # The dimensions: the struct's fields as columns _d0 … (a key can be any text); or, from
    # the compiled pass, the final list already, whose rules are checked here at once.
    struct = read.schema.get("dimensions")
    listed = isinstance(struct, pl.List)
    keys = sorted(f.name for f in struct.fields) if isinstance(struct, pl.Struct) else []
    if listed:
        read = read.filter(pl.Series(_listed_dimensions_ok(read, meters)))
    column_of = {key: f"_d{n}" for n, key in enumerate(keys)}
    if keys:
        dims = read.get_column("dimensions")
        read = read.with_columns(dims.struct.field(key).alias(column_of[key]) for key in keys)

    def present(key: str) -> pl.Expr:
        name = column_of.get(key)
        return pl.lit(False) if name is None else pl.col(name).is_not_null() & (pl.col(name) != "")

    listed_column = ["dimensions"] if listed else []
    meter, value = pl.col("meter"), pl.col("value")
    required = [
        (meter != m.name) | pl.all_horizontal(present(d) for d in m.all_required_dimensions)
        for m in meters.values()
        if m.all_required_dimensions and not listed  # (a list's are checked above)
    ]
    dims_fit = [
        pl.col(name).is_null() | ((len(key) <= MAX_LEN) & (pl.col(name).str.len_chars() <= MAX_LEN))
        for key, name in column_of.items()
    ]
    stamp = pl.col("timestamp")
    if read.schema["timestamp"] == pl.String:
        parts, event_us = _rfc3339_parts(stamp), _rfc3339_us()
    elif isinstance(read.schema["timestamp"], pl.Datetime):  # read as an instant already
        parts, event_us = [], stamp.dt.epoch("us")
    else:
        parts, event_us = [], stamp * 1000
    needs = meter.is_in(needs_value)
    events = (
        read.filter(  # a field given under both names goes per line
            *[
                pl.sum_horizontal(pl.col(n).is_not_null() for n in names) <= 1
                for names in given.values()
            ]
        )
        .select("line_number", *column_of.values(), *columns, *listed_column)
        .filter(
            *[pl.col(n).str.len_chars().is_between(1, MAX_LEN) for n in _ID_FIELDS],
            meter.is_in(list(meters)),
            ~needs | value.is_not_null(),
            ~needs | (value >= 0) | meter.is_in(negative_ok),
            *required,
            *dims_fit,
        )
        .with_columns(*parts)
        .with_columns(event_us.alias("event_us"))
        .filter(
            pl.col("event_us").is_between(
                max(ctx.oldest_us, 0), min(ctx.future_us, MAX_US), closed="left"
            )
        )
        .select(
            "line_number",
            *_ID_FIELDS,
            pl.col("event_us").cast(TIMESTAMP).alias("event_time"),
            pl.when(needs).then(value).cast(QUANTITY).alias("value"),
            *column_of.values(),
            *listed_column,
        )
    )
    if listed:
        return events
    return (
        events.drop(*column_of.values())
        .join(_dimensions(events, column_of), on="line_number", how="left", maintain_order="left")
        .with_columns(pl.col("dimensions").fill_null(pl.lit([], dtype=DIMENSIONS)))
    )


def _listed_dimensions_ok(read: pl.DataFrame, meters: dict[str, Meter]) -> np.ndarray:
    """Per row of a read whose ``dimensions`` is the list of (key, value) pairs (distinct keys):
    every key and value is at most MAX_LEN characters, and every dimension the row's meter
    requires is there with a value that is not empty. Counted over the pairs at once."""
    rows = read.height
    pairs = read.get_column("dimensions").to_arrow().cast(_PAIRS)
    if isinstance(pairs, pa.ChunkedArray):
        pairs = pairs.combine_chunks()
    row_of = pc.list_parent_indices(pairs).to_numpy()
    flat = pairs.flatten()
    keys, values = flat.field("key"), flat.field("value")
    value_chars = pc.utf8_length(values).to_numpy()
    too_long = (pc.utf8_length(keys).to_numpy() > MAX_LEN) | (value_chars > MAX_LEN)
    ok = np.bincount(row_of[too_long], minlength=rows) == 0
    required = {m.name: m.all_required_dimensions for m in meters.values()}
    required = {name: wanted for name, wanted in required.items() if wanted}
    if not required:
        return ok
    names = sorted({key for wanted in required.values() for key in wanted})
    meter_names = list(required)
    wants = np.zeros((len(meter_names), len(names)), dtype=np.bool_)
    for m, wanted in enumerate(required.values()):
        wants[m, [names.index(key) for key in wanted]] = True
    meter_of = _codes(read.get_column("meter").to_arrow(), meter_names)
    key_of = _codes(keys, names)
    pair_meter = meter_of[row_of]
    counted = (pair_meter >= 0) & (key_of >= 0) & (value_chars > 0)
    counted[counted] = wants[pair_meter[counted], key_of[counted]]
    have = np.bincount(row_of[counted], minlength=rows)
    need = np.where(meter_of >= 0, wants.sum(axis=1)[np.maximum(meter_of, 0)], 0)
    return ok & (have == need)


_PAIRS = pa.large_list(pa.struct([("key", pa.large_string()), ("value", pa.large_string())]))


def _codes(strings: pa.Array | pa.ChunkedArray, names: list[str]) -> np.ndarray:
    """The position of each string among ``names``, -1 when it is none of them."""
    found = pc.index_in(strings, value_set=pa.array(names, pa.large_string()))
    return pc.fill_null(found, -1).to_numpy().astype(np.int64)


def _dimensions(events: pl.DataFrame, column_of: dict[str, str]) -> pl.DataFrame:
    """(line_number, dimensions): the sorted (key, value) list of the dimensions a line has."""
    schema = {"line_number": pl.Int64, "dimensions": DIMENSIONS}
    if not column_of:
        return pl.DataFrame(schema=schema)
    key_of = {name: key for key, name in column_of.items()}
    return (
        events.select("line_number", *key_of)
        .unpivot(index="line_number", on=list(key_of), variable_name="key")
        .drop_nulls("value")
        .with_columns(pl.col("key").replace_strict(key_of, return_dtype=pl.String))
        .sort("line_number", "key")
        .group_by("line_number", maintain_order=True)
        .agg(pl.struct("key", "value").alias("dimensions"))
        .cast(schema)
    )


def fast_events(lines: pl.DataFrame, ctx: ValidationContext) -> pl.DataFrame:
    """The lines (``line_number``, ``text``) that are plainly valid events, parsed.

    Returns line_number, event_id, customer_id, meter, event_time, value, dimensions for exactly
    those lines, in line order; every other line must take the per-line path.
    """
    empty = pl.DataFrame(
        schema={
            "line_number": pl.Int64,
            **{name: pl.String for name in _ID_FIELDS},
            "event_time": TIMESTAMP,
            "value": QUANTITY,
            "dimensions": DIMENSIONS,
        }
    )
    if ctx.max_number_chars < LONGEST_NUMBER:
        return empty  # the shape cannot tell a token's length: every line goes per line
    # The plainest lines are read by the compiled pass; enough of the others go through the
    # shape regex and pyarrow's reader; the rest per line.
    scanned, rest = scan_lines(lines.select("line_number", "text"))
    reads = scanned + (_shaped_reads(rest) if rest.height >= BULK_MIN_LINES else [])
    return pl.concat([empty, *(_events(read, ctx) for read in reads)]).sort("line_number")


#: The lines the compiled pass leaves are read with the shape regex and pyarrow only when there
#: are at least this many: that costs ~20 ms a call, the per-line path ~10 µs a line.
BULK_MIN_LINES = 2048


def _shaped_reads(lines: pl.DataFrame) -> list[pl.DataFrame]:
    """pyarrow's reads of the lines :data:`LINE` admits, by timestamp type and alias use."""
    text = pl.col("text")
    groups = (
        lines.filter(text.str.contains(LINE))
        .with_columns(
            text.str.contains(_STRING_STAMP).alias("_string"),
            text.str.contains(_ALIASED).alias("_alias"),
        )
        .partition_by("_string", "_alias", as_dict=True, include_key=False, maintain_order=True)
    )
    return [
        read
        for (string, aliased), part in groups.items()
        for read in _bulk(part, _SCHEMAS[string, aliased])
    ]
