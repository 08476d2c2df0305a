"""CSV landing files (RFC 4180, UTF-8): a header row, then one event per record."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from meter_pipeline.io.jsonl import parse_json_object, strip_bom
from meter_pipeline.io.records import BadType, JsonNumber, RawRow

DIM_PREFIX = "dimensions."
TIMESTAMP_NAMES = ("timestamp", "meterTimeInMillis")


class UnreadableFile(Exception):
    """The whole file cannot be read: it becomes one ``malformed`` row with line number 0."""


def _records(data: bytes) -> Iterator[tuple[str, list[str] | None, str | None]]:
    """``(raw text, cells or None, error or None)`` per record, with the csv module's own RFC 4180
    quoting: a quote opens a quoted field only at the start of a field, and a quoted field may
    span lines. The raw text is the record's lines as they appear, without the final line end."""
    text = data.decode("utf-8", "surrogateescape")
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    reader = csv.reader(feed(), strict=True)
    while True:
        try:
            cells, error = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            cells, error = None, f"not a valid CSV record ({exc})"
        raw = "".join(consumed)
        consumed.clear()
        raw = raw[:-1] if raw.endswith("\n") else raw
        raw = raw[:-1] if raw.endswith("\r") else raw
        yield raw, cells, error


def _valid_utf8(raw: str) -> bool:
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dimension_cell(cell: str) -> object:
    obj, _error = parse_json_object(cell)
    return obj if obj is not None else BadType("dimensions cell that is not a JSON object")


def read_csv(data: bytes) -> Iterator[RawRow]:
    """Yield one row per non-blank data record, numbered from 1 (the header is row 0)."""
    records = _records(strip_bom(data))
    header: list[str] | None = None
    for raw, cells, error in records:
        if not raw.strip():
            continue
        if error is not None or not _valid_utf8(raw):
            raise UnreadableFile(f"header row is not valid CSV ({error or 'not valid UTF-8'})")
        header = cells
        break
    if header is None:
        return
    dupes = sorted({name for name in header if header.count(name) > 1})
    if dupes:
        raise UnreadableFile(f"header names {', '.join(map(repr, dupes))} more than once")
    number = 0
    for raw, cells, error in records:
        if not raw.strip():
            continue
        number += 1
        if not _valid_utf8(raw):
            text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            yield RawRow(number, text, None, "not valid UTF-8")
        elif error is not None:
            yield RawRow(number, raw, None, error)
        elif len(cells) != len(header):
            yield RawRow(number, raw, None, f"has {len(cells)} cells, the header has {len(header)}")
        else:
            yield RawRow(number, raw, _fields(header, cells))


def _fields(header: list[str], cells: list[str]) -> dict:
    fields: dict[str, object] = {}
    dims: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=True):  # read_csv checked the lengths
        if cell == "":
            continue
        if name.startswith(DIM_PREFIX):
            dims[name[len(DIM_PREFIX) :]] = cell
        elif name == "dimensions":
            fields["dimensions"] = _dimension_cell(cell)
        elif name in TIMESTAMP_NAMES and cell.isascii() and cell.isdigit():
            fields[name] = JsonNumber(cell, True)  # digits only: epoch milliseconds
        else:
            fields[name] = cell
    return merge_dimension_columns(fields, dims)


def merge_dimension_columns(fields: dict, dims: dict) -> dict:
    """Fold ``dimensions.<key>`` columns into ``dimensions``; both forms at once is a type error."""
    if dims:
        if "dimensions" in fields:
            fields["dimensions"] = BadType("dimensions both as a column and as dimensions.<key>")
        else:
            fields["dimensions"] = dims
    return fields
