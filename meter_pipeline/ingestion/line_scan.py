"""A compiled first pass over JSONL lines for the fast path (docs/rules.md#2-an-event).

:func:`scan_lines` reads the plainest lines of a feed — a flat object of the canonical field
names, each once, string values without escapes or control characters, plain decimal values,
RFC 3339 strings or plain epoch-millisecond integers as timestamps, and a flat string-to-string
``dimensions`` object with distinct keys — in one compiled pass per line (numba, machine code
with the GIL released, so two slices run at once), and hands back typed columns for the fast
path's rule checks, the dimensions already as the table's key-sorted list of pairs. Its grammar
is a strict subset of :data:`meter_pipeline.ingestion.fast_path.LINE` (it admits fewer names and
no repeated key, and nothing else more), so every line it reads would have been read the same way
by that path; every line it leaves goes to that path, and from there per line as before. The
rules are then checked on the typed columns by the fast path.

Numbers keep their text: a value's digits are checked here against the grammar (no exponent, at
most 20 integer digits and 9 fraction digits, no leading zero, no ``+``) and then read into
``decimal128(38, 9)`` by Arrow's decimal parser from that text (exact: nothing to round), never
through a float. The timestamp is read here into UTC microseconds, from epoch milliseconds (at
most 15 digits, no sign) or from RFC 3339 text by the grammar's rules
(:func:`meter_pipeline.grammar.parse_rfc3339_us`: fixed places, the calendar, offsets up to
±23:59, fraction digits beyond microseconds truncated, 1970–9999); a line whose timestamp is not
such an instant is left to the other path, which gives the reason.
"""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from meter_pipeline.money import QUANTITY

#: The fields a scanned line may have, in their column order (``dimensions`` apart).
FIELDS = ("event_id", "customer_id", "meter", "timestamp", "value")


_DECIMAL = pa.decimal128(QUANTITY.precision, QUANTITY.scale)


def _kernels():
    """The compiled kernels, imported on first use (numba's import and cache load cost a few
    hundred milliseconds a process: only a process that parses a large file pays them)."""
    from meter_pipeline.ingestion import line_scan_kernels

    return line_scan_kernels


def _strings(buf: np.ndarray, first: np.ndarray, last: np.ndarray) -> pa.Array:
    """The byte spans buf[first[k]:last[k]] as a string array (the bytes are UTF-8: they are
    cut out of UTF-8 lines at ASCII quotes)."""
    offsets = np.empty(first.shape[0] + 1, dtype=np.int64)
    out = np.empty(int((last - first).sum()), dtype=np.uint8)
    _kernels().gather(buf, first, last, offsets, out)
    return pa.LargeStringArray.from_buffers(
        first.shape[0], pa.py_buffer(offsets), pa.py_buffer(out)
    )


def _optional(present: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` (one per present row) spread over all rows, null where absent."""
    position = np.cumsum(present) - 1
    return values.take(pa.array(position, mask=~present))


def _dimensions(
    buf: np.ndarray,
    rows: np.ndarray,
    pair_start: np.ndarray,
    pair_count: np.ndarray,
    pairs: np.ndarray,
) -> pa.LargeListArray:
    """The rows' dimensions as the list of (key, value) pairs ordered by key (the final form;
    empty where a row has none)."""
    _kernels().sort_pairs(buf, rows, pair_start, pair_count, pairs)
    counts = pair_count[rows]
    offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    index = np.repeat(pair_start[rows] - offsets[:-1], counts) + np.arange(total)
    chosen = pairs[index]
    keys = _strings(buf, chosen[:, 0], chosen[:, 1])
    values = _strings(buf, chosen[:, 2], chosen[:, 3])
    structs = pa.StructArray.from_arrays([keys, values], names=["key", "value"])
    return pa.LargeListArray.from_arrays(pa.array(offsets), structs)


def _line_bytes(text: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines' UTF-8 bytes (Arrow's buffer, not copied again) and where each line starts and
    ends in it."""
    array = text.to_arrow()
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return buf, bounds[:-1], bounds[1:]


def scan_lines(lines: pl.DataFrame) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """The lines (line_number, text) this pass reads, as frames of the columns the fast path's
    rule checks take (line_number, the FIELDS — the timestamp as the instant it names — and
    ``dimensions``, already the sorted list of (key, value) pairs the tables hold), and the
    lines it leaves."""
    read, frame = scan_spans(*_line_bytes(lines.get_column("text")))
    if frame is None:
        return [], lines
    frame = frame.with_columns(lines.get_column("line_number").gather(np.flatnonzero(read)))
    return [frame], lines.filter(pl.Series(~read))


def scan_spans(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, pl.DataFrame | None]:
    """The lines ``buf[starts[k]:ends[k]]`` (UTF-8 bytes, no line break) this pass reads, as a
    mask, and their columns (the FIELDS and ``dimensions``, a row per line read, in order;
    None when it reads none)."""
    kernels = _kernels()
    n = starts.shape[0]
    spans = np.zeros((n, 5, 2), dtype=np.int64)
    kinds = np.zeros((n, 5), dtype=np.int8)
    instants = np.zeros(n, dtype=np.int64)
    pair_start = np.zeros(n, dtype=np.int64)
    pair_count = np.zeros(n, dtype=np.int64)
    pairs = np.empty((buf.shape[0] // 6 + 1, 4), dtype=np.int64)  # a pair takes ≥ 6 bytes
    read, _ = kernels.scan(buf, starts, ends, spans, kinds, instants, pair_start, pair_count, pairs)
    rows = np.flatnonzero(read)
    if not rows.shape[0]:
        return read, None
    columns = {
        name: _strings(buf, spans[rows, f, 0], spans[rows, f, 1])
        for f, name in enumerate(FIELDS[:3])
    }
    columns["timestamp"] = pa.array(instants[rows], pa.timestamp("us", "UTC"))
    has_value = kinds[rows, 4] != 0
    given = rows[has_value]
    text_values = _strings(buf, spans[given, 4, 0], spans[given, 4, 1])
    columns["value"] = _optional(has_value, pc.cast(text_values, _DECIMAL))
    columns["dimensions"] = _dimensions(buf, rows, pair_start, pair_count, pairs)
    frame = pl.from_arrow(pa.table(columns))
    assert isinstance(frame, pl.DataFrame)
    return read, frame


#: A landing day with a JSONL file of at least this many bytes (~350 lines) loads the kernels
#: ahead (:func:`prepare`).
PREPARE_BYTES = 64 * 1024
_prepare_lock = threading.Lock()
_prepared: threading.Thread | None = None


def prepare() -> threading.Thread:
    """Load the compiled kernels in a background thread, once a process (numba's import and the
    load of its cache take ~0.4 s; started when a day's listing is known, they overlap the read
    of its first file instead of waiting for it). A kernel called meanwhile waits for the load
    (numba compiles and loads under one lock); a load that fails is left to that call to raise."""
    global _prepared
    with _prepare_lock:
        if _prepared is None:
            _prepared = threading.Thread(target=_quiet_warm, name="line-scan-load", daemon=True)
            _prepared.start()
        return _prepared


def _quiet_warm() -> None:
    try:
        warm()
    except Exception:  # noqa: BLE001 - the first real call raises it, where it is handled
        pass


def warm() -> None:
    """Compile the kernels now — the line scan's and the id window's merge — (numba caches them
    on disk, next to the package or under $NUMBA_CACHE_DIR): for images whose package folder is
    read-only at run time (docs/deploy.md)."""
    from meter_pipeline.ingestion.merge_kernels import sorted_hits

    line = b'{"event_id":"e","customer_id":"c","meter":"m","timestamp":0,"dimensions":{"k":"v"}}'
    scan_lines(pl.DataFrame({"line_number": [1], "text": [line.decode()]}))
    hashes = np.arange(3, dtype=np.uint64)
    sorted_hits(hashes, hashes[1:], np.zeros(3, dtype=np.bool_))
