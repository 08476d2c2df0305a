"""``meter-pipeline demo``: make the demo data root if needed, run everything, print a summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import polars as pl

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.demo_data import FIRST_DAY, LAST_LANDING_DAY, write_demo_root
from meter_pipeline.io import warehouse
from meter_pipeline.runner import Backfill, check_config, run_backfill


def run_demo(root: Path, instance: dg.DagsterInstance, echo: Callable[[str], None] = print
             ) -> int:
    root = Path(root)
    if not (root / "reference").exists():
        echo(f"Writing the demo data root to {root.resolve()} …")
        write_demo_root(root)
    try:
        check_config(root)
    except ConfigError as exc:
        echo(f"configuration error: {exc}")
        return 2
    result = run_backfill(Backfill(root, FIRST_DAY, LAST_LANDING_DAY), instance, echo=echo)
    echo("")
    echo(summary(root))
    return 0 if result.ok else 1


def summary(root: Path) -> str:
    audit = pl.scan_parquet(warehouse.table_dir(root, "ingestion_audit") / "*" / "*.parquet")
    totals = audit.select(pl.col("rows_read", "rows_accepted", "rows_duplicate",
                                 "rows_quarantined").sum()).collect().row(0, named=True)
    lines = [
        "== meter-pipeline demo ==",
        f"events in: {totals['rows_read']}   accepted: {totals['rows_accepted']}   "
        f"duplicate: {totals['rows_duplicate']}   quarantined: {totals['rows_quarantined']}",
        "",
        f"Tables: {warehouse.table_dir(root, '').resolve()}",
        "Query them with DuckDB, e.g.:",
        f"  duckdb -c \"select * from read_parquet('{root}/warehouse/ingestion_audit/*/*.parquet',"
        " hive_partitioning=true)\"",
    ]
    return "\n".join(lines)
