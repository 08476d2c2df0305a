"""Ingestion limits: what one landing file or day may cost, with safe defaults.

Set in ``reference/meters.yaml`` under ``limits:`` (parsed by :mod:`meter_pipeline.config.limits`).
A file over a limit becomes one ``malformed`` row with line number 0 whose detail names the limit
(the other files of the day still load); a number token over ``max_number_chars`` makes its row
``invalid_value`` or ``invalid_timestamp``. Memory stays bounded: a gzip file is decompressed in
a stream and stopped at the cap, a Parquet file's row count and size are read from its footer
before any data.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB, MIB, GIB = 1024, 1024**2, 1024**3


@dataclass(frozen=True)
class Limits:
    """The limits of one data root (see :data:`DEFAULTS` for their meaning)."""

    max_file_bytes: int = 1 * GIB
    max_day_bytes: int = 16 * GIB
    max_line_bytes: int = 1 * MIB
    max_parquet_rows: int = 5_000_000
    max_parquet_rows_per_kib: int = 64
    min_parquet_rows: int = 10_000
    max_number_chars: int = 100

    def parquet_rows(self, file_bytes: int) -> int:
        """The most rows a Parquet file of ``file_bytes`` bytes may declare."""
        by_size = max(self.min_parquet_rows, file_bytes * self.max_parquet_rows_per_kib // KIB)
        return min(self.max_parquet_rows, by_size)


#: name → what it bounds (for docs and error details).
DEFAULTS = {
    "max_file_bytes": "bytes of one landing file after decompression",
    "max_day_bytes": "bytes of one landing day's files after decompression, in path order",
    "max_line_bytes": "bytes of one JSONL line or CSV physical line",
    "max_parquet_rows": "rows one Parquet file may declare",
    "max_parquet_rows_per_kib": "rows a Parquet file may declare per KiB of its size",
    "min_parquet_rows": "rows a Parquet file may declare whatever its size (up to the maximum)",
    "max_number_chars": "characters of a value or an integer timestamp token",
}


class LimitExceeded(Exception):
    """A landing file breaks a limit: it becomes one malformed row (line 0) with this detail."""

    def __init__(self, name: str, limit: int, what: str):
        self.name = name
        super().__init__(f"{what} exceeds the limit {name} = {limit} (meters.yaml limits:)")
