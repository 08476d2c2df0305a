"""``meter-pipeline report --period YYYY-MM --out DIR``: the month's usage report, one HTML file.

Sections: revenue by currency and by plan, month over month, top customers, usage per customer
and meter with a daily chart per meter, quarantined and duplicate rows by reason and landing
day, the corrections applied to the month and its adjustment lines, uptime and SLA credits.
Every figure in a table is the warehouse's exact value (money in the currency's format); the
charts (pygal SVG, inlined, no script, no network) draw the same numbers. Built from the tables
alone, with no clock: the same warehouse gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from meter_pipeline.calendar import day_keys, days_between, period_bounds
from meter_pipeline.finance.charts import bars, stacked_bars
from meter_pipeline.finance.money_format import format_money
from meter_pipeline.finance.report_html import page, section, table
from meter_pipeline.finance.report_ops import corrections, quality, sla
from meter_pipeline.finance.tables import closed_month, customer_names, quantity, read_table
from meter_pipeline.io import warehouse

TOP = 10  # customers in "top customers" and in each usage chart (the rest summed as "others")


def _money_rows(frame: pl.DataFrame, keys: list[str], money: list[str]) -> list[list]:
    return [
        [*(r[k] for k in keys), *(format_money(r[m], r["currency"]) for m in money)]
        for r in frame.iter_rows(named=True)
    ]


def revenue(invoices: pl.DataFrame, lines: pl.DataFrame) -> str:
    per = (
        invoices.group_by("currency")
        .agg(pl.len().alias("invoices"), pl.col("subtotal", "credits", "total").sum())
        .sort("currency")
    )
    plans = (
        lines.filter(pl.col("kind") != "sla_credit")
        .group_by("plan_id", "currency")
        .agg(pl.col("amount").sum())
        .sort("currency", "amount", "plan_id", descending=[False, True, False])
    )
    return section(
        "revenue",
        "Revenue",
        table(
            ["currency", "invoices", "subtotal", "credits", "total"],
            _money_rows(per, ["currency", "invoices"], ["subtotal", "credits", "total"]),
            ids=[f"revenue-{c}" for c in per["currency"]],
        )
        + "<h3>By plan (before credits)</h3>"
        + table(
            ["plan", "currency", "amount"], _money_rows(plans, ["plan_id", "currency"], ["amount"])
        ),
    )


def month_over_month(root: Path, period: str) -> str:
    keys = [k for k in warehouse.existing_keys(root, "invoices") if k <= period]
    months = (
        read_table(root, "invoices", keys)
        .group_by("billing_period", "currency")
        .agg(pl.len().alias("invoices"), pl.col("total").sum())
        .sort("billing_period", "currency")
    )
    charts = ""
    for currency in months["currency"].unique().sort():
        mine = months.filter(pl.col("currency") == currency)
        labels = mine["billing_period"].to_list()
        charts += bars(
            f"mom-{currency}",
            f"Invoiced total per month ({currency})",
            labels,
            {currency: [float(v) for v in mine["total"]]},
        )
    return section(
        "month-over-month",
        "Month over month",
        table(
            ["period", "currency", "invoices", "total"],
            _money_rows(months, ["billing_period", "currency", "invoices"], ["total"]),
        )
        + charts,
    )


def top_customers(invoices: pl.DataFrame, names: dict[str, str]) -> str:
    top = invoices.sort(["currency", "total", "customer_id"], descending=[False, True, False])
    top = top.group_by("currency", maintain_order=True).head(TOP)
    rows = [
        [
            r["currency"],
            r["customer_id"],
            names.get(r["customer_id"], ""),
            format_money(r["total"], r["currency"]),
        ]
        for r in top.iter_rows(named=True)
    ]
    return section(
        "top-customers",
        f"Top {TOP} customers by total",
        table(["currency", "customer", "name", "total"], rows),
    )


def usage(root: Path, period: str, days: list[str]) -> str:
    usage = read_table(root, "period_usage", [period]).sort("customer_id", "meter")
    rows = [
        [r["customer_id"], r["meter"], quantity(r["quantity"]), f"{r['event_count']:,}"]
        for r in usage.iter_rows(named=True)
    ]
    daily = read_table(
        root,
        "daily_usage",
        [d for d in days if d in set(warehouse.existing_keys(root, "daily_usage"))],
    )
    daily = daily.filter(pl.col("billing_period") == period)
    charts = ""
    dates = day_keys(days_between(*period_bounds(period)))
    for meter in daily["meter"].unique().sort():
        mine = daily.filter(pl.col("meter") == meter)
        per = mine.group_by("customer_id", "usage_date").agg(pl.col("event_count").sum())
        ranked = (
            per.group_by("customer_id")
            .agg(pl.col("event_count").sum())
            .sort(["event_count", "customer_id"], descending=[True, False])
        )
        leaders = ranked["customer_id"].head(5).to_list()
        per = per.with_columns(
            who=pl.when(pl.col("customer_id").is_in(leaders))
            .then(pl.col("customer_id"))
            .otherwise(pl.lit("others"))
        )
        series = {}
        for who in [*leaders, "others"]:
            counts = dict(
                per.filter(pl.col("who") == who)
                .group_by("usage_date")
                .agg(pl.col("event_count").sum())
                .iter_rows()
            )
            if counts:
                series[who] = [counts.get(d, 0) for d in days_between(*period_bounds(period))]
        charts += stacked_bars(
            f"usage-{meter}", f"{meter}: events per day", [d[5:] for d in dates], series
        )
    return section(
        "usage",
        "Usage per customer and meter",
        table(["customer", "meter", "quantity", "events"], rows)
        + "<h3>Daily events per meter</h3>"
        + charts,
    )


def write_report(root: Path, period: str, out: Path) -> Path:
    closed_month(root, period)
    first, last = period_bounds(period)
    days = day_keys(days_between(first, last))
    invoices = read_table(root, "invoices", [period])
    lines = read_table(root, "invoice_lines", [period])
    body = "".join(
        (
            revenue(invoices, lines),
            month_over_month(root, period),
            top_customers(invoices, customer_names(root)),
            usage(root, period, days),
            quality(root, days),
            corrections(root, period, lines),
            sla(root, period),
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"report-{period}.html"
    path.write_text(page(f"Usage report {period}", body), encoding="utf-8")
    return path
