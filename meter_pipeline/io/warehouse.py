"""The warehouse: Hive-partitioned Parquet, one folder per partition, replaced atomically.

``<root>/warehouse/<table>/<column>=<key>/part-0.parquet``. The partition column lives in the
folder name (the Hive convention), not in the file. A partition is one file, written aside
under a hidden name and moved into place with ``os.replace``: a reader sees the old file or
the new one, never a mix, and a writer killed half-way leaves the old partition intact.

Ownership: a writer holds an exclusive ``flock`` on ``<table>/.<column>=<key>.lock`` (beside the
partition folder, so the folder holds only its Parquet file) from the moment it
creates its temporary file until it has moved it into place. Holding the lock, it sweeps the
temporary files of killed writers (a live writer always holds the lock, so none of its files is
ever deleted). A second writer of the same partition waits up to :data:`LOCK_WAIT_S` seconds
and then fails with :class:`PartitionBusy` ("partition … is being written by another run").
The kernel drops the lock when a process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from data_contracts import CONTRACTS, PARTITION_COLUMN, polars_schema

PART_FILE = "part-0.parquet"
#: How long a writer waits for another run's write of the same partition to finish.
LOCK_WAIT_S = 60.0


class PartitionBusy(RuntimeError):
    """Another run is writing the same partition right now."""

    def __init__(self, folder: Path):
        super().__init__(
            f"partition {folder} is being written by another run; wait for that run to finish "
            "and re-run this one"
        )


class PartitionWriteFailed(OSError):
    """Writing a partition's file failed (disk full, read-only, …): the error names the file,
    which Polars' and pyarrow's own errors do not; ``errno`` kept when known."""


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Re-raise a failed write as :class:`PartitionWriteFailed` naming ``path``."""
    try:
        yield
    except (OSError, pl.exceptions.ComputeError) as exc:
        if isinstance(exc, PartitionWriteFailed) or str(path.parent) in str(exc):
            raise
        code = exc.errno if isinstance(exc, OSError) else None
        found = re.search(r"os error (\d+)|errno (\d+)", str(exc), re.IGNORECASE)
        if code is None and found:
            code = int(found.group(1) or found.group(2))
        detail = " ".join(str(exc).split())
        raise PartitionWriteFailed(code, f"cannot write {path}: {detail}") from None


def table_dir(root: str | Path, table: str) -> Path:
    return Path(root) / "warehouse" / table


def partition_dir(root: str | Path, table: str, key: str, column: str | None = None) -> Path:
    column = column or PARTITION_COLUMN[table]
    return table_dir(root, table) / f"{column}={key}"


def _lock(folder: Path, wait_s: float | None = None) -> int:
    """Take the partition's write lock (a file descriptor to close to release it)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent / f".{folder.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + (LOCK_WAIT_S if wait_s is None else wait_s)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise PartitionBusy(folder) from None
            time.sleep(0.05)


def _aside(folder: Path) -> Path:
    """A new hidden temporary path in ``folder``; the caller holds the partition's lock, so
    every other temporary file there is a killed writer's leftover and is swept."""
    for stale in folder.glob(f".{PART_FILE}.*.tmp"):
        stale.unlink(missing_ok=True)
    return folder / f".{PART_FILE}.{uuid.uuid4().hex}.tmp"


def _commit(tmp: Path, folder: Path) -> None:
    """Sync the finished temporary file and move it onto the partition file."""
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, folder / PART_FILE)


@contextmanager
def _replaced_atomically(folder: Path) -> Iterator[Path]:
    """A temporary path that replaces the partition file when the block ends without an error
    and is removed otherwise (the old partition stays as it was)."""
    lock = _lock(folder)
    try:
        tmp = _aside(folder)
        try:
            yield tmp
            _commit(tmp, folder)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        os.close(lock)


class PartitionWriter:
    """Write one partition in pieces (one row group each) and replace it atomically at the end.

    ``with PartitionWriter(root, table, key) as out: out.write(frame) …`` — the file is written
    aside under a hidden name and moved into place only when the block ends without an error;
    otherwise the old partition is left as it was. Frames must share one schema; the partition
    column is dropped from the file. With no frame written, ``empty`` (a frame of the schema) is.
    """

    def __init__(
        self,
        root: str | Path,
        table: str,
        key: str,
        *,
        column: str | None = None,
        empty: pl.DataFrame | None = None,
    ):
        self.column = column or PARTITION_COLUMN[table]
        self.folder = partition_dir(root, table, key, self.column)
        self.path = self.folder / PART_FILE
        self.empty = empty
        self.writer: pq.ParquetWriter | None = None

    def __enter__(self) -> PartitionWriter:
        self.lock = _lock(self.folder)
        self.tmp = _aside(self.folder)
        return self

    def write(self, frame: pl.DataFrame) -> None:
        if self.column in frame.columns:
            frame = frame.drop(self.column)
        table = frame.to_arrow()
        with _naming(self.path):
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
            self.writer.write_table(table)

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                if self.writer is None:
                    if self.empty is None:
                        raise ValueError(f"nothing written to {self.path} and no empty frame")
                    self.write(self.empty)
                assert self.writer is not None
                with _naming(self.path):
                    self.writer.close()
                self.writer = None
                _commit(self.tmp, self.folder)
        finally:
            try:
                if self.writer is not None:
                    self.writer.close()
                self.tmp.unlink(missing_ok=True)
            finally:
                os.close(self.lock)


def write_partition(
    root: str | Path,
    table: str,
    key: str,
    frame: pl.DataFrame,
    *,
    column: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Replace one partition atomically with ``frame``; the partition column is dropped."""
    column = column or PARTITION_COLUMN[table]
    folder = partition_dir(root, table, key, column)
    if column in frame.columns:
        frame = frame.drop(column)
    with _replaced_atomically(folder) as tmp, _naming(folder / PART_FILE):
        frame.write_parquet(tmp, compression="zstd", metadata=metadata)
    return folder / PART_FILE


def remove_partition(root: str | Path, table: str, key: str, column: str | None = None) -> None:
    """Remove one partition's file (under the partition's lock); nothing when there is none."""
    folder = partition_dir(root, table, key, column)
    if not folder.is_dir():
        return
    lock = _lock(folder)
    try:
        (folder / PART_FILE).unlink(missing_ok=True)
    finally:
        os.close(lock)


def read_metadata(
    root: str | Path, table: str, key: str, column: str | None = None
) -> dict[str, str] | None:
    """The key/value metadata of a partition file, or None when the partition does not exist."""
    path = partition_dir(root, table, key, column) / PART_FILE
    if not path.exists():
        return None
    raw = pq.read_metadata(path).metadata or {}  # the file's key/value metadata
    return {k.decode(): v.decode() for k, v in raw.items() if k != b"ARROW:schema"}


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
    paths = [
        path
        for key in keys
        if (path := partition_dir(root, table, key, column) / PART_FILE).exists()
    ]
    if not paths:
        return pl.DataFrame(schema=schema).lazy()
    # The partition column comes from the folder names (Hive style); a literal column added per
    # file instead would make the streaming engine hold far more memory.
    hive = {column: schema[column]} if column in schema else None
    return pl.scan_parquet(
        paths, schema=file_schema, hive_partitioning=hive is not None, hive_schema=hive
    ).select(list(schema))


def existing_keys(root: str | Path, table: str, column: str | None = None) -> list[str]:
    column = column or PARTITION_COLUMN[table]
    folder = table_dir(root, table)
    if not folder.is_dir():
        return []
    prefix = f"{column}="
    return sorted(
        p.name[len(prefix) :]
        for p in folder.iterdir()
        if p.name.startswith(prefix) and (p / PART_FILE).exists()
    )
