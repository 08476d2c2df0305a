"""A spool on disk: frames appended to one Arrow IPC file (lz4), read back a frame at a time or
scanned lazily. The month close parks its lineage rows here until the invoice lines are numbered,
so a month's lineage is never all in memory (see ``billing/lineage.py``).

A frame is written by a background thread while the caller goes on (one frame waits at most, in
the order they came); Arrow IPC rather than Parquet because the spool is written once and read
once on the same machine: a 270K-row frame of the lineage's columns takes ~34 ms to write as
IPC with lz4 against ~50 ms as Parquet with lz4, for ~1.5× the bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc


class ArrowSpool:
    """Frames of one ``schema`` appended to ``path`` (a file the caller deletes afterwards)."""

    def __init__(self, path: str | Path, schema: pl.Schema):
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self._writer: ipc.RecordBatchFileWriter | None = None
        self._batches: list[int] = []  # record batches of each added frame, in order
        self._pool: ThreadPoolExecutor | None = ThreadPoolExecutor(max_workers=1)
        self._pending: Future[None] | None = None

    def add(self, frame: pl.DataFrame) -> None:
        if self._pool is None:
            raise RuntimeError("the spool is being read: nothing can be added to it any more")
        if frame.height == 0:
            return
        self._wait()
        self.rows += frame.height
        self._pending = self._pool.submit(self._write, frame)

    def _write(self, frame: pl.DataFrame) -> None:
        table = frame.select(list(self.schema)).cast(dict(self.schema)).to_arrow()
        if self._writer is None:
            options = ipc.IpcWriteOptions(compression="lz4")
            self._writer = ipc.new_file(self.path, table.schema, options=options)
        batches = table.to_batches()
        for batch in batches:
            self._writer.write_batch(batch)
        self._batches.append(len(batches))

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()  # a failed write raises here, in the caller

    def _close(self) -> None:
        """Every frame written and the file closed (further adds are refused)."""
        if self._pool is None:
            return
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)
            self._pool = None
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def chunks(self) -> Iterator[pl.DataFrame]:
        """The frames as added, in order."""
        self._close()
        if not self.path.exists():
            return
        with pa.OSFile(str(self.path)) as source:  # read into memory: frames outlive the file
            reader = ipc.open_file(source)
            start = 0
            for count in self._batches:
                batches = [reader.get_batch(start + i) for i in range(count)]
                start += count
                frame = pl.from_arrow(pa.Table.from_batches(batches, schema=reader.schema))
                assert isinstance(frame, pl.DataFrame)
                yield frame

    def scan(self) -> pl.LazyFrame:
        self._close()
        if not self.path.exists():
            return pl.DataFrame(schema=self.schema).lazy()
        return pl.scan_ipc(self.path)
