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


def run_demo(root: Path, instance: dg.DagsterInstance, echo: Callable[[str], None] = print) -> int:
    root = Path(root)
    if not (root / "reference").exists():
        echo(f"Writing the demo data root to {root.resolve()} …")
        write_demo_root(root)
    try:
        reference = check_config(root)
    except ConfigError as exc:
        echo(f"configuration error: {exc}")
        return 2
    result = run_backfill(
        Backfill(root, FIRST_DAY, LAST_LANDING_DAY), instance, echo=echo, reference=reference
    )
    echo("")
    echo(summary(root))
    return 0 if result.ok else 1


def _read(root: Path, table: str) -> pl.DataFrame:
    keys = warehouse.existing_keys(root, table)
    return warehouse.scan_partitions(root, table, keys).collect()


def summary(root: Path) -> str:
    """The short summary SPEC §9 asks for: events, invoices and totals, uptime and credits."""
    root = Path(root)
    audit = _read(root, "ingestion_audit")
    t = audit.select(
        pl.col(
            "rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined", "rows_conflicting"
        ).sum()
    ).row(0, named=True)
    lines = [
        "== meter-pipeline demo ==",
        f"Events: {t['rows_read']:,} read, {t['rows_accepted']:,} accepted, "
        f"{t['rows_duplicate']:,} duplicate ({t['rows_conflicting']} conflicting), "
        f"{t['rows_quarantined']:,} quarantined",
        "",
    ]
    invoices = _read(root, "invoices")
    if invoices.height:
        lines.append(
            "Invoices   period   count  currency        subtotal       credits          total"
        )
        per = (
            invoices.group_by("billing_period", "currency")
            .agg(pl.len(), pl.col("subtotal", "credits", "total").sum())
            .sort("billing_period", "currency")
        )
        for r in per.iter_rows(named=True):
            lines.append(
                f"           {r['billing_period']}  {r['len']:>5}  {r['currency']:<8}"
                f"{r['subtotal']:>14,.2f}{r['credits']:>14,.2f}{r['total']:>15,.2f}"
            )
        lines.append("")
    uptime = _read(root, "uptime")
    if uptime.height:
        lines.append("Uptime     period   service          uptime_pct  target  met")
        for r in uptime.sort("billing_period", "service").iter_rows(named=True):
            lines.append(
                f"           {r['billing_period']}  {r['service']:<16}"
                f"{r['uptime_pct']:>10}  {r['target_pct']:>6}  "
                f"{'yes' if r['met'] else 'NO'}"
            )
        lines.append("")
    credits = _read(root, "sla_credits").filter(pl.col("status") == "granted")
    if credits.height:
        per = (
            credits.group_by("earned_period", "service", "currency")
            .agg(pl.len(), pl.col("credit_amount").sum())
            .sort(pl.all())
        )
        lines.append("SLA credits granted (applied on the next invoice):")
        for r in per.iter_rows(named=True):
            lines.append(
                f"           earned {r['earned_period']}  {r['service']:<14} "
                f"{r['len']:>3} customers  {r['currency']} {r['credit_amount']:,.2f}"
            )
        lines.append("")
    lines += [
        f"Tables: {(root / 'warehouse').resolve()}/<table>/<partition>/part-0.parquet",
        "Query them with DuckDB, e.g.:",
        f'  duckdb -c "select billing_period, customer_id, currency, total from '
        f"read_parquet('{root}/warehouse/invoices/*/*.parquet', hive_partitioning=true) "
        'order by all"',
    ]
    return "\n".join(lines)
