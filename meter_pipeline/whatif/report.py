"""The HTML report of ``meter-pipeline reprice``: per month, an inline SVG chart of current and
candidate revenue by plan, the customers with the largest differences and the whole summary.
One self-contained file: no script, no stylesheet or font from the network."""

from __future__ import annotations

from decimal import Decimal
from html import escape

import polars as pl

from meter_pipeline.finance.money_format import format_money

TOP = 10
BAR_W, GAP, HEIGHT, LEFT = 28, 22, 180, 10
COLORS = {"current": "#5b6b7f", "candidate": "#d9822b"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.n{text-align:right;font-variant-numeric:tabular-nums}.neg{color:#a11}.pos{color:#161}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
"""


def by_plan(lines: pl.DataFrame) -> pl.DataFrame:
    """Per plan (the stored line's plan, else the candidate's) and currency: both revenues."""
    return (
        lines.with_columns(pl.coalesce("current_plan_id", "candidate_plan_id").alias("plan"))
        .group_by("plan", "currency")
        .agg(pl.col("current_amount").sum(), pl.col("candidate_amount").sum())
        .sort("plan", "currency")
    )


def chart(plans: pl.DataFrame, title: str) -> str:
    """Grouped bars (current, candidate) per plan, heights relative to the largest amount."""
    rows = list(plans.iter_rows(named=True))
    top = max([Decimal(0)] + [r[k] for r in rows for k in ("current_amount", "candidate_amount")])
    width = LEFT + len(rows) * (2 * BAR_W + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{max(width, 240)}" '
        f'height="{HEIGHT + 60}" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, r in enumerate(rows):
        x = LEFT + GAP + i * (2 * BAR_W + GAP)
        for j, side in enumerate(("current", "candidate")):
            amount = r[f"{side}_amount"]
            h = 0 if top == 0 else int(HEIGHT * amount / top)
            label = f"{r['plan']} {side}: {format_money(amount, r['currency'])}"
            parts.append(
                f'<rect class="bar {side}" x="{x + j * BAR_W}" y="{HEIGHT - h + 10}" '
                f'width="{BAR_W - 2}" height="{h}" fill="{COLORS[side]}">'
                f"<title>{escape(label)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + BAR_W}" y="{HEIGHT + 28}" text-anchor="middle" font-size="12">'
            f"{escape(r['plan'])} ({escape(r['currency'])})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _money_cell(amount: Decimal | None, currency: str, signed: bool = False) -> str:
    if amount is None:
        return '<td class="n">—</td>'
    cls = " neg" if signed and amount < 0 else " pos" if signed and amount > 0 else ""
    return f'<td class="n{cls}">{escape(format_money(amount, currency))}</td>'


def summary_table(summary: pl.DataFrame, caption: str) -> str:
    head = (
        "<tr><th>customer</th><th>current subtotal</th><th>candidate subtotal</th>"
        "<th>difference</th><th>difference %</th></tr>"
    )
    body = []
    for r in summary.iter_rows(named=True):
        pct = "—" if r["difference_pct"] is None else f"{r['difference_pct']}%"
        body.append(
            f"<tr><td>{escape(r['customer_id'])}</td>"
            + _money_cell(r["current_subtotal"], r["currency"])
            + _money_cell(r["candidate_subtotal"], r["currency"])
            + _money_cell(r["difference"], r["currency"], signed=True)
            + f'<td class="n">{escape(pct)}</td></tr>'
        )
    return f"<table><caption>{escape(caption)}</caption>{head}{''.join(body)}</table>"


def totals(summary: pl.DataFrame) -> str:
    """``USD −1,234.00 over 7 customers`` per currency."""
    parts = []
    for currency, diff, changed in (
        summary.group_by("currency")
        .agg(pl.col("difference").sum(), (pl.col("difference") != 0).sum().alias("changed"))
        .sort("currency")
        .iter_rows()
    ):
        parts.append(f"{format_money(diff, currency)} ({changed} customers affected)")
    return "; ".join(parts) or "no invoices"


def render_report(lines: pl.DataFrame, summary: pl.DataFrame, candidate: str) -> str:
    sections = []
    for period in sorted(summary["billing_period"].unique().to_list()):
        month = summary.filter(pl.col("billing_period") == period)
        largest = month.sort(pl.col("difference").abs(), "customer_id", descending=[True, False])
        title = f"{period}: revenue by plan, current and candidate"
        sections.append(
            f'<section id="period-{period}"><h2>{period}</h2>'
            f"<p>Difference: {escape(totals(month))}</p>"
            f'<p class="legend"><span style="background:{COLORS["current"]}"></span>current'
            f'<span style="background:{COLORS["candidate"]}"></span>candidate</p>'
            + chart(by_plan(lines.filter(pl.col("billing_period") == period)), title)
            + summary_table(largest.head(TOP), f"{period}: largest differences")
            + summary_table(month, f"{period}: every customer")
            + "</section>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Reprice under {escape(candidate)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Stored usage repriced under {escape(candidate)}</h1>"
        "<p>Subtotals are platform fees, usage and minimum commitments, without SLA credits or "
        "adjustments; a positive difference means the candidate bills more.</p>"
        + "".join(sections)
        + "</body></html>"
    )
