"""Shared helpers for asset definitions: contract → UI metadata, the loop over a run's partition
keys with its writes and metadata (:class:`PartitionRun`), previews."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, conform
from data_contracts.base import descriptions, model_description, polars_schema
from meter_pipeline import progress
from meter_pipeline.io import warehouse

OWNERS = ["team:data-platform"]
KINDS = {"polars", "parquet"}

#: A ranged backfill runs as one run per asset (its body loops over the partitions in order),
#: not one process per partition.
SINGLE_RUN = dg.BackfillPolicy.single_run()


def column_schema(table: str) -> dg.TableSchema:
    model = CONTRACTS[table]
    docs = descriptions(model)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, str(dtype), description=docs.get(name) or None)
            for name, dtype in polars_schema(model).items()
        ]
    )


def table_spec(table: str, group: str, **kwargs) -> dict:
    """Description, owners, kinds and column schema of a warehouse table, from its contract."""
    return dict(
        description=model_description(CONTRACTS[table]),
        owners=OWNERS,
        kinds=KINDS,
        group_name=group,
        metadata={
            "dagster/column_schema": column_schema(table),
            "warehouse_path": f"warehouse/{table}/",
        },
        **kwargs,
    )


def table_asset_spec(table: str, group: str, deps: tuple = ()) -> dg.AssetSpec:
    """The AssetSpec of a warehouse table for a multi-asset, from its contract."""
    return dg.AssetSpec(table, deps=deps, **table_spec(table, group))


def write_table(root, table: str, key: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Validate a partition against its contract and replace it atomically; returns it."""
    frame = conform(frame, CONTRACTS[table])
    warehouse.write_partition(root, table, key, frame)
    return frame


class Written:
    """What a run wrote to one table in the partition it is working on: rows and the first rows
    for the preview. Holds no more than one partition's head, so a ranged run's memory stays
    bounded by the partition it is working on."""

    def __init__(self) -> None:
        self.rows = 0
        self.partitions = 0
        self.last: pl.DataFrame | None = None
        self.extra: dict = {}

    def add(self, frame: pl.DataFrame) -> pl.DataFrame:
        self.add_rows(frame.height, frame)
        return frame

    def add_rows(self, rows: int, head: pl.DataFrame) -> None:
        """A partition written elsewhere: its row count and (at least) its first rows."""
        self.rows += rows
        self.partitions += 1
        self.last = head.head(20)

    def metadata(self, rows: int = 5) -> dict:
        return {
            "dagster/row_count": self.rows,
            "preview": preview(self.last, rows)
            if self.last is not None
            else dg.MetadataValue.md("_(none)_"),
            **self.extra,
        }


class PartitionRun:
    """One run of an asset over its partition keys (in order): writes each table's partition
    through its contract and records each partition's own materialization metadata (its row
    count, preview and ``extra``), so every partition of a ranged run shows its own numbers.

    Loop with ``for key in run.each()``; ``write``, ``note`` and ``add`` then apply to that key.
    """

    def __init__(
        self,
        context: dg.AssetExecutionContext,
        root: Path,
        tables: Sequence[str],
        preview_rows: int = 5,
    ):
        self.context = context
        self.keys = sorted(context.partition_keys)
        self.root = root
        self.tables = tuple(tables)
        self.preview_rows = preview_rows
        self.key: str | None = None
        self.written = {name: Written() for name in self.tables}

    def each(self) -> Iterator[str]:
        """The run's partition keys in order; each one's metadata is recorded when it is done."""
        for key in self.keys:
            self._at(key)
            yield key
        self._flush()

    def _at(self, key: str) -> None:
        if key != self.key:
            self._flush()
            self.key = key

    def _flush(self) -> None:
        """Record the current partition's metadata for every table written in it."""
        if self.key is not None:
            for name, written in self.written.items():
                if written.partitions:
                    self.context.add_asset_metadata(
                        written.metadata(self.preview_rows), asset_key=name, partition_key=self.key
                    )
            rows = max((w.rows for w in self.written.values()), default=0)
            index = self.keys.index(self.key) + 1
            progress.partition_done(
                progress.Done(self.context.op_def.name, self.key, index, len(self.keys), rows)
            )
        self.key, self.written = None, {name: Written() for name in self.tables}

    def write(self, key: str, frames: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """Validate and replace partition ``key`` of each table; returns the conformed frames."""
        self._at(key)
        return {
            name: self.written[name].add(write_table(self.root, name, key, frame))
            for name, frame in frames.items()
        }

    def note(self, rows: Mapping[str, int], heads: Mapping[str, pl.DataFrame]) -> None:
        """Partitions written elsewhere (e.g. streamed): their row counts and first rows."""
        for name, written in self.written.items():
            written.add_rows(rows[name], heads[name])

    def add(self, extra: Mapping[str, Mapping]) -> None:
        """Per table, more metadata of the current partition (e.g. its totals)."""
        for name, values in extra.items():
            self.written[name].extra.update(values)

    def results(self, extra: Mapping[str, Mapping] | None = None) -> Iterator[dg.MaterializeResult]:
        """One MaterializeResult per table (for a multi-asset). The metadata is per partition
        (recorded as each was done); ``extra`` is added to every partition of the run, so keep
        it to what is true of each (not sums over the run)."""
        self._flush()
        for name in self.tables:
            yield dg.MaterializeResult(asset_key=name, metadata=dict((extra or {}).get(name, {})))

    def result(self, extra: Mapping | None = None) -> dg.MaterializeResult:
        """The MaterializeResult of a single-table asset."""
        self._flush()
        return dg.MaterializeResult(metadata=dict(extra or {}))


def preview(frame: pl.DataFrame, rows: int = 5) -> dg.MetadataValue:
    """A Markdown table of the first rows, for the UI."""
    head = frame.head(rows)
    if head.is_empty():
        return dg.MetadataValue.md("_(no rows)_")
    cols = head.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in head.iter_rows():
        cells = [str(v).replace("|", "\\|").replace("\n", " ")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))
