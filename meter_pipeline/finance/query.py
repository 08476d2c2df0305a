"""``meter-pipeline query "SQL"``: DuckDB over the warehouse, every table a view by its name.

Each folder ``<root>/warehouse/<table>/`` (not the internal ``_event_index``) becomes a view
``<table>`` over its Hive partitions, so ``billing_period`` / ``landing_date`` are columns like
any other (``billing_period`` a string ``YYYY-MM``, ``landing_date`` a DATE). Money and quantities
stay exact DECIMALs. The result prints as a table, or is written with ``--csv`` / ``--parquet``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from meter_pipeline.finance.money_format import plural
from meter_pipeline.io.warehouse import PART_FILE
from meter_pipeline.storage import Storage, is_remote, storage_for
from meter_pipeline.storage.base import FOLDER

#: Rows printed on the terminal; more are cut with a note (write them with --csv).
MAX_PRINTED = 1000


class QueryError(Exception):
    """A query that cannot run, with what to do about it."""


def tables(root: Path) -> list[str]:
    """The warehouse's tables (folders holding at least one Parquet partition), sorted."""
    storage = storage_for(root)
    return sorted(
        entry.name
        for entry in storage.list_folder("warehouse") or []
        if entry.kind == FOLDER
        and not entry.name.startswith(("_", "."))
        and storage.folders_with(f"warehouse/{entry.name}", PART_FILE)
    )


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per warehouse table (on an object-store root,
    DuckDB reads the objects through the root's own storage client)."""
    storage = storage_for(root)
    if not storage.is_folder("warehouse"):
        raise QueryError(
            f"no warehouse at {storage.location('warehouse')}: run `meter-pipeline demo --root "
            f"{root}` or `meter-pipeline backfill --root {root} --start … --end …` first"
        )
    con = duckdb.connect()
    if is_remote(root):
        con.register_filesystem(storage.fsspec())  # type: ignore[attr-defined]
    for table in tables(root):
        con.execute(
            f'create view "{table}" as select * from '
            f"read_parquet({_files(storage, table)}, hive_partitioning = true)"
        )
    return con


def _files(storage: Storage, table: str) -> str:
    """The table's partition files as DuckDB reads them: a glob over a local folder; the list of
    objects on an object store (its file system lists, but does not glob, full addresses)."""

    def quoted(rel: str) -> str:
        return "'" + storage.location(rel).replace("'", "''") + "'"

    if storage.storage_options is None:
        return quoted(f"warehouse/{table}/*/*.parquet")
    folders = sorted(storage.folders_with(f"warehouse/{table}", PART_FILE))
    return "[" + ", ".join(quoted(f"warehouse/{table}/{f}/{PART_FILE}") for f in folders) + "]"


def run_query(root: Path, sql: str) -> duckdb.DuckDBPyRelation:
    con = connect(root)
    try:
        relation = con.sql(sql)
    except duckdb.Error as exc:
        known = ", ".join(tables(root)) or "none"
        raise QueryError(f"{exc}\n(tables: {known})") from None
    if relation is None:
        raise QueryError("the statement returned no rows (use a SELECT)")
    return relation


def render(columns: Sequence[str], rows: Sequence[tuple], limit: int = MAX_PRINTED) -> str:
    """A plain aligned text table (NULL for missing values), numbers right-aligned."""
    shown = rows[:limit]
    cells = [["NULL" if v is None else str(v) for v in row] for row in shown]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float) or type(row[i]).__name__ == "Decimal" for row in shown)
        and bool(shown)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    more = len(rows) - len(shown)
    out.append(
        f"({plural(len(rows), 'row')})"
        if not more
        else f"({plural(len(rows), 'row')}, the first {limit:,} shown: write all with --csv FILE)"
    )
    return "\n".join(out)


def query(root: Path, sql: str, csv: Path | None = None, parquet: Path | None = None) -> str:
    """Run ``sql``; write ``csv`` / ``parquet`` when given, else return the printed table."""
    relation = run_query(root, sql)
    if csv is not None or parquet is not None:
        said = []
        if csv is not None:
            relation.write_csv(str(csv))
            said.append(f"wrote {csv}")
        if parquet is not None:
            relation.write_parquet(str(parquet))
            said.append(f"wrote {parquet}")
        return "; ".join(said)
    return render(relation.columns, relation.fetchall())
