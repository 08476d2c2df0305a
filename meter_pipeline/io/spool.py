"""A spool on disk: frames appended as row groups of one Parquet file, read back a row group at
a time or scanned lazily. The month close parks its lineage rows here until the invoice lines
are numbered, so a month's lineage is never all in memory (see ``billing/lineage.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq


class ParquetSpool:
    """Frames of one ``schema`` appended to ``path`` (a file the caller deletes afterwards)."""

    def __init__(self, path: str | Path, schema: pl.Schema):
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._groups = 0

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        table = frame.select(list(self.schema)).cast(dict(self.schema)).to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="lz4")
        self._writer.write_table(table)
        self.rows += frame.height
        self._groups += 1

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def chunks(self) -> Iterator[pl.DataFrame]:
        """The frames as appended (a row group each), in order."""
        self._close()
        if not self.path.exists():
            return
        file = pq.ParquetFile(self.path)
        for group in range(file.num_row_groups):
            frame = pl.from_arrow(file.read_row_group(group))
            assert isinstance(frame, pl.DataFrame)
            yield frame

    def scan(self) -> pl.LazyFrame:
        self._close()
        if not self.path.exists():
            return pl.DataFrame(schema=self.schema).lazy()
        return pl.scan_parquet(self.path)
