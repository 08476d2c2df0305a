"""The warehouse: Hive-partitioned Parquet, one file per partition, replaced atomically.

``<root>/warehouse/<table>/<column>=<key>/part-0.parquet``. The partition column lives in the
folder name (the Hive convention), not in the file. A partition is one file (on an object store,
one object) replaced as a whole through the root's storage (:mod:`meter_pipeline.storage`): a
reader sees the old partition or the new one, never a mix, and a writer killed half-way leaves
the old partition intact. A second writer of the same partition at the same time fails with
:class:`PartitionBusy` naming it ("partition … is being written by another run").
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow.parquet as pq

from data_contracts import CONTRACTS, PARTITION_COLUMN, polars_schema
from meter_pipeline.storage import PartitionBusy, PartitionWriteFailed, storage_for
from meter_pipeline.storage.local import LOCK_WAIT_S

__all__ = [
    "LOCK_WAIT_S",
    "PART_FILE",
    "PartitionBusy",
    "PartitionWriteFailed",
    "PartitionWriter",
    "existing_keys",
    "partition_exists",
    "partition_rel",
    "read_metadata",
    "read_stored",
    "remove_partition",
    "scan_partitions",
    "write_partition",
]

PART_FILE = "part-0.parquet"


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """Re-raise a failed write as :class:`PartitionWriteFailed` naming ``where``."""
    try:
        yield
    except (OSError, pl.exceptions.ComputeError) as exc:
        if isinstance(exc, PartitionWriteFailed) or where.rsplit("/", 1)[0] in str(exc):
            raise
        code = exc.errno if isinstance(exc, OSError) else None
        found = re.search(r"os error (\d+)|errno (\d+)", str(exc), re.IGNORECASE)
        if code is None and found:
            code = int(found.group(1) or found.group(2))
        detail = " ".join(str(exc).split())
        raise PartitionWriteFailed(code, f"cannot write {where}: {detail}") from None


def table_rel(table: str) -> str:
    return f"warehouse/{table}"


def partition_rel(table: str, key: str, column: str | None = None) -> str:
    """The partition file's path relative to the data root."""
    column = column or PARTITION_COLUMN[table]
    return f"{table_rel(table)}/{column}={key}/{PART_FILE}"


def partition_dir(root: str | Path, table: str, key: str, column: str | None = None) -> Path:
    """A local root's partition folder (local roots only: the tests look inside it)."""
    return Path(root) / partition_rel(table, key, column).rsplit("/", 1)[0]


def partition_exists(root: str | Path, table: str, key: str, column: str | None = None) -> bool:
    return storage_for(root).exists(partition_rel(table, key, column))


class PartitionWriter:
    """Write one partition in pieces (one row group each) and replace it atomically at the end.

    ``with PartitionWriter(root, table, key) as out: out.write(frame) …`` — the file is written
    aside and replaces the partition only when the block ends without an error; otherwise the
    old partition is left as it was. Frames must share one schema; the partition column is
    dropped from the file. With no frame written, ``empty`` (a frame of the schema) is.
    Columns named in ``plain`` (long, mostly distinct text such as raw lines) are written
    without a dictionary and without min/max statistics: both cost time and bytes there and
    serve no reader (measured in bench/README.md: half the write time, a smaller file).
    """

    def __init__(
        self,
        root: str | Path,
        table: str,
        key: str,
        *,
        column: str | None = None,
        empty: pl.DataFrame | None = None,
        plain: Iterable[str] = (),
    ):
        self.column = column or PARTITION_COLUMN[table]
        self.plain = frozenset(plain)
        self.storage = storage_for(root)
        self.rel = partition_rel(table, key, self.column)
        self.path = self.storage.location(self.rel)
        self.empty = empty
        self.writer: pq.ParquetWriter | None = None

    def __enter__(self) -> PartitionWriter:
        self.stack = ExitStack()
        self.tmp = self.stack.enter_context(self.storage.replace(self.rel))
        return self

    def write(self, frame: pl.DataFrame) -> None:
        if self.column in frame.columns:
            frame = frame.drop(self.column)
        table = frame.to_arrow()
        with _naming(self.path):
            if self.writer is None:
                rest = [name for name in table.column_names if name not in self.plain]
                self.writer = pq.ParquetWriter(
                    self.tmp,
                    table.schema,
                    compression="zstd",
                    use_dictionary=rest if self.plain else True,
                    write_statistics=rest if self.plain else True,
                )
            self.writer.write_table(table)

    def _close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            with _naming(self.path):
                writer.close()

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            try:
                if self.writer is None:
                    if self.empty is None:
                        raise ValueError(f"nothing written to {self.path} and no empty frame")
                    self.write(self.empty)
                self._close()
            except BaseException as exc:
                self.stack.__exit__(type(exc), exc, exc.__traceback__)
                raise
            self.stack.close()  # the storage replaces the partition
            return
        try:
            self._close()
        finally:  # the storage keeps the old partition
            self.stack.__exit__(kind, error, trace)


def write_partition(
    root: str | Path,
    table: str,
    key: str,
    frame: pl.DataFrame,
    *,
    column: str | None = None,
    metadata: dict[str, str] | None = None,
    compression: Literal["zstd", "lz4"] = "zstd",
) -> str:
    """Replace one partition atomically with ``frame``; the partition column is dropped.
    Returns the partition file's full name. ``compression``: zstd (the tables), or lz4 for an
    internal table read far more often than written (the event index: ascending hashes are slow
    to unpack from zstd, measured in bench/README.md)."""
    column = column or PARTITION_COLUMN[table]
    storage, rel = storage_for(root), partition_rel(table, key, column)
    if column in frame.columns:
        frame = frame.drop(column)
    where = storage.location(rel)
    with _naming(where), storage.replace(rel) as tmp:
        frame.write_parquet(tmp, compression=compression, metadata=metadata)
    return where


def remove_partition(root: str | Path, table: str, key: str, column: str | None = None) -> None:
    """Remove one partition's file; nothing when there is none."""
    storage_for(root).remove(partition_rel(table, key, column))


def read_metadata(
    root: str | Path, table: str, key: str, column: str | None = None
) -> dict[str, str] | None:
    """The key/value metadata of a partition file, or None when the partition does not exist."""
    storage, rel = storage_for(root), partition_rel(table, key, column)
    try:
        with storage.open_read(rel) as fh:
            raw = pq.read_metadata(fh).metadata or {}  # the file's key/value metadata
    except FileNotFoundError:
        return None
    return {k.decode(): v.decode() for k, v in raw.items() if k != b"ARROW:schema"}


def read_stored(
    root: str | Path, table: str, key: str, column: str | None = None
) -> pl.DataFrame | None:
    """A partition's file as it is (no schema imposed: one written by an earlier version, with
    fewer columns, reads too), or None when the partition does not exist."""
    try:
        data = storage_for(root).read_bytes(partition_rel(table, key, column))
    except FileNotFoundError:
        return None
    return pl.read_parquet(io.BytesIO(data))


def scan_partitions(
    root: str | Path,
    table: str,
    keys: Iterable[str],
    schema: pl.Schema | None = None,
    column: str | None = None,
) -> pl.LazyFrame:
    """Lazily read the given partitions (missing ones are empty), partition column restored.

    ``schema`` defaults to the table's contract; pass one for internal tables.
    """
    column = column or PARTITION_COLUMN[table]
    if schema is None:
        schema = polars_schema(CONTRACTS[table])
    file_schema = pl.Schema({k: v for k, v in schema.items() if k != column})
    storage = storage_for(root)
    rels = [partition_rel(table, key, column) for key in keys]
    paths = [storage.location(rel) for rel in storage.existing(rels)]
    if not paths:
        return pl.DataFrame(schema=schema).lazy()
    # The partition column comes from the folder names (Hive style); a literal column added per
    # file instead would make the streaming engine hold far more memory.
    hive = {column: schema[column]} if column in schema else None
    return pl.scan_parquet(
        paths,
        schema=file_schema,
        hive_partitioning=hive is not None,
        hive_schema=hive,
        storage_options=storage.storage_options,
    ).select(list(schema))


def existing_keys(root: str | Path, table: str, column: str | None = None) -> list[str]:
    """The keys of the table's partitions that have a file, sorted."""
    column = column or PARTITION_COLUMN[table]
    prefix = f"{column}="
    storage = storage_for(root)
    return sorted(
        folder[len(prefix) :]
        for folder in storage.folders_with(table_rel(table), PART_FILE)
        if folder.startswith(prefix)
    )
