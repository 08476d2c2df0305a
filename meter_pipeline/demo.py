"""``meter-pipeline demo``: make the demo data root if needed, run everything, print a summary."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import dagster as dg
import polars as pl

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.demo_data import FIRST_DAY, LAST_LANDING_DAY, write_demo_root
from meter_pipeline.finance.money_format import format_money, plural
from meter_pipeline.io import warehouse
from meter_pipeline.runner import Backfill, check_config, run_backfill
from meter_pipeline.storage import is_remote, storage_for


def run_demo(
    root: Path,
    instance: dg.DagsterInstance,
    echo: Callable[[str], None] = print,
    tags: Mapping[str, str] | None = None,
    log_level: str | None = None,
) -> int:
    """Write the demo root if it has no ``reference/``, run the backfill over it, print the
    summary. ``tags``: added to every run (the CLI names its command)."""
    storage = storage_for(root)
    if not storage.is_folder("reference"):
        if is_remote(root):  # written locally, then uploaded file by file
            echo(f"Writing the demo data root to {root} …")
            with tempfile.TemporaryDirectory(prefix="meter-demo-") as folder:
                write_demo_root(Path(folder))
                storage.upload_tree(Path(folder))
        else:
            echo(f"Writing the demo data root to {Path(root).resolve()} …")
            write_demo_root(Path(root))
    try:
        reference = check_config(root)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    result = run_backfill(
        Backfill(root, FIRST_DAY, LAST_LANDING_DAY),
        instance,
        echo=echo,
        reference=reference,
        tags=tags,
        log_level=log_level,
    )
    echo("")
    echo(summary(root))
    return 0 if result.ok else 1


def _read(root: Path, table: str) -> pl.DataFrame:
    keys = warehouse.existing_keys(root, table)
    return warehouse.scan_partitions(root, table, keys).collect()


def _warehouse(root: Path) -> str:
    """The warehouse's full name: an absolute folder, or the ``s3://`` address."""
    if is_remote(root):
        return storage_for(root).location("warehouse")
    return str((Path(root) / "warehouse").resolve())


def summary(root: Path) -> str:
    """The demo's summary: events, invoices and totals, uptime and credits."""
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
        *correction_lines(root),
        "",
    ]
    invoices = _read(root, "invoices")
    if invoices.height:
        lines.append(f"Invoices   period   count  {'subtotal':>18}{'credits':>18}{'total':>18}")
        per = (
            invoices.group_by("billing_period", "currency")
            .agg(pl.len(), pl.col("subtotal", "credits", "total").sum())
            .sort("billing_period", "currency")
        )
        for r in per.iter_rows(named=True):
            money = "".join(
                f"{format_money(r[k], r['currency']):>18}" for k in ("subtotal", "credits", "total")
            )
            lines.append(f"           {r['billing_period']}  {r['len']:>5}  {money}")
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
    lines += credit_lines(_read(root, "sla_credits"), _read(root, "sla_credit_ledger"))
    lines += [
        f"Tables: {_warehouse(root)}/<table>/<partition>/part-0.parquet",
        "Query them with SQL (DuckDB, every table a view by its name), e.g.:",
        f"  meter-pipeline query --root {root} "
        '"select billing_period, customer_id, currency, total from invoices order by all"',
    ]
    return "\n".join(lines)


def correction_lines(root: Path) -> list[str]:
    """Corrections read and where they went, then the adjustment lines per month and currency."""
    audit = _read(root, "correction_audit")
    if not audit.height:
        return []
    t = audit.select(
        pl.col("rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined").sum()
    ).row(0, named=True)
    actions = _read(root, "event_corrections").group_by("action").len().sort("action")
    kinds = ", ".join(f"{n} {a}" for a, n in actions.iter_rows())
    lines = [
        f"Corrections: {t['rows_read']:,} read, {t['rows_accepted']:,} accepted"
        + (f" ({kinds})" if kinds else "")
        + f", {t['rows_duplicate']:,} duplicate, {t['rows_quarantined']:,} quarantined"
    ]
    adjustments = (
        _read(root, "invoice_lines")
        .filter(pl.col("kind") == "adjustment")
        .group_by("billing_period", "currency")
        .agg(pl.len(), pl.col("amount").sum())
        .sort("billing_period", "currency")
    )
    for r in adjustments.iter_rows(named=True):
        lines.append(
            f"Adjustment lines on {r['billing_period']} invoices: {plural(r['len'], 'line')}, "
            f"{format_money(r['amount'], r['currency'])} (corrections of closed months)"
        )
    return lines


def credit_lines(credits: pl.DataFrame, ledger: pl.DataFrame) -> list[str]:
    """SLA credits granted per month, then per month what the ledger did with every open credit:
    applied on that month's invoices, forfeited, or carried to the next month."""
    granted = credits.filter(pl.col("status") == "granted")
    if not granted.height and not ledger.height:
        return []
    lines = []
    per = (
        granted.group_by("earned_period", "service", "currency")
        .agg(pl.len(), pl.col("credit_amount").sum())
        .sort(pl.all())
    )
    if per.height:
        lines.append("SLA credits granted (earned in a month, applied from the next invoice on):")
        for r in per.iter_rows(named=True):
            lines.append(
                f"           earned {r['earned_period']}  {r['service']:<14} "
                f"{plural(r['len'], 'customer'):>13}  "
                f"{format_money(r['credit_amount'], r['currency'])}"
            )
        lines.append("")
    if ledger.height:
        lines.append(f"Credit ledger  period   {'applied':>16}{'forfeited':>16}{'carried':>16}")
        sums = (
            ledger.group_by("billing_period", "currency")
            .agg(pl.col("applied", "forfeited", "carried").sum())
            .sort("billing_period", "currency")
        )
        for r in sums.iter_rows(named=True):
            money = "".join(
                f"{format_money(r[k], r['currency']):>16}"
                for k in ("applied", "forfeited", "carried")
            )
            lines.append(f"               {r['billing_period']}  {money}")
        lines += [
            "  applied: taken off that month's invoices; forfeited: not applied (the customer",
            "  left, or a required claim is missing); carried: still owed, applied next month.",
        ]
        lines.append("")
    return lines
