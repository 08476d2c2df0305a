"""CSV landing files (RFC 4180, UTF-8): a header row, then one event per record."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from meter_pipeline.io.jsonl import parse_json_object
from meter_pipeline.io.records import BadType, JsonNumber, RawRow

DIM_PREFIX = "dimensions."
TIMESTAMP_NAMES = ("timestamp", "meterTimeInMillis")


class UnreadableFile(Exception):
    """The whole file cannot be read: it becomes one ``malformed`` row with line number 0."""


def _records(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """Split into records on newlines outside quotes; ``(record, complete)``."""
    pending: list[bytes] = []
    quotes = 0
    for line in data.split(b"\n"):
        pending.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            record = b"\n".join(pending)
            pending, quotes = [], 0
            yield (record[:-1] if record.endswith(b"\r") else record), True
    if pending:
        yield b"\n".join(pending), False


def _cells(text: str) -> list[str]:
    return next(csv.reader([text], strict=True), [])


def _dimension_cell(cell: str) -> object:
    obj, _error = parse_json_object(cell)
    return obj if obj is not None else BadType("dimensions cell that is not a JSON object")


def read_csv(data: bytes) -> Iterator[RawRow]:
    """Yield one row per non-blank data record, numbered from 1 (the header is row 0)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    records = _records(data)
    header: list[str] | None = None
    for record, complete in records:
        if not record.strip():
            continue
        try:
            header = _cells(record.decode("utf-8"))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableFile(f"header row is not valid CSV ({exc})") from None
        if not complete:
            raise UnreadableFile("header row has an unterminated quote")
        break
    if header is None:
        return
    dupes = sorted({name for name in header if header.count(name) > 1})
    if dupes:
        raise UnreadableFile(f"header names {', '.join(map(repr, dupes))} more than once")
    number = 0
    for record, complete in records:
        if not record.strip():
            continue
        number += 1
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRow(number, record.decode("utf-8", "replace"), None, "not valid UTF-8")
            continue
        if not complete:
            yield RawRow(number, text, None, "unterminated quoted field")
            continue
        try:
            cells = _cells(text)
        except csv.Error as exc:
            yield RawRow(number, text, None, f"not a valid CSV record ({exc})")
            continue
        if len(cells) != len(header):
            yield RawRow(number, text, None,
                         f"has {len(cells)} cells, the header has {len(header)}")
            continue
        yield RawRow(number, text, _fields(header, cells))


def _fields(header: list[str], cells: list[str]) -> dict:
    fields: dict[str, object] = {}
    dims: dict[str, object] = {}
    for name, cell in zip(header, cells):
        if cell == "":
            continue
        if name.startswith(DIM_PREFIX):
            dims[name[len(DIM_PREFIX):]] = cell
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
