"""The usage report's operational sections: rows set aside by landing day, corrections and
adjustments, uptime and credits."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from meter_pipeline.finance.charts import stacked_bars
from meter_pipeline.finance.documents import describe
from meter_pipeline.finance.money_format import format_money
from meter_pipeline.finance.report_html import section, table
from meter_pipeline.finance.tables import read_table
from meter_pipeline.io import warehouse


def quality(root: Path, days: list[str]) -> str:
    have = set(warehouse.existing_keys(root, "ingestion_audit"))
    audit = read_table(root, "ingestion_audit", [d for d in days if d in have]).sort("landing_date")
    reasons = [c for c in audit.columns if c.startswith("quarantined_") and audit[c].sum()]
    rows = [
        [
            str(r["landing_date"]),
            f"{r['rows_read']:,}",
            f"{r['rows_duplicate']:,}",
            f"{r['rows_quarantined']:,}",
            ", ".join(f"{c.removeprefix('quarantined_')} {r[c]}" for c in reasons if r[c]),
        ]
        for r in audit.iter_rows(named=True)
    ]
    labels = [str(d)[5:] for d in audit["landing_date"]]
    series = {
        "duplicate": audit["rows_duplicate"].to_list(),
        **{c.removeprefix("quarantined_"): audit[c].to_list() for c in reasons},
    }
    totals = audit.select(pl.col("rows_read", "rows_duplicate", "rows_quarantined").sum()).row(
        0, named=True
    )
    by_reason = (
        ", ".join(f"{c.removeprefix('quarantined_')}: {audit[c].sum():,}" for c in reasons)
        or "none"
    )
    read, dup, bad = (totals[k] or 0 for k in ("rows_read", "rows_duplicate", "rows_quarantined"))
    summary = (
        f'<p id="quality-totals">{read:,} rows read on the month\'s landing days; '
        f"{dup:,} duplicates; {bad:,} quarantined ({by_reason}).</p>"
    )
    return section(
        "quality",
        "Quarantined and duplicate rows by landing day",
        summary
        + stacked_bars("quality", "Rows set aside per landing day", labels, series)
        + table(["landing day", "read", "duplicate", "quarantined", "quarantined by reason"], rows),
    )


def sla(root: Path, period: str) -> str:
    uptime = read_table(root, "uptime", [period]).sort("service")
    credits = read_table(root, "sla_credits", [period]).filter(pl.col("status") != "none")
    up_rows = [
        [r["service"], str(r["uptime_pct"]), str(r["target_pct"]), "yes" if r["met"] else "NO"]
        for r in uptime.iter_rows(named=True)
    ]
    credit_rows = [
        [
            r["customer_id"],
            r["service"],
            r["earned_period"],
            r["status"],
            str(r["credit_pct"]),
            format_money(r["credit_amount"], r["currency"]),
        ]
        for r in credits.sort("earned_period", "customer_id", "service").iter_rows(named=True)
    ]
    return section(
        "sla",
        "Uptime and SLA credits",
        table(["service", "uptime %", "target %", "met"], up_rows)
        + "<h3>Credits listed this month (granted, pending or unclaimed)</h3>"
        + table(["customer", "service", "earned", "status", "credit %", "amount"], credit_rows),
    )


def corrections(root: Path, period: str, lines: pl.DataFrame) -> str:
    """The corrections whose applied period is this month (billed in an open month, or shown as
    adjustments of a closed one), then the month's adjustment lines."""
    keys = warehouse.existing_keys(root, "event_corrections")
    applied = read_table(root, "event_corrections", keys).filter(pl.col("applied_period") == period)
    rows = [
        [
            str(r["landing_date"]),
            r["correction_id"],
            r["event_id"],
            r["action"],
            "" if r["value"] is None else f"{r['value'].normalize():f}",
            r["event_billing_period"] or "",
        ]
        for r in applied.sort("landing_date", "correction_id").iter_rows(named=True)
    ]
    adjustments = lines.filter(pl.col("kind") == "adjustment").sort("invoice_id", "line_no")
    adjustment_rows = [
        [r["invoice_id"], r["customer_id"], describe(r), format_money(r["amount"], r["currency"])]
        for r in adjustments.iter_rows(named=True)
    ]
    return section(
        "corrections",
        "Corrections and adjustments",
        "<h3>Corrections applied to this month</h3>"
        + table(
            ["landing day", "correction", "event", "action", "new value", "event's month"], rows
        )
        + "<h3>Adjustment lines (corrections of months already invoiced)</h3>"
        + table(
            ["invoice", "customer", "line", "amount"],
            adjustment_rows,
            ids=[
                f"adjustment-{r['invoice_id']}-{r['line_no']}"
                for r in adjustments.iter_rows(named=True)
            ]
            or None,
        ),
    )
